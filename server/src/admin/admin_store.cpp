#include "admin/admin_store.hpp"

#include <mysql.h>
#include <sodium.h>

#include <algorithm>
#include <cctype>

#include "store/mysql_statement.hpp"

namespace chat::admin {
namespace {

using store::MysqlError;
using store::query;
using store::SqlRow;
using store::Statement;
using store::to_int;

constexpr std::string_view kUserColumns = "user_id, name, email, age, gender, disabled";

UserRow user_of(const SqlRow& r) {
  UserRow u;
  u.user_id = to_int(r[0]);
  u.name = r[1].value_or("");
  u.email = r[2].value_or("");
  if (r[3]) u.age = static_cast<int>(to_int(r[3]));
  u.gender = r[4];
  u.disabled = to_int(r[5]) != 0;
  return u;
}

MeetingRow meeting_of(const SqlRow& r) {
  return {to_int(r[0]), r[1].value_or(""), r[2], to_int(r[3]) != 0, to_int(r[4]), to_int(r[5])};
}

InstanceRow instance_of(const SqlRow& r) {
  return {to_int(r[0]), to_int(r[1]), store::from_mysql_datetime(r[2].value_or("")),
          store::from_mysql_datetime(r[3].value_or(""))};
}

constexpr std::string_view kMeetingSelect =
    "SELECT m.meeting_id, m.title, m.description, m.is_public, "
    "(SELECT COUNT(*) FROM audience a WHERE a.meeting_id = m.meeting_id), "
    "(SELECT COUNT(*) FROM meeting_instance i WHERE i.meeting_id = m.meeting_id) "
    "FROM meeting m";

// A transaction rolled back unless commit() was called (RAII: every throw rolls back).
class Transaction {
 public:
  explicit Transaction(MYSQL* db) : db_(db) { store::run_sql(db_, "START TRANSACTION"); }
  ~Transaction() {
    if (!committed_) mysql_rollback(db_);
  }
  Transaction(const Transaction&) = delete;
  Transaction& operator=(const Transaction&) = delete;
  void commit() {
    store::run_sql(db_, "COMMIT");
    committed_ = true;
  }

 private:
  MYSQL* db_;
  bool committed_ = false;
};

bool all_digits(const std::string& s) {
  return !s.empty() &&
         std::all_of(s.begin(), s.end(), [](unsigned char c) { return std::isdigit(c) != 0; });
}

}  // namespace

void AdminStore::Closer::operator()(MYSQL* db) const noexcept {
  mysql_close(db);
}

AdminStore::AdminStore(const store::MysqlOptions& options) : db_(store::open_mysql(options)) {}

AdminStore::~AdminStore() = default;

UserRow AdminStore::add_user(const std::string& name, const std::string& email,
                             std::optional<int> age, const std::optional<std::string>& gender,
                             const std::string& password_hash) {
  Statement st(db_.get(),
               "INSERT INTO user (name, email, age, gender, password_hash) VALUES (?, ?, ?, ?, ?)");
  try {
    st.execute({name, email, age ? store::SqlParam{std::int64_t{*age}} : store::SqlParam{nullptr},
                gender ? store::SqlParam{*gender} : store::SqlParam{nullptr}, password_hash});
  } catch (const MysqlError& e) {
    if (e.code() != store::kMysqlDuplicateKey) throw;
    const std::string what = e.what();
    if (what.find("uq_user_email") != std::string::npos)
      throw AdminError("a user with email " + email + " exists already");
    throw AdminError("a user named " + name + " exists already");
  }
  return {static_cast<std::int64_t>(st.insert_id()), name, email, age, gender, false};
}

std::vector<UserRow> AdminStore::list_users() {
  std::vector<UserRow> out;
  for (const auto& r :
       query(db_.get(), "SELECT " + std::string(kUserColumns) + " FROM user ORDER BY user_id", {}))
    out.push_back(user_of(r));
  return out;
}

UserRow AdminStore::find_user(const std::string& login) {
  const std::string sql = "SELECT " + std::string(kUserColumns) +
                          " FROM user WHERE name = ? OR email = ? OR user_id = ? "
                          "ORDER BY name = ? DESC, email = ? DESC LIMIT 1";
  const store::SqlParam id = all_digits(login) && login.size() < 10
                                 ? store::SqlParam{std::int64_t{std::stoll(login)}}
                                 : store::SqlParam{nullptr};
  const auto rows = query(db_.get(), sql, {login, login, id, login, login});
  if (rows.empty()) throw AdminError("no user with name, email or id " + login);
  return user_of(rows[0]);
}

UserRow AdminStore::set_disabled(const std::string& login, bool disabled) {
  const UserRow u = find_user(login);
  Statement st(db_.get(), "UPDATE user SET disabled = ? WHERE user_id = ?");
  st.execute({std::int64_t{disabled ? 1 : 0}, u.user_id});
  UserRow now = u;
  now.disabled = disabled;
  return now;
}

UserRow AdminStore::set_password(const std::string& login, const std::string& password_hash) {
  const UserRow u = find_user(login);
  Statement st(db_.get(), "UPDATE user SET password_hash = ? WHERE user_id = ?");
  st.execute({password_hash, u.user_id});
  return u;
}

MeetingRow AdminStore::add_meeting(const std::string& title,
                                   const std::optional<std::string>& description, bool is_public) {
  Statement st(db_.get(), "INSERT INTO meeting (title, description, is_public) VALUES (?, ?, ?)");
  st.execute({title, description ? store::SqlParam{*description} : store::SqlParam{nullptr},
              std::int64_t{is_public ? 1 : 0}});
  return get_meeting(static_cast<std::int64_t>(st.insert_id()));
}

std::vector<MeetingRow> AdminStore::list_meetings() {
  std::vector<MeetingRow> out;
  for (const auto& r : query(db_.get(), std::string(kMeetingSelect) + " ORDER BY m.meeting_id", {}))
    out.push_back(meeting_of(r));
  return out;
}

MeetingRow AdminStore::get_meeting(std::int64_t meeting_id) {
  const auto rows =
      query(db_.get(), std::string(kMeetingSelect) + " WHERE m.meeting_id = ?", {meeting_id});
  if (rows.empty()) throw AdminError("no meeting with id " + std::to_string(meeting_id));
  return meeting_of(rows[0]);
}

std::vector<std::string> AdminStore::add_audience(std::int64_t meeting_id,
                                                  const std::vector<std::string>& emails) {
  Transaction tx(db_.get());
  // Locks the meeting row: it cannot be deleted under us, and an unknown id is an error.
  if (query(db_.get(), "SELECT meeting_id FROM meeting WHERE meeting_id = ? FOR UPDATE",
            {meeting_id})
          .empty())
    throw AdminError("no meeting with id " + std::to_string(meeting_id));
  Statement st(db_.get(), "INSERT IGNORE INTO audience (meeting_id, email) VALUES (?, ?)");
  std::vector<std::string> added;
  for (const auto& email : emails) {
    st.execute({meeting_id, email});
    if (st.affected_rows() > 0) added.push_back(email);
  }
  tx.commit();
  return added;
}

std::vector<std::string> AdminStore::remove_audience(std::int64_t meeting_id,
                                                     const std::vector<std::string>& emails) {
  get_meeting(meeting_id);
  Statement st(db_.get(), "DELETE FROM audience WHERE meeting_id = ? AND email = ?");
  std::vector<std::string> removed;
  for (const auto& email : emails) {
    st.execute({meeting_id, email});
    if (st.affected_rows() > 0) removed.push_back(email);
  }
  return removed;
}

std::vector<std::string> AdminStore::list_audience(std::int64_t meeting_id) {
  get_meeting(meeting_id);
  std::vector<std::string> out;
  for (const auto& r :
       query(db_.get(), "SELECT email FROM audience WHERE meeting_id = ? ORDER BY email",
             {meeting_id}))
    out.push_back(r[0].value_or(""));
  return out;
}

InstanceRow AdminStore::add_instance(std::int64_t meeting_id, UnixMs from, UnixMs to) {
  if (from >= to) throw AdminError("the instance must start before it ends (--from < --to)");
  Transaction tx(db_.get());
  // The meeting row lock serialises adds to one meeting: order ids and the overlap check
  // cannot race with another chatctl.
  if (query(db_.get(), "SELECT meeting_id FROM meeting WHERE meeting_id = ? FOR UPDATE",
            {meeting_id})
          .empty())
    throw AdminError("no meeting with id " + std::to_string(meeting_id));
  const std::string f = store::to_mysql_datetime(from);
  const std::string t = store::to_mysql_datetime(to);
  const auto overlaps = query(db_.get(),
                              "SELECT meeting_id, order_id, from_datetime, to_datetime "
                              "FROM meeting_instance WHERE meeting_id = ? "
                              "AND from_datetime < ? AND ? < to_datetime ORDER BY order_id LIMIT 1",
                              {meeting_id, t, f});
  if (!overlaps.empty()) {
    const InstanceRow o = instance_of(overlaps[0]);
    throw AdminError("overlaps instance " + std::to_string(o.order_id) + " of meeting " +
                     std::to_string(meeting_id) + " (" + protocol::format_timestamp(o.from) +
                     " .. " + protocol::format_timestamp(o.to) + ")");
  }
  const auto next = query(
      db_.get(), "SELECT COALESCE(MAX(order_id), 0) + 1 FROM meeting_instance WHERE meeting_id = ?",
      {meeting_id});
  const std::int64_t order_id = to_int(next.at(0).at(0));
  Statement st(db_.get(),
               "INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime) "
               "VALUES (?, ?, ?, ?)");
  st.execute({meeting_id, order_id, f, t});
  tx.commit();
  return {meeting_id, order_id, store::from_mysql_datetime(f), store::from_mysql_datetime(t)};
}

std::vector<InstanceRow> AdminStore::list_instances(std::optional<std::int64_t> meeting_id) {
  std::vector<InstanceRow> out;
  const store::SqlParam m = meeting_id ? store::SqlParam{*meeting_id} : store::SqlParam{nullptr};
  for (const auto& r : query(db_.get(),
                             "SELECT meeting_id, order_id, from_datetime, to_datetime "
                             "FROM meeting_instance WHERE (? IS NULL OR meeting_id = ?) "
                             "ORDER BY meeting_id, order_id",
                             {m, m}))
    out.push_back(instance_of(r));
  return out;
}

CancelResult AdminStore::cancel_instance(std::int64_t meeting_id, std::int64_t order_id,
                                         UnixMs now) {
  Transaction tx(db_.get());
  const auto rows = query(db_.get(),
                          "SELECT meeting_id, order_id, from_datetime, to_datetime "
                          "FROM meeting_instance WHERE meeting_id = ? AND order_id = ? FOR UPDATE",
                          {meeting_id, order_id});
  if (rows.empty())
    throw AdminError("no instance " + std::to_string(order_id) + " of meeting " +
                     std::to_string(meeting_id));
  CancelResult result;
  result.instance = instance_of(rows[0]);
  if (result.instance.to <= now)
    throw AdminError("instance " + std::to_string(order_id) + " of meeting " +
                     std::to_string(meeting_id) + " has already ended (" +
                     protocol::format_timestamp(result.instance.to) + ")");
  if (result.instance.from > now) {
    // Not started: no node has activated it, so the row can simply go.
    Statement st(db_.get(), "DELETE FROM meeting_instance WHERE meeting_id = ? AND order_id = ?");
    st.execute({meeting_id, order_id});
    result.action = CancelResult::Action::deleted;
  } else {
    // Running: keep the row (its history is read by order_id) and end it now; the CHECK
    // from < to holds because from <= now < to... unless from == now, hence the max.
    const UnixMs end = std::max(now, result.instance.from + 1);
    Statement st(
        db_.get(),
        "UPDATE meeting_instance SET to_datetime = ? WHERE meeting_id = ? AND order_id = ?");
    st.execute({store::to_mysql_datetime(end), meeting_id, order_id});
    result.instance.to = end;
    result.action = CancelResult::Action::ended;
  }
  tx.commit();
  return result;
}

std::vector<std::pair<std::int64_t, std::string>> AdminStore::meeting_titles() {
  std::vector<std::pair<std::int64_t, std::string>> out;
  for (const auto& r : query(db_.get(), "SELECT meeting_id, title FROM meeting", {}))
    out.emplace_back(to_int(r[0]), r[1].value_or(""));
  return out;
}

std::string hash_password(const std::string& password) {
  if (sodium_init() < 0) throw std::runtime_error("libsodium failed to initialise");
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("crypto_pwhash_str failed (out of memory?)");
  return out;
}

}  // namespace chat::admin
