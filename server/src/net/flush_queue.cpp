#include "net/flush_queue.hpp"

#include <boost/asio/post.hpp>

#include "net/session.hpp"

namespace chat::net {

void FlushQueue::add(std::shared_ptr<Session> session) {
  pending_.push_back(std::move(session));
  if (posted_) return;
  posted_ = true;
  boost::asio::post(executor_, [this] { run(); });
}

void FlushQueue::run() {
  posted_ = false;
  running_.swap(pending_);
  // A flush that closes its session calls into the service, which may queue frames to
  // others: those go to pending_, for the next run.
  for (const auto& session : running_) session->flush();
  running_.clear();
}

}  // namespace chat::net
