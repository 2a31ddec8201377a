#include "config.hpp"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>
#include <string_view>

#include "config_file.hpp"

namespace chat::server {
namespace {

namespace po = boost::program_options;

// Splits "host:port"; false when the port is not 1..65535.
bool split_address(const std::string& address, std::string& host, int& port) {
  const auto colon = address.rfind(':');
  if (colon == std::string::npos || colon == 0) return false;
  host = address.substr(0, colon);
  try {
    std::size_t used = 0;
    port = std::stoi(address.substr(colon + 1), &used);
    return used == address.size() - colon - 1 && port > 0 && port < 65536;
  } catch (const std::exception&) {
    return false;
  }
}

}  // namespace

void add_store_options(po::options_description& opts, store::RedisOptions& redis,
                       store::MysqlOptions& mysql) {
  // clang-format off
  opts.add_options()
    ("redis-host", po::value(&redis.host)->default_value(redis.host), "Redis host")
    ("redis-port", po::value(&redis.port)->default_value(redis.port), "Redis port")
    ("redis-user", po::value(&redis.user), "Redis ACL user (default: the default user; AUTH with the password only)")
    ("redis-password", po::value(&redis.password), "Redis AUTH password (better: env CHATD_REDIS_PASSWORD)")
    ("mysql-host", po::value(&mysql.host)->default_value(mysql.host), "MySQL/MariaDB host (use 127.0.0.1, not localhost)")
    ("mysql-port", po::value(&mysql.port)->default_value(mysql.port), "MySQL port")
    ("mysql-user", po::value(&mysql.user)->default_value(mysql.user), "MySQL user")
    ("mysql-password", po::value(&mysql.password), "MySQL password (better: env CHATD_MYSQL_PASSWORD)")
    ("mysql-database", po::value(&mysql.database)->default_value(mysql.database), "MySQL database");
  // clang-format on
}

void add_metrics_options(po::options_description& opts, std::string& listen) {
  opts.add_options()("metrics-listen", po::value(&listen),
                     "serve Prometheus metrics at http://HOST:PORT/metrics (e.g. "
                     "127.0.0.1:9464; port 0 picks a free one); default: not served");
}

void read_store_secrets(store::RedisOptions& redis, store::MysqlOptions& mysql) {
  if (redis.password.empty())
    if (const char* p = std::getenv("CHATD_REDIS_PASSWORD")) redis.password = p;
  if (mysql.password.empty())
    if (const char* p = std::getenv("CHATD_MYSQL_PASSWORD")) mysql.password = p;
}

std::optional<Config> parse_command_line(int argc, char** argv, int& exit_code) {
  Config c;
  std::string listen = "127.0.0.1:7000";
  long long poll = 5000, dump = 2000, idle = 60000, grace = 10000, heartbeat = 1000;
  long long claim_idle = 30000;
  long long max_connections = static_cast<long long>(c.max_connections);
  long long max_per_address = static_cast<long long>(c.max_connections_per_address);
  long long login_timeout = c.login_timeout.count();
  long long failure_delay = c.login_failure_delay.count();
  long long failure_max_delay = c.login_failure_max_delay.count();
  po::options_description opts("chatd: chat server node (protocol: shared/PROTOCOL.md)\nOptions");
  // clang-format off
  opts.add_options()
    ("listen", po::value(&listen)->default_value(listen), "TCP address to serve clients on, host:port")
    ("advertise", po::value(&c.advertise), "address other clients reach this node at (nodes op); default: --listen")
    ("node-id", po::value(&c.node_id), "unique node name; default node-<port>")
    ("schedule-poll-ms", po::value(&poll)->default_value(poll), "re-read meetings, audience and schedule every N ms")
    ("dump-interval-ms", po::value(&dump)->default_value(dump), "dump messages and event logs to MySQL every N ms (0: leave it to chat-dumper)")
    ("dump-batch", po::value(&c.dump_batch)->default_value(c.dump_batch), "outbox entries per dump transaction")
    ("dump-claim-idle-ms", po::value(&claim_idle)->default_value(claim_idle), "take over entries another dumper has held this long")
    ("idle-timeout-ms", po::value(&idle)->default_value(idle), "close a connection silent for N ms")
    ("grace-ms", po::value(&grace)->default_value(grace), "remove a participant left without connection after N ms")
    ("heartbeat-ms", po::value(&heartbeat)->default_value(heartbeat), "node registry heartbeat period")
    ("max-outbound-bytes", po::value(&c.max_outbound_bytes)->default_value(c.max_outbound_bytes), "disconnect a client whose unsent frames exceed N bytes")
    ("rate-limit", po::value(&c.rate_limit)->default_value(c.rate_limit, "100"), "requests per second per connection (token bucket); more are answered rate_limited; 0: no limit")
    ("rate-burst", po::value(&c.rate_burst)->default_value(c.rate_burst, "200"), "requests a connection may send at once (bucket size); 10x this refused in a row closes it")
    ("max-connections", po::value(&max_connections)->default_value(max_connections), "open connections per node; more are refused with an unavailable frame")
    ("max-connections-per-address", po::value(&max_per_address)->default_value(max_per_address), "open connections per client IP address; more are refused likewise")
    ("login-timeout-ms", po::value(&login_timeout)->default_value(login_timeout), "close a connection not logged in within N ms (unauthenticated frame); 0: never")
    ("login-failure-delay-ms", po::value(&failure_delay)->default_value(failure_delay), "after 3 failed logins of a user or address within 15 min, delay the answer N ms, doubling per failure; 0: off")
    ("login-failure-max-delay-ms", po::value(&failure_max_delay)->default_value(failure_max_delay), "cap of the failed-login delay")
    ("tls-cert", po::value(&c.tls_cert), "serve clients over TLS only (1.2+): PEM certificate chain file, server certificate first (needs --tls-key)")
    ("tls-key", po::value(&c.tls_key), "PEM private key file of --tls-cert");
  // clang-format on
  add_store_options(opts, c.redis, c.mysql);
  util::add_log_options(opts, c.log);
  add_metrics_options(opts, c.metrics_listen);
  po::variables_map vm;
  if (const auto stop = parse_command_line_and_config(argc, argv, opts, "chatd", "chatd", vm)) {
    exit_code = *stop;
    return std::nullopt;
  }
  if (!split_address(listen, c.listen_host, c.listen_port)) {
    std::cerr << "chatd: --listen must be host:port, got '" << listen << "'\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (dump < 0 || claim_idle <= 0 || c.dump_batch == 0) {
    std::cerr
        << "chatd: --dump-interval-ms must be >= 0, --dump-claim-idle-ms and --dump-batch > 0\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (!(c.rate_limit >= 0) || !(c.rate_burst >= 1) || max_connections < 1 || max_per_address < 1 ||
      login_timeout < 0 || failure_delay < 0 || failure_max_delay < failure_delay) {
    std::cerr << "chatd: --rate-limit must be >= 0, --rate-burst >= 1, --max-connections and "
                 "--max-connections-per-address >= 1, --login-timeout-ms and "
                 "--login-failure-delay-ms >= 0, --login-failure-max-delay-ms >= "
                 "--login-failure-delay-ms\n";
    exit_code = 2;
    return std::nullopt;
  }
  if (c.tls_cert.empty() != c.tls_key.empty()) {
    std::cerr << "chatd: --tls-cert and --tls-key go together (both or neither)\n";
    exit_code = 2;
    return std::nullopt;
  }
  for (long long v : {poll, idle, grace, heartbeat}) {
    if (v <= 0) {
      std::cerr << "chatd: intervals must be positive\n";
      exit_code = 2;
      return std::nullopt;
    }
  }
  if (c.advertise.empty()) c.advertise = c.listen_host + ":" + std::to_string(c.listen_port);
  if (c.node_id.empty()) c.node_id = "node-" + std::to_string(c.listen_port);
  read_store_secrets(c.redis, c.mysql);
  c.schedule_poll = std::chrono::milliseconds(poll);
  c.dump_interval = std::chrono::milliseconds(dump);
  c.idle_timeout = std::chrono::milliseconds(idle);
  c.grace = std::chrono::milliseconds(grace);
  c.heartbeat = std::chrono::milliseconds(heartbeat);
  c.claim_idle = std::chrono::milliseconds(claim_idle);
  c.max_connections = static_cast<std::size_t>(max_connections);
  c.max_connections_per_address = static_cast<std::size_t>(max_per_address);
  c.login_timeout = std::chrono::milliseconds(login_timeout);
  c.login_failure_delay = std::chrono::milliseconds(failure_delay);
  c.login_failure_max_delay = std::chrono::milliseconds(failure_max_delay);
  return c;
}

void hide_secret_arguments(int argc, char** argv) {
  // Boost.Program_options also takes unambiguous abbreviations ("--mysql-pass"), so every
  // prefix of a secret flag down to where it is unique counts.
  constexpr std::string_view kSecret[] = {"--redis-password", "--mysql-password"};
  constexpr std::size_t kUniquePrefix = std::string_view("--redis-pa").size();
  for (int i = 1; i < argc; ++i) {
    const std::string_view arg = argv[i];
    const auto eq = arg.find('=');
    const std::string_view flag = arg.substr(0, eq);
    bool secret = false;
    for (const auto name : kSecret)
      secret = secret || (flag.size() >= kUniquePrefix && name.substr(0, flag.size()) == flag);
    if (!secret) continue;
    char* value = nullptr;
    if (eq != std::string_view::npos) {
      value = argv[i] + eq + 1;  // "--flag=VALUE"
    } else if (i + 1 < argc) {
      value = argv[++i];  // "--flag VALUE"
    }
    if (value)
      for (; *value; ++value) *value = '*';
  }
}

}  // namespace chat::server
