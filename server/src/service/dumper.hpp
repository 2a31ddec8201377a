// The periodic dump of chat messages and event logs from Redis to MySQL.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>

#include "store/database.hpp"
#include "store/redis_store.hpp"

namespace chat::service {

/// Every interval, moves the new entries of each instance's message and event streams to
/// the message and event_log tables: read after the stored cursor, write in one MySQL
/// transaction whose inserts ignore rows already present, then advance the cursor. A crash
/// between commit and cursor update makes the next run write the same rows again, which
/// changes nothing, so every row reaches MySQL exactly once. (The crash-proof multi-dumper
/// pipeline is a later issue; this one is the simple in-process dump.)
class Dumper {
 public:
  Dumper(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
         std::chrono::milliseconds interval, std::size_t batch);

  void start();
  void stop();

  /// One pass over every pending instance. Throws StoreUnavailable when a store is down.
  boost::asio::awaitable<void> dump_once();

 private:
  boost::asio::awaitable<void> run();

  boost::asio::io_context& io_;
  store::RedisStore& redis_;
  store::Database& db_;
  std::chrono::milliseconds interval_;
  std::size_t batch_;
  boost::asio::steady_timer timer_;
  bool stopped_ = false;
  bool down_logged_ = false;
};

}  // namespace chat::service
