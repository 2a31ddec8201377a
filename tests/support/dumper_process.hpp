// The chat-dumper job under test (server/src/dump/main.cpp) as an RAII child process, against
// the CHAT_* services or private ones.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service_env.hpp"
#include "subprocess.hpp"

namespace chat::test {

/// How to start chat-dumper (its --help lists the flags).
struct DumperOptions {
  std::string consumer;           // --consumer; empty: "d<random>"
  bool default_consumer = false;  // true: no --consumer at all (the binary's host-pid default)
  std::size_t batch = 500;        // --batch
  int claim_idle_ms = 30000;      // --claim-idle-ms
  int interval_ms = 100;          // --interval-ms (resident mode)
  bool once = false;              // --once: one run, then exit
  std::optional<std::uint16_t> redis_port;  // default: env.redis_port
  std::string log_level = "info";
  std::vector<std::string> extra_args;  // appended verbatim
};

/// A running chat-dumper. The destructor stops it (SIGTERM, SIGKILL after 5 s) and prints the
/// tail of its log if the current test failed. Throws std::runtime_error when the binary is
/// missing.
class DumperProcess {
 public:
  /// Starts it against `env` (MySQL coordinates and password, Redis host/password).
  DumperProcess(const ServiceEnv& env, DumperOptions options);
  ~DumperProcess();
  DumperProcess(const DumperProcess&) = delete;
  DumperProcess& operator=(const DumperProcess&) = delete;

  const std::string& consumer() const noexcept { return options_.consumer; }

  /// True while the process runs.
  bool running() { return process_->running(); }

  /// SIGKILL and wait for the exit: a crashed dumper.
  void kill();

  /// SIGTERM and wait (bounded); returns the exit status (0 = clean).
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  /// Waits for the exit (for --once); the exit status, or nullopt on timeout.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  /// Its exit status once it has exited (128 + n when killed by signal n).
  std::optional<int> exit_status() const noexcept { return process_->exit_status(); }

  /// Waits (bounded) until its log contains `text`; true when it did.
  bool wait_log(const std::string& text, std::chrono::milliseconds timeout);

  /// Waits until it is up (resident: it logged that it runs), so a SIGTERM finds its handler.
  bool wait_started(std::chrono::milliseconds timeout = std::chrono::milliseconds(5000)) {
    return wait_log("resident:", timeout);
  }

  /// Everything it logged so far.
  std::string log() const { return process_->log(); }

  /// Messages and events it reported as written ("dump: N messages and M events ..." lines).
  std::pair<std::int64_t, std::int64_t> reported_rows() const;

  /// Path of the chat-dumper binary (CHAT_DUMPER_BINARY env override, else the CMake target's).
  static std::string binary();

 private:
  DumperOptions options_;
  std::unique_ptr<Subprocess> process_;
};

}  // namespace chat::test
