// Activation and end of meeting instances (PROTOCOL.md "Semantics", SCHEMA.md timings).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <memory>
#include <set>

#include "store/database.hpp"
#include "store/redis_store.hpp"

namespace chat::service {

/// Keeps the catalog (meetings, audiences, schedule) fresh from MySQL and starts and ends
/// instances on time: an instance becomes active at `from` and ends at `to` (timer on the
/// next boundary, so within a few ms), schedule rows written while running are picked up
/// within one poll period, an instance whose window passed before it was seen never
/// starts, and moving `to` into the past or deleting an active instance ends it at once.
/// Activation and end are idempotent Redis functions, so several nodes running a
/// scheduler never start or end an instance twice.
class Scheduler {
 public:
  Scheduler(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
            std::chrono::milliseconds poll);

  void start();
  void stop();

  /// The latest catalog; null until the first successful read of MySQL.
  std::shared_ptr<const store::Catalog> catalog() const { return catalog_; }

  /// Reads the catalog now (used when a request finds none loaded yet). Throws
  /// StoreUnavailable when MySQL is down.
  boost::asio::awaitable<std::shared_ptr<const store::Catalog>> refresh();

 private:
  boost::asio::awaitable<void> run();
  boost::asio::awaitable<void> reconcile(protocol::UnixMs now);

  boost::asio::io_context& io_;
  store::RedisStore& redis_;
  store::Database& db_;
  std::chrono::milliseconds poll_;
  boost::asio::steady_timer timer_;
  std::shared_ptr<const store::Catalog> catalog_;
  std::set<store::InstanceKey> not_startable_;  // activation refused: it was active before
  bool stopped_ = false;
  bool mysql_down_logged_ = false;
};

}  // namespace chat::service
