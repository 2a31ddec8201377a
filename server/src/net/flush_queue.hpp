// Sessions with frames queued during the current turn of the event loop, flushed together.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <memory>
#include <vector>

namespace chat::net {

class Session;

/// Collects the sessions that queued frames since the last flush and writes them all from one
/// posted handler. One bus read can carry many events, each queued to every participant: this
/// way a burst costs each connection one gathered write, and no wake-up of its writer per
/// frame (Session::flush). One per io_context, used on its thread only; it must outlive the
/// io_context's run() (the Listener owns it).
class FlushQueue {
 public:
  explicit FlushQueue(boost::asio::any_io_executor executor) : executor_(std::move(executor)) {}
  FlushQueue(const FlushQueue&) = delete;
  FlushQueue& operator=(const FlushQueue&) = delete;

  /// Flushes `session` once the handlers already queued have run (a session adds itself once
  /// per flush: Session tracks that).
  void add(std::shared_ptr<Session> session);

 private:
  void run();

  boost::asio::any_io_executor executor_;
  std::vector<std::shared_ptr<Session>> pending_;
  std::vector<std::shared_ptr<Session>> running_;  // kept to reuse its capacity
  bool posted_ = false;
};

}  // namespace chat::net
