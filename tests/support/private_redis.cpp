#include "private_redis.hpp"

#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <iostream>
#include <stdexcept>
#include <thread>

#include "service_env.hpp"

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;

// RESP needs no client library for PING: send the inline command, expect "+PONG\r\n".
bool raw_ping(std::uint16_t port, std::chrono::milliseconds timeout) {
  const auto deadline = Clock::now() + timeout;
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd < 0) return false;
  auto left = [&] {
    return static_cast<int>(std::max<long long>(
        0, std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now()).count()));
  };
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = htons(port);
  bool ok = false;
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 || errno == EINPROGRESS) {
    pollfd p{fd, POLLOUT, 0};
    int err = 0;
    socklen_t len = sizeof err;
    if (::poll(&p, 1, left()) == 1 && ::getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &len) == 0 &&
        err == 0 && ::send(fd, "PING\r\n", 6, MSG_NOSIGNAL) == 6) {
      std::string reply;
      char buf[64];
      while (reply.find("\r\n") == std::string::npos) {
        pollfd r{fd, POLLIN, 0};
        if (::poll(&r, 1, left()) != 1) break;
        const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
        if (n <= 0) break;
        reply.append(buf, static_cast<std::size_t>(n));
      }
      ok = reply.rfind("+PONG\r\n", 0) == 0;
    }
  }
  ::close(fd);
  return ok;
}

}  // namespace

PrivateRedis::PrivateRedis() : PrivateRedis(PrivateRedisOptions{}) {}

PrivateRedis::PrivateRedis(PrivateRedisOptions options) : options_(std::move(options)) {
  // The free port may be taken between probing and binding: try a few.
  for (int attempt = 1;; ++attempt) {
    port_ = free_tcp_port();
    dir_ = scratch_dir() / ("redis-" + std::to_string(port_));
    std::filesystem::create_directories(dir_);
    try {
      start();
      return;
    } catch (const std::runtime_error&) {
      if (attempt == 3) throw;
    }
  }
}

PrivateRedis::~PrivateRedis() {
  if (process_) {
    process_->stop();
    if (::testing::Test::HasFailure())
      std::cerr << "---- private redis log (" << process_->log_path() << "), last lines:\n"
                << tail_lines(process_->log(), 20) << "\n";
  }
}

void PrivateRedis::start() {
  if (process_) return;
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{"redis-server", "--port", std::to_string(port_), "--bind",
                               "127.0.0.1", "--dir", dir_.string(), "--save", "", "--appendonly",
                               "yes", "--appendfsync", options_.appendfsync, "--daemonize", "no",
                               "--protected-mode", "no"},
      std::vector<std::pair<std::string, std::string>>{}, dir_ / "redis.log");
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (Clock::now() < deadline && process_->running()) {
    // Redis binds before it answers, so a PONG while our process still runs is ours.
    if (ping() && process_->running()) return;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  const std::string log = tail_lines(process_->log(), 10);
  process_->stop();
  process_.reset();
  throw std::runtime_error("private redis-server on port " + std::to_string(port_) +
                           " did not come up within 10 s:\n" + log);
}

void PrivateRedis::stop() {
  if (!process_) return;
  process_->stop(std::chrono::seconds(5));
  process_.reset();
}

void PrivateRedis::shutdown() {
  if (!process_) return;
  // Inline command on a raw socket, as for PING; a server that shuts down closes the
  // connection without a reply.
  const int fd = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
  if (fd >= 0) {
    sockaddr_in addr{};
    addr.sin_family = AF_INET;
    addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    addr.sin_port = htons(port_);
    if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) == 0 &&
        ::send(fd, "SHUTDOWN\r\n", 10, MSG_NOSIGNAL) == 10) {
      // Wait for the server to drop the connection (or answer an error), bounded.
      pollfd r{fd, POLLIN, 0};
      char buf[128];
      if (::poll(&r, 1, 10000) == 1) (void)::recv(fd, buf, sizeof buf, 0);
    }
    ::close(fd);
  }
  if (!process_->wait_exit(std::chrono::seconds(10))) process_->stop(std::chrono::seconds(5));
  process_.reset();
}

void PrivateRedis::freeze() {
  if (process_) process_->signal(SIGSTOP);
}

void PrivateRedis::resume() {
  if (process_) process_->signal(SIGCONT);
}

bool PrivateRedis::ping(std::chrono::milliseconds timeout) const {
  return raw_ping(port_, timeout);
}

}  // namespace chat::test
