#include "dump/dumper.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chat/protocol/time.hpp"
#include "service/spawn.hpp"
#include "store/store_error.hpp"

namespace chat::dump {

using boost::asio::awaitable;

Dumper::Dumper(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
               DumperOptions options)
    : io_(io), redis_(redis), db_(db), options_(std::move(options)), timer_(io) {}

void Dumper::start() {
  service::spawn_logged(io_, run(), "dumper stopped");
}

void Dumper::stop() {
  stopped_ = true;
  timer_.cancel();
}

awaitable<void> Dumper::run() {
  while (!stopped_) {
    timer_.expires_after(options_.interval);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (stopped_) break;
    try {
      const auto stats = co_await run_once();
      if (stats.messages + stats.events > 0 || stats.instances_cleaned > 0)
        spdlog::info("{}", describe(stats));
      if (down_logged_) spdlog::info("dump: stores reachable again");
      down_logged_ = false;
    } catch (const store::StoreUnavailable& e) {
      if (!down_logged_) spdlog::warn("dump: postponed, {}", e.what());
      down_logged_ = true;
    } catch (const std::exception& e) {
      spdlog::error("dump: {}", e.what());
    }
  }
}

awaitable<DumpStats> Dumper::run_once() {
  const auto started = std::chrono::steady_clock::now();
  DumpStats stats;
  co_await redis_.ensure_dump_group();
  for (;;) {
    const auto batch =
        co_await redis_.read_outbox(options_.consumer, options_.batch, options_.claim_idle.count());
    if (batch.empty()) break;
    if (batch.oldest_ms > 0)
      stats.lag_ms = std::max(stats.lag_ms, protocol::now_ms() - batch.oldest_ms);
    auto write = db_.run([&batch](store::MysqlStore& s) {
      s.write_dump(batch.messages, batch.events);
      return 0;
    });
    co_await std::move(write);
    // Only now, with the rows committed, may the entries leave the outbox.
    stats.instances_cleaned += co_await redis_.ack_outbox(batch);
    stats.messages += batch.messages.size();
    stats.events += batch.events.size();
    if (options_.metrics)
      options_.metrics->dump_batch(
          static_cast<std::int64_t>(batch.messages.size()),
          static_cast<std::int64_t>(batch.events.size()),
          batch.oldest_ms > 0 ? static_cast<double>(protocol::now_ms() - batch.oldest_ms) / 1000.0
                              : 0.0);
  }
  if (options_.metrics && stats.messages + stats.events == 0)
    options_.metrics->dump_batch(0, 0, 0.0);  // nothing waiting: no lag
  // Consumers of dumpers that are gone would otherwise stay in the group forever.
  co_await redis_.retire_dump_consumers("", options_.claim_idle.count());
  stats.duration_ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                          std::chrono::steady_clock::now() - started)
                          .count();
  co_return stats;
}

awaitable<void> Dumper::retire() {
  co_await redis_.retire_dump_consumers(options_.consumer, options_.claim_idle.count());
}

std::string describe(const DumpStats& s) {
  return "dump: " + std::to_string(s.messages) + " messages and " + std::to_string(s.events) +
         " events written to MySQL, " + std::to_string(s.instances_cleaned) +
         " ended instances cleaned from Redis, lag " + std::to_string(s.lag_ms) + " ms, took " +
         std::to_string(s.duration_ms) + " ms";
}

}  // namespace chat::dump
