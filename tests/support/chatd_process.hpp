// The chatd under test as an RAII child process (flags as in notes/CONTEXT.md, "chatd
// command line"), started on a free port against the CHAT_* services.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "service_env.hpp"
#include "subprocess.hpp"
#include "test_client.hpp"

namespace chat::test {

/// How to start chatd. Intervals are short so that tests of schedule, dump and timeout
/// behaviour finish in seconds.
struct ChatdOptions {
  std::string node_id;                      // empty: "t<random>-<port>"
  std::optional<std::string> advertise;     // --advertise, when set
  std::optional<std::uint16_t> redis_port;  // default: CHAT_REDIS_PORT
  std::optional<std::uint16_t> mysql_port;  // default: CHAT_MYSQL_PORT
  int schedule_poll_ms = 300;
  int dump_interval_ms = 300;
  int grace_ms = 1500;
  int idle_timeout_ms = 20000;
  int heartbeat_ms = 300;
  std::string log_level = "debug";
  std::vector<std::string> extra_args;  // appended verbatim
  Millis start_timeout{15000};          // until "listening on" (or a connect) succeeds
  bool wait_until_listening = true;     // false: the caller calls wait_listening() later
};

/// A running chatd. The constructor returns once it accepts connections; the destructor stops
/// it (SIGTERM, then SIGKILL after 5 s), fails the test if chatd had exited on its own (a
/// crash), and, if the current test failed, prints the tail of its log. Throws std::runtime_error
/// (test fails) when the binary is missing, the services are not configured, or it does not come up
/// in time.
class ChatdProcess {
 public:
  explicit ChatdProcess(ChatdOptions options = {});

  /// Waits until the node accepts connections (only needed after wait_until_listening =
  /// false, e.g. to start several nodes at the same moment). Throws std::runtime_error.
  void wait_listening();
  ~ChatdProcess();
  ChatdProcess(const ChatdProcess&) = delete;
  ChatdProcess& operator=(const ChatdProcess&) = delete;

  std::uint16_t port() const noexcept { return port_; }
  const std::string& host() const noexcept { return host_; }
  /// "127.0.0.1:<port>", the --listen address.
  std::string address() const { return host_ + ":" + std::to_string(port_); }
  const std::string& node_id() const noexcept { return node_id_; }

  /// A new connection to this node.
  TestClient connect(Millis timeout = kDefaultWait) const;

  /// True while the process runs.
  bool alive();

  /// The process id while it runs (-1 once reaped or never started), e.g. to read its memory
  /// with process_memory().
  pid_t pid() const noexcept { return process_ ? process_->pid() : -1; }

  /// SIGTERM and wait (bounded); returns the exit status (0 = clean; 128+n = killed by signal n).
  int stop(Millis grace = Millis(5000));

  /// SIGKILL: a crashed node.
  void kill();

  /// The process' log (stderr + stdout) so far.
  std::string log() const;

  /// Path of the chatd binary (CHATD_BINARY env override, else the CMake target's file).
  static std::string binary();

 private:
  void spawn();
  bool wait_ready(std::string& failure);

  ChatdOptions options_;
  std::vector<std::string> argv_;
  std::string host_ = "127.0.0.1";
  std::uint16_t port_ = 0;
  std::string node_id_;
  std::unique_ptr<Subprocess> process_;
  bool stopped_ = false;  // stopped by the test: exiting is then expected, not a crash
};

}  // namespace chat::test
