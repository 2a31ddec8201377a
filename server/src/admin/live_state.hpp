// chatctl's Redis side: one short-lived connection that runs a few reads of the live state
// (store/redis_store.hpp key layout) and returns their result synchronously.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <optional>
#include <string>

#include "store/redis_client.hpp"
#include "store/redis_store.hpp"
#include "store/store_error.hpp"

namespace chat::admin {

/// Connects to Redis (bounded by options.connect_timeout), runs body(RedisStore&) (a
/// coroutine returning T) and returns its result. Throws store::StoreUnavailable when Redis
/// cannot be reached (or refuses AUTH) in time; rethrows whatever body throws.
template <class T, class Body>
T with_redis(const store::RedisOptions& options, Body body) {
  boost::asio::io_context io(1);
  store::RedisOptions o = options;
  o.name = "chatctl";
  auto redis = std::make_shared<store::RedisConnection>(io, o);
  store::RedisStore store(*redis);
  std::optional<T> result;
  std::exception_ptr failure;
  const auto limit = o.connect_timeout + std::chrono::milliseconds(500);
  boost::asio::co_spawn(
      io,
      [&]() -> boost::asio::awaitable<void> {
        try {
          const auto deadline = std::chrono::steady_clock::now() + limit;
          boost::asio::steady_timer pause(io);
          while (!redis->connected() && std::chrono::steady_clock::now() < deadline) {
            pause.expires_after(std::chrono::milliseconds(10));
            co_await pause.async_wait(boost::asio::use_awaitable);
          }
          if (!redis->connected())
            throw store::StoreUnavailable("Redis at " + o.host + ":" + std::to_string(o.port) +
                                          " is unreachable (or refused AUTH)");
          result.emplace(co_await body(store));
        } catch (...) {
          failure = std::current_exception();
        }
        redis->stop();
      },
      [](std::exception_ptr) {});
  redis->start();
  io.run();
  if (failure) std::rethrow_exception(failure);
  return std::move(*result);
}

}  // namespace chat::admin
