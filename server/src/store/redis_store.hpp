// The Redis side of chatd: live state of meeting instances, chat messages and event logs,
// the event bus between nodes, the node registry and the dump cursors.
//
// Key layout (every key of one meeting instance shares the hash tag {m:o}):
//   chat:i:{m:o}:state   "active" | "ended" (absent: never activated)
//   chat:i:{m:o}:p       hash user_id -> {"j": joined_at ms, "n": name, "u": user JSON}
//   chat:i:{m:o}:pz      zset user_id by join sequence (join order); chat:i:{m:o}:jseq counter
//   chat:i:{m:o}:msgs    stream of chat messages (u, n, t); its ids give order and time
//   chat:i:{m:o}:um:<u>  stream of one user's messages, same ids (for user_messages)
//   chat:i:{m:o}:ev      stream of event logs (u, type 1/2/3, optional ts)
//   chat:i:{m:o}:posters set of users who posted (to find the um:<u> keys)
//   chat:i:{m:o}:undumped count of its outbox entries not yet written to MySQL
//   chat:active          hash "m:o" -> "from:to" (ms) of active instances
//   chat:outbox          stream of every message and event-log entry on its way to MySQL,
//                        read by the consumer group "dumpers", deleted once written
//   chat:nodes           set of node ids; chat:node:<id> JSON {node,address,clients} with
//                        expiry; chat:node:<id>:users set of logged-in user ids
//   chat:scheduler:lease "<node>:<token>" with expiry: the one node that starts and ends
//                        instances; token from the counter chat:scheduler:epoch (fencing)
// Every state change runs as one Redis function (library "chat") that also publishes the
// matching event on the bus channel, so history and live delivery never disagree and
// every node sees events in the one order Redis applied them.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <unordered_set>
#include <vector>

#include "chat/protocol/messages.hpp"
#include "store/mysql_store.hpp"
#include "store/redis_client.hpp"

namespace chat::store {

/// The pub/sub channel every node subscribes to.
inline constexpr const char* kBusChannel = "chat:bus";

/// Whether an instance ever became active, according to Redis.
enum class InstanceState { never, active, ended };

/// Outcome of a state-changing function: ok, or why it did nothing.
enum class Outcome { ok, inactive, already_joined, not_joined };

/// Result of join: joined_at is the new join time, or the existing one for already_joined.
struct JoinOutcome {
  Outcome outcome = Outcome::ok;
  protocol::UnixMs joined_at = 0;
};

/// Result of leave / timeout: ts is the time the participant left.
struct LeaveOutcome {
  Outcome outcome = Outcome::ok;
  protocol::UnixMs ts = 0;
};

/// Result of post: the new message's id and time.
struct PostOutcome {
  Outcome outcome = Outcome::ok;
  std::string message_id;
  protocol::UnixMs ts = 0;
};

/// An active instance with its participants (user ids in join order), as Redis has it.
struct ActiveInstance {
  InstanceKey key;
  protocol::UnixMs from = 0;
  protocol::UnixMs to = 0;
  std::vector<std::int64_t> participants;
};

/// Outbox entries read for one MySQL transaction: the rows to write and, per entry, its
/// outbox id and instance ("m:o"; empty for an entry with nothing to write) to acknowledge
/// once the transaction has committed.
struct OutboxBatch {
  std::vector<DumpedMessage> messages;
  std::vector<DumpedEvent> events;
  std::vector<std::pair<std::string, std::string>> acks;
  protocol::UnixMs oldest_ms = 0;  // time of the oldest entry (for the lag)
  bool empty() const noexcept { return acks.empty(); }
};

/// How far the dump to MySQL lags behind (chatctl dump-status): the outbox stream and its
/// consumer group "dumpers".
struct DumpBacklog {
  std::int64_t entries = 0;    // entries in chat:outbox: not yet committed to MySQL
  bool group_exists = false;   // false until a dumper (or chatd) has created the group
  std::int64_t pending = 0;    // delivered to a dumper, not yet acknowledged (in flight)
  std::int64_t consumers = 0;  // dumpers known to the group
  std::optional<std::int64_t> undelivered;  // entries no dumper has read yet (Redis "lag")
  std::optional<protocol::UnixMs> oldest;   // time of the oldest entry (its stream id)
};

/// The protocol message_id for a stream id "ms-seq": fixed-width decimal
/// "%015llu-%010llu", so byte order equals stream order (MySQL sorts by it).
std::string message_id_from_stream_id(const std::string& stream_id);
/// Inverse; nullopt when message_id is not of that form (the request is then bad_request).
std::optional<std::string> stream_id_from_message_id(const std::string& message_id);
/// The ms part of a stream id.
protocol::UnixMs stream_id_ms(const std::string& stream_id);

/// Source of the Redis function library "chat" (FUNCTION LOAD REPLACE on every connect).
const std::string& function_library();

/// Makes the connection load the function library first thing after every (re)connect, so
/// it precedes any FCALL on that connection (Redis may have restarted without it).
void load_functions_on_connect(RedisConnection& redis);

/// Decodes a bus payload published by the function library into a protocol event;
/// nullopt for a payload it does not understand (logged by the caller).
std::optional<protocol::Event> parse_bus_event(const std::string& payload);

/// The scheduler lease was taken over by another node: the fenced call did nothing.
class LeaseLost : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// Typed operations on the key layout above. Every method throws StoreUnavailable when
/// Redis is unreachable and std::runtime_error on an unexpected reply.
class RedisStore {
 public:
  explicit RedisStore(RedisConnection& redis) : redis_(redis) {}

  /// Takes or renews the scheduler lease for ttl_ms. token is the one this node holds (empty
  /// if none). Returns the token now held, or nullopt when another node holds the lease.
  boost::asio::awaitable<std::optional<std::string>> acquire_lease(const std::string& node,
                                                                   const std::string& token,
                                                                   std::int64_t ttl_ms);
  /// Gives up the lease if holder ("node:token") still holds it.
  boost::asio::awaitable<void> release_lease(const std::string& holder);

  /// Users logged in on any live node (registry sets of nodes whose heartbeat is current).
  boost::asio::awaitable<std::unordered_set<std::int64_t>> present_users();

  /// Marks the instance active and publishes meeting_started, unless it was ever active.
  /// Returns true when this call activated it. holder is "node:token" of the scheduler
  /// lease; throws LeaseLost (and changes nothing) when that is not the current holder.
  boost::asio::awaitable<bool> activate(const InstanceRecord& instance, const std::string& title,
                                        const std::string& holder);

  /// Ends an active instance at ts: every participant leaves (event log type 2, ts), left
  /// events with reason meeting_ended, then meeting_ended. Returns false if it was not
  /// active. Fenced by holder like activate().
  boost::asio::awaitable<bool> end(InstanceKey key, protocol::UnixMs ts, const std::string& holder);

  /// Adds the user as a participant (event log type 1) and publishes joined.
  boost::asio::awaitable<JoinOutcome> join(InstanceKey key, const protocol::UserInfo& user);

  /// Removes a participant: reason leave logs type 2, timeout logs type 3; publishes left.
  boost::asio::awaitable<LeaveOutcome> leave(InstanceKey key, std::int64_t user_id,
                                             protocol::LeaveReason reason);

  /// Appends a chat message of a participant and publishes it.
  boost::asio::awaitable<PostOutcome> post(InstanceKey key, const protocol::UserInfo& user,
                                           const std::string& text);

  /// Participants in join order; nullopt when the instance is not active.
  boost::asio::awaitable<std::optional<std::vector<protocol::Participant>>> participants(
      InstanceKey key);

  boost::asio::awaitable<InstanceState> state(InstanceKey key);

  /// A page of messages (one user's when user_id is set), oldest first, as the `messages`
  /// op pages. page.after/before are protocol message_ids already validated with
  /// stream_id_from_message_id().
  boost::asio::awaitable<std::vector<protocol::ChatMessage>> messages(
      InstanceKey key, std::optional<std::int64_t> user_id, const protocol::Page& page);

  /// Every active instance (key and the from/to it was activated with), no participants.
  boost::asio::awaitable<std::vector<ActiveInstance>> active_windows();

  /// Every active instance with its participants.
  boost::asio::awaitable<std::vector<ActiveInstance>> active_instances();

  /// Announces this node for ttl_ms with its logged-in users.
  boost::asio::awaitable<void> heartbeat(const protocol::NodeInfo& node,
                                         const std::vector<std::int64_t>& users,
                                         std::int64_t ttl_ms);
  /// Adds (present) or removes a user in this node's set of logged-in users right away,
  /// between heartbeats.
  boost::asio::awaitable<void> set_node_user(const std::string& node, std::int64_t user_id,
                                             bool present);
  /// Removes this node's registry entries (clean shutdown).
  boost::asio::awaitable<void> unregister_node(const std::string& node);
  /// Nodes whose heartbeat has not expired.
  boost::asio::awaitable<std::vector<protocol::NodeInfo>> live_nodes();
  /// True when a live node other than self has the user logged in.
  boost::asio::awaitable<bool> user_on_other_node(const std::string& self, std::int64_t user_id);

  /// Creates the dumpers' consumer group on the outbox (and the stream) if missing.
  boost::asio::awaitable<void> ensure_dump_group();
  /// Up to count outbox entries for this consumer: first its own unacknowledged ones
  /// (after a crash), then entries idle for claim_idle_ms in a dead dumper's hands, then new
  /// ones. Every entry is delivered to some dumper until acknowledged: at least once.
  boost::asio::awaitable<OutboxBatch> read_outbox(const std::string& consumer, std::size_t count,
                                                  std::int64_t claim_idle_ms);
  /// Acknowledges and deletes a committed batch's entries; instances that have ended with
  /// all their data in MySQL lose their keys. Returns how many were cleaned up.
  boost::asio::awaitable<std::int64_t> ack_outbox(const OutboxBatch& batch);
  /// Removes dump-group consumers with nothing pending: `self` (a dumper that is exiting;
  /// "" for none) and any other idle for idle_ms. Returns how many were removed.
  boost::asio::awaitable<std::int64_t> retire_dump_consumers(const std::string& self,
                                                             std::int64_t idle_ms);
  /// Entries in the outbox (not yet dumped, or in flight).
  boost::asio::awaitable<std::int64_t> outbox_length();
  /// The outbox backlog: length, oldest entry and the consumer group's counters (read-only).
  boost::asio::awaitable<DumpBacklog> dump_backlog();

 private:
  boost::asio::awaitable<RedisReply> call(const std::vector<std::string>& args);

  RedisConnection& redis_;
};

}  // namespace chat::store
