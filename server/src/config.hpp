// chatd's command line.
#pragma once

#include <boost/program_options/options_description.hpp>
#include <chrono>
#include <optional>
#include <string>

#include "store/mysql_store.hpp"
#include "store/redis_client.hpp"

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
  std::string log_level = "info";
};

/// Adds the Redis and MySQL connection flags (shared by chatd and chat-dumper).
void add_store_options(boost::program_options::options_description& options,
                       store::RedisOptions& redis, store::MysqlOptions& mysql);
/// Fills passwords not given as flags from CHATD_REDIS_PASSWORD / CHATD_MYSQL_PASSWORD.
void read_store_secrets(store::RedisOptions& redis, store::MysqlOptions& mysql);

/// Parses argv (and CHATD_REDIS_PASSWORD / CHATD_MYSQL_PASSWORD from the environment).
/// Returns nullopt after printing --help or an error to stderr; exit_code says how to exit.
std::optional<Config> parse_command_line(int argc, char** argv, int& exit_code);

}  // namespace chat::server
