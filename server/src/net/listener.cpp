#include "net/listener.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chat/protocol/codec.hpp"

namespace chat::net {

namespace {

using boost::asio::use_awaitable;

// At most one refusal warning per this period; the ones in between are counted.
constexpr std::chrono::seconds kRefusalLogPeriod{10};
// Refused sockets drained at once; beyond that they are closed right after their frame.
constexpr std::size_t kMaxDraining = 64;
// How long (and how much) a refused client's input is read and dropped before the close.
constexpr std::chrono::milliseconds kDrainTime{1000};
constexpr std::size_t kDrainBytes = 64 * 1024;
// The TLS handshake deadline when the login timeout is off (0).
constexpr std::chrono::milliseconds kDefaultHandshakeTime{10000};

// Reads and drops what a refused client sends until it closes (bounded by kDrainTime and
// kDrainBytes), then closes. Closing a socket with unread input sends a reset, which on some
// systems makes the client lose the refusal frame it has not read yet.
boost::asio::awaitable<void> drain_and_close(boost::asio::ip::tcp::socket socket,
                                             std::shared_ptr<std::size_t> draining) {
  ++*draining;
  // Shared with the deadline's handler, which may run after this coroutine has ended.
  const auto sock = std::make_shared<boost::asio::ip::tcp::socket>(std::move(socket));
  boost::asio::steady_timer deadline(sock->get_executor(), kDrainTime);
  deadline.async_wait([weak = std::weak_ptr(sock)](const boost::system::error_code& ec) {
    if (auto s = weak.lock(); s && !ec) s->cancel();
  });
  std::array<char, 4096> sink;
  std::size_t total = 0;
  boost::system::error_code ec;
  while (!ec && total < kDrainBytes) {
    total += co_await sock->async_read_some(boost::asio::buffer(sink),
                                            boost::asio::redirect_error(use_awaitable, ec));
  }
  deadline.cancel();
  sock->close(ec);
  --*draining;
}

}  // namespace

Listener::Listener(boost::asio::io_context& io, const boost::asio::ip::tcp::endpoint& endpoint,
                   service::ChatService& service, metrics::Metrics& metrics, SessionOptions options,
                   ConnectionLimitOptions limits, std::shared_ptr<boost::asio::ssl::context> tls)
    : acceptor_(io),
      service_(service),
      metrics_(metrics),
      options_(options),
      flushes_(io.get_executor()),
      limits_(limits),
      refusal_log_(kRefusalLogPeriod),
      tls_(std::move(tls)) {
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
    const auto peer = socket.remote_endpoint(ec);
    if (ec) continue;  // gone already (reset before we got to it); the socket closes itself
    const std::string address = ConnectionLimits::address_key(peer.address());
    ConnectionLimits::Refusal why{};
    auto slot = limits_.try_acquire(address, why);
    if (!slot) {
      refuse(std::move(socket), why, address);
      continue;
    }
    socket.set_option(boost::asio::ip::tcp::no_delay(true), ec);
    if (tls_) {
      // Not awaited: a slow handshake must not hold up the next accept.
      auto ex = socket.get_executor();
      boost::asio::co_spawn(ex, handshake_and_start(std::move(socket), std::move(*slot)),
                            boost::asio::detached);
      continue;
    }
    std::make_shared<Session>(Stream(std::move(socket)), service_, flushes_, options_,
                              std::move(*slot))
        ->start();
  }
}

boost::asio::awaitable<void> Listener::handshake_and_start(boost::asio::ip::tcp::socket socket,
                                                           ConnectionLimits::Slot slot) {
  boost::system::error_code ec;
  const auto peer = socket.remote_endpoint(ec);
  // Shared with the deadline's handler, which may run after this coroutine has ended.
  auto tls = std::make_shared<Stream::TlsStream>(std::move(socket), *tls_);
  const auto limit =
      options_.login_timeout.count() > 0 ? options_.login_timeout : kDefaultHandshakeTime;
  boost::asio::steady_timer deadline(tls->get_executor(), limit);
  deadline.async_wait([weak = std::weak_ptr(tls)](const boost::system::error_code& e) {
    boost::system::error_code ignored;
    if (auto t = weak.lock(); t && !e) t->next_layer().cancel(ignored);
  });
  co_await tls->async_handshake(boost::asio::ssl::stream_base::server,
                                boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  const bool late = deadline.expiry() <= std::chrono::steady_clock::now();
  deadline.cancel();
  if (ec) {
    // Scanners, plaintext clients and clients that distrust our certificate: routine.
    spdlog::debug("TLS handshake with {} failed: {}", peer.address().to_string(),
                  late ? std::string("timed out") : ec.message());
    boost::system::error_code ignored;
    tls->next_layer().close(ignored);
    co_return;
  }
  std::make_shared<Session>(Stream(std::move(*tls)), service_, flushes_, options_, std::move(slot))
      ->start();
}

void Listener::refuse(boost::asio::ip::tcp::socket socket, ConnectionLimits::Refusal why,
                      const std::string& address) {
  const bool node_full = why == ConnectionLimits::Refusal::node_full;
  metrics_.connection_refused(node_full ? "node_full" : "address_full");
  if (const auto held_back = refusal_log_.admit(std::chrono::steady_clock::now())) {
    spdlog::warn(
        "refusing connections: {} (latest from {}){}",
        node_full ? fmt::format("{} open, --max-connections reached", limits_.total())
                  : fmt::format("--max-connections-per-address {} reached",
                                limits_.options().max_per_address),
        address,
        *held_back ? fmt::format("; {} more refused since the last warning", *held_back) : "");
  }
  boost::system::error_code ec;
  if (tls_) {
    // A TLS client cannot read a plaintext frame; it sees the connection closed.
    socket.close(ec);
    return;
  }
  const std::string frame = protocol::encode_error(
      std::nullopt, protocol::ErrorCode::unavailable,
      node_full ? "too many connections to this node; retry later or use another node"
                : "too many connections from your address; close some and retry");
  // A fresh socket's send buffer is empty, so this small frame goes out in one
  // non-blocking write; nothing waits on a client that never reads.
  socket.non_blocking(true, ec);
  socket.write_some(boost::asio::buffer(frame), ec);
  socket.shutdown(boost::asio::ip::tcp::socket::shutdown_send, ec);
  if (*draining_ >= kMaxDraining) {
    socket.close(ec);
    return;
  }
  auto ex = socket.get_executor();
  boost::asio::co_spawn(ex, drain_and_close(std::move(socket), draining_), boost::asio::detached);
}

}  // namespace chat::net
