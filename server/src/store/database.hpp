// The database thread: the one MysqlStore connection and the thread that uses it.
#pragma once

#include <boost/asio/thread_pool.hpp>
#include <utility>

#include "store/blocking_pool.hpp"
#include "store/mysql_store.hpp"

namespace chat::store {

/// Owns the MySQL connection and the single thread it is used on, so blocking MySQL calls
/// never run on the I/O thread. run(fn) calls fn(MysqlStore&) on that thread and resumes
/// the awaiting coroutine with its result (or its exception).
class Database {
 public:
  explicit Database(MysqlOptions options) : store_(std::move(options)) {}

  template <class Fn>
  auto run(Fn fn) {
    return run_blocking(pool_, [this, fn = std::move(fn)]() mutable { return fn(store_); });
  }

  /// Waits for queued calls to finish; no call may be made afterwards.
  void join() { pool_.join(); }

 private:
  MysqlStore store_;                  // used only on pool_'s thread
  boost::asio::thread_pool pool_{1};  // destroyed (joined) before store_
};

}  // namespace chat::store
