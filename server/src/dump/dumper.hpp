// Moves chat messages and event logs from Redis to MySQL, exactly once.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <string>

#include "metrics/metrics.hpp"
#include "store/database.hpp"
#include "store/redis_store.hpp"

namespace chat::dump {

/// Settings of a dumper.
struct DumperOptions {
  std::string consumer;     // name in the consumer group; unique per dumper process
  std::size_t batch = 500;  // outbox entries per MySQL transaction
  std::chrono::milliseconds claim_idle{30000};  // take over entries a dumper held this long
  std::chrono::milliseconds interval{2000};     // resident mode: pause between runs
  metrics::Metrics* metrics = nullptr;          // not owned; counts rows and lag; null: not counted
};

/// What one run moved.
struct DumpStats {
  std::size_t messages = 0;
  std::size_t events = 0;
  std::int64_t instances_cleaned = 0;  // ended instances whose Redis keys were removed
  std::int64_t lag_ms = 0;             // age of the oldest entry moved
  std::int64_t duration_ms = 0;
};

/// Reads the outbox stream through the consumer group "dumpers" (so several dumpers share
/// the work), writes each batch in one MySQL transaction whose inserts leave rows already
/// present alone (message key; event_log's Redis id), and acknowledges the entries only
/// after COMMIT. A dumper killed mid-batch leaves its entries pending: it re-reads them when
/// it restarts under the same name, or another dumper claims them after claim_idle. Delivery
/// is at least once and the write idempotent, so every row lands exactly once. Acknowledging
/// also trims the outbox and removes the keys of ended instances that are fully in MySQL.
class Dumper {
 public:
  Dumper(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
         DumperOptions options);

  /// Resident mode: runs every interval until stop(); logs a line per run that moved rows.
  void start();
  void stop();

  /// Moves everything in the outbox now (until a read comes back empty). Throws
  /// StoreUnavailable when Redis or MySQL is down; what was committed stays committed.
  boost::asio::awaitable<DumpStats> run_once();

  /// Leaves the consumer group when nothing is pending for this dumper (call on a clean
  /// exit); entries still pending keep the consumer, to be re-read or claimed.
  boost::asio::awaitable<void> retire();

 private:
  boost::asio::awaitable<void> run();

  boost::asio::io_context& io_;
  store::RedisStore& redis_;
  store::Database& db_;
  DumperOptions options_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool down_logged_ = false;
};

/// One log line for a run: rows moved, lag, duration.
std::string describe(const DumpStats& stats);

}  // namespace chat::dump
