// chatd: one chat server node. See README.md and shared/PROTOCOL.md.
#include <mysql.h>
#include <sodium.h>
#include <spdlog/spdlog.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>
#include <cstdlib>
#include <iostream>

#include "config.hpp"
#include "dump/dumper.hpp"
#include "metrics/metrics.hpp"
#include "net/listener.hpp"
#include "net/stream.hpp"
#include "service/chat_service.hpp"
#include "store/database.hpp"
#include "store/redis_client.hpp"
#include "store/redis_store.hpp"
#include "util/logging.hpp"

int main(int argc, char** argv) {
  using namespace chat;
  int exit_code = 0;
  const auto config = server::parse_command_line(argc, argv, exit_code);
  if (!config) return exit_code;
  server::hide_secret_arguments(argc, argv);

  try {
    util::setup_logging(config->log, config->node_id);
  } catch (const std::exception& e) {
    std::cerr << "chatd: cannot log: " << e.what() << "\n";
    return 2;
  }
  if (sodium_init() < 0) {
    spdlog::critical("libsodium failed to initialise");
    return 1;
  }
  // Before any thread touches MySQL (Connector/C is not initialised lazily thread-safely).
  if (mysql_library_init(0, nullptr, nullptr) != 0) {
    spdlog::critical("MySQL client library failed to initialise");
    return 1;
  }

  int rc = 0;
  {
    boost::asio::io_context io(1);
    metrics::Metrics metrics(config->node_id);
    if (!config->metrics_listen.empty()) {
      try {
        metrics.serve(config->metrics_listen);
      } catch (const std::exception& e) {
        spdlog::critical("{}", e.what());
        return 1;
      }
      spdlog::info("metrics at http://{}/metrics (port {})", config->metrics_listen,
                   metrics.port().value_or(0));
    }
    store::RedisOptions command_options = config->redis;
    command_options.name = "commands";
    store::RedisOptions bus_options = config->redis;
    bus_options.name = "bus";
    auto commands = std::make_shared<store::RedisConnection>(io, command_options);
    auto bus = std::make_shared<store::RedisConnection>(io, bus_options);
    commands->set_metrics(metrics);
    store::RedisStore redis(*commands);
    store::Database db(config->mysql);

    store::load_functions_on_connect(*commands);

    service::LoginThrottleOptions throttle;
    throttle.base_delay = config->login_failure_delay;
    throttle.max_delay = config->login_failure_max_delay;
    service::ChatService service(io, redis, *commands, *bus, db, metrics,
                                 {config->node_id, config->advertise, config->schedule_poll,
                                  config->grace, config->heartbeat, throttle});
    // The in-process dump (chat-dumper does the same as a job of its own).
    std::optional<dump::Dumper> dumper;
    if (config->dump_interval.count() > 0)
      dumper.emplace(io, redis, db,
                     dump::DumperOptions{config->node_id, config->dump_batch, config->claim_idle,
                                         config->dump_interval, &metrics});
    std::shared_ptr<boost::asio::ssl::context> tls;
    if (!config->tls_cert.empty()) {
      try {
        tls = net::make_server_tls_context(config->tls_cert, config->tls_key);
      } catch (const std::exception& e) {
        spdlog::critical("cannot use --tls-cert {} / --tls-key {}: {}", config->tls_cert,
                         config->tls_key, e.what());
        return 1;
      }
    }
    std::optional<net::Listener> listener;
    try {
      listener.emplace(
          io,
          boost::asio::ip::tcp::endpoint(boost::asio::ip::make_address(config->listen_host),
                                         static_cast<unsigned short>(config->listen_port)),
          service, metrics,
          net::SessionOptions{config->idle_timeout, config->max_outbound_bytes,
                              config->login_timeout,
                              net::RateLimitOptions{config->rate_limit, config->rate_burst}},
          net::ConnectionLimitOptions{config->max_connections, config->max_connections_per_address},
          tls);
    } catch (const std::exception& e) {
      spdlog::critical("cannot listen on {}:{}: {}", config->listen_host, config->listen_port,
                       e.what());
      return 1;
    }

    commands->start();
    bus->start();
    service.start();
    if (dumper) dumper->start();
    listener->start();
    spdlog::info("listening on {}:{}{} as node {}", config->listen_host,
                 listener->local_endpoint().port(), tls ? " (TLS)" : "", config->node_id);

    boost::asio::signal_set signals(io, SIGINT, SIGTERM);
    signals.async_wait([&](const boost::system::error_code& ec, int signo) {
      if (ec) return;
      spdlog::info("signal {}: shutting down", signo);
      listener->stop();
      if (dumper) dumper->stop();
      service.stop();
      // Give the heartbeat loop its last turn (unregistering the node), then close Redis.
      auto done = std::make_shared<boost::asio::steady_timer>(io, std::chrono::milliseconds(200));
      done->async_wait([done, commands, bus](const boost::system::error_code&) {
        commands->stop();
        bus->stop();
      });
    });
    io.run();
    db.join();
  }
  mysql_library_end();
  spdlog::info("stopped");
  return rc;
}
