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

RedisValue to_value(const redisReply* r) {
  RedisValue v;
  switch (r->type) {
    case REDIS_REPLY_INTEGER:
      v.type = RedisValue::Type::integer;
      v.integer = r->integer;
      break;
    case REDIS_REPLY_STRING:
      v.type = RedisValue::Type::string;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_STATUS:
      v.type = RedisValue::Type::status;
      v.str.assign(r->str, r->len);
      break;
    case REDIS_REPLY_ARRAY:
      v.type = RedisValue::Type::array;
      for (size_t i = 0; i < r->elements; ++i) v.elements.push_back(to_value(r->element[i]));
      break;
    default:
      break;  // nil (errors were thrown by run())
  }
  return v;
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

RedisValue RedisProbe::command(const std::vector<std::string>& args) {
  if (args.empty()) throw std::invalid_argument("RedisProbe::command: no command");
  const Reply r = run(ctx_, where_, args);
  return to_value(r.get());
}

long long RedisProbe::integer(const std::vector<std::string>& args) {
  const RedisValue v = command(args);
  if (v.type != RedisValue::Type::integer)
    throw std::runtime_error("redis " + where_ + ": " + args.front() +
                             " did not answer an integer");
  return v.integer;
}

std::vector<std::string> RedisProbe::keys(const std::string& pattern) {
  std::vector<std::string> out;
  std::string cursor = "0";
  do {
    const RedisValue v = command({"SCAN", cursor, "MATCH", pattern, "COUNT", "1000"});
    if (v.type != RedisValue::Type::array || v.elements.size() != 2)
      throw std::runtime_error("redis " + where_ + ": unexpected SCAN reply");
    cursor = v.elements[0].str;
    for (const auto& k : v.elements[1].elements) out.push_back(k.str);
  } while (cursor != "0");
  return out;
}

}  // namespace chat::test
