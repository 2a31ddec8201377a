// A client connection's byte stream: plain TCP or TLS over TCP (chatd --tls-cert/--tls-key).
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/buffer.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/stream.hpp>
#include <cstddef>
#include <memory>
#include <span>
#include <string>
#include <variant>

namespace chat::net {

/// Either a plain tcp::socket or an ssl::stream over one whose handshake is done. Offers the
/// few operations Session needs, so Session does not care which it is. One read and one
/// write may be in flight at once (both kinds allow that); everything runs on the socket's
/// executor.
class Stream {
 public:
  using Socket = boost::asio::ip::tcp::socket;
  using TlsStream = boost::asio::ssl::stream<Socket>;

  /// A plaintext connection.
  explicit Stream(Socket socket) : stream_(std::move(socket)) {}
  /// A TLS connection; the server handshake must have completed.
  explicit Stream(TlsStream tls) : stream_(std::move(tls)) {}

  /// The TCP socket underneath (endpoints, options, executor).
  Socket& socket() noexcept;
  bool is_tls() const noexcept { return std::holds_alternative<TlsStream>(stream_); }

  /// Reads at least one byte into buffer; throws boost::system::system_error (eof when the
  /// peer hung up; ssl::error::stream_truncated when a TLS peer hung up without close_notify).
  boost::asio::awaitable<std::size_t> read_some(boost::asio::mutable_buffer buffer);
  /// Writes all of buffers; throws boost::system::system_error.
  boost::asio::awaitable<void> write(std::span<const boost::asio::const_buffer> buffers);
  /// Half-closes the TCP connection (FIN after what was written). For TLS no close_notify
  /// is sent: that would need a TLS read of the peer's close_notify alongside the session's
  /// own reader; the client sees the end of the stream either way.
  void shutdown_send() noexcept;
  /// Shuts down both directions and closes the socket; pending operations end with
  /// operation_aborted. Never throws.
  void close() noexcept;

 private:
  std::variant<Socket, TlsStream> stream_;
};

/// Builds chatd's TLS server context: TLS 1.2 or newer only, certificate chain from
/// cert_file (PEM, server certificate first) and the private key from key_file (PEM).
/// Throws boost::system::system_error naming what failed when a file is missing or invalid
/// or the key does not match the certificate.
std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file);

}  // namespace chat::net
