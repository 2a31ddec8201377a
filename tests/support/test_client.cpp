#include "test_client.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstring>

#include "chat/protocol/codec.hpp"
#include "chat/protocol/errors.hpp"

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;

int ms_until(Clock::time_point deadline) {
  const auto left = std::chrono::duration_cast<Millis>(deadline - Clock::now()).count();
  return left <= 0 ? 0 : static_cast<int>(std::min<long long>(left, 60'000));
}

// Server frames may be larger than client frames (PROTOCOL.md); bound memory anyway.
constexpr std::size_t kMaxServerFrame = 64u << 20;

// True for a frame with "ok": true (false for anything else, including ill-typed "ok").
bool is_ok(const json& r) {
  const auto it = r.find("ok");
  return it != r.end() && it->is_boolean() && it->get<bool>();
}

std::string shorten(const std::string& s, std::size_t n = 400) {
  return s.size() <= n ? s : s.substr(0, n) + "...(" + std::to_string(s.size()) + " bytes)";
}

}  // namespace

TestClient::TestClient(const std::string& host, std::uint16_t port, Millis timeout)
    : splitter_(kMaxServerFrame), peer_(host + ":" + std::to_string(port)) {
  fd_ = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
  if (fd_ < 0) throw ClientError(std::string("socket: ") + std::strerror(errno));
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  if (::inet_pton(AF_INET, host.c_str(), &addr.sin_addr) != 1) {
    ::close(fd_);
    throw ClientError("not an IPv4 address: " + host);
  }
  const int one = 1;
  ::setsockopt(fd_, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  if (::connect(fd_, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    if (errno != EINPROGRESS) {
      const int err = errno;
      ::close(fd_);
      throw ClientError("connect " + peer_ + ": " + std::strerror(err));
    }
    pollfd p{fd_, POLLOUT, 0};
    const int r = ::poll(&p, 1, static_cast<int>(timeout.count()));
    int err = 0;
    socklen_t len = sizeof err;
    if (r <= 0 || ::getsockopt(fd_, SOL_SOCKET, SO_ERROR, &err, &len) != 0 || err != 0) {
      ::close(fd_);
      throw ClientError("connect " + peer_ + ": " +
                        (r <= 0 ? std::string("timed out") : std::string(std::strerror(err))));
    }
  }
}

TestClient::~TestClient() {
  if (!violations_.empty()) {
    std::string all;
    for (const auto& v : violations_) all += "\n  " + v;
    ADD_FAILURE() << "server frames that break PROTOCOL.md on connection to " << peer_ << ":"
                  << all;
  }
  close();
}

TestClient::TestClient(TestClient&& o) noexcept
    : fd_(std::exchange(o.fd_, -1)),
      closed_(o.closed_),
      splitter_(std::move(o.splitter_)),
      next_id_(o.next_id_),
      outstanding_(std::move(o.outstanding_)),
      responses_(std::move(o.responses_)),
      null_responses_(std::move(o.null_responses_)),
      events_(std::move(o.events_)),
      violations_(std::exchange(o.violations_, {})),
      frames_received_(o.frames_received_),
      peer_(std::move(o.peer_)) {}

TestClient& TestClient::operator=(TestClient&& o) noexcept {
  if (this != &o) {
    close();
    fd_ = std::exchange(o.fd_, -1);
    closed_ = o.closed_;
    splitter_ = std::move(o.splitter_);
    next_id_ = o.next_id_;
    outstanding_ = std::move(o.outstanding_);
    responses_ = std::move(o.responses_);
    null_responses_ = std::move(o.null_responses_);
    events_ = std::move(o.events_);
    violations_ = std::exchange(o.violations_, {});
    frames_received_ = o.frames_received_;
    peer_ = std::move(o.peer_);
  }
  return *this;
}

void TestClient::close() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  closed_ = true;
}

void TestClient::send_raw(std::string_view bytes, Millis timeout) {
  if (fd_ < 0) throw ClientError("send on a closed connection to " + peer_);
  const auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (sent < bytes.size()) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
      continue;
    }
    if (n < 0 && errno == EINTR) continue;
    if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      // Keep reading while the server cannot take more, so neither side blocks the other.
      if (Clock::now() >= deadline)
        throw ClientError("send to " + peer_ + " timed out after " + std::to_string(sent) +
                          " bytes");
      pollfd p{fd_, POLLOUT | POLLIN, 0};
      ::poll(&p, 1, std::min(ms_until(deadline), 50));
      if (p.revents & POLLIN) pump(Clock::now());
      if (closed_) throw ClientError("connection to " + peer_ + " closed while sending");
      continue;
    }
    throw ClientError("send to " + peer_ + ": " + std::strerror(errno));
  }
}

std::size_t TestClient::blast(std::string_view bytes, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t sent = 0;
  while (fd_ >= 0 && !closed_ && sent < bytes.size() && Clock::now() < deadline) {
    const ssize_t n = ::send(fd_, bytes.data() + sent, bytes.size() - sent, MSG_NOSIGNAL);
    if (n > 0) {
      sent += static_cast<std::size_t>(n);
    } else if (n < 0 && errno == EINTR) {
      continue;
    } else if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
      pollfd p{fd_, POLLOUT | POLLIN, 0};
      ::poll(&p, 1, std::min(ms_until(deadline), 50));
    } else {
      break;  // EPIPE / ECONNRESET: the server hung up, which is allowed
    }
    pump(Clock::now());  // drain whatever the server answered meanwhile
  }
  return sent;
}

std::int64_t TestClient::send(std::string_view op, const json& params) {
  json j = params.is_object() ? params : json::object();
  const std::int64_t id = next_id_++;
  j["id"] = id;
  j["op"] = op;
  send_raw(j.dump() + "\n");
  outstanding_.push_back(id);
  return id;
}

std::vector<std::int64_t> TestClient::send_batch(
    const std::vector<std::pair<std::string, json>>& requests, Millis timeout) {
  std::string bytes;
  std::vector<std::int64_t> ids;
  ids.reserve(requests.size());
  for (const auto& [op, params] : requests) {
    json j = params.is_object() ? params : json::object();
    const std::int64_t id = next_id_++;
    j["id"] = id;
    j["op"] = op;
    bytes += j.dump();
    bytes += '\n';
    ids.push_back(id);
  }
  // Registered before writing: send_raw reads while the server cannot take more, and answers
  // may arrive before the last byte is out.
  outstanding_.insert(outstanding_.end(), ids.begin(), ids.end());
  send_raw(bytes, timeout);
  return ids;
}

json TestClient::call(std::string_view op, const json& params, Millis timeout) {
  return wait_response(send(op, params), timeout);
}

json TestClient::ok(std::string_view op, const json& params, Millis timeout) {
  json r = call(op, params, timeout);
  if (!is_ok(r)) throw ClientError(std::string(op) + " " + params.dump() + " failed: " + r.dump());
  return r.at("result");
}

std::string TestClient::error(std::string_view op, const json& params, Millis timeout) {
  json r = call(op, params, timeout);
  if (is_ok(r))
    throw ClientError(std::string(op) + " " + params.dump() + " was expected to fail but gave " +
                      r.dump());
  return error_code(r);
}

json TestClient::login(const std::string& user, const std::string& password) {
  ok("hello", {{"client", "chat-integration-tests"}});
  return ok("login", {{"user", user}, {"password", password}}).at("user");
}

json TestClient::wait_response(std::int64_t id, Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (auto it = responses_.find(id); it != responses_.end()) {
      json r = std::move(it->second);
      responses_.erase(it);
      return r;
    }
    if (closed_)
      throw ClientError("connection to " + peer_ + " closed before the response to id " +
                        std::to_string(id));
    if (Clock::now() >= deadline)
      throw ClientError("no response to id " + std::to_string(id) + " from " + peer_ + " within " +
                        std::to_string(timeout.count()) + " ms");
    pump(deadline);
  }
}

json TestClient::wait_null_response(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    if (!null_responses_.empty()) {
      json r = std::move(null_responses_.front());
      null_responses_.pop_front();
      return r;
    }
    if (closed_) throw ClientError("connection to " + peer_ + " closed before an id:null response");
    if (Clock::now() >= deadline)
      throw ClientError("no id:null response from " + peer_ + " within " +
                        std::to_string(timeout.count()) + " ms");
    pump(deadline);
  }
}

std::optional<json> TestClient::wait_for_event(const std::function<bool(const json&)>& pred,
                                               Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  std::size_t checked = 0;
  for (;;) {
    for (; checked < events_.size(); ++checked)
      if (pred(events_[checked])) return events_[checked];
    if (closed_ || Clock::now() >= deadline) return std::nullopt;
    pump(deadline);
  }
}

json TestClient::expect_event(const std::function<bool(const json&)>& pred, const std::string& what,
                              Millis timeout) {
  if (auto e = wait_for_event(pred, timeout)) return *e;
  std::string seen;
  for (const auto& e : events_) seen += "\n    " + shorten(e.dump(), 300);
  throw ClientError("expected event not received within " + std::to_string(timeout.count()) +
                    " ms on " + peer_ + ": " + what + (closed_ ? " (connection closed)" : "") +
                    "\n  events seen:" + (seen.empty() ? std::string(" none") : seen));
}

std::vector<json> TestClient::expect_events(const std::function<bool(const json&)>& pred,
                                            std::size_t n, const std::string& what,
                                            Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  for (;;) {
    auto found = events_matching(pred);
    if (found.size() >= n) return found;
    if (closed_ || Clock::now() >= deadline) {
      std::string seen;
      for (const auto& e : events_) seen += "\n    " + shorten(e.dump(), 300);
      throw ClientError("expected " + std::to_string(n) + " events (" + what + "), got " +
                        std::to_string(found.size()) + " within " +
                        std::to_string(timeout.count()) +
                        " ms\n  events seen:" + (seen.empty() ? std::string(" none") : seen));
    }
    pump(deadline);
  }
}

std::vector<json> TestClient::events_matching(const std::function<bool(const json&)>& pred) const {
  std::vector<json> out;
  for (const auto& e : events_)
    if (pred(e)) out.push_back(e);
  return out;
}

void TestClient::drain_for(Millis duration) {
  const auto deadline = Clock::now() + duration;
  while (!closed_ && Clock::now() < deadline) pump(deadline);
}

bool TestClient::wait_closed(Millis timeout) {
  const auto deadline = Clock::now() + timeout;
  while (!closed_ && Clock::now() < deadline) pump(deadline);
  return closed_;
}

bool TestClient::pump(Clock::time_point deadline) {
  if (fd_ < 0 || closed_) return false;
  pollfd p{fd_, POLLIN, 0};
  const int r = ::poll(&p, 1, ms_until(deadline));
  if (r <= 0) return false;
  bool got = false;
  char buf[65536];
  for (;;) {
    const ssize_t n = ::recv(fd_, buf, sizeof buf, 0);
    if (n > 0) {
      got = true;
      splitter_.append(std::string_view(buf, static_cast<std::size_t>(n)));
      while (auto frame = splitter_.next()) handle_frame(std::move(*frame));
      if (splitter_.too_large()) {
        violations_.push_back("a server frame over " + std::to_string(kMaxServerFrame) + " bytes");
        closed_ = true;
        return got;
      }
      continue;
    }
    if (n == 0) {
      closed_ = true;  // orderly EOF
      if (splitter_.pending_bytes() > 0)
        violations_.push_back("connection closed inside a frame (" +
                              std::to_string(splitter_.pending_bytes()) +
                              " bytes without newline)");
      return got;
    }
    if (errno == EINTR) continue;
    if (errno == EAGAIN || errno == EWOULDBLOCK) return got;
    closed_ = true;  // ECONNRESET and friends
    return got;
  }
}

void TestClient::handle_frame(std::string frame) {
  ++frames_received_;
  json j = json::parse(frame, nullptr, false);
  if (j.is_discarded() || !j.is_object()) {
    violations_.push_back("not a JSON object: " + shorten(frame));
    return;
  }
  check_frame(j, frame);
  if (j.contains("event")) {
    events_.push_back(std::move(j));
    return;
  }
  const auto it = j.find("id");
  if (it == j.end()) return;  // reported by check_frame
  if (it->is_null()) {
    null_responses_.push_back(std::move(j));
    return;
  }
  if (!it->is_number_integer()) return;
  const auto id = it->get<std::int64_t>();
  // "a response to each request, in request order per connection"
  if (const auto pos = std::find(outstanding_.begin(), outstanding_.end(), id);
      pos != outstanding_.end()) {
    if (pos != outstanding_.begin())
      violations_.push_back("response to id " + std::to_string(id) +
                            " arrived before the response to id " +
                            std::to_string(outstanding_.front()));
    outstanding_.erase(pos);
  }
  responses_[id] = std::move(j);
}

void TestClient::check_frame(const json& j, const std::string& raw) {
  try {
    const auto decoded = protocol::decode_server_frame(raw);
    if (!decoded) violations_.push_back("unknown event: " + shorten(raw));
  } catch (const std::exception& e) {
    violations_.push_back(std::string("undecodable frame (") + e.what() + "): " + shorten(raw));
    return;
  }
  if (j.contains("event")) {
    if (j.contains("id")) violations_.push_back("event with an id: " + shorten(raw));
    return;
  }
  if (!j.at("ok").is_boolean()) violations_.push_back("'ok' is not a boolean: " + shorten(raw));
  if (is_ok(j)) {
    if (!j.contains("result") || !j.at("result").is_object())
      violations_.push_back("ok response without a result object: " + shorten(raw));
  } else {
    const auto err = j.find("error");
    if (err == j.end() || !err->is_object() || !err->contains("code") ||
        !err->at("code").is_string() ||
        !protocol::error_code_from_string(err->at("code").get<std::string>()) ||
        !err->contains("message") || !err->at("message").is_string())
      violations_.push_back("error response without a known code and a message: " + shorten(raw));
  }
}

std::function<bool(const json&)> event_named(std::string name) {
  return [name = std::move(name)](const json& e) {
    const auto ev = e.find("event");
    return ev != e.end() && ev->is_string() && ev->get<std::string>() == name;
  };
}

std::function<bool(const json&)> event_of(std::string name, std::int64_t meeting_id,
                                          std::optional<std::int64_t> order_id,
                                          std::optional<std::int64_t> user_id) {
  // Ill-typed fields simply do not match (check_frame reports them as violations).
  auto int_field = [](const json& e, const char* key) -> std::optional<std::int64_t> {
    const auto it = e.find(key);
    if (it == e.end() || !it->is_number_integer()) return std::nullopt;
    return it->get<std::int64_t>();
  };
  return [=](const json& e) {
    const auto ev = e.find("event");
    if (ev == e.end() || !ev->is_string() || ev->get<std::string>() != name) return false;
    if (int_field(e, "meeting_id") != meeting_id) return false;
    if (order_id && int_field(e, "order_id") != order_id) return false;
    if (user_id && int_field(e, "user_id") != user_id) return false;
    return true;
  };
}

std::string error_code(const json& response) {
  const auto ok = response.find("ok");
  if (ok != response.end() && ok->is_boolean() && ok->get<bool>()) return "";
  const auto err = response.find("error");
  if (err == response.end() || !err->is_object()) return "<no error object>";
  const auto code = err->find("code");
  if (code == err->end() || !code->is_string()) return "<no code>";
  return code->get<std::string>();
}

}  // namespace chat::test
