// One client connection: JSON Lines in, responses and events out (PROTOCOL.md "Framing").
#pragma once

#include <array>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <optional>
#include <string>

#include "chat/protocol/frame.hpp"
#include "net/connection_limits.hpp"
#include "net/flush_queue.hpp"
#include "net/rate_limiter.hpp"
#include "net/stream.hpp"
#include "service/chat_service.hpp"
#include "service/client.hpp"

namespace chat::net {

/// Limits of one connection.
struct SessionOptions {
  std::chrono::milliseconds idle_timeout{60000};   // no frame for this long: closed
  std::size_t max_outbound_bytes = 8 << 20;        // unsent frames beyond this: closed
  std::chrono::milliseconds login_timeout{10000};  // not logged in by then: closed; 0: never
  RateLimitOptions rate;                           // requests per second (--rate-limit ...)
};

/// A client connection. The reader coroutine splits frames, answers them one at a time in
/// request order (reading pauses while a request is served, which bounds per-connection
/// memory), and queues responses. Events from the service are queued the same way. Queued
/// frames are sent by flush() from the node's FlushQueue, a gathered non-blocking write when
/// the socket takes it all (plain TCP); whatever is left (a full socket buffer, TLS) goes to
/// the writer coroutine, which drains the queue with gathered asynchronous writes, one
/// write in flight. A client that stops reading is cut off when its queue passes
/// max_outbound_bytes, so it never holds up anyone else. Kept alive by its coroutines
/// (shared_from_this).
///
/// Abuse limits (README "Limits"): every non-blank frame costs a token of the connection's
/// RequestRateLimiter; one over the rate is answered rate_limited (with its id, when it has
/// one) and not served, and a connection that floods far over its limit (RequestRateLimiter:
/// refusals beyond 10 x burst, at more than 10 x the rate) gets a final rate_limited frame
/// (id null) and is closed. A connection not logged in within
/// login_timeout gets an unauthenticated frame (id null) and is closed. The connection's
/// ConnectionLimits::Slot is held for its lifetime and released with the session.
class Session : public service::Client, public std::enable_shared_from_this<Session> {
 public:
  /// stream: the connection, plain or TLS with its handshake done (Listener). slot: this
  /// connection's place in the node's connection counts; its address() is the client
  /// address handed to the service (login throttling).
  /// flushes: the node's FlushQueue (outlives the session's handlers).
  Session(Stream stream, service::ChatService& service, FlushQueue& flushes, SessionOptions options,
          ConnectionLimits::Slot slot);
  ~Session() override;

  /// Registers with the service and starts the reader, writer and idle watchdog.
  void start();
  void deliver(std::shared_ptr<const std::string> frame) override;
  void close() override;
  /// Sends what is queued (FlushQueue calls it): a non-blocking gathered write on plain TCP
  /// when no asynchronous write is in flight, and the writer coroutine for the rest.
  void flush();

 private:
  static constexpr std::size_t kMaxGather = 64;  // frames per gathered write
  using Gather = std::array<boost::asio::const_buffer, kMaxGather>;

  // Resumes the writer coroutine (parked on write_signal_ while the queue is empty).
  void wake_writer();
  // Points buffers at the first queued frames (the front one from front_sent_ on); returns
  // how many it filled.
  std::size_t gather(Gather& buffers) const;
  // Drops `sent` bytes from the front of the queue (whole frames, then part of the next).
  void consume(std::size_t sent);
  boost::asio::awaitable<void> reader(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> writer(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> watchdog(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> login_deadline(std::shared_ptr<Session> self);
  // Closes the connection with the login-deadline frame unless it is logged in by now.
  void enforce_login_deadline();
  void enqueue(std::shared_ptr<const std::string> frame);
  // Sends `last` (when the queue has room), then closes gracefully: no further frame is
  // served (input is read and dropped), the writer flushes what is queued and half-closes,
  // and the socket closes when the client hangs up or a few seconds later. A client that
  // does not read is closed by the idle watchdog.
  void close_after(std::string last);
  // Answers a frame refused by the rate limiter (a flood: closes the connection); false
  // when the connection is being closed.
  bool refuse(std::optional<std::int64_t> id, RequestRateLimiter::Verdict verdict);

  Stream stream_;
  service::ChatService& service_;
  FlushQueue& flushes_;
  SessionOptions options_;
  ConnectionLimits::Slot slot_;  // released when the session is destroyed
  RequestRateLimiter limiter_;
  std::uint64_t id_ = 0;
  std::string peer_;
  protocol::FrameSplitter splitter_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;  // unsent bytes in queue_
  std::size_t front_sent_ = 0;    // bytes of queue_.front() already sent
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer idle_timer_;
  boost::asio::steady_timer login_timer_;
  boost::asio::steady_timer linger_timer_;  // closes a half-closed connection in the end
  std::chrono::steady_clock::time_point last_frame_;
  bool closed_ = false;
  bool close_after_flush_ = false;
  bool flush_queued_ = false;     // in the FlushQueue
  bool writing_ = false;          // the writer coroutine has a write in flight
  bool serving_ = false;          // a request is being served (the reader awaits the service)
  bool deadline_passed_ = false;  // the login deadline passed while serving_
};

}  // namespace chat::net
