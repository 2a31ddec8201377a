#include "service/keyed_gate.hpp"

#include <boost/asio/redirect_error.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chat::service {

KeyedGate::State::~State() {
  for (auto& [key, waiters] : lanes)
    for (auto& wake : waiters) wake->cancel();
}

KeyedGate::Pass::~Pass() {
  const auto state = state_.lock();
  if (!state) return;  // moved from, or the gate is gone
  const auto lane = state->lanes.find(key_);
  if (lane == state->lanes.end()) return;
  if (lane->second.empty()) {
    state->lanes.erase(lane);  // nobody waits: the key is free
    return;
  }
  // Hand the key straight to the next waiter (it stays held): waking it is all it takes.
  const auto next = std::move(lane->second.front());
  lane->second.pop_front();
  next->cancel();
}

boost::asio::awaitable<KeyedGate::Pass> KeyedGate::enter(std::string key) {
  // After a wait, `this` may be gone (shutdown): only the state, weakly held, is used then.
  std::weak_ptr<State> state = state_;
  const auto [lane, fresh] = state_->lanes.try_emplace(key);
  if (!fresh) {
    auto wake = std::make_shared<boost::asio::steady_timer>(
        ex_, boost::asio::steady_timer::time_point::max());
    lane->second.push_back(wake);
    boost::system::error_code ec;
    // Only a leaving Pass cancels the timer; then the key is ours.
    co_await wake->async_wait(boost::asio::redirect_error(boost::asio::use_awaitable, ec));
  }
  co_return Pass(std::move(state), std::move(key));
}

std::size_t KeyedGate::waiting(const std::string& key) const {
  const auto lane = state_->lanes.find(key);
  return lane == state_->lanes.end() ? 0 : lane->second.size();
}

}  // namespace chat::service
