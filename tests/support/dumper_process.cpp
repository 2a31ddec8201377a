#include "dumper_process.hpp"

#include <gtest/gtest.h>
#include <signal.h>
#include <unistd.h>

#include <iostream>
#include <regex>
#include <stdexcept>
#include <thread>

#ifndef CHAT_DUMPER_PATH
#define CHAT_DUMPER_PATH ""
#endif

namespace chat::test {

std::string DumperProcess::binary() {
  if (const char* env = std::getenv("CHAT_DUMPER_BINARY"); env && *env) return env;
  return CHAT_DUMPER_PATH;
}

DumperProcess::DumperProcess(const ServiceEnv& env, DumperOptions options)
    : options_(std::move(options)) {
  const std::string bin = binary();
  if (bin.empty())
    throw std::runtime_error("chat-dumper was not built: the CMake target does not exist");
  if (::access(bin.c_str(), X_OK) != 0)
    throw std::runtime_error("chat-dumper binary not found or not executable: " + bin);
  if (options_.consumer.empty()) options_.consumer = "d" + random_tag();
  std::vector<std::string> argv = {
      bin,
      "--batch",
      std::to_string(options_.batch),
      "--claim-idle-ms",
      std::to_string(options_.claim_idle_ms),
      "--interval-ms",
      std::to_string(options_.interval_ms),
      "--redis-host",
      env.redis_host,
      "--redis-port",
      std::to_string(options_.redis_port.value_or(env.redis_port)),
      "--mysql-host",
      env.mysql_host,
      "--mysql-port",
      std::to_string(env.mysql_port),
      "--mysql-user",
      env.mysql_user,
      "--mysql-database",
      env.mysql_database,
      "--log-level",
      options_.log_level,
  };
  if (!options_.default_consumer) argv.insert(argv.end(), {"--consumer", options_.consumer});
  if (options_.once) argv.push_back("--once");
  argv.insert(argv.end(), options_.extra_args.begin(), options_.extra_args.end());
  // Passwords through the environment, as for chatd.
  std::vector<std::pair<std::string, std::string>> extra_env = {
      {"CHATD_MYSQL_PASSWORD", env.mysql_password}};
  if (!env.redis_password.empty())
    extra_env.emplace_back("CHATD_REDIS_PASSWORD", env.redis_password);
  // Several processes may share one consumer name over time (restart after a crash): one log
  // file per process.
  const auto log_path =
      scratch_dir() / ("dumper-" + options_.consumer + "-" + random_tag() + ".log");
  process_ = std::make_unique<Subprocess>(std::move(argv), std::move(extra_env), log_path);
}

DumperProcess::~DumperProcess() {
  process_->stop();
  if (::testing::Test::HasFailure()) {
    std::cerr << "---- chat-dumper " << options_.consumer << " (" << process_->log_path()
              << "), last log lines:\n"
              << tail_lines(process_->log(), 25) << "\n---- end of chat-dumper log\n";
  } else {
    std::error_code ec;
    std::filesystem::remove(process_->log_path(), ec);
  }
}

void DumperProcess::kill() {
  process_->signal(SIGKILL);
  process_->wait_exit(std::chrono::milliseconds(5000));
}

int DumperProcess::stop(std::chrono::milliseconds grace) {
  return process_->stop(grace);
}

std::optional<int> DumperProcess::wait_exit(std::chrono::milliseconds timeout) {
  return process_->wait_exit(timeout);
}

bool DumperProcess::wait_log(const std::string& text, std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (process_->log().find(text) != std::string::npos) return true;
    if (std::chrono::steady_clock::now() >= deadline || !process_->running()) {
      return process_->log().find(text) != std::string::npos;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

std::pair<std::int64_t, std::int64_t> DumperProcess::reported_rows() const {
  static const std::regex line(R"(dump: (\d+) messages and (\d+) events written)");
  const std::string text = process_->log();
  std::pair<std::int64_t, std::int64_t> sum{0, 0};
  for (auto it = std::sregex_iterator(text.begin(), text.end(), line); it != std::sregex_iterator();
       ++it) {
    sum.first += std::stoll((*it)[1].str());
    sum.second += std::stoll((*it)[2].str());
  }
  return sum;
}

}  // namespace chat::test
