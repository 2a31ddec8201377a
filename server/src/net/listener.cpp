#include "net/listener.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chat::net {

Listener::Listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                   service::ChatService& service, SessionOptions options)
    : acceptor_(io), service_(service), options_(options) {
  acceptor_.open(endpoint.protocol());
  acceptor_.set_option(boost::asio::socket_base::reuse_address(true));
  acceptor_.bind(endpoint);
  acceptor_.listen(boost::asio::socket_base::max_listen_connections);
}

void Listener::start() {
  boost::asio::co_spawn(acceptor_.get_executor(), accept_loop(), boost::asio::detached);
}

void Listener::stop() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

boost::asio::awaitable<void> Listener::accept_loop() {
  while (acceptor_.is_open()) {
    boost::system::error_code ec;
    auto socket = co_await acceptor_.async_accept(
        boost::asio::redirect_error(boost::asio::use_awaitable, ec));
    if (ec) {
      if (ec == boost::asio::error::operation_aborted || !acceptor_.is_open()) break;
      // e.g. EMFILE: keep serving the connections we have and try again shortly.
      spdlog::warn("accept: {}", ec.message());
      boost::asio::steady_timer pause(acceptor_.get_executor(), std::chrono::milliseconds(100));
      co_await pause.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
      continue;
    }
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    std::make_shared<Session>(std::move(socket), service_, options_)->start();
  }
}

}  // namespace chat::net
