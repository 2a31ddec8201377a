#include "store/redis_store.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cinttypes>
#include <cstdio>
#include <nlohmann/json.hpp>
#include <stdexcept>

#include "chat/protocol/codec.hpp"
#include "store/store_error.hpp"

namespace chat::store {
namespace {

using boost::asio::awaitable;
using nlohmann::json;

// The function library. Each function checks the instance state, changes it, appends to
// the event/message stream and publishes the event, atomically. Numbers travel as
// strings so that cjson never rounds them.
constexpr const char* kFunctions = R"LUA(#!lua name=chat
local function ms_of(id) return string.match(id, '^(%d+)') end

-- Every message and event-log entry is also appended to the outbox stream, which the
-- dumpers read through one consumer group; undumped counts the instance's entries not yet
-- acknowledged as written to MySQL, so its keys can go once it has ended and reached 0.
local function to_outbox(outbox, undumped, fields)
  redis.call('XADD', outbox, '*', unpack(fields))
  redis.call('INCR', undumped)
end

-- Removes the keys of an instance that has ended once everything it held is in MySQL; the
-- state marker stays 30 days (history is then read from MySQL).
local function clean_up_if_dumped(inst)
  local prefix = 'chat:i:{' .. inst .. '}:'
  if tonumber(redis.call('GET', prefix .. 'undumped') or '0') > 0 then return 0 end
  if redis.call('GET', prefix .. 'state') ~= 'ended' then return 0 end
  for _, uid in ipairs(redis.call('SMEMBERS', prefix .. 'posters')) do
    redis.call('DEL', prefix .. 'um:' .. uid)
  end
  redis.call('DEL', prefix .. 'msgs', prefix .. 'ev', prefix .. 'p', prefix .. 'pz',
    prefix .. 'meta', prefix .. 'jseq', prefix .. 'undumped', prefix .. 'posters')
  redis.call('EXPIRE', prefix .. 'state', 2592000)
  return 1
end

-- The scheduler lease: KEYS lease epoch; ARGV node ttl token-or-empty. Renews a lease this
-- node holds with that token, or takes a free one with a new fencing token (epoch + 1).
-- Returns the token, or false when another node holds it.
redis.register_function('chat_lease', function(keys, args)
  local cur = redis.call('GET', keys[1])
  if cur then
    if args[3] ~= '' and cur == args[1] .. ':' .. args[3] then
      redis.call('PEXPIRE', keys[1], args[2])
      return args[3]
    end
    return false
  end
  local token = tostring(redis.call('INCR', keys[2]))
  redis.call('SET', keys[1], args[1] .. ':' .. token, 'PX', args[2])
  return token
end)

-- KEYS lease; ARGV holder ("node:token"): gives a held lease up (clean shutdown).
redis.register_function('chat_lease_release', function(keys, args)
  if redis.call('GET', keys[1]) == args[1] then redis.call('DEL', keys[1]) end
  return 1
end)

-- KEYS state meta active lease; ARGV inst m o from to title channel holder
redis.register_function('chat_activate', function(keys, args)
  if redis.call('GET', keys[4]) ~= args[8] then return -1 end  -- fenced: not the holder
  if not redis.call('SET', keys[1], 'active', 'NX') then return 0 end
  redis.call('HSET', keys[2], 'from', args[4], 'to', args[5])
  redis.call('HSET', keys[3], args[1], args[4] .. ':' .. args[5])
  redis.call('PUBLISH', args[7], cjson.encode({k='started', m=args[2], o=args[3],
    title=args[6], from=args[4], to=args[5]}))
  return 1
end)

-- KEYS state p pz ev active outbox lease undumped; ARGV inst m o ts channel holder
redis.register_function('chat_end', function(keys, args)
  if redis.call('GET', keys[7]) ~= args[6] then return -1 end  -- fenced: not the holder
  if redis.call('GET', keys[1]) ~= 'active' then return 0 end
  redis.call('SET', keys[1], 'ended')
  local uids = redis.call('ZRANGE', keys[3], 0, -1)
  for _, uid in ipairs(uids) do
    local rec = redis.call('HGET', keys[2], uid)
    local name = ''
    if rec then name = cjson.decode(rec).n end
    local id = redis.call('XADD', keys[4], '*', 'u', uid, 'type', '2', 'ts', args[4])
    to_outbox(keys[6], keys[8], {'k', 'ev', 'm', args[2], 'o', args[3], 'id', id, 'u', uid,
      'type', '2', 'ts', args[4]})
    redis.call('PUBLISH', args[5], cjson.encode({k='left', m=args[2], o=args[3], u=uid,
      n=name, ts=args[4], reason='meeting_ended'}))
  end
  redis.call('DEL', keys[2], keys[3])
  redis.call('HDEL', keys[5], args[1])
  redis.call('PUBLISH', args[5], cjson.encode({k='ended', m=args[2], o=args[3], ts=args[4]}))
  clean_up_if_dumped(args[1])  -- nothing left to dump: nothing to keep
  return 1
end)

-- KEYS state p pz ev outbox jseq undumped; ARGV inst m o uid name userjson channel
redis.register_function('chat_join', function(keys, args)
  if redis.call('GET', keys[1]) ~= 'active' then return {'inactive'} end
  local rec = redis.call('HGET', keys[2], args[4])
  if rec then return {'already_joined', cjson.decode(rec).j} end
  local id = redis.call('XADD', keys[4], '*', 'u', args[4], 'type', '1')
  local ms = ms_of(id)
  redis.call('HSET', keys[2], args[4], cjson.encode({j=ms, n=args[5], u=args[6]}))
  redis.call('ZADD', keys[3], redis.call('INCR', keys[6]), args[4])
  to_outbox(keys[5], keys[7], {'k', 'ev', 'm', args[2], 'o', args[3], 'id', id, 'u', args[4],
    'type', '1', 'ts', ms})
  redis.call('PUBLISH', args[7], cjson.encode({k='joined', m=args[2], o=args[3], u=args[4],
    n=args[5], ts=ms}))
  return {'ok', ms}
end)

-- KEYS state p pz ev outbox undumped; ARGV inst m o uid type reason channel
redis.register_function('chat_leave', function(keys, args)
  if redis.call('GET', keys[1]) ~= 'active' then return {'inactive'} end
  local rec = redis.call('HGET', keys[2], args[4])
  if not rec then return {'not_joined'} end
  local name = cjson.decode(rec).n
  local id = redis.call('XADD', keys[4], '*', 'u', args[4], 'type', args[5])
  local ms = ms_of(id)
  redis.call('HDEL', keys[2], args[4])
  redis.call('ZREM', keys[3], args[4])
  to_outbox(keys[5], keys[6], {'k', 'ev', 'm', args[2], 'o', args[3], 'id', id, 'u', args[4],
    'type', args[5], 'ts', ms})
  redis.call('PUBLISH', args[7], cjson.encode({k='left', m=args[2], o=args[3], u=args[4],
    n=name, ts=ms, reason=args[6]}))
  return {'ok', ms}
end)

-- KEYS state p msgs umsgs outbox undumped posters; ARGV inst m o uid name text channel
redis.register_function('chat_post', function(keys, args)
  if redis.call('GET', keys[1]) ~= 'active' then return {'inactive'} end
  if redis.call('HEXISTS', keys[2], args[4]) == 0 then return {'not_joined'} end
  local id = redis.call('XADD', keys[3], '*', 'u', args[4], 'n', args[5], 't', args[6])
  redis.call('XADD', keys[4], id, 'u', args[4], 'n', args[5], 't', args[6])
  redis.call('SADD', keys[7], args[4])
  to_outbox(keys[5], keys[6], {'k', 'msg', 'm', args[2], 'o', args[3], 'id', id, 'u', args[4],
    'n', args[5], 't', args[6]})
  redis.call('PUBLISH', args[7], cjson.encode({k='message', m=args[2], o=args[3], id=id,
    u=args[4], n=args[5], t=args[6]}))
  return {'ok', id}
end)

-- KEYS outbox; ARGV group then (entry id, instance "m:o") pairs. Acknowledges entries
-- written to MySQL and deletes them from the outbox (so it stays trimmed). Only entries this
-- call really acknowledged count down their instance (another dumper may have taken over an
-- entry and acknowledged it first). An instance that has ended with nothing left to dump
-- loses its keys, all but a state marker kept 30 days. Returns the instances cleaned up.
redis.register_function('chat_ack', function(keys, args)
  local counts = {}
  for i = 2, #args, 2 do
    if redis.call('XACK', keys[1], args[1], args[i]) == 1 then
      redis.call('XDEL', keys[1], args[i])
      if args[i + 1] ~= '' then counts[args[i + 1]] = (counts[args[i + 1]] or 0) + 1 end
    end
  end
  local cleaned = 0
  for inst, n in pairs(counts) do
    redis.call('DECRBY', 'chat:i:{' .. inst .. '}:undumped', n)
    cleaned = cleaned + clean_up_if_dumped(inst)
  end
  return cleaned
end)

-- KEYS outbox; ARGV group self idle_ms. Consumers of the dump group with nothing pending
-- are removed: the caller's own (self, '' for none; a dumper that exits) and any other idle
-- for idle_ms (a dumper that died or moved on), so cron runs under new names each time do
-- not grow the group forever. A consumer holding entries stays until they are claimed.
-- Returns how many were removed.
redis.register_function('chat_dump_retire', function(keys, args)
  local ok, consumers = pcall(redis.call, 'XINFO', 'CONSUMERS', keys[1], args[1])
  if not ok then return 0 end
  local removed = 0
  for _, c in ipairs(consumers) do
    local f = {}
    for i = 1, #c, 2 do f[c[i]] = c[i + 1] end
    if f['pending'] == 0 and (f['name'] == args[2] or f['idle'] >= tonumber(args[3])) then
      redis.call('XGROUP', 'DELCONSUMER', keys[1], args[1], f['name'])
      removed = removed + 1
    end
  end
  return removed
end)

-- KEYS node nodes users; ARGV node info ttl uid...
-- One step, so a login's SADD sent after the caller took its user list is never lost.
redis.register_function('chat_heartbeat', function(keys, args)
  redis.call('SET', keys[1], args[2], 'PX', args[3])
  redis.call('SADD', keys[2], args[1])
  redis.call('DEL', keys[3])
  if #args > 3 then
    for i = 4, #args, 1000 do  -- unpack in slices: Lua's stack is limited
      redis.call('SADD', keys[3], unpack(args, i, math.min(i + 999, #args)))
    end
    redis.call('PEXPIRE', keys[3], args[3])
  end
  return 1
end)

-- KEYS state p pz
redis.register_function{function_name='chat_participants', flags={'no-writes'},
  callback=function(keys, args)
  if redis.call('GET', keys[1]) ~= 'active' then return {'inactive'} end
  local out = {'ok'}
  for _, uid in ipairs(redis.call('ZRANGE', keys[3], 0, -1)) do
    local rec = redis.call('HGET', keys[2], uid)
    if rec then table.insert(out, rec) end
  end
  return out
end}
)LUA";

std::string inst_name(InstanceKey k) {
  return std::to_string(k.first) + ":" + std::to_string(k.second);
}
std::string key(InstanceKey k, std::string_view suffix) {
  return "chat:i:{" + inst_name(k) + "}:" + std::string(suffix);
}
std::string user_stream(InstanceKey k, std::int64_t user_id) {
  return key(k, "um:" + std::to_string(user_id));
}
const std::string kActive = "chat:active";
const std::string kOutbox = "chat:outbox";
const std::string kDumpGroup = "dumpers";
const std::string kNodes = "chat:nodes";
const std::string kLease = "chat:scheduler:lease";
const std::string kLeaseEpoch = "chat:scheduler:epoch";
std::string node_key(const std::string& node) {
  return "chat:node:" + node;
}
std::string node_users_key(const std::string& node) {
  return "chat:node:" + node + ":users";
}

[[noreturn]] void unexpected(const RedisReply& r, std::string_view what) {
  throw std::runtime_error(
      "unexpected Redis reply to " + std::string(what) + ": " +
      (r.is_error() ? r.str : "type " + std::to_string(static_cast<int>(r.type))));
}

std::int64_t to_i64(const std::string& s) {
  return std::stoll(s);
}

Outcome outcome_of(const std::string& status) {
  if (status == "ok") return Outcome::ok;
  if (status == "inactive") return Outcome::inactive;
  if (status == "already_joined") return Outcome::already_joined;
  if (status == "not_joined") return Outcome::not_joined;
  throw std::runtime_error("unexpected function status " + status);
}

// Note: command vectors are built in a statement of their own and passed by reference:
// g++ 12 rejects a braced list of string literals inside a co_await expression ("array used
// as initializer") and may relocate class-type temporaries of a co_await expression
// bitwise, which breaks std::string (seen under ASan). So no such temporaries here.

// Flat [id, [field, value, ...]] stream entries -> (id, field map) pairs.
template <class Fn>
void for_each_entry(const RedisReply& reply, Fn&& fn) {
  if (!reply.is_array()) unexpected(reply, "XRANGE");
  for (const auto& entry : reply.elements) {
    if (!entry.is_array() || entry.elements.size() != 2) unexpected(entry, "stream entry");
    const auto& fields = entry.elements[1].elements;
    auto field = [&](std::string_view name) -> const std::string* {
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
        if (fields[i].str == name) return &fields[i + 1].str;
      return nullptr;
    };
    fn(entry.elements[0].str, field);
  }
}

// A message stream entry (fields u, n, t) as the protocol shows it.
template <class Field>
protocol::ChatMessage message_of(const std::string& id, Field&& field) {
  const std::string* u = field("u");
  const std::string* n = field("n");
  const std::string* t = field("t");
  if (!u || !n || !t) throw std::runtime_error("message entry without fields");
  return {message_id_from_stream_id(id), to_i64(*u), *n, *t, stream_id_ms(id)};
}

}  // namespace

std::string message_id_from_stream_id(const std::string& stream_id) {
  unsigned long long ms = 0, seq = 0;
  if (std::sscanf(stream_id.c_str(), "%llu-%llu", &ms, &seq) != 2)
    throw std::runtime_error("malformed stream id " + stream_id);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%015llu-%010llu", ms, seq);
  return buf;
}

std::optional<std::string> stream_id_from_message_id(const std::string& message_id) {
  if (message_id.size() != 26 || message_id[15] != '-') return std::nullopt;
  for (std::size_t i = 0; i < message_id.size(); ++i)
    if (i != 15 && (message_id[i] < '0' || message_id[i] > '9')) return std::nullopt;
  const unsigned long long ms = std::stoull(message_id.substr(0, 15));
  const unsigned long long seq = std::stoull(message_id.substr(16));
  return std::to_string(ms) + "-" + std::to_string(seq);
}

protocol::UnixMs stream_id_ms(const std::string& stream_id) {
  return std::stoll(stream_id.substr(0, stream_id.find('-')));
}

std::optional<protocol::Event> parse_bus_event(const std::string& payload) {
  const json j = json::parse(payload, nullptr, false);
  if (!j.is_object()) return std::nullopt;
  try {
    const auto kind = j.at("k").get<std::string>();
    const auto m = to_i64(j.at("m").get<std::string>());
    const auto o = to_i64(j.at("o").get<std::string>());
    if (kind == "message") {
      const auto id = j.at("id").get<std::string>();
      return protocol::MessageEvent{
          m, o,
          protocol::ChatMessage{message_id_from_stream_id(id), to_i64(j.at("u").get<std::string>()),
                                j.at("n").get<std::string>(), j.at("t").get<std::string>(),
                                stream_id_ms(id)}};
    }
    if (kind == "joined")
      return protocol::JoinedEvent{m, o, to_i64(j.at("u").get<std::string>()),
                                   j.at("n").get<std::string>(),
                                   to_i64(j.at("ts").get<std::string>())};
    if (kind == "left") {
      const auto reason = j.at("reason").get<std::string>();
      const auto r = reason == "timeout"         ? protocol::LeaveReason::timeout
                     : reason == "meeting_ended" ? protocol::LeaveReason::meeting_ended
                                                 : protocol::LeaveReason::leave;
      return protocol::LeftEvent{m,
                                 o,
                                 to_i64(j.at("u").get<std::string>()),
                                 j.at("n").get<std::string>(),
                                 to_i64(j.at("ts").get<std::string>()),
                                 r};
    }
    if (kind == "started")
      return protocol::MeetingStartedEvent{m, o, j.at("title").get<std::string>(),
                                           to_i64(j.at("from").get<std::string>()),
                                           to_i64(j.at("to").get<std::string>())};
    if (kind == "ended")
      return protocol::MeetingEndedEvent{m, o, to_i64(j.at("ts").get<std::string>())};
  } catch (const std::exception&) {
    return std::nullopt;
  }
  return std::nullopt;
}

awaitable<RedisReply> RedisStore::call(const std::vector<std::string>& args) {
  RedisReply reply = co_await redis_.exec(args);
  if (reply.is_error()) unexpected(reply, "command");
  co_return reply;
}

const std::string& function_library() {
  static const std::string library(kFunctions);
  return library;
}

void load_functions_on_connect(RedisConnection& redis) {
  redis.set_on_connected([&redis] {
    class Logged final : public ReplyHandler {
     public:
      void complete(std::optional<RedisReply> r) override {
        if (r && r->is_error()) spdlog::critical("loading Redis functions failed: {}", r->str);
      }
    };
    redis.command({"FUNCTION", "LOAD", "REPLACE", function_library()}, std::make_unique<Logged>());
  });
}

awaitable<std::optional<std::string>> RedisStore::acquire_lease(const std::string& node,
                                                                const std::string& token,
                                                                std::int64_t ttl_ms) {
  std::vector<std::string> args{"FCALL", "chat_lease",           "2",  kLease, kLeaseEpoch,
                                node,    std::to_string(ttl_ms), token};
  const auto r = co_await call(args);
  if (r.is_nil()) co_return std::nullopt;
  co_return r.str;
}

awaitable<void> RedisStore::release_lease(const std::string& holder) {
  std::vector<std::string> args{"FCALL", "chat_lease_release", "1", kLease, holder};
  co_await call(args);
}

awaitable<std::unordered_set<std::int64_t>> RedisStore::present_users() {
  std::unordered_set<std::int64_t> out;
  std::vector<std::string> members_args{"SMEMBERS", kNodes};
  const auto ids = co_await call(members_args);
  for (const auto& id : ids.elements) {
    std::vector<std::string> alive_args{"EXISTS", node_key(id.str)};
    const auto alive = co_await call(alive_args);
    if (alive.integer == 0) continue;
    std::vector<std::string> users_args{"SMEMBERS", node_users_key(id.str)};
    const auto users = co_await call(users_args);
    for (const auto& u : users.elements) out.insert(to_i64(u.str));
  }
  co_return out;
}

awaitable<bool> RedisStore::activate(const InstanceRecord& inst, const std::string& title,
                                     const std::string& holder) {
  const InstanceKey k{inst.meeting_id, inst.order_id};
  std::vector<std::string> args1{"FCALL",
                                 "chat_activate",
                                 "4",
                                 key(k, "state"),
                                 key(k, "meta"),
                                 kActive,
                                 kLease,
                                 inst_name(k),
                                 std::to_string(k.first),
                                 std::to_string(k.second),
                                 std::to_string(inst.from),
                                 std::to_string(inst.to),
                                 title,
                                 kBusChannel,
                                 holder};
  const auto r = co_await call(args1);
  if (r.integer == -1) throw LeaseLost("scheduler lease lost");
  co_return r.integer == 1;
}

awaitable<bool> RedisStore::end(InstanceKey k, protocol::UnixMs ts, const std::string& holder) {
  std::vector<std::string> args2{"FCALL",
                                 "chat_end",
                                 "8",
                                 key(k, "state"),
                                 key(k, "p"),
                                 key(k, "pz"),
                                 key(k, "ev"),
                                 kActive,
                                 kOutbox,
                                 kLease,
                                 key(k, "undumped"),
                                 inst_name(k),
                                 std::to_string(k.first),
                                 std::to_string(k.second),
                                 std::to_string(ts),
                                 kBusChannel,
                                 holder};
  const auto r = co_await call(args2);
  if (r.integer == -1) throw LeaseLost("scheduler lease lost");
  co_return r.integer == 1;
}

awaitable<JoinOutcome> RedisStore::join(InstanceKey k, const protocol::UserInfo& user) {
  std::vector<std::string> args3{"FCALL",
                                 "chat_join",
                                 "7",
                                 key(k, "state"),
                                 key(k, "p"),
                                 key(k, "pz"),
                                 key(k, "ev"),
                                 kOutbox,
                                 key(k, "jseq"),
                                 key(k, "undumped"),
                                 inst_name(k),
                                 std::to_string(k.first),
                                 std::to_string(k.second),
                                 std::to_string(user.user_id),
                                 user.name,
                                 json(user).dump(),
                                 kBusChannel};
  const auto r = co_await call(args3);
  if (!r.is_array() || r.elements.empty()) unexpected(r, "chat_join");
  JoinOutcome out{outcome_of(r.elements[0].str), 0};
  if (r.elements.size() > 1) out.joined_at = to_i64(r.elements[1].str);
  co_return out;
}

awaitable<LeaveOutcome> RedisStore::leave(InstanceKey k, std::int64_t user_id,
                                          protocol::LeaveReason reason) {
  const char* type = reason == protocol::LeaveReason::timeout ? "3" : "2";
  std::vector<std::string> args4{"FCALL",
                                 "chat_leave",
                                 "6",
                                 key(k, "state"),
                                 key(k, "p"),
                                 key(k, "pz"),
                                 key(k, "ev"),
                                 kOutbox,
                                 key(k, "undumped"),
                                 inst_name(k),
                                 std::to_string(k.first),
                                 std::to_string(k.second),
                                 std::to_string(user_id),
                                 type,
                                 std::string(protocol::to_string(reason)),
                                 kBusChannel};
  const auto r = co_await call(args4);
  if (!r.is_array() || r.elements.empty()) unexpected(r, "chat_leave");
  LeaveOutcome out{outcome_of(r.elements[0].str), 0};
  if (r.elements.size() > 1) out.ts = to_i64(r.elements[1].str);
  co_return out;
}

awaitable<PostOutcome> RedisStore::post(InstanceKey k, const protocol::UserInfo& user,
                                        const std::string& text) {
  std::vector<std::string> args5{"FCALL",
                                 "chat_post",
                                 "7",
                                 key(k, "state"),
                                 key(k, "p"),
                                 key(k, "msgs"),
                                 user_stream(k, user.user_id),
                                 kOutbox,
                                 key(k, "undumped"),
                                 key(k, "posters"),
                                 inst_name(k),
                                 std::to_string(k.first),
                                 std::to_string(k.second),
                                 std::to_string(user.user_id),
                                 user.name,
                                 text,
                                 kBusChannel};
  const auto r = co_await call(args5);
  if (!r.is_array() || r.elements.empty()) unexpected(r, "chat_post");
  PostOutcome out{outcome_of(r.elements[0].str), {}, 0};
  if (r.elements.size() > 1) {
    out.message_id = message_id_from_stream_id(r.elements[1].str);
    out.ts = stream_id_ms(r.elements[1].str);
  }
  co_return out;
}

awaitable<std::optional<std::vector<protocol::Participant>>> RedisStore::participants(
    InstanceKey k) {
  std::vector<std::string> args{"FCALL_RO",      "chat_participants", "3",
                                key(k, "state"), key(k, "p"),         key(k, "pz")};
  const auto r = co_await call(args);
  if (!r.is_array() || r.elements.empty()) unexpected(r, "chat_participants");
  if (r.elements[0].str != "ok") co_return std::nullopt;
  std::vector<protocol::Participant> out;
  out.reserve(r.elements.size() - 1);
  for (std::size_t i = 1; i < r.elements.size(); ++i) {
    const json rec = json::parse(r.elements[i].str);
    protocol::Participant p;
    p.user = json::parse(rec.at("u").get<std::string>()).get<protocol::UserInfo>();
    p.joined_at = to_i64(rec.at("j").get<std::string>());
    out.push_back(std::move(p));
  }
  co_return out;
}

awaitable<InstanceState> RedisStore::state(InstanceKey k) {
  std::vector<std::string> args6{"GET", key(k, "state")};
  const auto r = co_await call(args6);
  if (r.is_nil()) co_return InstanceState::never;
  co_return r.str == "active" ? InstanceState::active : InstanceState::ended;
}

awaitable<std::vector<protocol::ChatMessage>> RedisStore::messages(
    InstanceKey k, std::optional<std::int64_t> user_id, const protocol::Page& page) {
  const std::string stream = user_id ? user_stream(k, *user_id) : key(k, "msgs");
  const std::string count = std::to_string(page.limit);
  RedisReply r;
  bool newest_first = true;
  if (page.after) {
    const auto after = stream_id_from_message_id(*page.after).value_or("0-0");
    std::vector<std::string> args7{"XRANGE", stream, "(" + after, "+", "COUNT", count};
    r = co_await call(args7);
    newest_first = false;
  } else if (page.before) {
    const auto before = stream_id_from_message_id(*page.before).value_or("0-0");
    if (before == "0-0") co_return std::vector<protocol::ChatMessage>{};  // nothing precedes it
    std::vector<std::string> args8{"XREVRANGE", stream, "(" + before, "-", "COUNT", count};
    r = co_await call(args8);
  } else {
    std::vector<std::string> args9{"XREVRANGE", stream, "+", "-", "COUNT", count};
    r = co_await call(args9);
  }
  std::vector<protocol::ChatMessage> out;
  for_each_entry(r,
                 [&](const std::string& id, auto field) { out.push_back(message_of(id, field)); });
  if (newest_first) std::reverse(out.begin(), out.end());
  co_return out;
}

awaitable<std::vector<ActiveInstance>> RedisStore::active_windows() {
  std::vector<std::string> args10{"HGETALL", kActive};
  const auto all = co_await call(args10);
  std::vector<ActiveInstance> out;
  for (std::size_t i = 0; i + 1 < all.elements.size(); i += 2) {
    ActiveInstance a;
    const std::string& name = all.elements[i].str;
    const std::string& window = all.elements[i + 1].str;
    const auto colon = name.find(':');
    const auto wcolon = window.find(':');
    if (colon == std::string::npos || wcolon == std::string::npos) continue;
    a.key = {to_i64(name.substr(0, colon)), to_i64(name.substr(colon + 1))};
    a.from = to_i64(window.substr(0, wcolon));
    a.to = to_i64(window.substr(wcolon + 1));
    out.push_back(std::move(a));
  }
  co_return out;
}

awaitable<std::vector<ActiveInstance>> RedisStore::active_instances() {
  auto out = co_await active_windows();
  for (auto& a : out) {
    std::vector<std::string> args11{"ZRANGE", key(a.key, "pz"), "0", "-1"};
    const auto members = co_await call(args11);
    for (const auto& m : members.elements) a.participants.push_back(to_i64(m.str));
  }
  co_return out;
}

awaitable<void> RedisStore::heartbeat(const protocol::NodeInfo& node,
                                      const std::vector<std::int64_t>& users, std::int64_t ttl_ms) {
  std::vector<std::string> args{"FCALL",
                                "chat_heartbeat",
                                "3",
                                node_key(node.node),
                                kNodes,
                                node_users_key(node.node),
                                node.node,
                                json(node).dump(),
                                std::to_string(ttl_ms)};
  for (auto u : users) args.push_back(std::to_string(u));
  co_await call(args);
}

awaitable<void> RedisStore::set_node_user(const std::string& node, std::int64_t user_id,
                                          bool present) {
  std::vector<std::string> args{present ? "SADD" : "SREM", node_users_key(node),
                                std::to_string(user_id)};
  co_await call(args);
}

awaitable<void> RedisStore::unregister_node(const std::string& node) {
  std::vector<std::string> args18{"DEL", node_key(node), node_users_key(node)};
  co_await call(args18);
  std::vector<std::string> args19{"SREM", kNodes, node};
  co_await call(args19);
}

awaitable<std::vector<protocol::NodeInfo>> RedisStore::live_nodes() {
  std::vector<std::string> args20{"SMEMBERS", kNodes};
  const auto ids = co_await call(args20);
  std::vector<protocol::NodeInfo> out;
  if (ids.elements.empty()) co_return out;
  std::vector<std::string> mget{"MGET"};
  for (const auto& id : ids.elements) mget.push_back(node_key(id.str));
  const auto infos = co_await call(mget);
  for (std::size_t i = 0; i < infos.elements.size(); ++i) {
    if (infos.elements[i].is_nil()) {
      std::vector<std::string> args21{"SREM", kNodes, ids.elements[i].str};
      co_await call(args21);  // heartbeat expired
      continue;
    }
    const json j = json::parse(infos.elements[i].str, nullptr, false);
    if (j.is_object()) out.push_back(j.get<protocol::NodeInfo>());
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) { return a.node < b.node; });
  co_return out;
}

awaitable<bool> RedisStore::user_on_other_node(const std::string& self, std::int64_t user_id) {
  std::vector<std::string> args22{"SMEMBERS", kNodes};
  const auto ids = co_await call(args22);
  for (const auto& id : ids.elements) {
    if (id.str == self) continue;
    std::vector<std::string> args23{"EXISTS", node_key(id.str)};
    const auto alive = co_await call(args23);
    if (alive.integer == 0) continue;
    std::vector<std::string> args24{"SISMEMBER", node_users_key(id.str), std::to_string(user_id)};
    const auto member = co_await call(args24);
    if (member.integer == 1) co_return true;
  }
  co_return false;
}

awaitable<void> RedisStore::ensure_dump_group() {
  std::vector<std::string> args{"XGROUP", "CREATE", kOutbox, kDumpGroup, "0", "MKSTREAM"};
  const auto r = co_await redis_.exec(args);
  if (r.is_error() && !r.str.starts_with("BUSYGROUP")) unexpected(r, "XGROUP CREATE");
}

namespace {

// Reads outbox entries ([id, [field, value...]] or [id, nil] for deleted ones) into batch.
void add_outbox_entries(const RedisReply& entries, OutboxBatch& batch) {
  for (const auto& entry : entries.elements) {
    if (!entry.is_array() || entry.elements.size() != 2) continue;
    const std::string& id = entry.elements[0].str;
    const auto& fields = entry.elements[1].elements;
    auto field = [&](std::string_view name) -> const std::string* {
      for (std::size_t i = 0; i + 1 < fields.size(); i += 2)
        if (fields[i].str == name) return &fields[i + 1].str;
      return nullptr;
    };
    const std::string* kind = field("k");
    const std::string* m = field("m");
    const std::string* o = field("o");
    const std::string* stream_id = field("id");
    if (!kind || !m || !o || !stream_id) {
      batch.acks.emplace_back(id, "");  // deleted or foreign entry: nothing to write
      continue;
    }
    const InstanceKey k{to_i64(*m), to_i64(*o)};
    if (*kind == "msg") {
      batch.messages.push_back({k.first, k.second, message_of(*stream_id, field)});
    } else {
      const std::string* u = field("u");
      const std::string* type = field("type");
      const std::string* ts = field("ts");
      if (!u || !type || !ts) throw std::runtime_error("outbox event entry without fields");
      batch.events.push_back({k.first, k.second, to_i64(*u), static_cast<int>(to_i64(*type)),
                              to_i64(*ts), *stream_id});
    }
    batch.acks.emplace_back(id, inst_name(k));
    const auto ms = stream_id_ms(id);
    if (batch.oldest_ms == 0 || ms < batch.oldest_ms) batch.oldest_ms = ms;
  }
}

}  // namespace

awaitable<OutboxBatch> RedisStore::read_outbox(const std::string& consumer, std::size_t count,
                                               std::int64_t claim_idle_ms) {
  OutboxBatch batch;
  const std::string n = std::to_string(count);
  // 1. Entries this consumer read before but never acknowledged (it crashed mid-batch).
  std::vector<std::string> own{"XREADGROUP", "GROUP", kDumpGroup, consumer, "COUNT", n,
                               "STREAMS",    kOutbox, "0"};
  const auto mine = co_await call(own);
  if (mine.is_array() && !mine.elements.empty())
    add_outbox_entries(mine.elements[0].elements.at(1), batch);
  if (!batch.acks.empty()) co_return batch;
  // 2. Entries another dumper has held for too long (it died): take them over.
  std::vector<std::string> claim{
      "XAUTOCLAIM", kOutbox, kDumpGroup, consumer, std::to_string(claim_idle_ms),
      "0-0",        "COUNT", n};
  const auto claimed = co_await call(claim);
  if (claimed.is_array() && claimed.elements.size() >= 2)
    add_outbox_entries(claimed.elements[1], batch);
  if (!batch.acks.empty()) co_return batch;
  // 3. New entries.
  std::vector<std::string> fresh{"XREADGROUP", "GROUP", kDumpGroup, consumer, "COUNT", n,
                                 "STREAMS",    kOutbox, ">"};
  const auto added = co_await call(fresh);
  if (added.is_array() && !added.elements.empty())
    add_outbox_entries(added.elements[0].elements.at(1), batch);
  co_return batch;
}

awaitable<std::int64_t> RedisStore::ack_outbox(const OutboxBatch& batch) {
  if (batch.acks.empty()) co_return 0;
  std::vector<std::string> args{"FCALL", "chat_ack", "1", kOutbox, kDumpGroup};
  args.reserve(args.size() + 2 * batch.acks.size());
  for (const auto& [id, inst] : batch.acks) {
    args.push_back(id);
    args.push_back(inst);
  }
  const auto r = co_await call(args);
  co_return r.integer;
}

awaitable<std::int64_t> RedisStore::retire_dump_consumers(const std::string& self,
                                                          std::int64_t idle_ms) {
  std::vector<std::string> args{"FCALL", "chat_dump_retire",     "1", kOutbox, kDumpGroup,
                                self,    std::to_string(idle_ms)};
  const auto r = co_await call(args);
  co_return r.integer;
}

awaitable<std::int64_t> RedisStore::outbox_length() {
  std::vector<std::string> args{"XLEN", kOutbox};
  const auto r = co_await call(args);
  co_return r.integer;
}

awaitable<DumpBacklog> RedisStore::dump_backlog() {
  DumpBacklog out;
  out.entries = co_await outbox_length();
  std::vector<std::string> first{"XRANGE", kOutbox, "-", "+", "COUNT", "1"};
  const auto oldest = co_await call(first);
  if (!oldest.elements.empty() && oldest.elements[0].is_array() &&
      !oldest.elements[0].elements.empty())
    out.oldest = stream_id_ms(oldest.elements[0].elements[0].str);
  // XINFO GROUPS answers an error when the stream does not exist yet: nothing to report.
  std::vector<std::string> groups{"XINFO", "GROUPS", kOutbox};
  const auto info = co_await redis_.exec(groups);
  if (info.is_error()) co_return out;
  for (const auto& group : info.elements) {
    // Each group is a flat array of field, value pairs (RESP2).
    std::optional<std::string> name;
    DumpBacklog found;
    for (std::size_t i = 0; i + 1 < group.elements.size(); i += 2) {
      const std::string& field = group.elements[i].str;
      const auto& value = group.elements[i + 1];
      if (field == "name")
        name = value.str;
      else if (field == "consumers")
        found.consumers = value.integer;
      else if (field == "pending")
        found.pending = value.integer;
      else if (field == "lag" && value.type == RedisReply::Type::integer)
        found.undelivered = value.integer;
    }
    if (name != kDumpGroup) continue;
    out.group_exists = true;
    out.consumers = found.consumers;
    out.pending = found.pending;
    out.undelivered = found.undelivered;
  }
  co_return out;
}

}  // namespace chat::store
