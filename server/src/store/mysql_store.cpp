#include "store/mysql_store.hpp"

#include <mysql.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <stdexcept>
#include <variant>

#include "chat/protocol/time.hpp"
#include "store/mysql_statement.hpp"
#include "store/store_error.hpp"

namespace chat::store {
namespace {

using Param = SqlParam;
using Row = SqlRow;

std::string ascii_lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  return s;
}

protocol::UserInfo user_from(const Row& r) {
  protocol::UserInfo u;
  u.user_id = to_int(r[0]);
  u.name = r[1].value_or("");
  u.email = r[2].value_or("");
  if (r[3]) u.age = static_cast<int>(std::stol(*r[3]));
  u.gender = r[4];
  return u;
}

// History queries, one per paging shape; the user filter is a NULL-able parameter so the
// same six texts serve `messages` and `user_messages`.
constexpr std::string_view kHistoryAfter =
    "SELECT message_id, user_id, name, text, ts FROM message WHERE meeting_id = ? AND order_id = ? "
    "AND (? IS NULL OR user_id = ?) AND message_id > ? ORDER BY message_id ASC LIMIT ?";
constexpr std::string_view kHistoryBefore =
    "SELECT message_id, user_id, name, text, ts FROM message WHERE meeting_id = ? AND order_id = ? "
    "AND (? IS NULL OR user_id = ?) AND message_id < ? ORDER BY message_id DESC LIMIT ?";
constexpr std::string_view kHistoryLatest =
    "SELECT message_id, user_id, name, text, ts FROM message WHERE meeting_id = ? AND order_id = ? "
    "AND (? IS NULL OR user_id = ?) ORDER BY message_id DESC LIMIT ?";
constexpr std::string_view kInstanceHasEvents =
    "SELECT 1 FROM event_log WHERE meeting_id = ? AND order_id = ? LIMIT 1";

}  // namespace

std::string to_mysql_datetime(protocol::UnixMs ms) {
  std::string s = protocol::format_timestamp(ms);  // 2026-11-23T07:33:08.123Z
  s[10] = ' ';
  s.pop_back();
  return s;
}

protocol::UnixMs from_mysql_datetime(const std::string& text) {
  std::string iso = text;
  if (iso.size() >= 19) iso[10] = 'T';
  iso += 'Z';
  const auto ms = protocol::parse_timestamp(iso);
  if (!ms) throw std::runtime_error("malformed DATETIME from MySQL: " + text);
  return *ms;
}

MysqlStore::MysqlStore(MysqlOptions options) : options_(std::move(options)) {}

MysqlStore::~MysqlStore() {
  disconnect();
}

void MysqlStore::disconnect() {
  if (db_ != nullptr) mysql_close(db_);
  db_ = nullptr;
}

MYSQL* MysqlStore::connection() {
  if (db_ == nullptr) db_ = open_mysql(options_);
  return db_;
}

template <class Fn>
auto MysqlStore::with_retry(Fn&& fn) {
  for (int attempt = 0;; ++attempt) {
    try {
      return fn(connection());
    } catch (const StoreUnavailable&) {
      disconnect();
      if (attempt >= 1) throw;
    } catch (...) {
      // Leave no half-open transaction behind on the connection.
      if (db_ != nullptr) mysql_rollback(db_);
      throw;
    }
  }
}

std::optional<LoginRecord> MysqlStore::find_login(const std::string& login) {
  return with_retry([&](MYSQL* db) -> std::optional<LoginRecord> {
    const auto rows =
        query(db,
              "SELECT user_id, name, email, age, gender, password_hash, disabled FROM user "
              "WHERE name = ? OR email = ? ORDER BY name = ? DESC LIMIT 1",
              {login, login, login});
    if (rows.empty()) return std::nullopt;
    return LoginRecord{user_from(rows[0]), rows[0][5].value_or(""), to_int(rows[0][6]) != 0};
  });
}

std::optional<protocol::UserInfo> MysqlStore::find_user(std::int64_t user_id) {
  return with_retry([&](MYSQL* db) -> std::optional<protocol::UserInfo> {
    const auto rows = query(
        db, "SELECT user_id, name, email, age, gender FROM user WHERE user_id = ?", {user_id});
    if (rows.empty()) return std::nullopt;
    return user_from(rows[0]);
  });
}

Catalog MysqlStore::load_catalog() {
  return with_retry([&](MYSQL* db) {
    Catalog catalog;
    if (mysql_query(db, "START TRANSACTION READ ONLY") != 0)
      throw_mysql_error(mysql_errno(db), mysql_error(db), "begin");
    for (const auto& r :
         query(db, "SELECT meeting_id, title, description, is_public FROM meeting", {})) {
      MeetingRecord m;
      m.meeting_id = to_int(r[0]);
      m.title = r[1].value_or("");
      m.description = r[2];
      m.is_public = to_int(r[3]) != 0;
      catalog.meetings.emplace(m.meeting_id, std::move(m));
    }
    for (const auto& r : query(db, "SELECT meeting_id, email FROM audience", {})) {
      if (auto it = catalog.meetings.find(to_int(r[0])); it != catalog.meetings.end() && r[1])
        it->second.audience.insert(ascii_lower(*r[1]));
    }
    for (const auto& r : query(db,
                               "SELECT meeting_id, order_id, from_datetime, to_datetime "
                               "FROM meeting_instance",
                               {})) {
      InstanceRecord inst{to_int(r[0]), to_int(r[1]), from_mysql_datetime(r[2].value_or("")),
                          from_mysql_datetime(r[3].value_or(""))};
      catalog.instances.emplace(InstanceKey{inst.meeting_id, inst.order_id}, inst);
    }
    if (mysql_commit(db) != 0) throw_mysql_error(mysql_errno(db), mysql_error(db), "commit");
    return catalog;
  });
}

void MysqlStore::write_dump(const std::vector<DumpedMessage>& messages,
                            const std::vector<DumpedEvent>& events) {
  if (messages.empty() && events.empty()) return;
  with_retry([&](MYSQL* db) {
    if (mysql_query(db, "START TRANSACTION") != 0)
      throw_mysql_error(mysql_errno(db), mysql_error(db), "begin");
    if (!messages.empty()) {
      Statement st(
          db,
          "INSERT INTO message (meeting_id, order_id, message_id, user_id, name, text, ts) "
          "VALUES (?, ?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE message_id = message_id");
      for (const auto& m : messages)
        st.execute({m.meeting_id, m.order_id, m.message.message_id, m.message.user_id,
                    m.message.name, m.message.text, to_mysql_datetime(m.message.ts)});
    }
    if (!events.empty()) {
      Statement st(
          db,
          "INSERT INTO event_log (user_id, meeting_id, order_id, event_type, ts, redis_id) "
          "VALUES (?, ?, ?, ?, ?, ?) ON DUPLICATE KEY UPDATE event_id = event_id");
      for (const auto& e : events)
        st.execute({e.user_id, e.meeting_id, e.order_id, std::int64_t{e.event_type},
                    to_mysql_datetime(e.ts), e.redis_id});
    }
    if (mysql_commit(db) != 0) throw_mysql_error(mysql_errno(db), mysql_error(db), "commit");
    return 0;
  });
}

std::vector<protocol::ChatMessage> MysqlStore::history(std::int64_t meeting_id,
                                                       std::int64_t order_id,
                                                       std::optional<std::int64_t> user_id,
                                                       const protocol::Page& page) {
  return with_retry([&](MYSQL* db) {
    const Param user = user_id ? Param{*user_id} : Param{nullptr};
    const std::int64_t limit = page.limit;
    std::vector<Row> rows;
    bool newest_first = true;
    if (page.after) {
      rows = query(db, kHistoryAfter, {meeting_id, order_id, user, user, *page.after, limit});
      newest_first = false;
    } else if (page.before) {
      rows = query(db, kHistoryBefore, {meeting_id, order_id, user, user, *page.before, limit});
    } else {
      rows = query(db, kHistoryLatest, {meeting_id, order_id, user, user, limit});
    }
    if (newest_first) std::reverse(rows.begin(), rows.end());
    std::vector<protocol::ChatMessage> out;
    out.reserve(rows.size());
    for (const auto& r : rows)
      out.push_back({r[0].value_or(""), to_int(r[1]), r[2].value_or(""), r[3].value_or(""),
                     from_mysql_datetime(r[4].value_or(""))});
    return out;
  });
}

bool MysqlStore::has_event_log(std::int64_t meeting_id, std::int64_t order_id) {
  return with_retry([&](MYSQL* db) {
    return !query(db, kInstanceHasEvents, {meeting_id, order_id}).empty();
  });
}

}  // namespace chat::store
