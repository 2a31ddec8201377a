#include "store/redis_client.hpp"

#include <hiredis/async.h>
#include <hiredis/hiredis.h>
#include <spdlog/spdlog.h>

#include <boost/asio/posix/stream_descriptor.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "metrics/metrics.hpp"
#include "store/store_error.hpp"

namespace chat::store {
namespace {

// Watches the hiredis socket with a stream_descriptor and calls hiredis's read/write
// handlers when it is ready. Owned by itself (self_) from attach() until hiredis calls
// cleanup (inside redisAsyncFree, before the fd is closed); pending waits hold a
// shared_ptr so the object outlives any handler that is still queued.
class AsioAdapter : public std::enable_shared_from_this<AsioAdapter> {
 public:
  AsioAdapter(redisAsyncContext* ac, boost::asio::io_context& io) : ac_(ac), fd_(io, ac->c.fd) {}

  static void attach(redisAsyncContext* ac, boost::asio::io_context& io) {
    auto adapter = std::make_shared<AsioAdapter>(ac, io);
    adapter->self_ = adapter;
    ac->ev.data = adapter.get();
    ac->ev.addRead = [](void* d) { static_cast<AsioAdapter*>(d)->add(true); };
    ac->ev.delRead = [](void* d) { static_cast<AsioAdapter*>(d)->want_read_ = false; };
    ac->ev.addWrite = [](void* d) { static_cast<AsioAdapter*>(d)->add(false); };
    ac->ev.delWrite = [](void* d) { static_cast<AsioAdapter*>(d)->want_write_ = false; };
    ac->ev.cleanup = [](void* d) { static_cast<AsioAdapter*>(d)->cleanup(); };
  }

 private:
  void add(bool read) {
    (read ? want_read_ : want_write_) = true;
    arm(read);
  }

  void arm(bool read) {
    bool& outstanding = read ? reading_ : writing_;
    if (outstanding || ac_ == nullptr) return;
    outstanding = true;
    fd_.async_wait(read ? boost::asio::posix::stream_descriptor::wait_read
                        : boost::asio::posix::stream_descriptor::wait_write,
                   [self = shared_from_this(), read](const boost::system::error_code& ec) {
                     (read ? self->reading_ : self->writing_) = false;
                     if (ec || self->ac_ == nullptr) return;
                     if (!(read ? self->want_read_ : self->want_write_)) return;
                     // May free the context: cleanup() then nulls ac_.
                     if (read)
                       self->read_available();
                     else
                       redisAsyncHandleWrite(self->ac_);
                     if (self->ac_ != nullptr && (read ? self->want_read_ : self->want_write_))
                       self->arm(read);
                   });
  }

  // Reads what the socket holds now, not just hiredis's one 16 KiB read: under load the
  // bus carries many events per turn, and handling them all before the sessions flush
  // (FlushQueue) lets each connection get them in one write instead of one each. Bounded
  // (kMaxReadsPerTurn x 16 KiB), so the other sockets get their turn.
  void read_available() {
    constexpr int kMaxReadsPerTurn = 64;
    for (int i = 0; i < kMaxReadsPerTurn && ac_ != nullptr; ++i) {
      redisAsyncHandleRead(ac_);  // may free the context: cleanup() then nulls ac_
      if (ac_ == nullptr || !want_read_) break;
      boost::asio::posix::stream_descriptor::bytes_readable pending;
      boost::system::error_code ec;
      fd_.io_control(pending, ec);
      if (ec || pending.get() == 0) break;
    }
  }

  void cleanup() {
    ac_ = nullptr;
    boost::system::error_code ignored;
    fd_.cancel(ignored);
    fd_.release();                 // hiredis closes the fd itself in redisFree
    auto keep = std::move(self_);  // released when this call returns
  }

  redisAsyncContext* ac_;
  boost::asio::posix::stream_descriptor fd_;
  std::shared_ptr<AsioAdapter> self_;
  bool want_read_ = false, want_write_ = false, reading_ = false, writing_ = false;
};

// Completes a ReplyHandler through a coroutine's completion handler.
template <class Handler>
class AwaitHandler final : public ReplyHandler {
 public:
  explicit AwaitHandler(Handler h) : handler_(std::move(h)) {}
  void complete(std::optional<RedisReply> reply) override {
    std::exception_ptr error;
    RedisReply value;
    if (!reply) {
      error = std::make_exception_ptr(StoreUnavailable("Redis connection lost"));
    } else if (reply->is_error() &&
               (reply->str.starts_with("LOADING") || reply->str.starts_with("BUSY ") ||
                reply->str.starts_with("MASTERDOWN") || reply->str.starts_with("READONLY"))) {
      error = std::make_exception_ptr(StoreUnavailable("Redis: " + reply->str));
    } else {
      value = std::move(*reply);
    }
    std::move(handler_)(error, std::move(value));
  }

 private:
  Handler handler_;
};

}  // namespace

RedisReply copy_reply(const redisReply* r) {
  RedisReply out;
  if (r == nullptr) return out;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      out.type = RedisReply::Type::integer;
      out.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      out.type = RedisReply::Type::string;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      out.type = RedisReply::Type::status;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ERROR:
      out.type = RedisReply::Type::error;
      out.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      out.type = RedisReply::Type::array;
      out.elements.reserve(r->elements);
      for (size_t i = 0; i < r->elements; ++i) out.elements.push_back(copy_reply(r->element[i]));
      break;
    default:
      out.type = RedisReply::Type::nil;
  }
  return out;
}

RedisConnection::RedisConnection(boost::asio::io_context& io, RedisOptions options)
    : io_(io),
      options_(std::move(options)),
      reconnect_timer_(io),
      connect_timer_(io),
      backoff_(options_.reconnect_min) {}

RedisConnection::~RedisConnection() {
  stopped_ = true;
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    ctx->data = nullptr;
    redisAsyncFree(ctx);
  }
}

void RedisConnection::start() {
  stopped_ = false;
  connect();
}

void RedisConnection::stop() {
  stopped_ = true;
  reconnect_timer_.cancel();
  connect_timer_.cancel();
  if (ctx_ != nullptr) {
    redisAsyncContext* ctx = ctx_;
    ctx_ = nullptr;
    connected_ = false;
    redisAsyncFree(ctx);  // pending callbacks run with a null reply
  }
}

void RedisConnection::connect() {
  if (stopped_ || ctx_ != nullptr) return;
  redisAsyncContext* ctx = redisAsyncConnect(options_.host.c_str(), options_.port);
  if (ctx == nullptr) {
    spdlog::warn("redis[{}]: cannot allocate a context", options_.name);
    schedule_reconnect();
    return;
  }
  if (ctx->err) {
    spdlog::warn("redis[{}]: connect to {}:{} failed: {}", options_.name, options_.host,
                 options_.port, ctx->errstr);
    redisAsyncFree(ctx);
    schedule_reconnect();
    return;
  }
  ctx->data = this;
  ctx_ = ctx;
  // Hooks first: SetConnectCallback calls addWrite at once.
  AsioAdapter::attach(ctx, io_);
  redisAsyncSetConnectCallback(ctx, &RedisConnection::on_connect_cb);
  redisAsyncSetDisconnectCallback(ctx, &RedisConnection::on_disconnect_cb);
  connect_timer_.expires_after(options_.connect_timeout);
  connect_timer_.async_wait([weak = weak_from_this(), ctx](const boost::system::error_code& ec) {
    auto self = weak.lock();
    if (ec || !self || self->ctx_ != ctx || self->connected_) return;
    spdlog::warn("redis[{}]: connect timed out", self->options_.name);
    self->ctx_ = nullptr;
    redisAsyncFree(ctx);
    self->schedule_reconnect();
  });
}

void RedisConnection::schedule_reconnect() {
  if (stopped_) return;
  reconnect_timer_.expires_after(backoff_);
  backoff_ = std::min(backoff_ * 2, options_.reconnect_max);
  reconnect_timer_.async_wait([weak = weak_from_this()](const boost::system::error_code& ec) {
    if (auto self = weak.lock(); self && !ec) self->connect();
  });
}

void RedisConnection::on_connect_cb(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self == nullptr) return;
  if (status != REDIS_OK) {
    // hiredis frees the context after this callback.
    spdlog::warn("redis[{}]: connect failed: {}", self->options_.name, ac->errstr);
    self->ctx_ = nullptr;
    self->connect_timer_.cancel();
    self->schedule_reconnect();
    return;
  }
  self->handle_connected();
}

void RedisConnection::handle_connected() {
  connect_timer_.cancel();
  connected_ = true;
  backoff_ = options_.reconnect_min;
  spdlog::info("redis[{}]: connected to {}:{}", options_.name, options_.host, options_.port);
  if (!options_.password.empty()) {
    // AUTH [user] password, first in the pipeline, so every later command runs as that user.
    std::vector<const char*> argv{"AUTH"};
    std::vector<size_t> lens{4};
    if (!options_.user.empty()) {
      argv.push_back(options_.user.c_str());
      lens.push_back(options_.user.size());
    }
    argv.push_back(options_.password.c_str());
    lens.push_back(options_.password.size());
    redisAsyncCommandArgv(ctx_, &RedisConnection::on_auth_cb, nullptr,
                          static_cast<int>(argv.size()), argv.data(), lens.data());
  }
  for (const auto& channel : subscriptions_) {
    const char* argv[] = {"SUBSCRIBE", channel.c_str()};
    const size_t lens[] = {9, channel.size()};
    redisAsyncCommandArgv(ctx_, &RedisConnection::on_push_cb, nullptr, 2, argv, lens);
  }
  if (on_connected_) on_connected_();
}

void RedisConnection::on_auth_cb(redisAsyncContext* ac, void* reply, void* /*privdata*/) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  const auto* r = static_cast<const redisReply*>(reply);
  // A refused AUTH leaves every later command failing with NOAUTH/WRONGPASS: say why once.
  // (The reply never echoes the password.)
  if (self != nullptr && r != nullptr && r->type == REDIS_REPLY_ERROR)
    spdlog::error("redis[{}]: AUTH{} refused: {}", self->options_.name,
                  self->options_.user.empty() ? "" : " as user " + self->options_.user,
                  std::string(r->str, r->len));
}

void RedisConnection::on_disconnect_cb(const redisAsyncContext* ac, int status) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self == nullptr) return;
  self->handle_lost(status == REDIS_OK ? "closed" : ac->errstr);
}

void RedisConnection::handle_lost(const char* why) {
  ctx_ = nullptr;  // hiredis frees it after this callback
  const bool was_connected = connected_;
  connected_ = false;
  if (stopped_) return;
  if (was_connected) {
    spdlog::warn("redis[{}]: connection lost: {}", options_.name, why);
    if (on_disconnected_) on_disconnected_();
  }
  schedule_reconnect();
}

void RedisConnection::on_reply_cb(redisAsyncContext* ac, void* reply, void* privdata) {
  std::unique_ptr<ReplyHandler> handler(static_cast<ReplyHandler*>(privdata));
  if (!handler) return;
  if (reply == nullptr) {
    handler->complete(std::nullopt);
  } else {
    if (const auto* self = static_cast<RedisConnection*>(ac->data); self && self->metrics_)
      self->metrics_->redis_round_trip(metrics::seconds_since(handler->sent_at));
    handler->complete(copy_reply(static_cast<redisReply*>(reply)));
  }
}

void RedisConnection::on_push_cb(redisAsyncContext* ac, void* reply, void*) {
  auto* self = static_cast<RedisConnection*>(ac->data);
  if (self == nullptr || reply == nullptr || !self->on_push_) return;
  self->on_push_(copy_reply(static_cast<redisReply*>(reply)));
}

void RedisConnection::command(const std::vector<std::string>& args,
                              std::unique_ptr<ReplyHandler> handler) {
  if (ctx_ == nullptr || !connected_) {
    // Complete asynchronously so callers see one behaviour whether or not Redis is up.
    boost::asio::post(io_, [h = std::shared_ptr<ReplyHandler>(std::move(handler))] {
      h->complete(std::nullopt);
    });
    return;
  }
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  argv.reserve(args.size());
  lens.reserve(args.size());
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  handler->sent_at = std::chrono::steady_clock::now();
  ReplyHandler* raw = handler.release();  // reclaimed by on_reply_cb
  if (redisAsyncCommandArgv(ctx_, &RedisConnection::on_reply_cb, raw, static_cast<int>(argv.size()),
                            argv.data(), lens.data()) != REDIS_OK) {
    std::unique_ptr<ReplyHandler> reclaimed(raw);
    boost::asio::post(io_, [h = std::shared_ptr<ReplyHandler>(std::move(reclaimed))] {
      h->complete(std::nullopt);
    });
  }
}

void RedisConnection::subscribe(const std::string& channel) {
  subscriptions_.push_back(channel);
  if (ctx_ != nullptr && connected_) {
    const char* argv[] = {"SUBSCRIBE", channel.c_str()};
    const size_t lens[] = {9, channel.size()};
    redisAsyncCommandArgv(ctx_, &RedisConnection::on_push_cb, nullptr, 2, argv, lens);
  }
}

boost::asio::awaitable<RedisReply> RedisConnection::exec(const std::vector<std::string>& args) {
  // args is only read synchronously (command() copies it into hiredis's buffer).
  auto initiate = [this, &args](auto handler) {
    // Resume the coroutine from the io_context queue, never from inside hiredis's
    // callback, so coroutine code can never free the context under hiredis.
    auto posting = [handler = std::move(handler)](std::exception_ptr e, RedisReply r) mutable {
      auto ex = boost::asio::get_associated_executor(handler);
      boost::asio::post(ex, [handler = std::move(handler), e, r = std::move(r)]() mutable {
        std::move(handler)(e, std::move(r));
      });
    };
    command(args, std::make_unique<AwaitHandler<decltype(posting)>>(std::move(posting)));
  };
  co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                 void(std::exception_ptr, RedisReply)>(
      std::move(initiate), boost::asio::use_awaitable);
}

}  // namespace chat::store
