#include "chatd_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <stdexcept>
#include <thread>

#ifndef CHAT_CHATD_PATH
#define CHAT_CHATD_PATH ""
#endif

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;

}  // namespace

std::string ChatdProcess::binary() {
  if (const char* env = std::getenv("CHATD_BINARY"); env && *env) return env;
  return CHAT_CHATD_PATH;
}

ChatdProcess::ChatdProcess(ChatdOptions options) : options_(std::move(options)) {
  const std::string bin = binary();
  if (bin.empty())
    throw std::runtime_error("chatd was not built: the CMake target 'chatd' does not exist");
  if (::access(bin.c_str(), X_OK) != 0)
    throw std::runtime_error("chatd binary not found or not executable: " + bin);
  spawn();
  if (options_.wait_until_listening) wait_listening();
}

void ChatdProcess::wait_listening() {
  std::string failure;
  // A free port can be taken between probing and binding: a few attempts with new ports.
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!process_) spawn();
    if (wait_ready(failure)) return;
    if (failure.find("in use") == std::string::npos) break;
  }
  throw std::runtime_error(failure);
}

void ChatdProcess::spawn() {
  const ServiceEnv env = ServiceEnv::from_environment();
  const ChatdOptions& o = options_;
  port_ = free_tcp_port();
  node_id_ = o.node_id.empty() ? "t" + random_tag() + "-" + std::to_string(port_) : o.node_id;
  argv_ = {
      binary(),
      "--listen",
      address(),
      "--node-id",
      node_id_,
      "--redis-host",
      env.redis_host,
      "--redis-port",
      std::to_string(o.redis_port.value_or(env.redis_port)),
      "--mysql-host",
      env.mysql_host,
      "--mysql-port",
      std::to_string(o.mysql_port.value_or(env.mysql_port)),
      "--mysql-user",
      env.mysql_user,
      "--mysql-database",
      env.mysql_database,
      "--schedule-poll-ms",
      std::to_string(o.schedule_poll_ms),
      "--dump-interval-ms",
      std::to_string(o.dump_interval_ms),
      "--idle-timeout-ms",
      std::to_string(o.idle_timeout_ms),
      "--grace-ms",
      std::to_string(o.grace_ms),
      "--heartbeat-ms",
      std::to_string(o.heartbeat_ms),
      "--log-level",
      o.log_level,
  };
  if (o.advertise) argv_.insert(argv_.end(), {"--advertise", *o.advertise});
  argv_.insert(argv_.end(), o.extra_args.begin(), o.extra_args.end());
  // Passwords go through the environment so they do not show up in `ps`.
  std::vector<std::pair<std::string, std::string>> extra_env = {
      {"CHATD_MYSQL_PASSWORD", env.mysql_password}};
  if (!env.redis_password.empty())
    extra_env.emplace_back("CHATD_REDIS_PASSWORD", env.redis_password);
  const auto log_path = scratch_dir() / ("chatd-" + node_id_ + ".log");
  process_ = std::make_unique<Subprocess>(argv_, extra_env, log_path);
}

bool ChatdProcess::wait_ready(std::string& failure) {
  const std::string listening = "listening on " + address();
  const auto start = Clock::now();
  const auto deadline = start + options_.start_timeout;
  while (Clock::now() < deadline) {
    if (!process_->running()) {
      std::string cmd;
      for (const auto& a : argv_) cmd += a + " ";
      failure = "chatd exited with status " + std::to_string(process_->exit_status().value_or(-1)) +
                " before listening\n  command: " + cmd + "\n  log:\n" +
                tail_lines(process_->log(), 30);
      process_.reset();
      return false;
    }
    if (process_->log().find(listening) != std::string::npos) return true;
    // Fallback when the log line is worded differently: a successful connect (only after a
    // while, because probe connections show up in the nodes op's client count).
    if (Clock::now() - start > std::chrono::seconds(3)) {
      try {
        TestClient probe(host_, port_, Millis(200));
        probe.close();
        return true;
      } catch (const ClientError&) {
      }
    }
    std::this_thread::sleep_for(Millis(20));
  }
  failure = "chatd did not listen on " + address() + " within " +
            std::to_string(options_.start_timeout.count()) + " ms; log:\n" +
            tail_lines(process_->log(), 30);
  process_->stop();
  process_.reset();
  return false;
}

ChatdProcess::~ChatdProcess() {
  if (!process_) return;
  const bool crashed = !stopped_ && !process_->running();
  process_->stop();
  if (crashed)
    ADD_FAILURE() << "chatd " << node_id_ << " exited on its own during the test with status "
                  << process_->exit_status().value_or(-1) << " (128+n = signal n)";
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- chatd " << node_id_ << " (" << process_->log_path() << "), last log lines:\n"
              << tail_lines(process_->log(), 40) << "\n---- end of chatd log\n";
  } else {
    std::error_code ec;
    std::filesystem::remove(process_->log_path(), ec);
  }
}

TestClient ChatdProcess::connect(Millis timeout) const {
  return TestClient(host_, port_, timeout);
}

bool ChatdProcess::alive() {
  return process_ && process_->running();
}

int ChatdProcess::stop(Millis grace) {
  stopped_ = true;
  return process_ ? process_->stop(grace) : -1;
}

void ChatdProcess::kill() {
  stopped_ = true;
  if (process_) {
    process_->signal(SIGKILL);
    process_->wait_exit(Millis(5000));
  }
}

std::string ChatdProcess::log() const {
  return process_ ? process_->log() : std::string();
}

}  // namespace chat::test
