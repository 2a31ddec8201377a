#include "service/login_throttle.hpp"

#include <sodium.h>

#include <algorithm>
#include <cctype>

namespace chat::service {

namespace {

// Doublings beyond this cannot matter (2^31 * 1 ms is weeks); keeps the shift defined.
constexpr std::uint32_t kMaxDoublings = 31;

}  // namespace

LoginThrottle::LoginThrottle(LoginThrottleOptions options)
    : options_(options),
      users_(options.window, std::max<std::size_t>(options.max_keys, 1)),
      addresses_(options.window, std::max<std::size_t>(options.max_keys, 1)) {
  options_.max_delay = std::max(options_.max_delay, options_.base_delay);
  static_assert(crypto_shorthash_KEYBYTES == 16);
  crypto_shorthash_keygen(hash_key_.data());
}

std::chrono::milliseconds LoginThrottle::record_failure(std::string_view login,
                                                        std::string_view address,
                                                        Clock::time_point now) {
  const auto by_user = users_.fail(user_key(login), now);
  const auto by_address = addresses_.fail(std::string(address), now);
  return delay_for(std::max(by_user, by_address));
}

void LoginThrottle::record_success(std::string_view login) {
  users_.erase(user_key(login));
}

std::uint32_t LoginThrottle::user_failures(std::string_view login, Clock::time_point now) const {
  return users_.failures(user_key(login), now);
}

std::uint32_t LoginThrottle::address_failures(std::string_view address,
                                              Clock::time_point now) const {
  return addresses_.failures(std::string(address), now);
}

std::chrono::milliseconds LoginThrottle::delay_for(std::uint32_t failures) const noexcept {
  if (options_.base_delay.count() <= 0 || failures <= options_.free_failures)
    return std::chrono::milliseconds(0);
  const auto doublings = std::min<std::uint32_t>(
      failures - static_cast<std::uint32_t>(options_.free_failures) - 1, kMaxDoublings);
  const auto max = options_.max_delay.count();
  const auto base = options_.base_delay.count();
  // base * 2^doublings, without overflowing on the way to the cap.
  if (base > (max >> doublings)) return options_.max_delay;
  return std::chrono::milliseconds(std::min<long long>(base << doublings, max));
}

std::string LoginThrottle::user_key(std::string_view login) const {
  std::string lower(login);
  std::transform(lower.begin(), lower.end(), lower.begin(),
                 [](unsigned char c) { return static_cast<char>(std::tolower(c)); });
  std::string key(crypto_shorthash_BYTES, '\0');
  crypto_shorthash(reinterpret_cast<unsigned char*>(key.data()),
                   reinterpret_cast<const unsigned char*>(lower.data()), lower.size(),
                   hash_key_.data());
  return key;
}

// ---- Table -----------------------------------------------------------------------------------

std::uint32_t LoginThrottle::Table::fail(const std::string& key, Clock::time_point now) {
  prune(now);
  auto it = entries_.find(key);
  if (it == entries_.end()) {
    if (entries_.size() >= max_keys_) {
      // Full: the key that failed least recently makes room (an attacker spraying keys
      // pushes out old entries, never the ones under attack right now).
      entries_.erase(order_.front());
      order_.pop_front();
    }
    order_.push_back(key);
    it = entries_.emplace(key, Entry{0, now, std::prev(order_.end())}).first;
  } else {
    order_.splice(order_.end(), order_, it->second.order);  // now the most recent
  }
  it->second.failures = it->second.failures == UINT32_MAX ? UINT32_MAX : it->second.failures + 1;
  it->second.last = now;
  return it->second.failures;
}

std::uint32_t LoginThrottle::Table::failures(const std::string& key, Clock::time_point now) const {
  const auto it = entries_.find(key);
  if (it == entries_.end() || now - it->second.last >= window_) return 0;
  return it->second.failures;
}

void LoginThrottle::Table::erase(const std::string& key) {
  const auto it = entries_.find(key);
  if (it == entries_.end()) return;
  order_.erase(it->second.order);
  entries_.erase(it);
}

void LoginThrottle::Table::prune(Clock::time_point now) {
  // order_ is sorted by latest failure, so the expired keys are at its front.
  while (!order_.empty()) {
    const auto it = entries_.find(order_.front());
    if (it != entries_.end() && now - it->second.last < window_) break;
    if (it != entries_.end()) entries_.erase(it);
    order_.pop_front();
  }
}

}  // namespace chat::service
