// Starting background coroutines of the service.
#pragma once

#include <spdlog/spdlog.h>

#include <boost/asio/awaitable.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <exception>

namespace chat::service {

/// Runs task detached on io; an exception that escapes it is logged as a warning with
/// `what` (e.g. "dumper") instead of being lost or terminating the process.
inline void spawn_logged(boost::asio::io_context& io, boost::asio::awaitable<void> task,
                         const char* what) {
  boost::asio::co_spawn(io, std::move(task), [what](std::exception_ptr e) {
    if (!e) return;
    try {
      std::rethrow_exception(e);
    } catch (const std::exception& ex) {
      spdlog::warn("{}: {}", what, ex.what());
    }
  });
}

}  // namespace chat::service
