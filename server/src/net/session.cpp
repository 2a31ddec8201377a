#include "net/session.hpp"

#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <vector>

#include "chat/protocol/codec.hpp"

namespace chat::net {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
constexpr std::size_t kMaxGather = 64;  // frames per gathered write
}  // namespace

Session::Session(boost::asio::ip::tcp::socket socket, service::ChatService& service,
                 SessionOptions options)
    : socket_(std::move(socket)),
      service_(service),
      options_(options),
      write_signal_(socket_.get_executor()),
      idle_timer_(socket_.get_executor()),
      last_frame_(std::chrono::steady_clock::now()) {
  boost::system::error_code ec;
  const auto ep = socket_.remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

Session::~Session() = default;

void Session::start() {
  id_ = service_.open(weak_from_this());
  spdlog::debug("client {} connected from {}", id_, peer_);
  write_signal_.expires_at(std::chrono::steady_clock::time_point::max());
  const auto ex = socket_.get_executor();
  boost::asio::co_spawn(ex, reader(shared_from_this()), boost::asio::detached);
  boost::asio::co_spawn(ex, writer(shared_from_this()), boost::asio::detached);
  boost::asio::co_spawn(ex, watchdog(shared_from_this()), boost::asio::detached);
}

void Session::deliver(std::shared_ptr<const std::string> frame) {
  enqueue(std::move(frame));
}

void Session::enqueue(std::shared_ptr<const std::string> frame) {
  if (closed_ || close_after_flush_) return;
  if (queued_bytes_ + frame->size() > options_.max_outbound_bytes) {
    spdlog::warn("client {} ({}) is not reading: {} bytes unsent, disconnecting", id_, peer_,
                 queued_bytes_);
    close();
    return;
  }
  queued_bytes_ += frame->size();
  queue_.push_back(std::move(frame));
  write_signal_.cancel();
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  boost::system::error_code ignored;
  socket_.shutdown(boost::asio::ip::tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
  write_signal_.cancel();
  idle_timer_.cancel();
  service_.close(id_);
  spdlog::debug("client {} ({}) closed", id_, peer_);
}

awaitable<void> Session::reader(std::shared_ptr<Session> /*keeps the session alive*/) {
  std::array<char, kReadChunk> buffer;
  try {
    while (!closed_) {
      const std::size_t n =
          co_await socket_.async_read_some(boost::asio::buffer(buffer), use_awaitable);
      splitter_.append(std::string_view(buffer.data(), n));
      while (auto frame = splitter_.next()) {
        last_frame_ = std::chrono::steady_clock::now();  // any frame counts, blank ones too
        if (protocol::is_blank_line(*frame)) continue;
        auto decoded = protocol::decode_request(*frame);
        if (auto* failure = std::get_if<protocol::DecodeFailure>(&decoded)) {
          enqueue(std::make_shared<const std::string>(
              protocol::encode_error(failure->id, failure->code, failure->message)));
        } else {
          // The awaitable is made in its own statement: g++ 12 may relocate class-type
          // temporaries of a co_await expression bitwise (breaks std::string).
          auto handling = service_.handle(id_, std::move(std::get<protocol::Request>(decoded)));
          auto response = co_await std::move(handling);
          enqueue(std::make_shared<const std::string>(std::move(response)));
        }
        if (closed_) co_return;
      }
      if (splitter_.too_large()) {
        enqueue(std::make_shared<const std::string>(protocol::encode_error(
            std::nullopt, protocol::ErrorCode::too_large, "frame longer than 65536 bytes")));
        close_after_flush_ = true;
        write_signal_.cancel();
        co_return;
      }
    }
  } catch (const boost::system::system_error& e) {
    // EOF or reset: the client went away, possibly mid-frame; nothing to answer.
    if (e.code() != boost::asio::error::eof && e.code() != boost::asio::error::operation_aborted)
      spdlog::debug("client {} read: {}", id_, e.what());
  }
  close();
}

awaitable<void> Session::writer(std::shared_ptr<Session> /*keeps the session alive*/) {
  std::vector<std::shared_ptr<const std::string>> batch;
  std::vector<boost::asio::const_buffer> buffers;
  try {
    while (!closed_) {
      if (queue_.empty()) {
        if (close_after_flush_) break;
        boost::system::error_code ec;
        write_signal_.expires_at(std::chrono::steady_clock::time_point::max());
        co_await write_signal_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
        continue;
      }
      batch.clear();
      buffers.clear();
      while (!queue_.empty() && batch.size() < kMaxGather) {
        buffers.emplace_back(boost::asio::buffer(*queue_.front()));
        batch.push_back(std::move(queue_.front()));
        queue_.pop_front();
      }
      co_await boost::asio::async_write(socket_, buffers, use_awaitable);
      for (const auto& f : batch) queued_bytes_ -= f->size();
    }
  } catch (const boost::system::system_error& e) {
    if (e.code() != boost::asio::error::operation_aborted)
      spdlog::debug("client {} write: {}", id_, e.what());
  }
  close();
}

awaitable<void> Session::watchdog(std::shared_ptr<Session> /*keeps the session alive*/) {
  while (!closed_) {
    idle_timer_.expires_at(last_frame_ + options_.idle_timeout);
    boost::system::error_code ec;
    co_await idle_timer_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
    if (closed_) break;
    if (std::chrono::steady_clock::now() - last_frame_ >= options_.idle_timeout) {
      spdlog::info("client {} ({}) silent for {} ms, closing", id_, peer_,
                   options_.idle_timeout.count());
      close();
    }
  }
}

}  // namespace chat::net
