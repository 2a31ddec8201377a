// Accepts client connections.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "net/session.hpp"
#include "service/chat_service.hpp"

namespace chat::net {

/// Owns the acceptor; every accepted socket becomes a Session.
class Listener {
 public:
  /// Binds and listens at once; throws boost::system::system_error when the address is taken.
  Listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
           service::ChatService& service, SessionOptions options);

  void start();
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }

 private:
  boost::asio::awaitable<void> accept_loop();

  boost::asio::ip::tcp::acceptor acceptor_;
  service::ChatService& service_;
  SessionOptions options_;
};

}  // namespace chat::net
