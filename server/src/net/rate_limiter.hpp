// Request rate limiting of one connection (PROTOCOL.md error `rate_limited`).
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>

namespace chat::net {

/// A token bucket: holds up to `burst` tokens, gains `rate` tokens per second, and every
/// admitted event takes one. Pure arithmetic on the time points it is given (no clock of
/// its own), so tests drive it with made-up times. A rate of 0 means unlimited.
class TokenBucket {
 public:
  using Clock = std::chrono::steady_clock;

  /// rate: tokens per second (0: every take() succeeds); burst: bucket size in tokens
  /// (values below 1 are treated as 1). The bucket starts full at `now`.
  TokenBucket(double rate, double burst, Clock::time_point now) noexcept
      : rate_(std::max(rate, 0.0)), burst_(std::max(burst, 1.0)), tokens_(burst_), last_(now) {}

  /// Refills for the time since the last call, then takes one token if there is one.
  /// Returns false (and takes nothing) when the bucket is empty. A `now` earlier than a
  /// previous one is treated as no time passing.
  bool take(Clock::time_point now) noexcept {
    if (rate_ <= 0) return true;
    refill(now);
    if (tokens_ < 1.0) return false;
    tokens_ -= 1.0;
    return true;
  }

  /// Tokens available at `now` (refilled, not taken); for tests and diagnostics.
  double available(Clock::time_point now) noexcept {
    if (rate_ <= 0) return burst_;
    refill(now);
    return tokens_;
  }

  /// True when the bucket never refuses (rate 0).
  bool unlimited() const noexcept { return rate_ <= 0; }

 private:
  void refill(Clock::time_point now) noexcept {
    if (now <= last_) return;
    const double seconds = std::chrono::duration<double>(now - last_).count();
    tokens_ = std::min(burst_, tokens_ + seconds * rate_);
    last_ = now;
  }

  double rate_;
  double burst_;
  double tokens_;
  Clock::time_point last_;
};

/// Settings of RequestRateLimiter (chatd --rate-limit, --rate-burst).
struct RateLimitOptions {
  double per_second = 100;  // sustained requests per second per connection; 0: unlimited
  double burst = 200;       // requests a connection may send at once
  // Flood: refusals beyond flood_factor * burst, arriving faster than flood_factor * the
  // rate, close the connection. A client that honours rate_limited never gets near that.
  double flood_factor = 10;
};

/// The per-connection request limiter of net::Session. Every non-blank client frame,
/// readable or not, costs one token, so floods of garbage are limited like floods of
/// requests. Verdicts: allow (serve it), reject (answer rate_limited, do not serve it) and
/// disconnect (a flood: close the connection).
///
/// Flood detection is a second token bucket, of refusals: it holds flood_factor * burst and
/// refills at flood_factor * per_second, and every refused frame takes one. So a client
/// sending at up to about (1 + flood_factor) times its rate is only ever refused, while one
/// that pipelines, say, 100 times its rate is closed after roughly flood_factor * burst
/// refusals, even though the odd frame in between is allowed as tokens trickle back.
class RequestRateLimiter {
 public:
  using Clock = TokenBucket::Clock;
  enum class Verdict { allow, reject, disconnect };

  /// Both buckets start full at `now`.
  RequestRateLimiter(const RateLimitOptions& options, Clock::time_point now) noexcept
      : requests_(options.per_second, options.burst, now),
        refusals_(options.per_second * std::max(options.flood_factor, 1.0),
                  std::max(options.burst, 1.0) * std::max(options.flood_factor, 1.0), now) {}

  /// Verdict for one frame received at `now`.
  Verdict admit(Clock::time_point now) noexcept {
    if (requests_.take(now)) return Verdict::allow;
    ++rejected_total_;
    return refusals_.take(now) ? Verdict::reject : Verdict::disconnect;
  }

  /// Frames refused over the connection's lifetime.
  std::uint64_t rejected_total() const noexcept { return rejected_total_; }

 private:
  TokenBucket requests_;
  TokenBucket refusals_;
  std::uint64_t rejected_total_ = 0;
};

}  // namespace chat::net
