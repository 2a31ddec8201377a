// The ops and events of PROTOCOL.md for one node: request handling, live delivery,
// timeouts and the node registry.
#pragma once

#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/thread_pool.hpp>
#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <unordered_map>

#include "chat/protocol/codec.hpp"
#include "service/client.hpp"
#include "service/keyed_gate.hpp"
#include "service/login_throttle.hpp"
#include "service/scheduler.hpp"
#include "store/database.hpp"
#include "store/redis_store.hpp"
#include "util/log_throttle.hpp"

namespace chat::service {

/// Settings of the service (durations in ms).
struct ServiceOptions {
  std::string node_id;
  std::string advertise;  // "host:port"
  std::chrono::milliseconds schedule_poll{5000};
  std::chrono::milliseconds grace{10000};
  std::chrono::milliseconds heartbeat{1000};
  LoginThrottleOptions login_throttle;  // delays of failed logins (--login-failure-*)
};

/// Serves requests of connected clients and pushes events to them.
///
/// State of record lives in Redis (store::RedisStore) and MySQL (store::MysqlStore on the
/// database thread); this class keeps only what a node needs to deliver events: the
/// active instances and their participants (from the bus, re-read after every Redis
/// reconnect), and its own clients. All members are used on the io_context thread only.
class ChatService {
 public:
  ChatService(boost::asio::io_context& io, store::RedisStore& redis,
              store::RedisConnection& redis_commands, store::RedisConnection& redis_bus,
              store::Database& db, metrics::Metrics& metrics, ServiceOptions options);
  ChatService(const ChatService&) = delete;
  ChatService& operator=(const ChatService&) = delete;

  /// Starts the scheduler, the heartbeat and the bus subscription.
  void start();
  /// Stops timers, closes every client and removes this node from the registry.
  void stop();

  /// Registers a new connection from client IP `address` (the key of per-address login
  /// throttling); returns its id for handle() and close().
  std::uint64_t open(std::weak_ptr<Client> client, std::string address);
  /// Forgets a closed connection. Its user's seats are timed out after the grace period
  /// when no other connection of that user is left (PROTOCOL.md "Timeout").
  void close(std::uint64_t client_id);

  /// Serves one decoded request and returns the response frame ('\n' included). Errors
  /// become error frames: ProtocolError with its code, StoreUnavailable as `unavailable`,
  /// anything else as `internal` (details logged, not sent).
  boost::asio::awaitable<std::string> handle(std::uint64_t client_id, protocol::Request request);

  /// True when the connection has logged in (a successful `login`); false for unknown ids.
  bool logged_in(std::uint64_t client_id) const;

  /// Number of open connections (the `clients` of the nodes op).
  std::size_t client_count() const noexcept { return clients_.size(); }

 private:
  struct ClientEntry {
    std::weak_ptr<Client> client;
    std::optional<protocol::UserInfo> user;
    std::string address;  // client IP, for login throttling
  };
  /// Where a request points: the instance key and whether it is active now.
  struct Target {
    store::InstanceKey key;
    bool active = false;
  };
  struct Window {
    protocol::UnixMs from = 0;
    protocol::UnixMs to = 0;
  };

  boost::asio::awaitable<nlohmann::json> dispatch(std::uint64_t client_id,
                                                  const protocol::Request& request);
  boost::asio::awaitable<nlohmann::json> login(std::uint64_t client_id,
                                               const protocol::LoginRequest& r);
  // Waits `delay` before a failed login is answered (LoginThrottle), on a timer that
  // close(client_id) and stop() cancel; other clients are served meanwhile.
  boost::asio::awaitable<void> delay_failed_login(std::uint64_t client_id,
                                                  std::chrono::milliseconds delay,
                                                  const std::string& address);
  nlohmann::json active_meetings(const protocol::UserInfo& user,
                                 const store::Catalog& catalog) const;
  boost::asio::awaitable<nlohmann::json> join(const protocol::UserInfo& user, const Target& t);
  boost::asio::awaitable<nlohmann::json> leave(const protocol::UserInfo& user, const Target& t);
  boost::asio::awaitable<nlohmann::json> participants(const Target& t);
  boost::asio::awaitable<nlohmann::json> post(const protocol::UserInfo& user, const Target& t,
                                              const std::string& text);
  boost::asio::awaitable<nlohmann::json> history(const Target& t,
                                                 std::optional<std::int64_t> user_id,
                                                 const protocol::Page& page);
  boost::asio::awaitable<nlohmann::json> join_times(const protocol::UserInfo& user,
                                                    const store::Catalog& catalog);

  boost::asio::awaitable<std::shared_ptr<const store::Catalog>> catalog();
  Target resolve(const protocol::UserInfo& user, const store::Catalog& catalog,
                 const protocol::InstanceRef& ref) const;
  static bool may_attend(const store::MeetingRecord& meeting, const protocol::UserInfo& user);
  void require_redis() const;

  void on_bus_message(const store::RedisReply& push);
  void apply_event(const protocol::Event& event);
  void update_state(const protocol::Event& event);
  // Both return how many connections the frame was queued to.
  std::size_t deliver_to_participants(store::InstanceKey key,
                                      const std::shared_ptr<const std::string>& frame);
  std::size_t deliver_to_user(std::int64_t user_id,
                              const std::shared_ptr<const std::string>& frame);
  void deliver_to_audience(std::int64_t meeting_id,
                           const std::shared_ptr<const std::string>& frame);

  void cancel_grace(std::int64_t user_id);
  void mark_resumable(std::int64_t user_id, bool confirm);
  boost::asio::awaitable<bool> other_connection_gone(std::int64_t user_id);
  void on_user_offline(std::int64_t user_id);
  void start_grace(std::int64_t user_id);
  boost::asio::awaitable<void> time_out(std::int64_t user_id);

  boost::asio::awaitable<void> heartbeat_loop();
  boost::asio::awaitable<void> resync();
  boost::asio::awaitable<void> ensure_synced();
  boost::asio::awaitable<void> time_out_absent();

  boost::asio::io_context& io_;
  store::RedisStore& redis_;
  store::RedisConnection& redis_commands_;
  store::RedisConnection& redis_bus_;
  store::Database& db_;
  metrics::Metrics& metrics_;
  ServiceOptions options_;
  Scheduler scheduler_;
  boost::asio::thread_pool crypto_pool_{1};    // Argon2id verification, off the I/O thread
  KeyedGate verify_gate_{io_.get_executor()};  // one verification per client address at a time
  boost::asio::steady_timer heartbeat_timer_;

  std::uint64_t next_client_id_ = 1;
  std::unordered_map<std::uint64_t, ClientEntry> clients_;
  LoginThrottle login_throttle_;
  util::LogThrottle throttle_log_{std::chrono::seconds(10)};
  // The timers of failed logins being delayed, by client (one request at a time each).
  std::unordered_map<std::uint64_t, boost::asio::steady_timer*> login_delays_;
  std::unordered_map<std::int64_t, std::set<std::uint64_t>> clients_by_user_;
  std::map<store::InstanceKey, Window> active_;
  std::unordered_map<std::int64_t, std::int64_t> active_by_meeting_;  // meeting -> order
  std::map<store::InstanceKey, std::set<std::int64_t>> participants_;
  std::unordered_map<std::int64_t, std::unique_ptr<boost::asio::steady_timer>> grace_timers_;
  // Seats a user may take back with `join` -> resumed; true: first confirm that the user's
  // connection seen on another node at login is gone (that node died).
  std::unordered_map<std::int64_t, std::map<store::InstanceKey, bool>> resumable_;
  // Lease holder only: when each participant was first seen with no live connection.
  std::unordered_map<std::int64_t, std::chrono::steady_clock::time_point> absent_since_;
  bool resync_needed_ = true;
  bool syncing_ = false;
  bool sync_again_ = false;
  bool bus_subscribed_ = false;
  std::vector<protocol::Event> events_during_sync_;
  bool first_sync_done_ = false;
  bool stopped_ = false;
};

}  // namespace chat::service
