// chatctl's MySQL side: users, meetings, audiences and the schedule (shared/SCHEMA.md),
// written the way operators are allowed to write them while nodes run. Prepared
// statements only (store/mysql_statement.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <vector>

#include "chat/protocol/time.hpp"
#include "store/mysql_store.hpp"

struct st_mysql;

namespace chat::admin {

using protocol::UnixMs;

/// An operation was refused for a reason the operator can fix (duplicate email, unknown
/// meeting, overlapping instance...). The message says what; chatctl exits with status 1.
class AdminError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

/// A `user` row without its password hash.
struct UserRow {
  std::int64_t user_id = 0;
  std::string name;
  std::string email;
  std::optional<int> age;
  std::optional<std::string> gender;
  bool disabled = false;
};

/// A `meeting` row with the size of its audience and its number of instances.
struct MeetingRow {
  std::int64_t meeting_id = 0;
  std::string title;
  std::optional<std::string> description;
  bool is_public = false;
  std::int64_t audience = 0;   // audience rows
  std::int64_t instances = 0;  // meeting_instance rows
};

/// A `meeting_instance` row; times in ms since the epoch, UTC.
struct InstanceRow {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  UnixMs from = 0;
  UnixMs to = 0;
};

/// What `instance cancel` did: deleted a row that had not started, or moved the `to` of a
/// running one to now (the nodes then end it, SCHEMA.md "Moving to_datetime...").
struct CancelResult {
  enum class Action { deleted, ended };
  Action action = Action::deleted;
  InstanceRow instance;  // as it is now (for deleted: as it was)
};

/// One MySQL connection for the duration of a chatctl command. Every method throws
/// store::StoreUnavailable when MySQL cannot be reached, AdminError for a refused operation
/// and store::MysqlError for any other SQL failure.
class AdminStore {
 public:
  /// Connects now (session in UTC, as chatd's).
  explicit AdminStore(const store::MysqlOptions& options);
  ~AdminStore();
  AdminStore(const AdminStore&) = delete;
  AdminStore& operator=(const AdminStore&) = delete;

  /// Inserts a user; password_hash is an Argon2id PHC string (hash_password()). AdminError
  /// when the name or the email (case-insensitively) is taken.
  UserRow add_user(const std::string& name, const std::string& email, std::optional<int> age,
                   const std::optional<std::string>& gender, const std::string& password_hash);
  /// Every user, by user_id.
  std::vector<UserRow> list_users();
  /// The user whose name or email equals `login` (case-insensitive, name first, as login
  /// does), or whose user_id it is when it is all digits. AdminError when there is none.
  UserRow find_user(const std::string& login);
  /// Sets user.disabled. Returns the user as it is now.
  UserRow set_disabled(const std::string& login, bool disabled);
  /// Replaces the password hash.
  UserRow set_password(const std::string& login, const std::string& password_hash);

  /// Inserts a meeting; returns it (meeting_id assigned by MySQL).
  MeetingRow add_meeting(const std::string& title, const std::optional<std::string>& description,
                         bool is_public);
  /// Every meeting, by meeting_id.
  std::vector<MeetingRow> list_meetings();
  /// The meeting; AdminError "no meeting with id N" when it does not exist.
  MeetingRow get_meeting(std::int64_t meeting_id);

  /// Adds audience rows; returns the emails that were new (others were there already).
  std::vector<std::string> add_audience(std::int64_t meeting_id,
                                        const std::vector<std::string>& emails);
  /// Removes audience rows; returns the emails that were removed.
  std::vector<std::string> remove_audience(std::int64_t meeting_id,
                                           const std::vector<std::string>& emails);
  /// The audience of a meeting, sorted.
  std::vector<std::string> list_audience(std::int64_t meeting_id);

  /// Adds an instance [from, to) with order_id = the meeting's highest + 1, in one
  /// transaction that locks the meeting row, so concurrent adds neither collide nor overlap.
  /// AdminError for an unknown meeting, from >= to, or an overlap with another instance
  /// (SCHEMA.md: instances of one meeting do not overlap).
  InstanceRow add_instance(std::int64_t meeting_id, UnixMs from, UnixMs to);
  /// The instances of one meeting (all when meeting_id is nullopt), by meeting and order.
  std::vector<InstanceRow> list_instances(std::optional<std::int64_t> meeting_id);
  /// Cancels an instance at time `now`: one that has not started is deleted; a running one
  /// gets to_datetime = now, which nodes pick up within their poll and end it. AdminError
  /// when there is no such instance or it has already ended.
  CancelResult cancel_instance(std::int64_t meeting_id, std::int64_t order_id, UnixMs now);

  /// Titles of the given meetings (for `status`), meeting_id -> title.
  std::vector<std::pair<std::int64_t, std::string>> meeting_titles();

 private:
  struct Closer {
    void operator()(st_mysql* db) const noexcept;
  };
  std::unique_ptr<st_mysql, Closer> db_;
};

/// Hashes a password for the user table: libsodium crypto_pwhash_str (Argon2id, PHC string)
/// with OPSLIMIT_INTERACTIVE / MEMLIMIT_INTERACTIVE (t=2, 64 MiB), the cost of the sample
/// data and of chatd's dummy hash, so a login costs the same for every user. chatd's login
/// (crypto_pwhash_str_verify) reads the parameters from the string. Throws
/// std::runtime_error when libsodium fails (out of memory).
std::string hash_password(const std::string& password);

}  // namespace chat::admin
