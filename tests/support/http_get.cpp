#include "http_get.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <stdexcept>

namespace chat::test {
namespace {

// Closes the descriptor on scope exit.
struct Fd {
  int fd = -1;
  ~Fd() {
    if (fd >= 0) ::close(fd);
  }
};

}  // namespace

HttpResponse http_get(const std::string& host, std::uint16_t port, const std::string& path,
                      Millis timeout) {
  Fd s{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (s.fd < 0) throw std::runtime_error(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1)
    throw std::runtime_error("http_get: not an IPv4 address: " + host);
  if (::connect(s.fd, reinterpret_cast<const sockaddr*>(&addr), sizeof addr) != 0)
    throw std::runtime_error("http_get: connect to " + host + ":" + std::to_string(port) + ": " +
                             std::strerror(errno));
  const std::string request = "GET " + path + " HTTP/1.0\r\nHost: " + host + "\r\n\r\n";
  if (::send(s.fd, request.data(), request.size(), MSG_NOSIGNAL) !=
      static_cast<ssize_t>(request.size()))
    throw std::runtime_error("http_get: send failed");
  std::string raw;
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  char buf[16384];
  for (;;) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now())
                          .count();
    if (left <= 0) throw std::runtime_error("http_get: no complete answer in time");
    pollfd p{s.fd, POLLIN, 0};
    if (::poll(&p, 1, static_cast<int>(left)) <= 0) continue;
    const auto n = ::recv(s.fd, buf, sizeof buf, 0);
    if (n < 0) throw std::runtime_error(std::string("http_get: recv: ") + std::strerror(errno));
    if (n == 0) break;
    raw.append(buf, static_cast<std::size_t>(n));
  }
  // "HTTP/1.x NNN reason\r\n headers \r\n\r\n body"
  if (raw.rfind("HTTP/1.", 0) != 0 || raw.size() < 12)
    throw std::runtime_error("http_get: not an HTTP answer: " + raw.substr(0, 80));
  HttpResponse r;
  r.status = std::stoi(raw.substr(9, 3));
  const auto body = raw.find("\r\n\r\n");
  if (body != std::string::npos) r.body = raw.substr(body + 4);
  return r;
}

}  // namespace chat::test
