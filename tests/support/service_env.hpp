// Where the backing services of the integration tests are: the CHAT_* environment variables
// that scripts/test exports (notes/CONTEXT.md, "Local services contract").
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace chat::test {

/// Redis and MariaDB coordinates of the test services.
struct ServiceEnv {
  std::string redis_host;
  std::uint16_t redis_port = 0;
  std::string redis_password;  // empty: none (CHAT_REDIS_PASSWORD is optional)
  std::string mysql_host;
  std::uint16_t mysql_port = 0;
  std::string mysql_user;
  std::string mysql_password;
  std::string mysql_database;

  /// Reads CHAT_REDIS_HOST, CHAT_REDIS_PORT, CHAT_MYSQL_HOST, CHAT_MYSQL_PORT, CHAT_MYSQL_USER,
  /// CHAT_MYSQL_PASSWORD, CHAT_MYSQL_DATABASE (and optional CHAT_REDIS_PASSWORD).
  /// Throws std::runtime_error naming every missing or malformed variable: integration tests
  /// must fail, not skip, when the services are not configured.
  static ServiceEnv from_environment();
};

/// A TCP port on 127.0.0.1 that was free a moment ago (bound to port 0, then released).
/// Racy by nature; callers that start servers retry with a new port when the bind fails.
std::uint16_t free_tcp_port();

/// A TCP port on 127.0.0.1 where nothing listens right now (for "service unreachable" tests).
std::uint16_t unused_tcp_port();

/// 10 random lower-case hex characters. Prefixes test data so that parallel and repeated runs
/// never collide in the shared MySQL/Redis.
std::string random_tag();

/// A directory private to this test process, created on first use, for logs and data dirs.
const std::filesystem::path& scratch_dir();

}  // namespace chat::test
