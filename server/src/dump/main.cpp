// chat-dumper: moves chat messages and event logs from Redis to MySQL, as a resident job or
// once per timer run (--once). Several may run at once (consumer group). See dump/dumper.hpp.
#include <mysql.h>
#include <spdlog/spdlog.h>
#include <unistd.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/program_options.hpp>
#include <iostream>

#include "config.hpp"
#include "config_file.hpp"
#include "dump/dumper.hpp"
#include "store/database.hpp"
#include "store/redis_client.hpp"
#include "store/redis_store.hpp"
#include "store/store_error.hpp"
#include "util/logging.hpp"

namespace {

namespace po = boost::program_options;
using namespace chat;

// Exit codes: 0 done; 1 a store was unreachable or a run failed; 2 bad command line or
// config file.
constexpr int kExitFailed = 1;
constexpr int kExitUsage = 2;

// Waits (bounded) for the Redis connection, so --once fails fast but not spuriously.
boost::asio::awaitable<bool> wait_connected(store::RedisConnection& redis,
                                            std::chrono::milliseconds limit) {
  const auto deadline = std::chrono::steady_clock::now() + limit;
  boost::asio::steady_timer pause(co_await boost::asio::this_coro::executor);
  while (!redis.connected() && std::chrono::steady_clock::now() < deadline) {
    pause.expires_after(std::chrono::milliseconds(20));
    co_await pause.async_wait(boost::asio::use_awaitable);
  }
  co_return redis.connected();
}

}  // namespace

int main(int argc, char** argv) {
  store::RedisOptions redis_options;
  store::MysqlOptions mysql_options;
  dump::DumperOptions options;
  long long interval = 2000, claim_idle = 30000;
  util::LogOptions log;
  char host[256] = "dumper";
  gethostname(host, sizeof host - 1);
  options.consumer = std::string(host) + "-" + std::to_string(getpid());

  po::options_description opts(
      "chat-dumper: move chat messages and event logs from Redis to MySQL, exactly once\nOptions");
  // clang-format off
  opts.add_options()
    ("once", "move what is there now, then exit (for a cron or systemd timer)")
    ("interval-ms", po::value(&interval)->default_value(interval), "resident mode: run every N ms")
    ("batch", po::value(&options.batch)->default_value(options.batch), "outbox entries per MySQL transaction")
    ("consumer", po::value(&options.consumer)->default_value(options.consumer), "name in the consumer group (unique per dumper; reuse it after a crash to resume at once)")
    ("claim-idle-ms", po::value(&claim_idle)->default_value(claim_idle), "take over entries another dumper has held this long");
  // clang-format on
  server::add_store_options(opts, redis_options, mysql_options);
  util::add_log_options(opts, log);
  std::string metrics_listen;
  server::add_metrics_options(opts, metrics_listen);
  po::variables_map vm;
  if (const auto stop =
          server::parse_command_line_and_config(argc, argv, opts, "chat-dumper", "dumper", vm))
    return *stop;
  if (interval <= 0 || claim_idle <= 0 || options.batch == 0) {
    std::cerr << "chat-dumper: --interval-ms, --claim-idle-ms and --batch must be positive\n";
    return kExitUsage;
  }
  server::read_store_secrets(redis_options, mysql_options);
  options.interval = std::chrono::milliseconds(interval);
  options.claim_idle = std::chrono::milliseconds(claim_idle);
  const bool once = vm.count("once") > 0;

  server::hide_secret_arguments(argc, argv);
  try {
    util::setup_logging(log, options.consumer);
  } catch (const std::exception& e) {
    std::cerr << "chat-dumper: cannot log: " << e.what() << "\n";
    return kExitUsage;
  }
  if (mysql_library_init(0, nullptr, nullptr) != 0) {
    spdlog::critical("MySQL client library failed to initialise");
    return kExitFailed;
  }

  int rc = 0;
  {
    boost::asio::io_context io(1);
    metrics::Metrics metrics(options.consumer);
    if (!metrics_listen.empty()) {
      try {
        metrics.serve(metrics_listen);
      } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        mysql_library_end();
        return kExitFailed;
      }
      spdlog::info("metrics at http://{}/metrics (port {})", metrics_listen,
                   metrics.port().value_or(0));
    }
    options.metrics = &metrics;
    redis_options.name = "dumper";
    auto redis = std::make_shared<store::RedisConnection>(io, redis_options);
    redis->set_metrics(metrics);
    store::load_functions_on_connect(*redis);
    store::RedisStore store(*redis);
    store::Database db(mysql_options);
    dump::Dumper dumper(io, store, db, options);
    redis->start();

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    if (once) {
      boost::asio::co_spawn(
          io,
          [&]() -> boost::asio::awaitable<void> {
            try {
              if (!co_await wait_connected(*redis, std::chrono::seconds(5)))
                throw store::StoreUnavailable("Redis is unreachable");
              const auto stats = co_await dumper.run_once();
              spdlog::info("{}", dump::describe(stats));
              co_await dumper.retire();
            } catch (const std::exception& e) {
              spdlog::error("dump run failed: {}", e.what());
              rc = kExitFailed;
            }
            signals.cancel();
            redis->stop();
          },
          boost::asio::detached);
    } else {
      dumper.start();
      spdlog::info("resident: dumping every {} ms", interval);
    }
    signals.async_wait([&](const boost::system::error_code& ec, int) {
      if (ec) return;
      dumper.stop();
      boost::asio::co_spawn(
          io,
          [&]() -> boost::asio::awaitable<void> {
            try {
              co_await dumper.retire();
            } catch (const std::exception& e) {
              spdlog::warn("leaving the consumer group failed: {}", e.what());
            }
            redis->stop();
          },
          boost::asio::detached);
    });
    io.run();
    db.join();
  }
  mysql_library_end();
  return rc;
}
