// Runs a command-line program to completion (e.g. chatctl) with stdin text and captured
// stdout/stderr kept apart, bounded in time.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

namespace chat::test {

/// What a finished command left behind.
struct CommandResult {
  int exit_status = -1;  // exit code, or 128 + signal number (also after a timeout kill)
  bool timed_out = false;
  std::string out;  // stdout
  std::string err;  // stderr
};

/// Runs argv[0] (searched in PATH when it has no '/') with the current environment plus
/// extra_env, writes stdin_text to its stdin and closes it, and waits up to `timeout` (then
/// SIGKILL, timed_out = true). Throws std::runtime_error when pipes or fork fail; a failed
/// exec shows as exit status 127 with the reason in err.
CommandResult run_command(const std::vector<std::string>& argv,
                          const std::vector<std::pair<std::string, std::string>>& extra_env = {},
                          const std::string& stdin_text = "",
                          std::chrono::milliseconds timeout = std::chrono::milliseconds(20000));

}  // namespace chat::test
