// hiredis 0.14's async API driven by a Boost.Asio io_context (hiredis ships no Asio adapter;
// the design follows shared/notes/LOCAL-SERVICES.md, "hiredis 0.14 async + Boost.Asio").
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

struct redisAsyncContext;
struct redisReply;

namespace chat::metrics {
class Metrics;
}

namespace chat::store {

/// An owned copy of a Redis reply (RESP2).
struct RedisReply {
  enum class Type { nil, integer, string, status, error, array };
  Type type = Type::nil;
  long long integer = 0;
  std::string str;  // string, status and error replies
  std::vector<RedisReply> elements;

  bool is_nil() const noexcept { return type == Type::nil; }
  bool is_error() const noexcept { return type == Type::error; }
  bool is_array() const noexcept { return type == Type::array; }
};

/// Move-only callback for one command: the reply, or nullopt when the connection was lost
/// (or never up) before the reply came.
class ReplyHandler {
 public:
  virtual ~ReplyHandler() = default;
  virtual void complete(std::optional<RedisReply> reply) = 0;
  /// When the command was handed to hiredis (for the round-trip metric).
  std::chrono::steady_clock::time_point sent_at;
};

/// Connection settings.
struct RedisOptions {
  std::string host = "127.0.0.1";
  int port = 6379;
  std::string user;      // Redis 6 ACL user; empty: AUTH with the password only
  std::string password;  // empty: no AUTH
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds reconnect_min{100};
  std::chrono::milliseconds reconnect_max{2000};
  std::string name;  // for logs, e.g. "commands" or "bus"
};

/// One Redis connection on the io_context's thread, reconnecting with exponential backoff
/// when it drops. Commands issued while disconnected fail at once (nullopt reply), so
/// callers answer `unavailable` instead of hanging. All calls must be made on the
/// io_context's thread; hiredis is not thread-safe.
class RedisConnection : public std::enable_shared_from_this<RedisConnection> {
 public:
  /// on_connected runs after every (re)connect and AUTH, before queued work resumes; use it
  /// to load functions or SUBSCRIBE. on_push receives pub/sub messages (subscriber use).
  RedisConnection(boost::asio::io_context& io, RedisOptions options);
  ~RedisConnection();
  RedisConnection(const RedisConnection&) = delete;
  RedisConnection& operator=(const RedisConnection&) = delete;

  void set_on_connected(std::function<void()> fn) { on_connected_ = std::move(fn); }
  void set_on_push(std::function<void(const RedisReply&)> fn) { on_push_ = std::move(fn); }
  /// Runs when an established connection drops (before reconnecting).
  void set_on_disconnected(std::function<void()> fn) { on_disconnected_ = std::move(fn); }
  /// Reports every command's round trip to `metrics` (which must outlive this connection).
  void set_metrics(metrics::Metrics& metrics) { metrics_ = &metrics; }

  /// Starts connecting (and keeps reconnecting until stop()).
  void start();
  /// Closes the connection; pending commands complete with nullopt. No reconnect after.
  void stop();
  bool connected() const noexcept { return connected_; }

  /// Sends one command (argv form: binary-safe, no formatting). handler is always called
  /// exactly once, on the io_context thread.
  void command(const std::vector<std::string>& args, std::unique_ptr<ReplyHandler> handler);

  /// Sends SUBSCRIBE for channel; messages go to on_push.
  void subscribe(const std::string& channel);

  /// Awaitable form of command(). Throws StoreUnavailable when the connection is lost or
  /// Redis answers a transient error (LOADING, BUSY, MASTERDOWN, READONLY); other error
  /// replies are returned as RedisReply::Type::error.
  boost::asio::awaitable<RedisReply> exec(const std::vector<std::string>& args);

 private:
  static void on_connect_cb(const redisAsyncContext* ac, int status);
  static void on_disconnect_cb(const redisAsyncContext* ac, int status);
  static void on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_push_cb(redisAsyncContext* ac, void* reply, void* privdata);
  static void on_auth_cb(redisAsyncContext* ac, void* reply, void* privdata);

  void connect();
  void schedule_reconnect();
  void handle_connected();
  void handle_lost(const char* why);

  boost::asio::io_context& io_;
  RedisOptions options_;
  metrics::Metrics* metrics_ = nullptr;  // not owned; null: not measured
  redisAsyncContext* ctx_ = nullptr;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer connect_timer_;
  std::chrono::milliseconds backoff_;
  bool connected_ = false;
  bool stopped_ = true;
  std::vector<std::string> subscriptions_;
  std::function<void()> on_connected_;
  std::function<void(const RedisReply&)> on_push_;
  std::function<void()> on_disconnected_;
};

/// Converts hiredis's reply tree to an owned RedisReply.
RedisReply copy_reply(const redisReply* reply);

}  // namespace chat::store
