#include "config.hpp"

#include <boost/program_options.hpp>
#include <cstdlib>
#include <iostream>

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
    ("redis-password", po::value(&redis.password), "Redis AUTH password (better: env CHATD_REDIS_PASSWORD)")
    ("mysql-host", po::value(&mysql.host)->default_value(mysql.host), "MySQL/MariaDB host (use 127.0.0.1, not localhost)")
    ("mysql-port", po::value(&mysql.port)->default_value(mysql.port), "MySQL port")
    ("mysql-user", po::value(&mysql.user)->default_value(mysql.user), "MySQL user")
    ("mysql-password", po::value(&mysql.password), "MySQL password (better: env CHATD_MYSQL_PASSWORD)")
    ("mysql-database", po::value(&mysql.database)->default_value(mysql.database), "MySQL database");
  // clang-format on
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
  po::options_description opts("chatd: chat server node (protocol: shared/PROTOCOL.md)\nOptions");
  // clang-format off
  opts.add_options()
    ("help,h", "show this help")
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
    ("log-level", po::value(&c.log_level)->default_value(c.log_level), "trace|debug|info|warn|error");
  // clang-format on
  add_store_options(opts, c.redis, c.mysql);
  po::variables_map vm;
  try {
    po::store(po::parse_command_line(argc, argv, opts), vm);
    po::notify(vm);
  } catch (const po::error& e) {
    std::cerr << "chatd: " << e.what() << "\n" << opts;
    exit_code = 2;
    return std::nullopt;
  }
  if (vm.count("help")) {
    std::cout << opts;
    exit_code = 0;
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
  return c;
}

}  // namespace chat::server
