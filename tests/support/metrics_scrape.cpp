#include "metrics_scrape.hpp"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <chrono>
#include <cstring>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <thread>

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

std::vector<Sample> parse_metrics(const std::string& text) {
  std::vector<Sample> out;
  std::istringstream in(text);
  std::string line;
  static const std::regex label(R"re((\w+)="([^"]*)")re");
  while (std::getline(in, line)) {
    if (line.empty() || line[0] == '#') continue;
    Sample s;
    const auto brace = line.find('{');
    const auto space = line.rfind(' ');
    if (space == std::string::npos) continue;
    if (brace != std::string::npos && brace < space) {
      s.name = line.substr(0, brace);
      const auto close = line.find('}', brace);
      const std::string labels = line.substr(brace + 1, close - brace - 1);
      for (std::sregex_iterator it(labels.begin(), labels.end(), label), end; it != end; ++it)
        s.labels[(*it)[1]] = (*it)[2];
    } else {
      s.name = line.substr(0, space);
    }
    s.value = std::stod(line.substr(space + 1));
    out.push_back(std::move(s));
  }
  return out;
}

std::optional<double> value_of(const std::vector<Sample>& samples, const std::string& name,
                               const std::map<std::string, std::string>& labels) {
  for (const auto& s : samples) {
    if (s.name != name) continue;
    bool match = true;
    for (const auto& [k, v] : labels) {
      const auto it = s.labels.find(k);
      match = match && it != s.labels.end() && it->second == v;
    }
    if (match) return s.value;
  }
  return std::nullopt;
}

std::uint16_t metrics_port(const ChatdProcess& node) {
  static const std::regex re(R"(metrics at \S+ \(port (\d+)\))");
  const auto deadline = std::chrono::steady_clock::now() + Millis(5000);
  do {
    std::smatch m;
    const std::string log = node.log();
    if (std::regex_search(log, m, re)) return static_cast<std::uint16_t>(std::stoi(m[1]));
    std::this_thread::sleep_for(Millis(50));
  } while (std::chrono::steady_clock::now() < deadline);
  return 0;
}

std::vector<Sample> scrape_metrics(std::uint16_t port) {
  const auto r = http_get("127.0.0.1", port, "/metrics");
  if (r.status != 200)
    throw std::runtime_error("GET /metrics answered " + std::to_string(r.status));
  return parse_metrics(r.body);
}

}  // namespace chat::test
