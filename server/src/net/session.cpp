#include "net/session.hpp"

#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <array>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chat/protocol/codec.hpp"

namespace chat::net {

using boost::asio::awaitable;
using boost::asio::use_awaitable;

namespace {
constexpr std::size_t kReadChunk = 16 * 1024;
// A closing connection: how much of the client's further input is read and dropped, and how
// long after the last frame was sent the client may take to hang up.
constexpr std::size_t kDrainBytes = 4u << 20;
constexpr std::chrono::seconds kLingerTime{5};
}  // namespace

Session::Session(Stream stream, service::ChatService& service, FlushQueue& flushes,
                 SessionOptions options, ConnectionLimits::Slot slot)
    : stream_(std::move(stream)),
      service_(service),
      flushes_(flushes),
      options_(options),
      slot_(std::move(slot)),
      limiter_(options_.rate, std::chrono::steady_clock::now()),
      write_signal_(stream_.socket().get_executor()),
      idle_timer_(stream_.socket().get_executor()),
      login_timer_(stream_.socket().get_executor()),
      linger_timer_(stream_.socket().get_executor()),
      last_frame_(std::chrono::steady_clock::now()) {
  boost::system::error_code ec;
  const auto ep = stream_.socket().remote_endpoint(ec);
  peer_ = ec ? "?" : ep.address().to_string() + ":" + std::to_string(ep.port());
}

Session::~Session() = default;

void Session::start() {
  id_ = service_.open(weak_from_this(), slot_.address());
  spdlog::debug("client {} connected from {}", id_, peer_);
  write_signal_.expires_at(std::chrono::steady_clock::time_point::max());
  if (!stream_.is_tls()) {
    // For flush()'s direct write; asynchronous operations are not affected by this mode.
    boost::system::error_code ec;
    stream_.socket().non_blocking(true, ec);
    if (ec) spdlog::debug("client {}: non-blocking mode: {}", id_, ec.message());
  }
  const auto ex = stream_.socket().get_executor();
  boost::asio::co_spawn(ex, reader(shared_from_this()), boost::asio::detached);
  boost::asio::co_spawn(ex, writer(shared_from_this()), boost::asio::detached);
  boost::asio::co_spawn(ex, watchdog(shared_from_this()), boost::asio::detached);
  if (options_.login_timeout.count() > 0)
    boost::asio::co_spawn(ex, login_deadline(shared_from_this()), boost::asio::detached);
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
  if (!flush_queued_) {
    flush_queued_ = true;
    flushes_.add(shared_from_this());
  }
}

void Session::wake_writer() {
  write_signal_.cancel();
}

void Session::flush() {
  flush_queued_ = false;
  if (closed_ || queue_.empty() || writing_) return;  // a writer in flight takes the queue
  if (close_after_flush_ || stream_.is_tls() || !stream_.socket().non_blocking()) {
    wake_writer();
    return;
  }
  // Plain TCP with no write in flight: try the socket now, without a round through the
  // reactor.
  Gather buffers;
  const std::size_t count = gather(buffers);
  boost::system::error_code ec;
  consume(stream_.socket().write_some(std::span(buffers.data(), count), ec));
  // would_block (the client's socket buffer is full), a partial write, more than one
  // gather's worth, or an error: the writer carries on (and reports an error by closing).
  if (!queue_.empty()) wake_writer();
}

std::size_t Session::gather(Gather& buffers) const {
  std::size_t count = 0;
  for (const auto& f : queue_) {
    if (count == buffers.size()) break;
    buffers[count] = boost::asio::buffer(*f) + (count == 0 ? front_sent_ : 0);
    ++count;
  }
  return count;
}

void Session::consume(std::size_t sent) {
  queued_bytes_ -= sent;
  while (sent > 0) {
    const std::size_t rest = queue_.front()->size() - front_sent_;
    if (sent < rest) {
      front_sent_ += sent;
      return;
    }
    sent -= rest;
    front_sent_ = 0;
    queue_.pop_front();
  }
}

void Session::close_after(std::string last) {
  if (closed_ || close_after_flush_) return;
  enqueue(std::make_shared<const std::string>(std::move(last)));
  if (closed_) return;  // the queue had no room: closed at once
  close_after_flush_ = true;
  wake_writer();
  // A client that never reads its last frames cannot keep the socket: no frame is taken
  // from it any more, so the idle watchdog closes it after idle_timeout.
}

void Session::close() {
  if (closed_) return;
  closed_ = true;
  stream_.close();
  write_signal_.cancel();
  idle_timer_.cancel();
  login_timer_.cancel();
  linger_timer_.cancel();
  slot_.release();  // the connection caps count open sockets, not lingering objects
  service_.close(id_);
  spdlog::debug("client {} ({}) closed", id_, peer_);
}

bool Session::refuse(std::optional<std::int64_t> id, RequestRateLimiter::Verdict verdict) {
  if (verdict == RequestRateLimiter::Verdict::reject) {
    enqueue(std::make_shared<const std::string>(protocol::encode_error(
        id, protocol::ErrorCode::rate_limited,
        fmt::format("over the request rate limit ({} per second); not executed, retry later",
                    options_.rate.per_second))));
    return !closed_;
  }
  // Once per connection, so a flood of connections is bounded by the connection caps.
  spdlog::info("client {} ({}) kept sending far over its rate limit ({} refused), closing", id_,
               peer_, limiter_.rejected_total());
  close_after(protocol::encode_error(std::nullopt, protocol::ErrorCode::rate_limited,
                                     "too many requests over the rate limit; closing the "
                                     "connection"));
  return false;
}

awaitable<void> Session::reader(std::shared_ptr<Session> /*keeps the session alive*/) {
  std::array<char, kReadChunk> buffer;
  try {
    while (!closed_ && !close_after_flush_) {
      auto read = stream_.read_some(boost::asio::buffer(buffer));
      const std::size_t n = co_await std::move(read);
      if (close_after_flush_) break;  // closing meanwhile: this input is not served
      splitter_.append(std::string_view(buffer.data(), n));
      while (!closed_ && !close_after_flush_) {
        auto frame = splitter_.next();
        if (!frame) break;
        last_frame_ = std::chrono::steady_clock::now();  // any frame counts, blank ones too
        if (protocol::is_blank_line(*frame)) continue;   // keep-alives cost no token
        auto decoded = protocol::decode_request(*frame);
        auto* failure = std::get_if<protocol::DecodeFailure>(&decoded);
        // Every other frame costs a token, readable or not: garbage floods are limited too.
        const auto verdict = limiter_.admit(std::chrono::steady_clock::now());
        if (verdict != RequestRateLimiter::Verdict::allow) {
          const auto id =
              failure ? failure->id
                      : std::optional<std::int64_t>(std::get<protocol::Request>(decoded).id);
          refuse(id, verdict);
          continue;
        }
        if (failure) {
          enqueue(std::make_shared<const std::string>(
              protocol::encode_error(failure->id, failure->code, failure->message)));
        } else {
          // The awaitable is made in its own statement: g++ 12 may relocate class-type
          // temporaries of a co_await expression bitwise (breaks std::string).
          auto handling = service_.handle(id_, std::move(std::get<protocol::Request>(decoded)));
          serving_ = true;
          auto response = co_await std::move(handling);
          serving_ = false;
          enqueue(std::make_shared<const std::string>(std::move(response)));
          if (deadline_passed_) enforce_login_deadline();
        }
      }
      if (!closed_ && !close_after_flush_ && splitter_.too_large())
        close_after(protocol::encode_error(std::nullopt, protocol::ErrorCode::too_large,
                                           "frame longer than 65536 bytes"));
    }
    // Closing with last frames on their way (too_large, a flood, the login deadline): the
    // client's further input is read and dropped until it hangs up (bounded), because
    // closing a socket with unread input resets the connection, and a reset destroys the
    // frames the client has not read yet. The writer half-closes once they are sent.
    std::size_t drained = 0;
    while (!closed_ && drained < kDrainBytes) {
      auto read = stream_.read_some(boost::asio::buffer(buffer));
      drained += co_await std::move(read);
    }
  } catch (const boost::system::system_error& e) {
    // EOF or reset: the client went away, possibly mid-frame; nothing to answer. A TLS
    // client that hangs up without close_notify ends with stream_truncated: the same.
    if (e.code() != boost::asio::error::eof && e.code() != boost::asio::error::operation_aborted &&
        e.code() != boost::asio::ssl::error::stream_truncated)
      spdlog::debug("client {} read: {}", id_, e.what());
  }
  close();
}

awaitable<void> Session::writer(std::shared_ptr<Session> self) {
  Gather buffers;
  try {
    while (!closed_) {
      if (queue_.empty()) {
        if (close_after_flush_) {
          // Everything is sent: the FIN follows it. The reader closes when the client hangs
          // up; one that does not is closed after kLingerTime.
          stream_.shutdown_send();
          linger_timer_.expires_after(kLingerTime);
          linger_timer_.async_wait([self](const boost::system::error_code& e) {
            if (!e) self->close();
          });
          co_return;
        }
        boost::system::error_code ec;
        write_signal_.expires_at(std::chrono::steady_clock::time_point::max());
        co_await write_signal_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
        continue;
      }
      // The frames stay queued until sent (their bytes live in the shared strings, which
      // frames queued meanwhile do not move); flush() leaves the queue alone meanwhile.
      const std::span<const boost::asio::const_buffer> batch(buffers.data(), gather(buffers));
      writing_ = true;
      auto write = stream_.write(batch);
      co_await std::move(write);
      writing_ = false;
      consume(boost::asio::buffer_size(batch));
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

awaitable<void> Session::login_deadline(std::shared_ptr<Session> /*keeps the session alive*/) {
  login_timer_.expires_after(options_.login_timeout);
  boost::system::error_code ec;
  co_await login_timer_.async_wait(boost::asio::redirect_error(use_awaitable, ec));
  if (closed_ || close_after_flush_) co_return;
  // A request in progress (e.g. a login being verified or delayed) is answered first; the
  // reader enforces the deadline after it.
  if (serving_) {
    deadline_passed_ = true;
    co_return;
  }
  enforce_login_deadline();
}

void Session::enforce_login_deadline() {
  deadline_passed_ = false;
  if (closed_ || close_after_flush_ || service_.logged_in(id_)) return;
  spdlog::debug("client {} ({}) did not log in within {} ms, closing", id_, peer_,
                options_.login_timeout.count());
  close_after(protocol::encode_error(std::nullopt, protocol::ErrorCode::unauthenticated,
                                     "login deadline passed: log in within " +
                                         std::to_string(options_.login_timeout.count()) +
                                         " ms of connecting; closing the connection"));
}

}  // namespace chat::net
