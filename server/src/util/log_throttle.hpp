// Rate-limited logging: one line per burst of similar events instead of one per event.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>

namespace chat::util {

/// Decides which of a stream of similar events (e.g. rejected connections) get a log line:
/// the first one, then at most one per `period`; the events held back in between are
/// counted and reported with the next line let through. So an attacker opening thousands
/// of sockets costs a few log lines, not thousands. Pure: the caller passes the time.
class LogThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  /// period: least time between two lines let through.
  explicit LogThrottle(Clock::duration period) noexcept : period_(period) {}

  /// Records one event at `now`. Returns how many events were held back since the last line
  /// let through when this one should be logged (0 for the first of a burst), nullopt when
  /// it should not.
  std::optional<std::uint64_t> admit(Clock::time_point now) noexcept {
    if (logged_once_ && now - last_logged_ < period_) {
      ++suppressed_;
      return std::nullopt;
    }
    logged_once_ = true;
    last_logged_ = now;
    const auto held_back = suppressed_;
    suppressed_ = 0;
    return held_back;
  }

  /// Events held back since the last line let through.
  std::uint64_t suppressed() const noexcept { return suppressed_; }

 private:
  Clock::duration period_;
  Clock::time_point last_logged_{};
  bool logged_once_ = false;
  std::uint64_t suppressed_ = 0;
};

}  // namespace chat::util
