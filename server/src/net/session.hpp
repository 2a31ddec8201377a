// One client connection: JSON Lines in, responses and events out (PROTOCOL.md "Framing").
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "chat/protocol/frame.hpp"
#include "service/chat_service.hpp"
#include "service/client.hpp"

namespace chat::net {

/// Limits of one connection.
struct SessionOptions {
  std::chrono::milliseconds idle_timeout{60000};  // no frame for this long: closed
  std::size_t max_outbound_bytes = 8 << 20;       // unsent frames beyond this: closed
};

/// A client connection. The reader coroutine splits frames, answers them one at a time in
/// request order (reading pauses while a request is served, which bounds per-connection
/// memory), and queues responses; the writer coroutine drains the queue with gathered
/// writes, one write in flight. Events from the service are queued the same way. A client
/// that stops reading is cut off when its queue passes max_outbound_bytes, so it never
/// holds up anyone else. Kept alive by its coroutines (shared_from_this).
class Session : public service::Client, public std::enable_shared_from_this<Session> {
 public:
  Session(boost::asio::ip::tcp::socket socket, service::ChatService& service,
          SessionOptions options);
  ~Session() override;

  /// Registers with the service and starts the reader, writer and idle watchdog.
  void start();
  void deliver(std::shared_ptr<const std::string> frame) override;
  void close() override;

 private:
  boost::asio::awaitable<void> reader(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> writer(std::shared_ptr<Session> self);
  boost::asio::awaitable<void> watchdog(std::shared_ptr<Session> self);
  void enqueue(std::shared_ptr<const std::string> frame);

  boost::asio::ip::tcp::socket socket_;
  service::ChatService& service_;
  SessionOptions options_;
  std::uint64_t id_ = 0;
  std::string peer_;
  protocol::FrameSplitter splitter_;
  std::deque<std::shared_ptr<const std::string>> queue_;
  std::size_t queued_bytes_ = 0;
  boost::asio::steady_timer write_signal_;
  boost::asio::steady_timer idle_timer_;
  std::chrono::steady_clock::time_point last_frame_;
  bool closed_ = false;
  bool close_after_flush_ = false;
};

}  // namespace chat::net
