// A small synchronous Redis client for tests that look at chatd's keys directly (the key
// layout in server/src/store/redis_store.hpp), e.g. who holds the scheduler lease.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

struct redisContext;

namespace chat::test {

/// A Redis reply as plain data (RESP2): strings and status replies in `str`, integers in
/// `integer`, arrays in `elements`. Error replies never become values: command() throws.
struct RedisValue {
  enum class Type { nil, integer, string, status, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;
  std::vector<RedisValue> elements;

  bool is_nil() const noexcept { return type == Type::nil; }
};

/// One blocking hiredis connection with bounded connect and command times. Every failure
/// (refused, timed out, error reply where a value was expected) throws std::runtime_error,
/// so a test that reads Redis fails with a message instead of hanging.
class RedisProbe {
 public:
  /// Connects to host:port (and AUTHs when password is not empty) within `timeout`; the
  /// same bound applies to every command afterwards.
  RedisProbe(const std::string& host, std::uint16_t port, const std::string& password = "",
             std::chrono::milliseconds timeout = std::chrono::milliseconds(2000));
  ~RedisProbe();
  RedisProbe(const RedisProbe&) = delete;
  RedisProbe& operator=(const RedisProbe&) = delete;

  /// GET key: the string value, or nullopt when the key does not exist.
  std::optional<std::string> get(const std::string& key);

  /// PTTL key in ms (-2: no such key, -1: no expiry).
  long long pttl(const std::string& key);

  /// Any command, e.g. {"XLEN", "chat:outbox"}; the whole reply. Throws std::runtime_error on
  /// an error reply or a broken/timed-out connection.
  RedisValue command(const std::vector<std::string>& args);

  /// command() for commands that answer an integer (XLEN, DBSIZE, EXISTS...).
  long long integer(const std::vector<std::string>& args);

  /// Every key matching a glob pattern (SCAN, so the server is never blocked for long).
  std::vector<std::string> keys(const std::string& pattern);

 private:
  redisContext* ctx_ = nullptr;
  std::string where_;
};

}  // namespace chat::test
