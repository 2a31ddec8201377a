// Activation and end of meeting instances (PROTOCOL.md "Semantics", SCHEMA.md timings).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <optional>
#include <set>
#include <string>

#include "metrics/metrics.hpp"
#include "store/database.hpp"
#include "store/redis_store.hpp"

namespace chat::service {

/// Keeps the catalog (meetings, audiences, schedule) fresh from MySQL and starts and ends
/// instances on time: an instance becomes active at `from` and ends at `to` (timer on the
/// next boundary, so within a few ms), schedule rows written while running are picked up
/// within one poll period, an instance whose window passed before it was seen never
/// starts, and moving `to` into the past or deleting an active instance ends it at once.
/// Every node keeps the catalog, but only the holder of the scheduler lease starts and
/// ends instances: the lease lives in Redis with an expiry of three heartbeats, is renewed
/// every heartbeat, and moves to a surviving node within about three heartbeats when its
/// holder dies. Activation and end are fenced by the lease's token (a stale holder changes
/// nothing) and idempotent, so no instance is started or ended twice.
class Scheduler {
 public:
  Scheduler(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
            std::chrono::milliseconds poll, std::string node_id,
            std::chrono::milliseconds heartbeat, metrics::Metrics& metrics);

  void start();
  void stop();

  /// True while this node holds the scheduler lease.
  bool holds_lease() const noexcept { return token_.has_value(); }

  /// The latest catalog; null until the first successful read of MySQL.
  std::shared_ptr<const store::Catalog> catalog() const { return catalog_; }

  /// Reads the catalog now (used when a request finds none loaded yet). Throws
  /// StoreUnavailable when MySQL is down.
  boost::asio::awaitable<std::shared_ptr<const store::Catalog>> refresh();

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> lease_loop();
  std::string holder() const { return node_id_ + ":" + token_.value_or(""); }
  boost::asio::awaitable<void> reconcile(protocol::UnixMs now);

  boost::asio::io_context& io_;
  store::RedisStore& redis_;
  store::Database& db_;
  metrics::Metrics& metrics_;
  std::chrono::milliseconds poll_;
  std::string node_id_;
  std::chrono::milliseconds heartbeat_;
  boost::asio::steady_timer timer_;
  boost::asio::steady_timer lease_timer_;
  std::optional<std::string> token_;  // fencing token of the lease this node holds
  std::shared_ptr<const store::Catalog> catalog_;
  std::set<store::InstanceKey> not_startable_;  // activation refused: it was active before
  bool stopped_ = false;
  bool mysql_down_logged_ = false;
};

}  // namespace chat::service
