// One at a time per key, for coroutines on one io_context.
#pragma once

#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/steady_timer.hpp>
#include <cstddef>
#include <deque>
#include <memory>
#include <string>
#include <unordered_map>

namespace chat::service {

/// Lets one holder per key through at a time; later comers with the same key wait, first
/// come first served, while other keys pass freely. ChatService keys it by client address
/// around the Argon2id verification of `login`: the crypto thread then holds at most one
/// guess per address in its queue, so one address opening many connections and sending a
/// wrong password on each cannot make everyone else's login wait behind all of its guesses.
///
/// Memory: one entry per key held or waited for, removed when the last holder leaves; the
/// waiters of a key are bounded by the connections that may wait (one request each).
/// Single-threaded (the io_context thread). Destroying the gate lets every waiter in (it is
/// shutting down); a Pass may outlive the gate (then it does nothing).
class KeyedGate {
  struct State {
    State() = default;
    State(const State&) = delete;
    State& operator=(const State&) = delete;
    // The gate is gone (shutdown): every waiter is let go, so no coroutine waits forever.
    ~State();
    // A key is present while someone holds it; its waiters are woken in order.
    std::unordered_map<std::string, std::deque<std::shared_ptr<boost::asio::steady_timer>>> lanes;
  };

 public:
  /// Holding a key; leaving it (destruction) lets the next waiter of that key in.
  class Pass {
   public:
    Pass(Pass&& other) noexcept = default;
    Pass& operator=(Pass&&) = delete;
    Pass(const Pass&) = delete;
    Pass& operator=(const Pass&) = delete;
    ~Pass();

   private:
    friend class KeyedGate;
    Pass(std::weak_ptr<State> state, std::string key)
        : state_(std::move(state)), key_(std::move(key)) {}

    std::weak_ptr<State> state_;  // expired or reset: nothing to give back
    std::string key_;
  };

  /// ex: the executor of the waiting coroutines' wake-up timers.
  explicit KeyedGate(boost::asio::any_io_executor ex)
      : ex_(std::move(ex)), state_(std::make_shared<State>()) {}

  /// Waits until `key` is free (at once when it is) and returns the Pass holding it.
  boost::asio::awaitable<Pass> enter(std::string key);

  /// Keys held now.
  std::size_t held_keys() const noexcept { return state_->lanes.size(); }
  /// Coroutines waiting for `key` now.
  std::size_t waiting(const std::string& key) const;

 private:
  boost::asio::any_io_executor ex_;
  std::shared_ptr<State> state_;
};

}  // namespace chat::service
