// Growing delays for failed logins (brute-force protection of the `login` op).
#pragma once

#include <array>
#include <chrono>
#include <cstddef>
#include <cstdint>
#include <list>
#include <string>
#include <string_view>
#include <unordered_map>

namespace chat::service {

/// Settings of LoginThrottle (chatd --login-failure-delay-ms, --login-failure-max-delay-ms;
/// the rest are fixed defaults).
struct LoginThrottleOptions {
  std::size_t free_failures = 3;  // failures within the window answered without delay
  std::chrono::milliseconds window{15 * 60 * 1000};  // a key is forgotten this long after its
                                                     // latest failure
  std::chrono::milliseconds base_delay{250};         // delay of the first delayed failure; 0: off
  std::chrono::milliseconds max_delay{8000};         // cap of the doubling
  std::size_t max_keys = 100000;  // per table (users, addresses); the oldest go first
};

/// Counts failed logins per user (the lowercased login string, name or email) and per client
/// address, and says how long to wait before answering a failed login with
/// invalid_credentials: nothing for the first free_failures failures of a key within the
/// window, then base_delay, doubling with every further failure up to max_delay; the larger
/// of the user's and the address's delay applies. A successful login clears the user's
/// count (not the address's). Only failures are delayed, so an attacker cannot lock the
/// real user out.
///
/// Memory is bounded: keys expire `window` after their latest failure, and each table holds
/// at most max_keys keys (the least recently failed are dropped). User keys are stored as a
/// keyed 64-bit SipHash of the login string (random key per process), so long or hostile
/// login strings cost 8 bytes each, collisions cannot be aimed at a victim, and no login
/// string (sometimes a mistyped password) is kept in memory. Pure: the caller passes the time.
/// Not thread-safe (used on the io_context thread).
class LoginThrottle {
 public:
  using Clock = std::chrono::steady_clock;

  /// Options as given; a max_delay below base_delay is raised to base_delay.
  explicit LoginThrottle(LoginThrottleOptions options);

  /// Records one failed login of `login` from `address` at `now`; returns how long to wait
  /// before answering it (0 when not delayed).
  std::chrono::milliseconds record_failure(std::string_view login, std::string_view address,
                                           Clock::time_point now);

  /// Records a successful login: forgets the failures of `login` (any case).
  void record_success(std::string_view login);

  /// Failures counted now for a login string (any case), expired ones not counted.
  std::uint32_t user_failures(std::string_view login, Clock::time_point now) const;
  /// Failures counted now for a client address.
  std::uint32_t address_failures(std::string_view address, Clock::time_point now) const;

  /// The delay for the n-th failure in a row of one key (n >= 1).
  std::chrono::milliseconds delay_for(std::uint32_t failures) const noexcept;

  /// Keys held now (expired ones may linger until the next record_failure prunes them).
  std::size_t tracked_users() const noexcept { return users_.size(); }
  std::size_t tracked_addresses() const noexcept { return addresses_.size(); }

  const LoginThrottleOptions& options() const noexcept { return options_; }

 private:
  /// Failure counts of one kind of key, with expiry and a size cap (LRU by latest failure).
  class Table {
   public:
    Table(std::chrono::milliseconds window, std::size_t max_keys)
        : window_(window), max_keys_(max_keys) {}
    std::uint32_t fail(const std::string& key, Clock::time_point now);
    std::uint32_t failures(const std::string& key, Clock::time_point now) const;
    void erase(const std::string& key);
    std::size_t size() const noexcept { return entries_.size(); }

   private:
    struct Entry {
      std::uint32_t failures = 0;
      Clock::time_point last;
      std::list<std::string>::iterator order;
    };
    void prune(Clock::time_point now);

    std::chrono::milliseconds window_;
    std::size_t max_keys_;
    std::unordered_map<std::string, Entry> entries_;
    std::list<std::string> order_;  // keys, least recently failed first
  };

  std::string user_key(std::string_view login) const;

  LoginThrottleOptions options_;
  std::array<unsigned char, 16> hash_key_{};
  Table users_;
  Table addresses_;
};

}  // namespace chat::service
