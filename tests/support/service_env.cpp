#include "service_env.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <charconv>
#include <cstdlib>
#include <cstring>
#include <random>
#include <stdexcept>
#include <vector>

namespace chat::test {
namespace {

std::string env_or_empty(const char* name) {
  const char* v = std::getenv(name);
  return v ? std::string(v) : std::string();
}

// Binds a socket to 127.0.0.1:0 and returns the port the kernel picked.
std::uint16_t bind_ephemeral() {
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  socklen_t len = sizeof addr;
  if (::bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 ||
      ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) {
    const int err = errno;
    ::close(fd);
    throw std::runtime_error(std::string("bind 127.0.0.1:0: ") + std::strerror(err));
  }
  ::close(fd);
  return ntohs(addr.sin_port);
}

}  // namespace

ServiceEnv ServiceEnv::from_environment() {
  ServiceEnv env;
  std::vector<std::string> problems;
  auto required = [&](const char* name) {
    std::string v = env_or_empty(name);
    if (v.empty()) problems.push_back(std::string(name) + " is not set");
    return v;
  };
  auto port = [&](const char* name) -> std::uint16_t {
    const std::string v = required(name);
    if (v.empty()) return 0;
    unsigned value = 0;
    const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), value);
    if (ec != std::errc() || end != v.data() + v.size() || value == 0 || value > 65535) {
      problems.push_back(std::string(name) + "='" + v + "' is not a TCP port");
      return 0;
    }
    return static_cast<std::uint16_t>(value);
  };
  env.redis_host = required("CHAT_REDIS_HOST");
  env.redis_port = port("CHAT_REDIS_PORT");
  env.redis_password = env_or_empty("CHAT_REDIS_PASSWORD");
  env.mysql_host = required("CHAT_MYSQL_HOST");
  env.mysql_port = port("CHAT_MYSQL_PORT");
  env.mysql_user = required("CHAT_MYSQL_USER");
  env.mysql_password = required("CHAT_MYSQL_PASSWORD");
  env.mysql_database = required("CHAT_MYSQL_DATABASE");
  if (!problems.empty()) {
    std::string msg =
        "integration tests need Redis and MariaDB (run them through scripts/test, which starts "
        "the services and exports CHAT_*):";
    for (const auto& p : problems) msg += "\n  " + p;
    throw std::runtime_error(msg);
  }
  return env;
}

std::uint16_t free_tcp_port() {
  return bind_ephemeral();
}

std::uint16_t unused_tcp_port() {
  // An ephemeral port just released has no listener; check by connecting to be sure.
  for (int attempt = 0; attempt < 20; ++attempt) {
    const std::uint16_t port = bind_ephemeral();
    const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) continue;
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port);
    const bool refused = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0 &&
                         errno == ECONNREFUSED;
    ::close(fd);
    if (refused) return port;
  }
  throw std::runtime_error("no unused TCP port found on 127.0.0.1");
}

std::string random_tag() {
  static constexpr char kHex[] = "0123456789abcdef";
  std::random_device rd;
  std::mt19937_64 rng((static_cast<std::uint64_t>(rd()) << 32) ^ rd() ^
                      static_cast<std::uint64_t>(::getpid()));
  std::string tag;
  for (int i = 0; i < 10; ++i) tag.push_back(kHex[rng() % 16]);
  return tag;
}

const std::filesystem::path& scratch_dir() {
  static const std::filesystem::path dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    std::filesystem::path base = (tmp && *tmp) ? tmp : "/tmp";
    std::filesystem::path d =
        base / "chat-tests" / (std::to_string(::getpid()) + "-" + random_tag());
    std::filesystem::create_directories(d);
    return d;
  }();
  return dir;
}

}  // namespace chat::test
