#include "mysql_fixture.hpp"

#include <mysql.h>
#include <sodium.h>

#include <algorithm>
#include <cstring>
#include <stdexcept>

namespace chat::test {
namespace {

// Owns a prepared statement.
struct StmtCloser {
  void operator()(MYSQL_STMT* s) const noexcept {
    if (s) mysql_stmt_close(s);
  }
};
using Stmt = std::unique_ptr<MYSQL_STMT, StmtCloser>;

[[noreturn]] void fail_stmt(MYSQL_STMT* s, const std::string& sql, const char* step) {
  throw std::runtime_error(std::string("MySQL ") + step + " failed: " + mysql_stmt_error(s) + " [" +
                           sql + "]");
}

// Prepares sql and binds params (the storage in params must outlive execution).
Stmt prepare(MYSQL* db, const std::string& sql, const std::vector<SqlParam>& params,
             std::vector<MYSQL_BIND>& binds, std::vector<unsigned long>& lengths) {
  Stmt stmt(mysql_stmt_init(db));
  if (!stmt) throw std::runtime_error(std::string("mysql_stmt_init: ") + mysql_error(db));
  if (mysql_stmt_prepare(stmt.get(), sql.data(), sql.size()) != 0)
    fail_stmt(stmt.get(), sql, "prepare");
  if (mysql_stmt_param_count(stmt.get()) != params.size())
    throw std::runtime_error("parameter count mismatch for [" + sql + "]");
  binds.assign(params.size(), MYSQL_BIND{});
  lengths.assign(params.size(), 0);
  for (std::size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& b = binds[i];
    if (std::holds_alternative<std::nullptr_t>(params[i])) {
      b.buffer_type = MYSQL_TYPE_NULL;
    } else if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = const_cast<std::int64_t*>(v);
    } else {
      const auto& s = std::get<std::string>(params[i]);
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(s.data());
      b.buffer_length = s.size();
      lengths[i] = s.size();
      b.length = &lengths[i];
    }
  }
  if (!params.empty() && mysql_stmt_bind_param(stmt.get(), binds.data()) != 0)
    fail_stmt(stmt.get(), sql, "bind_param");
  return stmt;
}

std::int64_t to_int(const std::optional<std::string>& s) {
  if (!s) throw std::runtime_error("unexpected NULL column");
  return std::stoll(*s);
}

UnixMs to_ms(const std::optional<std::string>& s) {
  if (!s) throw std::runtime_error("unexpected NULL timestamp");
  const auto t = protocol::parse_timestamp(*s);
  if (!t) throw std::runtime_error("unparsable timestamp from MySQL: " + *s);
  return *t;
}

// DATE_FORMAT to the RFC 3339 form parse_timestamp reads (microseconds are truncated to ms).
constexpr const char* kTsColumn = "DATE_FORMAT(ts, '%Y-%m-%dT%H:%i:%s.%fZ')";

}  // namespace

std::string sql_datetime(UnixMs ms) {
  std::string s = protocol::format_timestamp(ms);  // 2026-11-23T07:33:08.123Z
  s[10] = ' ';
  s.pop_back();
  return s;
}

MysqlFixture::MysqlFixture(const ServiceEnv& env) : tag_("t" + random_tag()) {
  if (sodium_init() < 0) throw std::runtime_error("sodium_init failed");
  db_ = mysql_init(nullptr);
  if (!db_) throw std::runtime_error("mysql_init failed");
  const unsigned timeout = 5;
  mysql_options(db_, MYSQL_OPT_CONNECT_TIMEOUT, &timeout);
  mysql_options(db_, MYSQL_OPT_READ_TIMEOUT, &timeout);
  mysql_options(db_, MYSQL_OPT_WRITE_TIMEOUT, &timeout);
  mysql_options(db_, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (!mysql_real_connect(db_, env.mysql_host.c_str(), env.mysql_user.c_str(),
                          env.mysql_password.c_str(), env.mysql_database.c_str(), env.mysql_port,
                          nullptr, 0)) {
    const std::string err = mysql_error(db_);
    mysql_close(db_);
    db_ = nullptr;
    throw std::runtime_error("cannot connect to MySQL at " + env.mysql_host + ":" +
                             std::to_string(env.mysql_port) + " as " + env.mysql_user + ": " + err);
  }
  mysql_autocommit(db_, 1);
  exec("SET time_zone = '+00:00'");
  default_password_ = "pw-" + tag_;
}

MysqlFixture::~MysqlFixture() {
  if (!db_) return;
  // Best effort: a failed cleanup must not hide the test's own result.
  try {
    for (const auto id : meetings_) {
      exec("DELETE FROM meeting_instance WHERE meeting_id = ?", {id});
      exec("DELETE FROM audience WHERE meeting_id = ?", {id});
      exec("DELETE FROM meeting WHERE meeting_id = ?", {id});
    }
    for (const auto id : users_) exec("DELETE FROM `user` WHERE user_id = ?", {id});
  } catch (const std::exception&) {
  }
  mysql_close(db_);
}

std::string MysqlFixture::hash_password(const std::string& password) {
  if (const auto it = hash_cache_.find(password); it != hash_cache_.end()) return it->second;
  char out[crypto_pwhash_STRBYTES];
  if (crypto_pwhash_str(out, password.data(), password.size(), crypto_pwhash_OPSLIMIT_INTERACTIVE,
                        crypto_pwhash_MEMLIMIT_INTERACTIVE) != 0)
    throw std::runtime_error("crypto_pwhash_str failed (out of memory?)");
  return hash_cache_[password] = out;
}

TestUser MysqlFixture::create_user(const std::string& hint, std::optional<int> age,
                                   std::optional<std::string> gender, const std::string& password) {
  TestUser u;
  u.name = tag_ + "_" + hint + std::to_string(++counter_);
  std::transform(u.name.begin(), u.name.end(), u.name.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  u.email = u.name + "@example.test";
  u.password = password.empty() ? default_password_ : password;
  u.age = age;
  u.gender = gender;
  u.user_id = static_cast<std::int64_t>(
      exec("INSERT INTO `user` (name, age, gender, email, password_hash) VALUES (?, ?, ?, ?, ?)",
           {u.name, age ? SqlParam(std::int64_t{*age}) : SqlParam(nullptr),
            gender ? SqlParam(*gender) : SqlParam(nullptr), u.email, hash_password(u.password)}));
  users_.push_back(u.user_id);
  return u;
}

std::int64_t MysqlFixture::create_meeting(const std::string& title, bool is_public,
                                          std::optional<std::string> description) {
  const auto id = static_cast<std::int64_t>(
      exec("INSERT INTO meeting (title, description, is_public) VALUES (?, ?, ?)",
           {full_title(title), description ? SqlParam(*description) : SqlParam(nullptr),
            std::int64_t{is_public ? 1 : 0}}));
  meetings_.push_back(id);
  return id;
}

void MysqlFixture::add_audience(std::int64_t meeting_id, const std::string& email) {
  exec("INSERT INTO audience (meeting_id, email) VALUES (?, ?)", {meeting_id, email});
}

void MysqlFixture::add_instance(std::int64_t meeting_id, std::int64_t order_id, UnixMs from,
                                UnixMs to) {
  exec(
      "INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime) VALUES (?, "
      "?, ?, ?)",
      {meeting_id, order_id, sql_datetime(from), sql_datetime(to)});
}

void MysqlFixture::set_instance_to(std::int64_t meeting_id, std::int64_t order_id, UnixMs to) {
  exec("UPDATE meeting_instance SET to_datetime = ? WHERE meeting_id = ? AND order_id = ?",
       {sql_datetime(to), meeting_id, order_id});
}

void MysqlFixture::delete_instance(std::int64_t meeting_id, std::int64_t order_id) {
  exec("DELETE FROM meeting_instance WHERE meeting_id = ? AND order_id = ?",
       {meeting_id, order_id});
}

std::vector<EventLogRow> MysqlFixture::event_log(std::int64_t meeting_id, std::int64_t order_id) {
  std::vector<EventLogRow> rows;
  for (const auto& r : query(std::string("SELECT user_id, event_type, ") + kTsColumn +
                                 " FROM event_log WHERE meeting_id = ? AND order_id = ? "
                                 "ORDER BY ts, event_id",
                             {meeting_id, order_id}))
    rows.push_back({to_int(r[0]), static_cast<int>(to_int(r[1])), to_ms(r[2])});
  return rows;
}

std::vector<MessageRow> MysqlFixture::messages(std::int64_t meeting_id, std::int64_t order_id) {
  std::vector<MessageRow> rows;
  for (const auto& r : query(std::string("SELECT message_id, user_id, text, ") + kTsColumn +
                                 " FROM message WHERE meeting_id = ? AND order_id = ? "
                                 "ORDER BY message_id",
                             {meeting_id, order_id}))
    rows.push_back({r[0].value_or(""), to_int(r[1]), r[2].value_or(""), to_ms(r[3])});
  return rows;
}

std::uint64_t MysqlFixture::exec(const std::string& sql, const std::vector<SqlParam>& params) {
  std::vector<MYSQL_BIND> binds;
  std::vector<unsigned long> lengths;
  Stmt stmt = prepare(db_, sql, params, binds, lengths);
  if (mysql_stmt_execute(stmt.get()) != 0) fail_stmt(stmt.get(), sql, "execute");
  const auto id = mysql_stmt_insert_id(stmt.get());
  return id != 0 ? id : mysql_stmt_affected_rows(stmt.get());
}

std::vector<SqlRow> MysqlFixture::query(const std::string& sql,
                                        const std::vector<SqlParam>& params) {
  std::vector<MYSQL_BIND> binds;
  std::vector<unsigned long> lengths;
  Stmt stmt = prepare(db_, sql, params, binds, lengths);
  if (mysql_stmt_execute(stmt.get()) != 0) fail_stmt(stmt.get(), sql, "execute");
  const unsigned columns = mysql_stmt_field_count(stmt.get());
  std::vector<SqlRow> rows;
  if (columns == 0) return rows;

  // Every column is fetched as a string; a too-small buffer is grown and re-read.
  std::vector<MYSQL_BIND> out(columns, MYSQL_BIND{});
  std::vector<std::string> buffers(columns, std::string(256, '\0'));
  std::vector<unsigned long> out_len(columns, 0);
  std::vector<my_bool> is_null(columns, 0);
  std::vector<my_bool> error(columns, 0);
  for (unsigned c = 0; c < columns; ++c) {
    out[c].buffer_type = MYSQL_TYPE_STRING;
    out[c].buffer = buffers[c].data();
    out[c].buffer_length = buffers[c].size();
    out[c].length = &out_len[c];
    out[c].is_null = &is_null[c];
    out[c].error = &error[c];
  }
  if (mysql_stmt_bind_result(stmt.get(), out.data()) != 0)
    fail_stmt(stmt.get(), sql, "bind_result");
  if (mysql_stmt_store_result(stmt.get()) != 0) fail_stmt(stmt.get(), sql, "store_result");
  for (;;) {
    const int rc = mysql_stmt_fetch(stmt.get());
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) fail_stmt(stmt.get(), sql, "fetch");
    SqlRow row(columns);
    for (unsigned c = 0; c < columns; ++c) {
      if (is_null[c]) continue;
      if (out_len[c] > buffers[c].size()) {
        std::string big(out_len[c], '\0');
        MYSQL_BIND b{};
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = big.data();
        b.buffer_length = big.size();
        unsigned long len = 0;
        b.length = &len;
        if (mysql_stmt_fetch_column(stmt.get(), &b, c, 0) != 0)
          fail_stmt(stmt.get(), sql, "fetch_column");
        row[c] = big.substr(0, len);
      } else {
        row[c] = buffers[c].substr(0, out_len[c]);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

}  // namespace chat::test
