// The MySQL side of chatd: users, meetings, audience and schedule (read), dumped messages
// and event logs (write), and history of ended instances (read). Tables: shared/SCHEMA.md.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <utility>
#include <vector>

#include "chat/protocol/messages.hpp"

struct st_mysql;

namespace chat::store {

/// Connection settings.
struct MysqlOptions {
  std::string host = "127.0.0.1";
  int port = 3306;
  std::string user = "chat";
  std::string password;
  std::string database = "chat";
  unsigned connect_timeout_s = 2;
  unsigned io_timeout_s = 5;  // read and write timeout: a stopped server never hangs a call
};

/// A user row with its password hash, for login.
struct LoginRecord {
  protocol::UserInfo user;
  std::string password_hash;  // Argon2id PHC string
  bool disabled = false;      // user.disabled: login is refused like a wrong password
};

/// A meeting row with its audience (emails lower-cased, ASCII).
struct MeetingRecord {
  std::int64_t meeting_id = 0;
  std::string title;
  std::optional<std::string> description;
  bool is_public = false;
  std::unordered_set<std::string> audience;
};

/// A meeting_instance row; times in ms since the epoch, UTC.
struct InstanceRecord {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  protocol::UnixMs from = 0;
  protocol::UnixMs to = 0;
};

/// Meeting instance key (meeting_id, order_id).
using InstanceKey = std::pair<std::int64_t, std::int64_t>;

/// Snapshot of meetings, audiences and the schedule, read in one transaction.
struct Catalog {
  std::unordered_map<std::int64_t, MeetingRecord> meetings;
  std::map<InstanceKey, InstanceRecord> instances;
};

/// A chat message on its way from Redis to the message table.
struct DumpedMessage {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  protocol::ChatMessage message;
};

/// An event-log entry on its way from Redis to event_log (type 1 join, 2 leave, 3 timeout).
struct DumpedEvent {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::int64_t user_id = 0;
  int event_type = 0;
  protocol::UnixMs ts = 0;
  std::string redis_id;  // the entry id in the instance's Redis event stream
};

/// Blocking MySQL access over one connection (MariaDB Connector/C, prepared statements
/// only). Not thread-safe: use it from one thread (chatd's database thread). Every method
/// connects on demand and throws StoreUnavailable when the server cannot be reached; a
/// connection lost mid-call is retried once on a new connection.
class MysqlStore {
 public:
  explicit MysqlStore(MysqlOptions options);
  ~MysqlStore();
  MysqlStore(const MysqlStore&) = delete;
  MysqlStore& operator=(const MysqlStore&) = delete;

  /// The user whose name or email equals login (case-insensitive), name matches first.
  std::optional<LoginRecord> find_login(const std::string& login);

  /// The user with that id, or nullopt.
  std::optional<protocol::UserInfo> find_user(std::int64_t user_id);

  /// Reads meeting, audience and meeting_instance.
  Catalog load_catalog();

  /// Writes a batch in one transaction. Rows already present (same message key or same
  /// event redis_id) are left alone, so a repeated batch changes nothing.
  void write_dump(const std::vector<DumpedMessage>& messages,
                  const std::vector<DumpedEvent>& events);

  /// Dumped messages of an instance, paged as the `messages` op pages (oldest first);
  /// user_id restricts to one user's messages (`user_messages`).
  std::vector<protocol::ChatMessage> history(std::int64_t meeting_id, std::int64_t order_id,
                                             std::optional<std::int64_t> user_id,
                                             const protocol::Page& page);

  /// True when the event log holds a row of that instance: proof that it was active once,
  /// kept after its Redis state marker has expired (the `messages` op of an ended instance).
  bool has_event_log(std::int64_t meeting_id, std::int64_t order_id);

 private:
  template <class Fn>
  auto with_retry(Fn&& fn);
  st_mysql* connection();
  void disconnect();

  MysqlOptions options_;
  st_mysql* db_ = nullptr;
};

/// "YYYY-MM-DD HH:MM:SS.mmm" (MySQL DATETIME(3) literal) for ms since the epoch.
std::string to_mysql_datetime(protocol::UnixMs ms);
/// Inverse of to_mysql_datetime(); throws std::runtime_error on a malformed value.
protocol::UnixMs from_mysql_datetime(const std::string& text);

}  // namespace chat::store
