#include "private_mariadb.hpp"

#include <gtest/gtest.h>
#include <mysql.h>

#include <fstream>
#include <iostream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef CHAT_SCHEMA_SQL
#define CHAT_SCHEMA_SQL ""
#endif

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;

// One root connection over TCP (install-db's "normal" auth: root without password).
struct RootConnection {
  MYSQL* db = nullptr;
  RootConnection(std::uint16_t port, unsigned connect_timeout_s, unsigned long flags) {
    db = mysql_init(nullptr);
    if (!db) throw std::runtime_error("mysql_init failed");
    mysql_options(db, MYSQL_OPT_CONNECT_TIMEOUT, &connect_timeout_s);
    mysql_options(db, MYSQL_SET_CHARSET_NAME, "utf8mb4");
    if (!mysql_real_connect(db, "127.0.0.1", "root", "", nullptr, port, nullptr, flags)) {
      const std::string why = mysql_error(db);
      mysql_close(db);
      db = nullptr;
      throw std::runtime_error("private MariaDB on port " + std::to_string(port) + ": " + why);
    }
  }
  ~RootConnection() {
    if (db) mysql_close(db);
  }
  RootConnection(const RootConnection&) = delete;
  RootConnection& operator=(const RootConnection&) = delete;

  // Runs a script of several statements; throws on the first error.
  void script(const std::string& sql) {
    if (mysql_real_query(db, sql.data(), sql.size()) != 0)
      throw std::runtime_error(std::string("private MariaDB setup: ") + mysql_error(db));
    for (;;) {
      if (MYSQL_RES* res = mysql_store_result(db)) mysql_free_result(res);
      const int next = mysql_next_result(db);
      if (next == -1) break;
      if (next > 0)
        throw std::runtime_error(std::string("private MariaDB setup: ") + mysql_error(db));
    }
  }
};

std::string read_file(const std::filesystem::path& path) {
  std::ifstream in(path);
  if (!in) throw std::runtime_error("cannot read " + path.string());
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// A SQL string literal (the names come from our own environment, but quote them anyway).
std::string sql_string(const std::string& s) {
  std::string out = "'";
  for (char c : s) {
    if (c == '\'' || c == '\\') out += '\\';
    out += c;
  }
  return out + "'";
}

}  // namespace

PrivateMariadb::PrivateMariadb(const ServiceEnv& credentials) : credentials_(credentials) {
  if (std::string(CHAT_SCHEMA_SQL).empty())
    throw std::runtime_error("PrivateMariadb: CHAT_SCHEMA_SQL was not defined at build time");
  // The free port may be taken between probing and binding: try a few.
  for (int attempt = 1;; ++attempt) {
    port_ = free_tcp_port();
    dir_ = scratch_dir() / ("mariadb-" + std::to_string(port_));
    std::filesystem::create_directories(dir_ / "data");
    std::filesystem::create_directories(dir_ / "tmp");
    {
      std::ofstream cnf(dir_ / "my.cnf");
      cnf << "[mysqld]\nuser=root\ndatadir=" << (dir_ / "data").string()
          << "\ntmpdir=" << (dir_ / "tmp").string()
          << "\nsocket=" << (dir_ / "mysqld.sock").string()
          << "\npid-file=" << (dir_ / "mysqld.pid").string()
          << "\nlog-error=" << (dir_ / "mysqld.err").string() << "\nport=" << port_
          << "\nbind-address=127.0.0.1\nskip-name-resolve\ncharacter-set-server=utf8mb4\n"
             "collation-server=utf8mb4_unicode_ci\ninnodb_buffer_pool_size=32M\n"
             "innodb_log_file_size=16M\ninnodb_flush_log_at_trx_commit=2\n";
    }
    if (!std::filesystem::exists(dir_ / "data" / "mysql")) {
      Subprocess install({"mariadb-install-db", "--defaults-file=" + (dir_ / "my.cnf").string(),
                          "--auth-root-authentication-method=normal", "--skip-test-db"},
                         {}, dir_ / "install.log");
      const auto status = install.wait_exit(std::chrono::seconds(60));
      if (status.value_or(-1) != 0)
        throw std::runtime_error("mariadb-install-db failed (status " +
                                 std::to_string(status.value_or(-1)) + "):\n" +
                                 tail_lines(install.log(), 20));
    }
    try {
      start();
      break;
    } catch (const std::runtime_error&) {
      if (attempt == 3) throw;
      std::error_code ec;
      std::filesystem::remove_all(dir_, ec);
    }
  }
  setup_database();
}

PrivateMariadb::~PrivateMariadb() {
  stop();
  if (::testing::Test::HasFailure()) {
    std::ifstream err(dir_ / "mysqld.err");
    std::ostringstream text;
    text << err.rdbuf();
    std::cerr << "---- private MariaDB log (" << (dir_ / "mysqld.err") << "), last lines:\n"
              << tail_lines(text.str(), 20) << "\n";
  } else {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);  // ~35 MB of redo log and system tables
  }
}

ServiceEnv PrivateMariadb::env() const {
  ServiceEnv e = credentials_;
  e.mysql_host = "127.0.0.1";
  e.mysql_port = port_;
  return e;
}

void PrivateMariadb::start() {
  if (process_) return;
  process_ = std::make_unique<Subprocess>(
      std::vector<std::string>{"/usr/sbin/mariadbd",
                               "--defaults-file=" + (dir_ / "my.cnf").string()},
      std::vector<std::pair<std::string, std::string>>{}, dir_ / "stdout.log");
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  std::string last_error;
  while (Clock::now() < deadline && process_->running()) {
    try {
      RootConnection probe(port_, 1, 0);
      if (process_->running()) return;  // it was ours (not a foreign server on that port)
    } catch (const std::runtime_error& e) {
      last_error = e.what();
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  process_->stop(std::chrono::seconds(5));
  process_.reset();
  throw std::runtime_error("private MariaDB on port " + std::to_string(port_) +
                           " did not come up within 30 s (" + last_error + "); see " +
                           (dir_ / "mysqld.err").string());
}

void PrivateMariadb::stop() {
  if (!process_) return;
  process_->stop(std::chrono::seconds(20));  // SIGTERM is a clean shutdown for mariadbd
  process_.reset();
}

void PrivateMariadb::setup_database() {
  RootConnection root(port_, 5, CLIENT_MULTI_STATEMENTS);
  const std::string& database = credentials_.mysql_database;
  const std::string user = sql_string(credentials_.mysql_user);
  const std::string password = sql_string(credentials_.mysql_password);
  const std::string db_name = "`" + database + "`";
  root.script("CREATE DATABASE IF NOT EXISTS " + db_name +
              " CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
              "CREATE USER IF NOT EXISTS " +
              user + "@'127.0.0.1' IDENTIFIED BY " + password + ";CREATE USER IF NOT EXISTS " +
              user + "@'localhost' IDENTIFIED BY " + password + ";GRANT ALL PRIVILEGES ON " +
              db_name + ".* TO " + user + "@'127.0.0.1', " + user + "@'localhost';");
  if (mysql_select_db(root.db, database.c_str()) != 0)
    throw std::runtime_error("private MariaDB: USE " + database + ": " + mysql_error(root.db));
  root.script(read_file(CHAT_SCHEMA_SQL));
}

}  // namespace chat::test
