// A redis-server owned by one test, on its own free port, for outage tests: stop it to cut
// chatd off from Redis, start it again on the same port to bring Redis back.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <string>

#include "subprocess.hpp"

namespace chat::test {

/// How a PrivateRedis persists.
struct PrivateRedisOptions {
  /// --appendfsync: "always" (nothing acknowledged is ever lost, even on SIGKILL) or
  /// "everysec" (the production setting; a graceful SHUTDOWN still loses nothing).
  std::string appendfsync = "always";
};

/// A private redis-server (from PATH) on 127.0.0.1:<free port> with its own data directory.
/// AOF with fsync always, so a stop/start keeps the data like a real outage would.
class PrivateRedis {
 public:
  /// Starts the server and waits (bounded) until it answers PING. Throws on failure.
  PrivateRedis();
  /// Same with explicit persistence settings.
  explicit PrivateRedis(PrivateRedisOptions options);
  ~PrivateRedis();
  PrivateRedis(const PrivateRedis&) = delete;
  PrivateRedis& operator=(const PrivateRedis&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// Starts it again on the same port (after stop()); waits until it answers PING.
  void start();

  /// Stops it (SIGTERM, SIGKILL after a bound) and waits for the exit.
  void stop();

  /// Graceful SHUTDOWN command (Redis fsyncs the AOF, then exits); waits (bounded) for the
  /// exit, falling back to stop() when the command was not accepted.
  void shutdown();

  /// The data directory (AOF lives in appendonlydir/).
  const std::filesystem::path& dir() const noexcept { return dir_; }

  /// Freezes it with SIGSTOP (connections stay open, nothing answers); resume() undoes it.
  void freeze();
  void resume();

  /// True when the server answers PING with +PONG within `timeout`.
  bool ping(std::chrono::milliseconds timeout = std::chrono::milliseconds(500)) const;

  bool running() const noexcept { return process_ != nullptr; }

 private:
  PrivateRedisOptions options_;
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace chat::test
