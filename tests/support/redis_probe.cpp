#include "redis_probe.hpp"

#include <hiredis/hiredis.h>
#include <sys/time.h>

#include <memory>

namespace chat::test {
namespace {

struct ReplyDeleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using Reply = std::unique_ptr<redisReply, ReplyDeleter>;

timeval to_timeval(std::chrono::milliseconds ms) {
  timeval tv{};
  tv.tv_sec = static_cast<time_t>(ms.count() / 1000);
  tv.tv_usec = static_cast<suseconds_t>((ms.count() % 1000) * 1000);
  return tv;
}

Reply run(redisContext* ctx, const std::string& where, const std::vector<std::string>& args) {
  std::vector<const char*> argv;
  std::vector<size_t> lens;
  for (const auto& a : args) {
    argv.push_back(a.data());
    lens.push_back(a.size());
  }
  Reply r(static_cast<redisReply*>(
      redisCommandArgv(ctx, static_cast<int>(argv.size()), argv.data(), lens.data())));
  if (!r)
    throw std::runtime_error("redis " + where + ": " + args.front() + " failed: " + ctx->errstr);
  if (r->type == REDIS_REPLY_ERROR)
    throw std::runtime_error("redis " + where + ": " + args.front() + " -> " +
                             std::string(r->str, r->len));
  return r;
}

}  // namespace

RedisProbe::RedisProbe(const std::string& host, std::uint16_t port, const std::string& password,
                       std::chrono::milliseconds timeout)
    : where_(host + ":" + std::to_string(port)) {
  ctx_ = redisConnectWithTimeout(host.c_str(), port, to_timeval(timeout));
  if (!ctx_ || ctx_->err) {
    const std::string why = ctx_ ? ctx_->errstr : "out of memory";
    if (ctx_) redisFree(ctx_);
    ctx_ = nullptr;
    throw std::runtime_error("redis " + where_ + ": cannot connect: " + why);
  }
  // Commands are bounded too: a frozen server must not hang the test.
  redisSetTimeout(ctx_, to_timeval(timeout));
  if (!password.empty()) {
    try {
      run(ctx_, where_, {"AUTH", password});
    } catch (...) {
      redisFree(ctx_);
      ctx_ = nullptr;
      throw;
    }
  }
}

RedisProbe::~RedisProbe() {
  if (ctx_) redisFree(ctx_);
}

std::optional<std::string> RedisProbe::get(const std::string& key) {
  const Reply r = run(ctx_, where_, {"GET", key});
  if (r->type == REDIS_REPLY_NIL) return std::nullopt;
  if (r->type != REDIS_REPLY_STRING)
    throw std::runtime_error("redis " + where_ + ": GET " + key + " is not a string");
  return std::string(r->str, r->len);
}

long long RedisProbe::pttl(const std::string& key) {
  const Reply r = run(ctx_, where_, {"PTTL", key});
  if (r->type != REDIS_REPLY_INTEGER)
    throw std::runtime_error("redis " + where_ + ": PTTL " + key + " is not an integer");
  return r->integer;
}

}  // namespace chat::test
