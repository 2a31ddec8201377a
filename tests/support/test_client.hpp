// A synchronous protocol client for tests (PROTOCOL.md): raw lines or typed requests out,
// responses matched by id, events kept in arrival order. Every wait is bounded.
#pragma once

#include <chrono>
#include <cstdint>
#include <deque>
#include <functional>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/protocol/frame.hpp"

namespace chat::test {

using nlohmann::json;
using Millis = std::chrono::milliseconds;

/// Default bound for one response or event (the brief's 5 s).
inline constexpr Millis kDefaultWait{5000};

/// Thrown when a bounded wait runs out or the connection breaks while waiting: the test that
/// waited fails with this message instead of hanging.
class ClientError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// One TCP connection to chatd. Not thread-safe; all reads happen inside the wait calls.
/// Every server frame is checked against PROTOCOL.md (valid JSON object, response or known
/// event, responses to typed requests in request order); deviations are collected in
/// violations() and reported as a test failure when the client is destroyed.
class TestClient {
 public:
  /// Connects to host:port (IPv4 literal), bounded by `timeout`. Throws ClientError.
  TestClient(const std::string& host, std::uint16_t port, Millis timeout = kDefaultWait);
  ~TestClient();
  TestClient(const TestClient&) = delete;
  TestClient& operator=(const TestClient&) = delete;
  TestClient(TestClient&& other) noexcept;
  TestClient& operator=(TestClient&& other) noexcept;

  // ---- sending --------------------------------------------------------------------------

  /// Writes bytes as they are (no newline added). Throws ClientError if the peer is gone or
  /// the bytes cannot be written within `timeout`.
  void send_raw(std::string_view bytes, Millis timeout = kDefaultWait);

  /// Like send_raw but never throws: returns how many bytes were written before the peer
  /// closed, failed or `timeout` passed. Meanwhile reads and keeps server frames, so a server
  /// that answers while we write cannot deadlock us (for floods of garbage).
  std::size_t blast(std::string_view bytes, Millis timeout);

  /// Sends {"id": <next id>, "op": op, ...params} as one line; returns the id.
  std::int64_t send(std::string_view op, const json& params = json::object());

  /// Sends several requests like send(), all in one write (one burst, as a pipelining or
  /// flooding client would); returns their ids in order. Responses are checked for request
  /// order like those of send().
  std::vector<std::int64_t> send_batch(const std::vector<std::pair<std::string, json>>& requests,
                                       Millis timeout = kDefaultWait);

  /// Sends a request and waits for its response frame (the whole frame: id, ok, result/error).
  json call(std::string_view op, const json& params = json::object(),
            Millis timeout = kDefaultWait);

  /// call() that requires ok:true and returns the result; throws ClientError (with the error
  /// frame) otherwise.
  json ok(std::string_view op, const json& params = json::object(), Millis timeout = kDefaultWait);

  /// call() that requires ok:false and returns error.code; throws ClientError on success.
  std::string error(std::string_view op, const json& params = json::object(),
                    Millis timeout = kDefaultWait);

  /// hello + login; returns the login result's "user" object. Throws unless ok.
  json login(const std::string& user, const std::string& password);

  // ---- receiving ------------------------------------------------------------------------

  /// Waits for the response with this id and removes it from the inbox.
  json wait_response(std::int64_t id, Millis timeout = kDefaultWait);

  /// Waits for the next response with "id": null (answers to unreadable frames) and removes it.
  json wait_null_response(Millis timeout = kDefaultWait);

  /// First event (arrival order, from the start of the session or the last clear_events())
  /// for which pred is true, waiting up to timeout for it to arrive; nullopt if none did.
  std::optional<json> wait_for_event(const std::function<bool(const json&)>& pred,
                                     Millis timeout = kDefaultWait);

  /// wait_for_event that throws ClientError(what) when nothing matched in time.
  json expect_event(const std::function<bool(const json&)>& pred, const std::string& what,
                    Millis timeout = kDefaultWait);

  /// Waits until at least n events match pred; returns all matching events (arrival order).
  /// Throws ClientError when fewer arrived in time.
  std::vector<json> expect_events(const std::function<bool(const json&)>& pred, std::size_t n,
                                  const std::string& what, Millis timeout = kDefaultWait);

  /// All events received so far (arrival order) that match pred.
  std::vector<json> events_matching(const std::function<bool(const json&)>& pred) const;

  /// All events received so far, in arrival order.
  const std::vector<json>& events() const noexcept { return events_; }

  /// Forgets received events (responses are kept).
  void clear_events() { events_.clear(); }

  /// Reads for `duration` and keeps whatever arrives (to check that something does NOT come).
  void drain_for(Millis duration);

  /// Waits up to timeout for the server to close the connection (EOF or reset). Frames that
  /// arrive before are kept. Returns true when closed.
  bool wait_closed(Millis timeout = kDefaultWait);

  /// True once the server closed the connection (or it broke).
  bool closed() const noexcept { return closed_; }

  /// Closes the socket now, without a protocol goodbye (a vanishing client).
  void close();

  /// Frames that broke PROTOCOL.md, with a reason each.
  const std::vector<std::string>& violations() const noexcept { return violations_; }

  /// Number of complete frames received so far (responses + events).
  std::size_t frames_received() const noexcept { return frames_received_; }

 private:
  // Reads what is available, waiting at most until `deadline`; returns false on timeout
  // without data. Parses every complete frame into the inbox/event list.
  bool pump(std::chrono::steady_clock::time_point deadline);
  void handle_frame(std::string frame);
  void check_frame(const json& j, const std::string& raw);

  int fd_ = -1;
  bool closed_ = false;
  protocol::FrameSplitter splitter_;
  std::int64_t next_id_ = 1;
  std::deque<std::int64_t> outstanding_;  // ids of typed requests awaiting a response, in order
  std::map<std::int64_t, json> responses_;
  std::deque<json> null_responses_;
  std::vector<json> events_;
  std::vector<std::string> violations_;
  std::size_t frames_received_ = 0;
  std::string peer_;
};

// ---- predicates for events ---------------------------------------------------------------

/// Matches {"event": name} (any instance).
std::function<bool(const json&)> event_named(std::string name);

/// Matches {"event": name, "meeting_id": m} and, when given, "order_id" and "user_id".
std::function<bool(const json&)> event_of(std::string name, std::int64_t meeting_id,
                                          std::optional<std::int64_t> order_id = std::nullopt,
                                          std::optional<std::int64_t> user_id = std::nullopt);

/// The error code of a response frame, or "" when it is ok:true.
std::string error_code(const json& response);

}  // namespace chat::test
