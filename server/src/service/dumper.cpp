#include "service/dumper.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "service/spawn.hpp"
#include "store/store_error.hpp"

namespace chat::service {

using boost::asio::awaitable;

Dumper::Dumper(boost::asio::io_context& io, store::RedisStore& redis, store::Database& db,
               std::chrono::milliseconds interval, std::size_t batch)
    : io_(io), redis_(redis), db_(db), interval_(interval), batch_(batch), timer_(io) {}

void Dumper::start() {
  spawn_logged(io_, run(), "dumper stopped");
}

void Dumper::stop() {
  stopped_ = true;
  timer_.cancel();
}

awaitable<void> Dumper::run() {
  while (!stopped_) {
    timer_.expires_after(interval_);
    boost::system::error_code ec;
    co_await timer_.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (stopped_) break;
    try {
      co_await dump_once();
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

awaitable<void> Dumper::dump_once() {
  const auto started = std::chrono::steady_clock::now();
  std::size_t messages = 0, events = 0;
  const auto pending = co_await redis_.pending_dumps();
  for (const auto& key : pending) {
    for (;;) {
      auto batch = co_await redis_.read_dump_batch(key, batch_);
      if (batch.messages.empty() && batch.events.empty()) {
        if (batch.ended) co_await redis_.finish_dump(key);
        break;
      }
      auto write = db_.run([&batch](store::MysqlStore& s) {
        s.write_dump(batch.messages, batch.events);
        return 0;
      });
      co_await std::move(write);
      co_await redis_.save_dump_cursors(key, batch);
      messages += batch.messages.size();
      events += batch.events.size();
      if (batch.messages.size() < batch_ && batch.events.size() < batch_) break;
    }
  }
  if (messages + events > 0) {
    const auto ms = std::chrono::duration_cast<std::chrono::milliseconds>(
                        std::chrono::steady_clock::now() - started)
                        .count();
    spdlog::info("dump: {} messages and {} events written to MySQL in {} ms", messages, events, ms);
  }
}

}  // namespace chat::service
