// Runs blocking work (MySQL calls, Argon2id) off the I/O thread and resumes the caller's
// coroutine on its own executor with the result.
#pragma once

#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <type_traits>
#include <utility>

namespace chat::store {

/// Runs fn() on pool and returns its value to the awaiting coroutine, on the coroutine's
/// executor. An exception thrown by fn is rethrown in the coroutine. The result type must
/// be default-constructible and movable.
template <class Fn>
auto run_blocking(boost::asio::thread_pool& pool, Fn fn)
    -> boost::asio::awaitable<std::invoke_result_t<Fn&>> {
  using Result = std::invoke_result_t<Fn&>;
  auto initiate = [&pool](auto handler, Fn work) {
    auto guard = boost::asio::make_work_guard(boost::asio::get_associated_executor(handler));
    boost::asio::post(pool, [work = std::move(work), handler = std::move(handler),
                             guard = std::move(guard)]() mutable {
      std::exception_ptr error;
      Result value{};
      try {
        value = work();
      } catch (...) {
        error = std::current_exception();
      }
      auto ex = guard.get_executor();
      boost::asio::post(ex, [handler = std::move(handler), error, value = std::move(value),
                             guard = std::move(guard)]() mutable {
        std::move(handler)(error, std::move(value));
      });
    });
  };
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(std::exception_ptr, Result)>(
      std::move(initiate), boost::asio::use_awaitable, std::move(fn));
}

}  // namespace chat::store
