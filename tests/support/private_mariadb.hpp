// A MariaDB server owned by one test, with its own data directory and free port, for outage
// tests: stop it to cut chatd and the dumpers off from MySQL, start it again on the same port
// and data directory to bring it back with everything committed so far.
#pragma once

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <memory>

#include "service_env.hpp"
#include "subprocess.hpp"

namespace chat::test {

/// A private mariadbd (/usr/sbin/mariadbd) on 127.0.0.1:<free port>: a fresh data directory
/// (mariadb-install-db), the database, user and password of `credentials` (so chatd and
/// chat-dumper started with the CHAT_* credentials log in unchanged; the local services
/// contract of notes/CONTEXT.md) and sql/schema.sql loaded. About 2-3 s to set up.
class PrivateMariadb {
 public:
  /// Installs, starts and prepares the server; throws std::runtime_error on any failure.
  explicit PrivateMariadb(const ServiceEnv& credentials);
  /// Stops the server; removes the data directory unless the current test failed.
  ~PrivateMariadb();
  PrivateMariadb(const PrivateMariadb&) = delete;
  PrivateMariadb& operator=(const PrivateMariadb&) = delete;

  std::uint16_t port() const noexcept { return port_; }

  /// The credentials given, with host and port replaced by this server's (Redis kept).
  ServiceEnv env() const;

  /// Starts it again on the same port and data directory (after stop()); waits (bounded)
  /// until it accepts logins. Throws std::runtime_error.
  void start();

  /// Clean shutdown (SIGTERM) and wait for the exit; committed data stays.
  void stop();

  bool running() const noexcept { return process_ != nullptr; }

 private:
  void setup_database();

  ServiceEnv credentials_;
  std::uint16_t port_ = 0;
  std::filesystem::path dir_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace chat::test
