#include "service/chat_service.hpp"

#include <sodium.h>
#include <spdlog/fmt/fmt.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <cctype>

#include "service/spawn.hpp"
#include "store/blocking_pool.hpp"
#include "store/store_error.hpp"

namespace chat::service {

using boost::asio::awaitable;
using nlohmann::json;
using protocol::ErrorCode;
using protocol::ProtocolError;

namespace {

// Verified when the login names no user, so that an unknown user costs the same time as a
// wrong password and the two cannot be told apart (PROTOCOL.md: same message either way).
constexpr const char* kDummyHash =
    "$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$"
    "zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q";

constexpr const char* kServerName = "chatd/" CHAT_VERSION;

std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

template <class T>
const T* body_as(const protocol::Request& r) {
  return std::get_if<T>(&r.body);
}

// Rejects after/before values that are not message ids this server hands out.
void check_page(const protocol::Page& page) {
  for (const auto& id : {page.after, page.before})
    if (id && !store::stream_id_from_message_id(*id))
      throw ProtocolError(ErrorCode::bad_request, "'after'/'before' is not a message_id");
}

}  // namespace

ChatService::ChatService(boost::asio::io_context& io, store::RedisStore& redis,
                         store::RedisConnection& redis_commands, store::RedisConnection& redis_bus,
                         store::Database& db, metrics::Metrics& metrics, ServiceOptions options)
    : io_(io),
      redis_(redis),
      redis_commands_(redis_commands),
      redis_bus_(redis_bus),
      db_(db),
      metrics_(metrics),
      options_(std::move(options)),
      scheduler_(io, redis, db, options_.schedule_poll, options_.node_id, options_.heartbeat,
                 metrics),
      heartbeat_timer_(io),
      login_throttle_(options_.login_throttle) {}

void ChatService::start() {
  redis_bus_.set_on_push([this](const store::RedisReply& push) { on_bus_message(push); });
  redis_bus_.set_on_disconnected([this] {
    bus_subscribed_ = false;
    resync_needed_ = true;
  });
  redis_bus_.subscribe(store::kBusChannel);
  scheduler_.start();
  spawn_logged(io_, heartbeat_loop(), "heartbeat");
}

void ChatService::stop() {
  stopped_ = true;
  scheduler_.stop();
  heartbeat_timer_.cancel();
  for (auto& [user, timer] : grace_timers_) timer->cancel();
  grace_timers_.clear();
  for (auto& [id, timer] : login_delays_) timer->cancel();
  std::vector<std::shared_ptr<Client>> open;
  for (auto& [id, entry] : clients_)
    if (auto c = entry.client.lock()) open.push_back(std::move(c));
  for (auto& c : open) c->close();
  crypto_pool_.join();
}

std::uint64_t ChatService::open(std::weak_ptr<Client> client, std::string address) {
  const auto id = next_client_id_++;
  clients_.emplace(id, ClientEntry{std::move(client), std::nullopt, std::move(address)});
  metrics_.connection_opened();
  return id;
}

bool ChatService::logged_in(std::uint64_t client_id) const {
  const auto it = clients_.find(client_id);
  return it != clients_.end() && it->second.user.has_value();
}

void ChatService::close(std::uint64_t client_id) {
  // Nobody is left to answer: a delayed failed login ends now.
  if (const auto delay = login_delays_.find(client_id); delay != login_delays_.end())
    delay->second->cancel();
  const auto it = clients_.find(client_id);
  if (it == clients_.end()) return;
  metrics_.connection_closed();
  const auto user = it->second.user;
  clients_.erase(it);
  if (!user) return;
  auto& ids = clients_by_user_[user->user_id];
  ids.erase(client_id);
  if (ids.empty()) {
    clients_by_user_.erase(user->user_id);
    on_user_offline(user->user_id);
  }
}

// ---- requests ----------------------------------------------------------------------------

awaitable<std::string> ChatService::handle(std::uint64_t client_id, protocol::Request request) {
  const auto started = std::chrono::steady_clock::now();
  std::optional<ErrorCode> code;
  std::string message;
  json result;
  try {
    result = co_await dispatch(client_id, request);
  } catch (const ProtocolError& e) {
    code = e.code();
    message = e.what();
  } catch (const store::StoreUnavailable& e) {
    spdlog::warn("{}: {}", protocol::op_name(request.body), e.what());
    code = ErrorCode::unavailable;
    message = "a backing store is unavailable; retry later";
  } catch (const std::exception& e) {
    spdlog::error("{} failed: {}", protocol::op_name(request.body), e.what());
    code = ErrorCode::internal;
    message = "internal error";
  }
  metrics_.request(protocol::op_name(request.body),
                   code ? protocol::to_string(*code) : std::string_view(),
                   metrics::seconds_since(started));
  if (code) co_return protocol::encode_error(request.id, *code, message);
  co_return protocol::encode_ok(request.id, result);
}

awaitable<json> ChatService::dispatch(std::uint64_t client_id, const protocol::Request& request) {
  using namespace protocol;
  if (body_as<HelloRequest>(request) || body_as<PingRequest>(request)) {
    json result;
    if (body_as<HelloRequest>(request)) {
      result["proto"] = kProtocolVersion;
      result["server"] = std::string(kServerName);
      result["node"] = options_.node_id;
    }
    result["time"] = format_timestamp(now_ms());
    co_return result;
  }
  if (const auto* r = body_as<LoginRequest>(request)) co_return co_await login(client_id, *r);
  if (body_as<NodesRequest>(request)) {
    require_redis();
    // (co_await inside a braced json initializer trips g++ 12: "array used as initializer")
    auto nodes = co_await redis_.live_nodes();
    // This node's own count is known now; the registry copy is up to a heartbeat old.
    for (auto& n : nodes)
      if (n.node == options_.node_id) n.clients = static_cast<std::int64_t>(clients_.size());
    co_return json{{"nodes", std::move(nodes)}};
  }
  // bad_request outranks unauthenticated: validate paging before the login check.
  if (const auto* r = body_as<MessagesRequest>(request)) check_page(r->page);
  if (const auto* r = body_as<UserMessagesRequest>(request)) check_page(r->page);

  const auto entry = clients_.find(client_id);
  if (entry == clients_.end() || !entry->second.user)
    throw ProtocolError(ErrorCode::unauthenticated, "log in first");
  const UserInfo user = *entry->second.user;  // a copy: the entry may go while suspended
  require_redis();
  co_await ensure_synced();
  const auto cat = co_await catalog();

  if (body_as<ActiveMeetingsRequest>(request)) co_return active_meetings(user, *cat);
  if (body_as<JoinTimesRequest>(request)) co_return co_await join_times(user, *cat);
  if (const auto* r = body_as<JoinRequest>(request))
    co_return co_await join(user, resolve(user, *cat, r->instance));
  if (const auto* r = body_as<LeaveRequest>(request))
    co_return co_await leave(user, resolve(user, *cat, r->instance));
  if (const auto* r = body_as<ParticipantsRequest>(request))
    co_return co_await participants(resolve(user, *cat, r->instance));
  if (const auto* r = body_as<PostRequest>(request))
    co_return co_await post(user, resolve(user, *cat, r->instance), r->text);
  if (const auto* r = body_as<MessagesRequest>(request))
    co_return co_await history(resolve(user, *cat, r->instance), std::nullopt, r->page);
  if (const auto* r = body_as<UserMessagesRequest>(request)) {
    const Target target = resolve(user, *cat, r->instance);
    auto lookup = db_.run([id = r->user_id](store::MysqlStore& s) { return s.find_user(id); });
    const auto found = co_await std::move(lookup);
    if (!found) throw ProtocolError(ErrorCode::not_found, "no such user");
    co_return co_await history(target, r->user_id, r->page);
  }
  throw ProtocolError(ErrorCode::bad_request, "unsupported op");
}

awaitable<json> ChatService::login(std::uint64_t client_id, const protocol::LoginRequest& r) {
  // The address is copied now: the entry may be gone after any suspension.
  std::string address;
  if (const auto it = clients_.find(client_id); it != clients_.end()) address = it->second.address;
  // Awaitables are created in statements of their own: g++ 12 may relocate class-type
  // temporaries of a co_await expression bitwise, which breaks captured std::strings.
  auto lookup = db_.run([login = r.user](store::MysqlStore& s) { return s.find_login(login); });
  const auto record = co_await std::move(lookup);
  const std::string hash = record ? record->password_hash : kDummyHash;
  bool verified = false;
  {
    // One verification per client address at a time (KeyedGate): a burst of guesses from
    // one address waits in its own lane instead of filling the crypto thread's queue ahead
    // of everybody else's logins.
    auto entering = verify_gate_.enter(address);
    const auto pass = co_await std::move(entering);
    // A guesser that hung up while waiting costs no verification (nobody reads the answer).
    if (!clients_.contains(client_id))
      throw ProtocolError(ErrorCode::unavailable, "connection closed during login");
    auto verify = store::run_blocking(crypto_pool_, [hash, password = r.password] {
      return crypto_pwhash_str_verify(hash.c_str(), password.data(), password.size()) == 0;
    });
    verified = co_await std::move(verify);
  }
  // A disabled user (chatctl user disable) gets the very answer of a wrong password, after
  // the same verification work: PROTOCOL.md's invalid_credentials tells nothing more.
  if (!record || !verified || record->disabled) {
    // Brute-force brake: repeated failures of one login string or from one address are
    // answered later and later (LoginThrottle); the answer itself stays the same.
    const auto delay =
        login_throttle_.record_failure(r.user, address, std::chrono::steady_clock::now());
    if (delay.count() > 0) co_await delay_failed_login(client_id, delay, address);
    throw ProtocolError(ErrorCode::invalid_credentials, "invalid user, email or password");
  }
  // Failures of this user (under any of its login strings) are forgiven.
  login_throttle_.record_success(r.user);
  login_throttle_.record_success(record->user.name);
  login_throttle_.record_success(record->user.email);

  const auto it = clients_.find(client_id);
  if (it == clients_.end()) throw std::runtime_error("connection closed during login");
  const auto uid = record->user.user_id;
  if (it->second.user && it->second.user->user_id != uid) {
    // Logging in as someone else on the same connection: the old user leaves this one.
    const auto old = it->second.user->user_id;
    auto& ids = clients_by_user_[old];
    ids.erase(client_id);
    if (ids.empty()) {
      clients_by_user_.erase(old);
      on_user_offline(old);
    }
  }
  it->second.user = record->user;
  auto& ids = clients_by_user_[uid];
  const bool was_offline = ids.empty();
  ids.insert(client_id);
  spdlog::info("client {} logged in as user {} ({})", client_id, uid, record->user.name);
  if (was_offline) {
    cancel_grace(uid);
    // Seats are resumed only when no live connection of the user is left anywhere; a
    // second login while one is open on another node is just one more connection.
    bool elsewhere = false;
    try {
      co_await redis_.set_node_user(options_.node_id, uid, true);
      elsewhere = co_await redis_.user_on_other_node(options_.node_id, uid);
    } catch (const store::StoreUnavailable&) {
      // Without Redis nothing can be joined anyway; treat the seats as resumable.
    }
    // Seen on another node: that node may be alive (then this is one more connection) or
    // dead with its registry entry not yet expired (then it is a resume). The first join
    // of each seat settles it (see join()).
    if (clients_by_user_.contains(uid)) mark_resumable(uid, /*confirm=*/elsewhere);
  }
  co_return json{{"user", record->user}};
}

awaitable<void> ChatService::delay_failed_login(std::uint64_t client_id,
                                                std::chrono::milliseconds delay,
                                                const std::string& address) {
  // One line per burst, and no login string (users sometimes type a password into it).
  if (const auto held_back = throttle_log_.admit(std::chrono::steady_clock::now()))
    spdlog::warn("repeated failed logins: answering from {} after {} ms{}", address, delay.count(),
                 *held_back ? fmt::format("; {} more delayed since the last warning", *held_back)
                            : std::string());
  boost::asio::steady_timer timer(io_, delay);
  login_delays_[client_id] = &timer;
  boost::system::error_code ec;
  co_await timer.async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  login_delays_.erase(client_id);
}

json ChatService::active_meetings(const protocol::UserInfo& user, const store::Catalog& cat) const {
  std::vector<protocol::MeetingSummary> out;
  for (const auto& [key, window] : active_) {
    const auto meeting = cat.meetings.find(key.first);
    if (meeting == cat.meetings.end() || !may_attend(meeting->second, user)) continue;
    const auto inst = cat.instances.find(key);
    const auto members = participants_.find(key);
    out.push_back(
        {key.first, key.second, meeting->second.title, meeting->second.description,
         meeting->second.is_public, inst != cat.instances.end() ? inst->second.from : window.from,
         inst != cat.instances.end() ? inst->second.to : window.to,
         members == participants_.end() ? 0 : static_cast<std::int64_t>(members->second.size())});
  }
  std::sort(out.begin(), out.end(), [](const auto& a, const auto& b) {
    return std::tie(a.from, a.meeting_id) < std::tie(b.from, b.meeting_id);
  });
  return json{{"meetings", out}};
}

awaitable<json> ChatService::join(const protocol::UserInfo& user, const Target& t) {
  if (!t.active)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  const auto r = co_await redis_.join(t.key, user);
  json result{{"meeting_id", t.key.first},
              {"order_id", t.key.second},
              {"joined_at", protocol::format_timestamp(r.joined_at)}};
  switch (r.outcome) {
    case store::Outcome::ok:
      participants_[t.key].insert(user.user_id);
      resumable_[user.user_id].erase(t.key);
      co_return result;
    case store::Outcome::already_joined:
      // The first join after a resume within the grace period is how a reconnecting
      // client takes its seat back (PROTOCOL.md "Timeout").
      if (auto it = resumable_.find(user.user_id); it != resumable_.end()) {
        if (auto seat = it->second.find(t.key); seat != it->second.end()) {
          const bool confirm = seat->second;
          it->second.erase(seat);
          if (!confirm || co_await other_connection_gone(user.user_id)) {
            result["resumed"] = true;
            co_return result;
          }
        }
      }
      throw ProtocolError(ErrorCode::already_joined, "already a participant of this meeting");
    case store::Outcome::inactive:
      throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
    case store::Outcome::not_joined:
      break;
  }
  throw std::runtime_error("unexpected join outcome");
}

awaitable<json> ChatService::leave(const protocol::UserInfo& user, const Target& t) {
  if (!t.active)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  const auto r = co_await redis_.leave(t.key, user.user_id, protocol::LeaveReason::leave);
  if (r.outcome == store::Outcome::inactive)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  if (r.outcome == store::Outcome::not_joined)
    throw ProtocolError(ErrorCode::not_joined, "not a participant of this meeting");
  resumable_[user.user_id].erase(t.key);
  co_return json{{"meeting_id", t.key.first},
                 {"order_id", t.key.second},
                 {"left_at", protocol::format_timestamp(r.ts)}};
}

awaitable<json> ChatService::participants(const Target& t) {
  if (!t.active)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  const auto list = co_await redis_.participants(t.key);
  if (!list) throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  co_return json{{"participants", *list}};
}

awaitable<json> ChatService::post(const protocol::UserInfo& user, const Target& t,
                                  const std::string& text) {
  if (!t.active)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  const auto r = co_await redis_.post(t.key, user, text);
  if (r.outcome == store::Outcome::inactive)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance is not active");
  if (r.outcome == store::Outcome::not_joined)
    throw ProtocolError(ErrorCode::not_joined, "join the meeting before posting");
  metrics_.message_posted();
  co_return json{{"message_id", r.message_id}, {"ts", protocol::format_timestamp(r.ts)}};
}

awaitable<json> ChatService::history(const Target& t, std::optional<std::int64_t> user_id,
                                     const protocol::Page& page) {
  if (t.key.second == 0)
    throw ProtocolError(ErrorCode::meeting_inactive, "the meeting has no active instance");
  if (t.active) {
    auto messages = co_await redis_.messages(t.key, user_id, page);
    co_return json{{"messages", std::move(messages)}};
  }
  const auto state = co_await redis_.state(t.key);
  if (state != store::InstanceState::never) {
    auto messages = co_await redis_.messages(t.key, user_id, page);
    if (!messages.empty()) co_return json{{"messages", messages}};
  }
  // Nothing in Redis for this page: MySQL, the durable home of dumped messages, decides.
  auto read = db_.run(
      [&](store::MysqlStore& s) { return s.history(t.key.first, t.key.second, user_id, page); });
  auto rows = co_await std::move(read);
  if (state == store::InstanceState::never && rows.empty()) {
    // No marker: never active, or ended so long ago that the marker expired. Its join and
    // leave rows in the event log tell the two apart, so an empty page of a past meeting
    // is still [] (PROTOCOL.md: history of an ended instance).
    auto probe =
        db_.run([&](store::MysqlStore& s) { return s.has_event_log(t.key.first, t.key.second); });
    if (!co_await std::move(probe))
      throw ProtocolError(ErrorCode::meeting_inactive, "the meeting instance never became active");
  }
  co_return json{{"messages", rows}};
}

awaitable<json> ChatService::join_times(const protocol::UserInfo& user, const store::Catalog& cat) {
  std::vector<protocol::MeetingJoinTimes> out;
  const auto active = active_;  // copy: the map may change while suspended
  for (const auto& [key, window] : active) {
    const auto meeting = cat.meetings.find(key.first);
    if (meeting == cat.meetings.end() || !may_attend(meeting->second, user)) continue;
    const auto list = co_await redis_.participants(key);
    if (!list) continue;  // ended meanwhile
    protocol::MeetingJoinTimes entry{key.first, key.second, meeting->second.title, {}};
    for (const auto& p : *list)
      entry.participants.push_back({p.user.user_id, p.user.name, p.joined_at});
    out.push_back(std::move(entry));
  }
  co_return json{{"meetings", out}};
}

awaitable<std::shared_ptr<const store::Catalog>> ChatService::catalog() {
  if (auto cat = scheduler_.catalog()) co_return cat;
  co_return co_await scheduler_.refresh();  // StoreUnavailable while MySQL is down
}

ChatService::Target ChatService::resolve(const protocol::UserInfo& user, const store::Catalog& cat,
                                         const protocol::InstanceRef& ref) const {
  const auto meeting = cat.meetings.find(ref.meeting_id);
  if (meeting == cat.meetings.end()) throw ProtocolError(ErrorCode::not_found, "no such meeting");
  if (!may_attend(meeting->second, user))
    throw ProtocolError(ErrorCode::forbidden, "you are not in the audience of this meeting");
  if (ref.order_id) {
    const store::InstanceKey key{ref.meeting_id, *ref.order_id};
    const bool active = active_.contains(key);
    if (!active && !cat.instances.contains(key))
      throw ProtocolError(ErrorCode::not_found, "no such meeting instance");
    return {key, active};
  }
  const auto current = active_by_meeting_.find(ref.meeting_id);
  if (current == active_by_meeting_.end()) return {{ref.meeting_id, 0}, false};  // order 0: none
  return {{ref.meeting_id, current->second}, true};
}

bool ChatService::may_attend(const store::MeetingRecord& meeting, const protocol::UserInfo& user) {
  return meeting.is_public || meeting.audience.contains(ascii_lower(user.email));
}

void ChatService::require_redis() const {
  if (!redis_commands_.connected() || !bus_subscribed_)
    throw store::StoreUnavailable("Redis is unreachable");
}

// ---- events ------------------------------------------------------------------------------

void ChatService::on_bus_message(const store::RedisReply& push) {
  if (!push.is_array() || push.elements.size() < 3) return;
  const auto& kind = push.elements[0].str;
  if (kind == "subscribe") {
    // (Re)subscribed: events may have been missed while the bus was down, so the snapshot
    // must be read after this point (a sync already running is repeated).
    bus_subscribed_ = true;
    resync_needed_ = true;
    spawn_logged(io_, resync(), "resync");
    return;
  }
  if (kind != "message") return;
  const auto event = store::parse_bus_event(push.elements[2].str);
  if (!event) {
    spdlog::warn("bus: ignoring unreadable event {}", push.elements[2].str);
    return;
  }
  if (syncing_) events_during_sync_.push_back(*event);
  apply_event(*event);
}

void ChatService::update_state(const protocol::Event& event) {
  std::visit(
      [this](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        const store::InstanceKey key{e.meeting_id, e.order_id};
        if constexpr (std::is_same_v<T, protocol::JoinedEvent>) {
          participants_[key].insert(e.user_id);
        } else if constexpr (std::is_same_v<T, protocol::LeftEvent>) {
          // At a meeting's end everyone stays listed until meeting_ended drops the instance,
          // so each participant sees every other participant's left event too.
          if (auto it = participants_.find(key);
              it != participants_.end() && e.reason != protocol::LeaveReason::meeting_ended)
            it->second.erase(e.user_id);
          if (auto it = resumable_.find(e.user_id); it != resumable_.end()) it->second.erase(key);
        } else if constexpr (std::is_same_v<T, protocol::MeetingStartedEvent>) {
          active_[key] = Window{e.from, e.to};
          active_by_meeting_[e.meeting_id] = e.order_id;
          participants_[key];
        } else if constexpr (std::is_same_v<T, protocol::MeetingEndedEvent>) {
          active_.erase(key);
          if (auto it = active_by_meeting_.find(e.meeting_id);
              it != active_by_meeting_.end() && it->second == e.order_id)
            active_by_meeting_.erase(it);
          participants_.erase(key);
          for (auto& [user, keys] : resumable_) keys.erase(key);
        }
      },
      event);
}

void ChatService::apply_event(const protocol::Event& event) {
  const auto frame = std::make_shared<const std::string>(protocol::encode_event(event));
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        const store::InstanceKey key{e.meeting_id, e.order_id};
        if constexpr (std::is_same_v<T, protocol::MessageEvent>) {
          const auto copies = deliver_to_participants(key, frame);
          metrics_.message_delivered(
              copies, static_cast<double>(protocol::now_ms() - e.message.ts) / 1000.0);
        } else if constexpr (std::is_same_v<T, protocol::JoinedEvent>) {
          update_state(event);  // the joiner gets its own joined event
          deliver_to_participants(key, frame);
        } else if constexpr (std::is_same_v<T, protocol::LeftEvent>) {
          deliver_to_participants(key, frame);  // the leaver is still among them
          const auto members = participants_.find(key);
          if (members == participants_.end() || !members->second.contains(e.user_id))
            deliver_to_user(e.user_id, frame);
          update_state(event);
        } else if constexpr (std::is_same_v<T, protocol::MeetingStartedEvent>) {
          update_state(event);
          deliver_to_audience(e.meeting_id, frame);
        } else {
          update_state(event);
          deliver_to_audience(e.meeting_id, frame);
        }
      },
      event);
}

std::size_t ChatService::deliver_to_participants(store::InstanceKey key,
                                                 const std::shared_ptr<const std::string>& frame) {
  const auto it = participants_.find(key);
  if (it == participants_.end()) return 0;
  std::size_t copies = 0;
  for (const auto user_id : it->second) copies += deliver_to_user(user_id, frame);
  return copies;
}

std::size_t ChatService::deliver_to_user(std::int64_t user_id,
                                         const std::shared_ptr<const std::string>& frame) {
  const auto it = clients_by_user_.find(user_id);
  if (it == clients_by_user_.end()) return 0;
  std::size_t copies = 0;
  for (const auto id : it->second) {
    if (auto c = clients_.at(id).client.lock()) {
      c->deliver(frame);
      ++copies;
    }
  }
  return copies;
}

void ChatService::deliver_to_audience(std::int64_t meeting_id,
                                      const std::shared_ptr<const std::string>& frame) {
  const auto cat = scheduler_.catalog();
  if (!cat) return;
  const auto meeting = cat->meetings.find(meeting_id);
  if (meeting == cat->meetings.end()) return;
  for (const auto& [id, entry] : clients_)
    if (entry.user && may_attend(meeting->second, *entry.user))
      if (auto c = entry.client.lock()) c->deliver(frame);
}

// ---- presence and timeouts ------------------------------------------------------------------

void ChatService::cancel_grace(std::int64_t user_id) {
  if (auto it = grace_timers_.find(user_id); it != grace_timers_.end()) {
    it->second->cancel();
    grace_timers_.erase(it);
  }
}

void ChatService::mark_resumable(std::int64_t user_id, bool confirm) {
  // Back within the grace period (or after a node restart): the seats are kept, and the
  // next join of each answers resumed.
  for (const auto& [key, members] : participants_)
    if (members.contains(user_id)) resumable_[user_id][key] = confirm;
}

awaitable<bool> ChatService::other_connection_gone(std::int64_t user_id) {
  // A live node renews its registry entry every heartbeat, a dead one's expires within
  // three: watch that long for the user to vanish from every other live node.
  for (int beat = 0; beat <= 3; ++beat) {
    if (!co_await redis_.user_on_other_node(options_.node_id, user_id)) co_return true;
    if (beat == 3) break;
    boost::asio::steady_timer pause(io_, options_.heartbeat);
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  co_return false;
}

void ChatService::on_user_offline(std::int64_t user_id) {
  // Tell other nodes at once (not only at the next heartbeat) so their checks are current.
  boost::asio::co_spawn(
      io_,
      [this, user_id]() -> awaitable<void> {
        if (!clients_by_user_.contains(user_id))
          co_await redis_.set_node_user(options_.node_id, user_id, false);
      },
      [](std::exception_ptr) {});  // best effort: the next heartbeat rewrites the set
  for (const auto& [key, members] : participants_) {
    if (members.contains(user_id)) {
      start_grace(user_id);
      return;
    }
  }
}

void ChatService::start_grace(std::int64_t user_id) {
  if (stopped_) return;
  auto timer = std::make_unique<boost::asio::steady_timer>(io_, options_.grace);
  timer->async_wait([this, user_id](const boost::system::error_code& ec) {
    if (ec || stopped_) return;
    spawn_logged(io_, time_out(user_id), "timeout");
  });
  grace_timers_[user_id] = std::move(timer);
}

awaitable<void> ChatService::time_out(std::int64_t user_id) {
  grace_timers_.erase(user_id);
  if (clients_by_user_.contains(user_id)) co_return;
  try {
    if (co_await redis_.user_on_other_node(options_.node_id, user_id)) co_return;
    std::vector<store::InstanceKey> seats;
    for (const auto& [key, members] : participants_)
      if (members.contains(user_id)) seats.push_back(key);
    for (const auto& key : seats) {
      if (clients_by_user_.contains(user_id)) co_return;  // came back meanwhile
      const auto r = co_await redis_.leave(key, user_id, protocol::LeaveReason::timeout);
      if (r.outcome == store::Outcome::ok)
        spdlog::info("user {} timed out of meeting {} instance {}", user_id, key.first, key.second);
    }
    resumable_.erase(user_id);
  } catch (const store::StoreUnavailable& e) {
    spdlog::warn("timeout of user {} postponed: {}", user_id, e.what());
    if (!clients_by_user_.contains(user_id)) start_grace(user_id);
  }
}

// ---- node registry and state sync -------------------------------------------------------------

awaitable<void> ChatService::heartbeat_loop() {
  while (!stopped_) {
    try {
      if (resync_needed_ && bus_subscribed_) co_await resync();
      std::vector<std::int64_t> users;
      users.reserve(clients_by_user_.size());
      for (const auto& [user, ids] : clients_by_user_) users.push_back(user);
      const protocol::NodeInfo me{options_.node_id, options_.advertise,
                                  static_cast<std::int64_t>(clients_.size())};
      co_await redis_.heartbeat(me, users, 3 * options_.heartbeat.count());
      if (scheduler_.holds_lease()) {
        co_await time_out_absent();
      } else {
        absent_since_.clear();
      }
    } catch (const store::StoreUnavailable&) {
      // Logged by the Redis connection; retried next beat.
    } catch (const std::exception& e) {
      spdlog::error("heartbeat: {}", e.what());
    }
    heartbeat_timer_.expires_after(options_.heartbeat);
    boost::system::error_code ec;
    co_await heartbeat_timer_.async_wait(
        boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  try {
    co_await redis_.unregister_node(options_.node_id);
  } catch (const std::exception&) {
    // Best effort: the heartbeat key expires on its own.
  }
}

awaitable<void> ChatService::time_out_absent() {
  // Participants not logged in on any live node, e.g. because their node died: after the
  // grace period (counted from when this node first saw them absent) they are timed out.
  // Nodes time out their own users with precise grace timers; this sweep, run by the
  // lease holder only, covers users whose node is gone. Both paths are idempotent.
  const auto present = co_await redis_.present_users();
  const auto now = std::chrono::steady_clock::now();
  std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> still_absent;
  std::vector<std::pair<store::InstanceKey, std::int64_t>> due;
  for (const auto& [key, members] : participants_) {
    for (const auto user : members) {
      if (present.contains(user) || clients_by_user_.contains(user)) continue;
      const auto seen = absent_since_.find(user);
      const auto since = seen == absent_since_.end() ? now : seen->second;
      still_absent.emplace(user, since);
      if (now - since >= options_.grace) due.emplace_back(key, user);
    }
  }
  absent_since_ = std::move(still_absent);
  for (const auto& [key, user] : due) {
    const auto r = co_await redis_.leave(key, user, protocol::LeaveReason::timeout);
    if (r.outcome == store::Outcome::ok)
      spdlog::info("user {} (no live connection on any node) timed out of meeting {} instance {}",
                   user, key.first, key.second);
  }
}

awaitable<void> ChatService::ensure_synced() {
  // Requests right after start or a Redis reconnect wait (bounded) for the snapshot of
  // active instances instead of answering from stale state.
  for (int i = 0; resync_needed_ && i < 200; ++i) {
    if (!syncing_) {
      co_await resync();
      break;
    }
    boost::asio::steady_timer pause(io_, std::chrono::milliseconds(10));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  if (resync_needed_) throw store::StoreUnavailable("node state not loaded from Redis yet");
}

awaitable<void> ChatService::resync() {
  if (syncing_) {
    sync_again_ = true;  // a snapshot read before this request may miss events
    co_return;
  }
  syncing_ = true;
  try {
    std::vector<store::ActiveInstance> active;
    do {
      sync_again_ = false;
      events_during_sync_.clear();
      active = co_await redis_.active_instances();
    } while (sync_again_);
    active_.clear();
    active_by_meeting_.clear();
    participants_.clear();
    for (const auto& a : active) {
      active_[a.key] = Window{a.from, a.to};
      active_by_meeting_[a.key.first] = a.key.second;
      participants_[a.key].insert(a.participants.begin(), a.participants.end());
    }
    // Events that arrived while the snapshot was read may be newer than it.
    for (const auto& e : events_during_sync_) update_state(e);
    resync_needed_ = false;
    spdlog::info("state loaded from Redis: {} active meeting instances", active_.size());
    if (!first_sync_done_) {
      first_sync_done_ = true;
      // Seats of users with no connection here (e.g. after a restart of this node) are
      // timed out after the grace period unless the user comes back.
      for (const auto& [key, members] : participants_)
        for (const auto user : members)
          if (!clients_by_user_.contains(user) && !grace_timers_.contains(user)) start_grace(user);
    }
  } catch (...) {
    syncing_ = false;
    events_during_sync_.clear();
    throw;
  }
  syncing_ = false;
  events_during_sync_.clear();
}

}  // namespace chat::service
