// A child process owned by a test (chatd, redis-server): started with its output in a log file,
// always stopped by its destructor, and never outliving the test process.
#pragma once

#include <sys/types.h>

#include <chrono>
#include <cstdint>
#include <filesystem>
#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace chat::test {

/// RAII child process. stdout and stderr go to log_path (appended); stdin is /dev/null. The
/// child gets SIGTERM if the test process dies (PR_SET_PDEATHSIG), so a crashed or timed-out
/// test leaves no servers behind. PR_SET_PDEATHSIG follows the *thread* that forked: create
/// Subprocess objects on a thread that outlives them (the test's main thread).
class Subprocess {
 public:
  /// Starts argv[0] (searched in PATH when it has no '/') with the current environment plus
  /// extra_env. Throws std::runtime_error if fork/exec setup fails; a failed exec shows up as
  /// exit status 127 and a line in the log.
  Subprocess(std::vector<std::string> argv,
             std::vector<std::pair<std::string, std::string>> extra_env,
             std::filesystem::path log_path);
  ~Subprocess();
  Subprocess(const Subprocess&) = delete;
  Subprocess& operator=(const Subprocess&) = delete;
  Subprocess(Subprocess&& other) noexcept;
  Subprocess& operator=(Subprocess&& other) noexcept;

  /// The child's pid (-1 after it was reaped).
  pid_t pid() const noexcept { return pid_; }

  /// True while the child has not exited (reaps it if it has).
  bool running();

  /// Exit status once exited: the exit code, or 128 + signal number when killed by a signal.
  std::optional<int> exit_status() const noexcept { return status_; }

  /// Waits up to `timeout` for the child to exit on its own; returns its status if it did.
  std::optional<int> wait_exit(std::chrono::milliseconds timeout);

  /// Sends SIGTERM, waits up to `grace`, then SIGKILL (and waits for that too). Returns the
  /// exit status. Idempotent.
  int stop(std::chrono::milliseconds grace = std::chrono::milliseconds(5000));

  /// Sends a signal without waiting (e.g. SIGKILL for a crash, SIGSTOP for a hang).
  void signal(int signo);

  /// Everything the child has written so far.
  std::string log() const;

  const std::filesystem::path& log_path() const noexcept { return log_path_; }

 private:
  void reap(int wait_status);

  pid_t pid_ = -1;
  std::optional<int> status_;
  std::filesystem::path log_path_;
};

/// The last `lines` lines of a text (for failure messages).
std::string tail_lines(const std::string& text, std::size_t lines);

/// Resident memory of a process, from /proc/<pid>/status, in bytes.
struct ProcessMemory {
  std::uint64_t rss_bytes = 0;  // VmRSS: resident now
  std::uint64_t hwm_bytes = 0;  // VmHWM: peak resident since the process started
};

/// Reads VmRSS and VmHWM of `pid` (e.g. to bound a server's memory under abuse). nullopt when
/// the process is gone (or a zombie, which has no such lines) or /proc is unreadable.
std::optional<ProcessMemory> process_memory(pid_t pid);

}  // namespace chat::test
