// chatd's command line and config file.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "store/mysql_store.hpp"
#include "store/redis_client.hpp"
#include "util/logging.hpp"

namespace chat::server {

/// Everything chatd is configured with. Durations in ms.
struct Config {
  std::string listen_host = "127.0.0.1";
  int listen_port = 7000;
  std::string advertise;  // "host:port" for the nodes op; defaults to the listen address
  std::string node_id;    // defaults to "node-<port>"
  store::RedisOptions redis;
  store::MysqlOptions mysql;
  std::chrono::milliseconds schedule_poll{5000};
  std::chrono::milliseconds dump_interval{2000};
  std::chrono::milliseconds idle_timeout{60000};
  std::chrono::milliseconds grace{10000};
  std::chrono::milliseconds heartbeat{1000};
  std::size_t dump_batch = 500;                 // outbox entries per MySQL transaction
  std::chrono::milliseconds claim_idle{30000};  // take over a dead dumper's entries after this
  std::size_t max_outbound_bytes = 8 << 20;     // a client that lets more pile up is cut off
  // Abuse limits (README "Limits").
  double rate_limit = 100;                             // requests per second per connection; 0: off
  double rate_burst = 200;                             // requests a connection may send at once
  std::size_t max_connections = 20000;                 // open connections of this node
  std::size_t max_connections_per_address = 256;       // open connections from one client IP
  std::chrono::milliseconds login_timeout{10000};      // close connections not logged in by then
  std::chrono::milliseconds login_failure_delay{250};  // first delayed failed login; 0: off
  std::chrono::milliseconds login_failure_max_delay{8000};  // cap of the doubling delay
  util::LogOptions log;                                     // --log-* flags, [log] table
  // TLS on the client port (both or neither): PEM certificate chain and private key files.
  std::string tls_cert;
  std::string tls_key;
  std::string metrics_listen;  // "host:port" of the Prometheus endpoint; empty: none
};

/// Adds the Redis and MySQL connection flags (shared by chatd and chat-dumper).
void add_store_options(boost::program_options::options_description& options,
                       store::RedisOptions& redis, store::MysqlOptions& mysql);
/// Adds --metrics-listen (the [metrics] table's `listen`), shared by chatd and chat-dumper.
void add_metrics_options(boost::program_options::options_description& options, std::string& listen);
/// Fills passwords not given as flags from CHATD_REDIS_PASSWORD / CHATD_MYSQL_PASSWORD.
void read_store_secrets(store::RedisOptions& redis, store::MysqlOptions& mysql);

/// Parses argv, then the --config files (config_file.hpp: flags win over files), then
/// CHATD_REDIS_PASSWORD / CHATD_MYSQL_PASSWORD from the environment for passwords set nowhere
/// else.
/// Returns nullopt after printing --help or an error to stderr; exit_code says how to exit.
std::optional<Config> parse_command_line(int argc, char** argv, int& exit_code);

/// Overwrites the values of --redis-password and --mysql-password in argv with '*' so that
/// they no longer show in `ps` or /proc/PID/cmdline (both read the process's argument
/// memory). Call after parsing; the values were visible until then, so the environment
/// variables remain the better way to pass them.
void hide_secret_arguments(int argc, char** argv);

}  // namespace chat::server
