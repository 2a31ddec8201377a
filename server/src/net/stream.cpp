#include "net/stream.hpp"

#include <openssl/ssl.h>

#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>

namespace chat::net {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

Stream::Socket& Stream::socket() noexcept {
  if (auto* tls = std::get_if<TlsStream>(&stream_)) return tls->next_layer();
  return std::get<Socket>(stream_);
}

awaitable<std::size_t> Stream::read_some(boost::asio::mutable_buffer buffer) {
  if (auto* tls = std::get_if<TlsStream>(&stream_))
    co_return co_await tls->async_read_some(buffer, use_awaitable);
  co_return co_await std::get<Socket>(stream_).async_read_some(buffer, use_awaitable);
}

awaitable<void> Stream::write(std::span<const boost::asio::const_buffer> buffers) {
  // Both write every buffer; ssl::stream sends one TLS record per buffer.
  if (auto* tls = std::get_if<TlsStream>(&stream_)) {
    co_await boost::asio::async_write(*tls, buffers, use_awaitable);
  } else {
    co_await boost::asio::async_write(std::get<Socket>(stream_), buffers, use_awaitable);
  }
}

void Stream::shutdown_send() noexcept {
  boost::system::error_code ignored;
  socket().shutdown(Socket::shutdown_send, ignored);
}

void Stream::close() noexcept {
  boost::system::error_code ignored;
  socket().shutdown(Socket::shutdown_both, ignored);
  socket().close(ignored);
}

std::shared_ptr<boost::asio::ssl::context> make_server_tls_context(const std::string& cert_file,
                                                                   const std::string& key_file) {
  namespace ssl = boost::asio::ssl;
  auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
  ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                   ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1 |
                   ssl::context::single_dh_use);
  // Belt and braces: the no_* options above, and the minimum version OpenSSL checks.
  if (SSL_CTX_set_min_proto_version(ctx->native_handle(), TLS1_2_VERSION) != 1)
    throw boost::system::system_error(boost::asio::error::invalid_argument,
                                      "cannot require TLS 1.2");
  ctx->use_certificate_chain_file(cert_file);
  ctx->use_private_key_file(key_file, ssl::context::pem);
  if (SSL_CTX_check_private_key(ctx->native_handle()) != 1)
    throw boost::system::system_error(boost::asio::error::invalid_argument,
                                      "--tls-key does not match --tls-cert");
  return ctx;
}

}  // namespace chat::net
