#include "service/scheduler.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <limits>

#include "service/spawn.hpp"
#include "store/store_error.hpp"

namespace chat::service {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

Scheduler::Scheduler(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
                     std::chrono::milliseconds poll, std::string node_id,
                     std::chrono::milliseconds heartbeat, metrics::Metrics& metrics)
    : io_(io),
      redis_(redis),
      db_(db),
      metrics_(metrics),
      poll_(poll),
      node_id_(std::move(node_id)),
      heartbeat_(heartbeat),
      timer_(io),
      lease_timer_(io) {}

void Scheduler::start() {
  spawn_logged(io_, run(), "scheduler stopped");
  spawn_logged(io_, lease_loop(), "scheduler lease stopped");
}

void Scheduler::stop() {
  stopped_ = true;
  timer_.cancel();
  lease_timer_.cancel();
}

awaitable<void> Scheduler::lease_loop() {
  const auto ttl = 3 * heartbeat_.count();
  while (!stopped_) {
    try {
      const bool held = token_.has_value();
      token_ = co_await redis_.acquire_lease(node_id_, token_.value_or(""), ttl);
      metrics_.scheduler_lease(token_.has_value());
      if (token_ && !held) {
        spdlog::info("scheduler lease taken (fencing token {})", *token_);
        timer_.cancel();  // reconcile now: instances may be due since the last holder died
      } else if (!token_ && held) {
        spdlog::warn("scheduler lease lost to another node");
      }
    } catch (const store::StoreUnavailable&) {
      // Keep the token: calls are fenced, and the lease expires if Redis stays away.
    } catch (const std::exception& e) {
      spdlog::error("scheduler lease: {}", e.what());
    }
    lease_timer_.expires_after(heartbeat_);
    boost::system::error_code ec;
    co_await lease_timer_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
  }
  if (token_) {
    try {
      co_await redis_.release_lease(holder());  // a clean stop hands over at once
    } catch (const std::exception&) {
      // It expires on its own.
    }
    token_.reset();
  }
}

awaitable<std::shared_ptr<const store::Catalog>> Scheduler::refresh() {
  auto read = db_.run([](store::MysqlStore& s) { return s.load_catalog(); });
  auto catalog = co_await std::move(read);
  catalog_ = std::make_shared<const store::Catalog>(std::move(catalog));
  co_return catalog_;
}

awaitable<void> Scheduler::run() {
  using Clock = std::chrono::steady_clock;
  auto next_refresh = Clock::now();
  while (!stopped_) {
    if (Clock::now() >= next_refresh) {
      next_refresh = Clock::now() + poll_;
      try {
        co_await refresh();
        if (mysql_down_logged_) spdlog::info("scheduler: MySQL reachable again");
        mysql_down_logged_ = false;
      } catch (const store::StoreUnavailable& e) {
        if (!mysql_down_logged_) spdlog::warn("scheduler: cannot read the schedule: {}", e.what());
        mysql_down_logged_ = true;
      } catch (const std::exception& e) {
        spdlog::error("scheduler: reading the schedule failed: {}", e.what());
      }
    }
    auto wake = next_refresh;
    if (catalog_) {
      const auto now = protocol::now_ms();
      try {
        if (token_) co_await reconcile(now);
      } catch (const store::LeaseLost&) {
        spdlog::warn("scheduler lease lost to another node");
        token_.reset();
      } catch (const store::StoreUnavailable& e) {
        spdlog::debug("scheduler: Redis unavailable: {}", e.what());
      } catch (const std::exception& e) {
        spdlog::error("scheduler: {}", e.what());
      }
      // Sleep until the next from/to boundary when it comes before the next poll.
      protocol::UnixMs next = std::numeric_limits<protocol::UnixMs>::max();
      for (const auto& [key, inst] : catalog_->instances) {
        if (inst.from > now) next = std::min(next, inst.from);
        if (inst.to > now) next = std::min(next, inst.to);
      }
      if (next != std::numeric_limits<protocol::UnixMs>::max()) {
        const auto at = Clock::now() + std::chrono::milliseconds(next - protocol::now_ms());
        wake = std::min(wake, at);
      }
    }
    timer_.expires_at(wake);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
  }
}

awaitable<void> Scheduler::reconcile(protocol::UnixMs now) {
  const auto catalog = catalog_;  // keep this snapshot across suspensions
  const auto active = co_await redis_.active_windows();
  std::set<store::InstanceKey> active_keys;
  for (const auto& a : active) active_keys.insert(a.key);

  for (const auto& [key, inst] : catalog->instances) {
    if (inst.from > now || now >= inst.to || active_keys.contains(key) ||
        not_startable_.contains(key))
      continue;
    const auto meeting = catalog->meetings.find(key.first);
    if (meeting == catalog->meetings.end()) continue;
    if (co_await redis_.activate(inst, meeting->second.title, holder())) {
      spdlog::info("meeting {} instance {} started", key.first, key.second);
    } else {
      not_startable_.insert(key);
    }
  }
  for (const auto& a : active) {
    const auto it = catalog->instances.find(a.key);
    if (it != catalog->instances.end() && now < it->second.to) continue;
    // Deleted (end now) or past its `to` (end at `to`, also when `to` was moved back).
    const protocol::UnixMs ts = it == catalog->instances.end() ? now : it->second.to;
    if (co_await redis_.end(a.key, ts, holder()))
      spdlog::info("meeting {} instance {} ended", a.key.first, a.key.second);
  }
}

}  // namespace chat::service
