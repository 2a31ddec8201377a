// Test data in MySQL (shared/SCHEMA.md): users, meetings, audience rows and instances with
// unique names, written straight into the tables as operators and external tests do; and
// readers for what chatd dumps (event_log, message). Prepared statements only.
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "chat/protocol/time.hpp"
#include "service_env.hpp"

struct st_mysql;

namespace chat::test {

using protocol::UnixMs;

/// A user row created for a test, with its clear-text password.
struct TestUser {
  std::int64_t user_id = 0;
  std::string name;
  std::string email;  // lower case as stored
  std::string password;
  std::optional<int> age;
  std::optional<std::string> gender;
};

/// One event_log row (SCHEMA.md: event_type 1 join, 2 leave, 3 timeout).
struct EventLogRow {
  std::int64_t user_id = 0;
  int event_type = 0;
  UnixMs ts = 0;
};

/// One message row.
struct MessageRow {
  std::string message_id;
  std::int64_t user_id = 0;
  std::string text;
  UnixMs ts = 0;
};

/// A bound parameter of a prepared statement: NULL, an integer or a string.
using SqlParam = std::variant<std::nullptr_t, std::int64_t, std::string>;
/// One result row; each column as text (NULL = nullopt).
using SqlRow = std::vector<std::optional<std::string>>;

/// A MySQL connection with helpers to create uniquely named test data. Everything it created
/// (users, meetings with their audience and instances) is deleted by the destructor, so test
/// runs do not pile up active meetings. Throws std::runtime_error on any SQL error.
class MysqlFixture {
 public:
  /// Connects with the given coordinates (session time zone UTC, utf8mb4).
  explicit MysqlFixture(const ServiceEnv& env);
  ~MysqlFixture();
  MysqlFixture(const MysqlFixture&) = delete;
  MysqlFixture& operator=(const MysqlFixture&) = delete;

  /// The random prefix of every name this fixture creates.
  const std::string& tag() const noexcept { return tag_; }

  /// Creates a user "<tag>_<hint><n>" with email "<name>@example.test" and a password hashed
  /// with crypto_pwhash_str (OPSLIMIT/MEMLIMIT_INTERACTIVE). `password` empty: a default
  /// per-fixture password (hashed once, to keep tests fast).
  TestUser create_user(const std::string& hint = "user", std::optional<int> age = 33,
                       std::optional<std::string> gender = std::string("x"),
                       const std::string& password = "");

  /// Creates a meeting "<tag> <title>"; returns its meeting_id.
  std::int64_t create_meeting(const std::string& title, bool is_public,
                              std::optional<std::string> description = std::string("test meeting"));

  /// Adds an audience row (email as given, so tests can check case-insensitive matching).
  void add_audience(std::int64_t meeting_id, const std::string& email);

  /// Inserts a meeting_instance row [from, to) (ms since epoch, UTC).
  void add_instance(std::int64_t meeting_id, std::int64_t order_id, UnixMs from, UnixMs to);

  /// Moves an instance's to_datetime.
  void set_instance_to(std::int64_t meeting_id, std::int64_t order_id, UnixMs to);

  /// Deletes an instance row.
  void delete_instance(std::int64_t meeting_id, std::int64_t order_id);

  /// event_log rows of one instance, ordered by ts then event_id.
  std::vector<EventLogRow> event_log(std::int64_t meeting_id, std::int64_t order_id);

  /// message rows of one instance, ordered by message_id (the chat order).
  std::vector<MessageRow> messages(std::int64_t meeting_id, std::int64_t order_id);

  /// The title as stored for a meeting created here ("<tag> <title>").
  std::string full_title(const std::string& title) const { return tag_ + " " + title; }

  /// Runs a statement; returns the last insert id (or affected rows when there is none).
  std::uint64_t exec(const std::string& sql, const std::vector<SqlParam>& params = {});

  /// Runs a query; every column comes back as text.
  std::vector<SqlRow> query(const std::string& sql, const std::vector<SqlParam>& params = {});

 private:
  std::string hash_password(const std::string& password);

  st_mysql* db_ = nullptr;
  std::string tag_;
  int counter_ = 0;
  std::string default_password_;
  std::map<std::string, std::string> hash_cache_;
  std::vector<std::int64_t> users_;
  std::vector<std::int64_t> meetings_;
};

/// "YYYY-MM-DD HH:MM:SS.mmm", the DATETIME(3) literal for a time in ms (UTC).
std::string sql_datetime(UnixMs ms);

}  // namespace chat::test
