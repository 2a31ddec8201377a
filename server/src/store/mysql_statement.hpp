// Prepared statements over MariaDB Connector/C, shared by chatd's MysqlStore and chatctl:
// values are always bound, never spliced into SQL text.
#pragma once

#include <cstddef>
#include <cstdint>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "store/mysql_store.hpp"

struct st_mysql_stmt;

namespace chat::store {

/// A bound parameter: NULL, an integer or a string.
using SqlParam = std::variant<std::nullptr_t, std::int64_t, std::string>;
/// One result row, every column as text (NULL = nullopt).
using SqlRow = std::vector<std::optional<std::string>>;

/// MySQL error number of a duplicate key (a unique index refused the row).
inline constexpr unsigned kMysqlDuplicateKey = 1062;

/// An SQL statement failed on a live connection; code() is the MySQL error number (e.g.
/// kMysqlDuplicateKey). A lost or refused connection is StoreUnavailable instead.
class MysqlError : public std::runtime_error {
 public:
  MysqlError(unsigned code, const std::string& what) : std::runtime_error(what), code_(code) {}
  unsigned code() const noexcept { return code_; }

 private:
  unsigned code_;
};

/// Throws StoreUnavailable when `code` means the server is unreachable or the connection
/// broke, MysqlError(code) otherwise. `what` names the failed step ("execute", "begin").
[[noreturn]] void throw_mysql_error(unsigned code, const char* message, const char* what);

/// Opens a connection with the options' timeouts, utf8mb4, READ COMMITTED and the session
/// time zone UTC (DATETIME values are UTC by contract, SCHEMA.md). The caller owns the
/// handle (mysql_close). Throws StoreUnavailable when the server cannot be reached or
/// refuses the login, std::runtime_error when the session set-up fails.
st_mysql* open_mysql(const MysqlOptions& options);

/// Runs an SQL text without parameters (START TRANSACTION, COMMIT); errors as
/// throw_mysql_error.
void run_sql(st_mysql* db, const char* sql);

/// One prepared statement: binds parameters, executes, fetches every column as text. May be
/// executed again with new parameters. Throws as throw_mysql_error on any failure.
class Statement {
 public:
  Statement(st_mysql* db, std::string_view sql);
  ~Statement();
  Statement(const Statement&) = delete;
  Statement& operator=(const Statement&) = delete;

  void execute(const std::vector<SqlParam>& params);
  /// Every row of the result of the last execute() (empty for statements without one).
  std::vector<SqlRow> fetch_all();
  /// Rows changed by the last execute() (INSERT, UPDATE, DELETE).
  std::uint64_t affected_rows();
  /// AUTO_INCREMENT value the last execute() generated (INSERT).
  std::uint64_t insert_id();

 private:
  [[noreturn]] void error(const char* what);
  st_mysql_stmt* stmt_;
};

/// Prepares, executes and fetches one statement.
std::vector<SqlRow> query(st_mysql* db, std::string_view sql, const std::vector<SqlParam>& params);

/// The integer value of a column (0 for NULL). Throws std::invalid_argument on non-numbers.
std::int64_t to_int(const std::optional<std::string>& v);

}  // namespace chat::store
