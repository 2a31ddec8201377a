// Accepts client connections.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <memory>

#include "metrics/metrics.hpp"
#include "net/connection_limits.hpp"
#include "net/flush_queue.hpp"
#include "net/session.hpp"
#include "service/chat_service.hpp"
#include "util/log_throttle.hpp"

namespace chat::net {

/// Owns the acceptor; every accepted socket becomes a Session, unless the node or the
/// client's address is at its connection cap (ConnectionLimits): then the socket gets one
/// frame {"id":null,"ok":false,"error":{"code":"unavailable",...}} and is closed, and a
/// warning is logged once per burst of refusals (not per socket).
///
/// With a TLS context (chatd --tls-cert/--tls-key) the port serves TLS only: every admitted
/// socket does the server handshake first, within the login timeout (10 s when that is
/// off), and becomes a Session only when it succeeds; a failed or late handshake closes the
/// socket with a debug log. Refused sockets are then closed without the unavailable frame
/// (the client could not read it before a handshake). The handshake holds the
/// connection's slot, so the caps bound handshakes in progress too.
class Listener {
 public:
  /// Binds and listens at once; throws boost::system::system_error when the address is taken.
  /// tls: the server TLS context (make_server_tls_context), or null for plaintext.
  Listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
           service::ChatService& service, metrics::Metrics& metrics, SessionOptions options,
           ConnectionLimitOptions limits = {},
           std::shared_ptr<boost::asio::ssl::context> tls = nullptr);

  /// Starts accepting (a coroutine on the acceptor's executor).
  void start();
  /// Stops accepting; open sessions are not touched.
  void stop();
  boost::asio::ip::tcp::endpoint local_endpoint() const { return acceptor_.local_endpoint(); }
  /// The connection counts (open sessions, per address).
  const ConnectionLimits& limits() const noexcept { return limits_; }

 private:
  boost::asio::awaitable<void> accept_loop();
  // TLS: handshakes on socket (bounded by the handshake deadline), then starts its Session.
  boost::asio::awaitable<void> handshake_and_start(boost::asio::ip::tcp::socket socket,
                                                   ConnectionLimits::Slot slot);
  // Answers a refused socket with the unavailable frame and closes it.
  void refuse(boost::asio::ip::tcp::socket socket, ConnectionLimits::Refusal why,
              const std::string& address);

  boost::asio::ip::tcp::acceptor acceptor_;
  service::ChatService& service_;
  metrics::Metrics& metrics_;
  SessionOptions options_;
  FlushQueue flushes_;  // the sessions' writes, batched per turn of the event loop
  ConnectionLimits limits_;
  util::LogThrottle refusal_log_;
  std::shared_ptr<boost::asio::ssl::context> tls_;  // null: plaintext
  // Refused sockets still draining before close (shared: the drains may outlive us).
  std::shared_ptr<std::size_t> draining_ = std::make_shared<std::size_t>(0);
};

}  // namespace chat::net
