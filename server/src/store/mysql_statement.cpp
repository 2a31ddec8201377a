#include "store/mysql_statement.hpp"

#include <errmsg.h>
#include <mysql.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "store/store_error.hpp"

namespace chat::store {
namespace {

// Connector/C error codes that mean the server is unreachable or the connection broke.
bool is_connection_error(unsigned code) {
  return code == CR_CONNECTION_ERROR || code == CR_CONN_HOST_ERROR ||
         code == CR_SERVER_GONE_ERROR || code == CR_SERVER_LOST ||
         code == CR_SERVER_LOST_EXTENDED || code == CR_UNKNOWN_HOST ||
         code == 1927 /* ER_CONNECTION_KILLED */ || code == 1053 /* ER_SERVER_SHUTDOWN */;
}

}  // namespace

void throw_mysql_error(unsigned code, const char* message, const char* what) {
  if (is_connection_error(code)) throw StoreUnavailable(std::string("MySQL: ") + message);
  throw MysqlError(code, std::string("MySQL ") + what + ": " + message);
}

MYSQL* open_mysql(const MysqlOptions& options) {
  MYSQL* db = mysql_init(nullptr);
  if (db == nullptr) throw std::runtime_error("mysql_init failed");
  mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &options.connect_timeout_s);
  mysql_options(db, MYSQL_OPT_READ_TIMEOUT, &options.io_timeout_s);
  mysql_options(db, MYSQL_OPT_WRITE_TIMEOUT, &options.io_timeout_s);
  mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
  if (mysql_real_connect(db, options.host.c_str(), options.user.c_str(), options.password.c_str(),
                         options.database.c_str(), static_cast<unsigned>(options.port), nullptr,
                         0) == nullptr) {
    const std::string message = mysql_error(db);
    const unsigned code = mysql_errno(db);
    mysql_close(db);
    // Any failure to connect (refused, access denied, unknown database) leaves the caller
    // without its system of record: report the store as unavailable.
    spdlog::warn("mysql: connect to {}:{} failed ({}): {}", options.host, options.port, code,
                 message);
    throw StoreUnavailable("MySQL: " + message);
  }
  // Read committed: each catalog refresh sees the latest committed schedule. UTC: DATETIME
  // values are UTC by contract (SCHEMA.md), so no session time zone may shift them.
  for (const char* sql :
       {"SET SESSION TRANSACTION ISOLATION LEVEL READ COMMITTED", "SET time_zone = '+00:00'"}) {
    if (mysql_query(db, sql) != 0) {
      const std::string message = mysql_error(db);
      mysql_close(db);
      throw std::runtime_error("MySQL session set-up failed: " + message);
    }
  }
  return db;
}

void run_sql(MYSQL* db, const char* sql) {
  if (mysql_query(db, sql) != 0) throw_mysql_error(mysql_errno(db), mysql_error(db), sql);
}

Statement::Statement(MYSQL* db, std::string_view sql) : stmt_(mysql_stmt_init(db)) {
  if (stmt_ == nullptr) throw_mysql_error(mysql_errno(db), mysql_error(db), "stmt_init");
  if (mysql_stmt_prepare(stmt_, sql.data(), sql.size()) != 0) error("prepare");
}

Statement::~Statement() {
  if (stmt_ != nullptr) mysql_stmt_close(stmt_);
}

void Statement::error(const char* what) {
  throw_mysql_error(mysql_stmt_errno(stmt_), mysql_stmt_error(stmt_), what);
}

void Statement::execute(const std::vector<SqlParam>& params) {
  std::vector<MYSQL_BIND> binds(params.size());
  std::vector<long long> ints(params.size());
  std::vector<unsigned long> lengths(params.size());
  for (std::size_t i = 0; i < params.size(); ++i) {
    MYSQL_BIND& b = binds[i];
    b = MYSQL_BIND{};
    if (std::holds_alternative<std::nullptr_t>(params[i])) {
      b.buffer_type = MYSQL_TYPE_NULL;
    } else if (const auto* v = std::get_if<std::int64_t>(&params[i])) {
      ints[i] = *v;
      b.buffer_type = MYSQL_TYPE_LONGLONG;
      b.buffer = &ints[i];
    } else {
      const auto& s = std::get<std::string>(params[i]);
      lengths[i] = s.size();
      b.buffer_type = MYSQL_TYPE_STRING;
      b.buffer = const_cast<char*>(s.data());
      b.buffer_length = s.size();
      b.length = &lengths[i];
    }
  }
  if (!binds.empty() && mysql_stmt_bind_param(stmt_, binds.data()) != 0) error("bind");
  if (mysql_stmt_execute(stmt_) != 0) error("execute");
}

std::vector<SqlRow> Statement::fetch_all() {
  my_bool update_max = 1;
  mysql_stmt_attr_set(stmt_, STMT_ATTR_UPDATE_MAX_LENGTH, &update_max);
  if (mysql_stmt_store_result(stmt_) != 0) error("store_result");
  MYSQL_RES* meta = mysql_stmt_result_metadata(stmt_);
  if (meta == nullptr) return {};
  const unsigned columns = mysql_num_fields(meta);
  const MYSQL_FIELD* fields = mysql_fetch_fields(meta);
  std::vector<std::vector<char>> buffers(columns);
  std::vector<unsigned long> lengths(columns);
  std::vector<my_bool> nulls(columns);
  std::vector<MYSQL_BIND> binds(columns);
  for (unsigned i = 0; i < columns; ++i) {
    buffers[i].resize(std::max<unsigned long>(fields[i].max_length, 64) + 1);
    binds[i] = MYSQL_BIND{};
    binds[i].buffer_type = MYSQL_TYPE_STRING;
    binds[i].buffer = buffers[i].data();
    binds[i].buffer_length = buffers[i].size();
    binds[i].length = &lengths[i];
    binds[i].is_null = &nulls[i];
  }
  mysql_free_result(meta);
  if (mysql_stmt_bind_result(stmt_, binds.data()) != 0) error("bind_result");
  std::vector<SqlRow> rows;
  for (;;) {
    const int rc = mysql_stmt_fetch(stmt_);
    if (rc == MYSQL_NO_DATA) break;
    if (rc == 1) error("fetch");
    SqlRow row(columns);
    for (unsigned i = 0; i < columns; ++i) {
      if (nulls[i]) continue;
      if (lengths[i] > buffers[i].size()) {
        // Longer than max_length promised: fetch this column alone.
        std::string big(lengths[i], '\0');
        MYSQL_BIND b{};
        b.buffer_type = MYSQL_TYPE_STRING;
        b.buffer = big.data();
        b.buffer_length = big.size();
        if (mysql_stmt_fetch_column(stmt_, &b, i, 0) != 0) error("fetch_column");
        row[i] = std::move(big);
      } else {
        row[i] = std::string(buffers[i].data(), lengths[i]);
      }
    }
    rows.push_back(std::move(row));
  }
  return rows;
}

std::uint64_t Statement::affected_rows() {
  return mysql_stmt_affected_rows(stmt_);
}

std::uint64_t Statement::insert_id() {
  return mysql_stmt_insert_id(stmt_);
}

std::vector<SqlRow> query(MYSQL* db, std::string_view sql, const std::vector<SqlParam>& params) {
  Statement st(db, sql);
  st.execute(params);
  return st.fetch_all();
}

std::int64_t to_int(const std::optional<std::string>& v) {
  return v ? std::stoll(*v) : 0;
}

}  // namespace chat::store
