#include "subprocess.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <string_view>
#include <thread>

extern char** environ;

namespace chat::test {

Subprocess::Subprocess(std::vector<std::string> argv,
                       std::vector<std::pair<std::string, std::string>> extra_env,
                       std::filesystem::path log_path)
    : log_path_(std::move(log_path)) {
  if (argv.empty()) throw std::invalid_argument("Subprocess: empty argv");
  // Everything the child needs is prepared before fork: after fork only async-signal-safe
  // calls are made (the test binary may have threads from gtest or libraries).
  std::vector<char*> cargv;
  for (auto& a : argv) cargv.push_back(a.data());
  cargv.push_back(nullptr);

  std::vector<std::string> env_strings;
  for (char** e = environ; *e; ++e) {
    const std::string entry(*e);
    bool overridden = false;
    for (const auto& [k, v] : extra_env)
      if (entry.compare(0, k.size() + 1, k + "=") == 0) overridden = true;
    if (!overridden) env_strings.push_back(entry);
  }
  for (const auto& [k, v] : extra_env) env_strings.push_back(k + "=" + v);
  std::vector<char*> cenv;
  for (auto& e : env_strings) cenv.push_back(e.data());
  cenv.push_back(nullptr);

  // execvpe's PATH search, done here so the child only calls execve.
  std::vector<std::string> candidates;
  if (argv[0].find('/') != std::string::npos) {
    candidates.push_back(argv[0]);
  } else {
    const char* path = std::getenv("PATH");
    std::stringstream ss(path ? path : "/usr/local/bin:/usr/bin:/bin");
    for (std::string dir; std::getline(ss, dir, ':');)
      if (!dir.empty()) candidates.push_back(dir + "/" + argv[0]);
  }

  const int log_fd = ::open(log_path_.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
  if (log_fd < 0)
    throw std::runtime_error("open " + log_path_.string() + ": " + std::strerror(errno));
  const int null_fd = ::open("/dev/null", O_RDONLY | O_CLOEXEC);
  const pid_t parent = ::getpid();

  const pid_t pid = ::fork();
  if (pid < 0) {
    const int err = errno;
    ::close(log_fd);
    if (null_fd >= 0) ::close(null_fd);
    throw std::runtime_error(std::string("fork: ") + std::strerror(err));
  }
  if (pid == 0) {
    ::prctl(PR_SET_PDEATHSIG, SIGTERM);
    if (::getppid() != parent) ::_exit(126);  // parent died before prctl took effect
    ::setpgid(0, 0);  // own group: a Ctrl-C in a terminal reaches the test, which stops us
    if (null_fd >= 0) ::dup2(null_fd, STDIN_FILENO);
    ::dup2(log_fd, STDOUT_FILENO);
    ::dup2(log_fd, STDERR_FILENO);
    for (const auto& c : candidates) ::execve(c.c_str(), cargv.data(), cenv.data());
    static const char kMsg[] = "Subprocess: exec failed\n";
    (void)!::write(STDERR_FILENO, kMsg, sizeof kMsg - 1);
    ::_exit(127);
  }
  ::close(log_fd);
  if (null_fd >= 0) ::close(null_fd);
  pid_ = pid;
}

Subprocess::~Subprocess() {
  if (pid_ > 0) stop();
}

Subprocess::Subprocess(Subprocess&& other) noexcept
    : pid_(std::exchange(other.pid_, -1)),
      status_(other.status_),
      log_path_(std::move(other.log_path_)) {}

Subprocess& Subprocess::operator=(Subprocess&& other) noexcept {
  if (this != &other) {
    if (pid_ > 0) stop();
    pid_ = std::exchange(other.pid_, -1);
    status_ = other.status_;
    log_path_ = std::move(other.log_path_);
  }
  return *this;
}

void Subprocess::reap(int wait_status) {
  if (WIFEXITED(wait_status))
    status_ = WEXITSTATUS(wait_status);
  else if (WIFSIGNALED(wait_status))
    status_ = 128 + WTERMSIG(wait_status);
  else
    status_ = -1;
  pid_ = -1;
}

bool Subprocess::running() {
  if (pid_ <= 0) return false;
  int st = 0;
  const pid_t r = ::waitpid(pid_, &st, WNOHANG);
  if (r == pid_) {
    reap(st);
    return false;
  }
  return r == 0;
}

std::optional<int> Subprocess::wait_exit(std::chrono::milliseconds timeout) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  while (running()) {
    if (std::chrono::steady_clock::now() >= deadline) return std::nullopt;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return status_;
}

int Subprocess::stop(std::chrono::milliseconds grace) {
  if (pid_ > 0 && running()) {
    ::kill(pid_, SIGCONT);  // a stopped process cannot handle SIGTERM
    ::kill(pid_, SIGTERM);
    if (!wait_exit(grace)) {
      ::kill(pid_, SIGKILL);
      int st = 0;
      if (::waitpid(pid_, &st, 0) == pid_) reap(st);
    }
  }
  return status_.value_or(-1);
}

void Subprocess::signal(int signo) {
  if (pid_ > 0) ::kill(pid_, signo);
}

std::string Subprocess::log() const {
  std::ifstream in(log_path_, std::ios::binary);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

std::string tail_lines(const std::string& text, std::size_t lines) {
  std::size_t pos = text.size();
  if (pos > 0 && text[pos - 1] == '\n') --pos;
  for (std::size_t n = 0; pos > 0; --pos) {
    if (text[pos - 1] == '\n' && ++n == lines) break;
  }
  return text.substr(pos);
}

std::optional<ProcessMemory> process_memory(pid_t pid) {
  if (pid <= 0) return std::nullopt;
  std::ifstream in("/proc/" + std::to_string(pid) + "/status");
  if (!in) return std::nullopt;
  // Lines look like "VmRSS:\t   12345 kB".
  std::optional<std::uint64_t> rss_kib, hwm_kib;
  std::string line;
  while (std::getline(in, line)) {
    auto value_kib = [&line](std::string_view key) -> std::optional<std::uint64_t> {
      if (line.rfind(key, 0) != 0) return std::nullopt;
      std::istringstream fields(line.substr(key.size()));
      std::uint64_t kib = 0;
      if (!(fields >> kib)) return std::nullopt;
      return kib;
    };
    if (auto v = value_kib("VmRSS:")) rss_kib = v;
    if (auto v = value_kib("VmHWM:")) hwm_kib = v;
  }
  if (!rss_kib || !hwm_kib) return std::nullopt;
  return ProcessMemory{*rss_kib * 1024, *hwm_kib * 1024};
}

}  // namespace chat::test
