#include "chat/tui/reconnect.hpp"

#include <algorithm>
#include <cmath>
#include <stdexcept>

namespace chat::tui {

// ---- ServerRotation --------------------------------------------------------------------------

ServerRotation::ServerRotation(std::vector<ServerAddress> configured)
    : configured_count_(configured.size()), servers_(std::move(configured)) {
  if (servers_.empty()) throw std::invalid_argument("ServerRotation: no server given");
  // --server given twice: keep the first occurrence only.
  std::vector<ServerAddress> unique;
  for (auto& s : servers_) {
    const bool seen = std::any_of(unique.begin(), unique.end(),
                                  [&](const ServerAddress& u) { return u.text == s.text; });
    if (!seen) unique.push_back(std::move(s));
  }
  servers_ = std::move(unique);
  configured_count_ = servers_.size();
}

const ServerAddress& ServerRotation::advance() noexcept {
  index_ = (index_ + 1) % servers_.size();
  return servers_[index_];
}

void ServerRotation::set_nodes(const std::vector<protocol::NodeInfo>& nodes,
                               std::string_view current_node) {
  const ServerAddress cur = current();
  std::vector<ServerAddress> list(
      servers_.begin(), servers_.begin() + static_cast<std::ptrdiff_t>(configured_count_));
  const auto known = [&list](const std::string& text) {
    return std::any_of(list.begin(), list.end(),
                       [&](const ServerAddress& s) { return s.text == text; });
  };
  for (const auto& node : nodes) {
    // Our own node: we reach it as cur, whatever address it advertises.
    if (!current_node.empty() && node.node == current_node) {
      if (!known(cur.text)) list.push_back(cur);
      continue;
    }
    if (known(node.address)) continue;
    if (auto address = parse_server_address(node.address)) list.push_back(std::move(*address));
  }
  // A current server that is neither configured nor listed (an answer without our own node)
  // stays until we leave it, so the rotation continues from where it is.
  if (!known(cur.text)) list.push_back(cur);
  servers_ = std::move(list);
  for (std::size_t i = 0; i < servers_.size(); ++i)
    if (servers_[i].text == cur.text) index_ = i;
}

// ---- Backoff -----------------------------------------------------------------------------------

Backoff::Backoff(Params params, std::uint64_t seed) : params_(params), rng_(seed) {}

Backoff::Backoff() : Backoff(Params{}, std::random_device{}()) {}

Backoff::Ms Backoff::base_delay(int attempt) const noexcept {
  // Doubling stops once the maximum is reached; the shift never overflows.
  Ms delay = params_.initial;
  for (int i = 0; i < attempt && delay < params_.max; ++i) delay *= 2;
  return std::min(delay, params_.max);
}

Backoff::Ms Backoff::with_jitter(Ms base, double jitter, double u) noexcept {
  const double factor = 1.0 + std::clamp(jitter, 0.0, 1.0) * (2.0 * std::clamp(u, 0.0, 1.0) - 1.0);
  return Ms{static_cast<Ms::rep>(std::llround(static_cast<double>(base.count()) * factor))};
}

Backoff::Ms Backoff::next() {
  const Ms base = base_delay(attempts_);
  ++attempts_;
  std::uniform_real_distribution<double> uniform(0.0, 1.0);
  return with_jitter(base, params_.jitter, uniform(rng_));
}

// ---- AnswerWatchdog ----------------------------------------------------------------------------

void AnswerWatchdog::on_sent(Clock::time_point now) noexcept {
  if (waiting_) return;
  waiting_ = true;
  since_ = now;
}

void AnswerWatchdog::on_received(Clock::time_point now, std::size_t unanswered) noexcept {
  waiting_ = unanswered > 0;
  since_ = now;
}

bool AnswerWatchdog::expired(Clock::time_point now) const noexcept {
  return waiting_ && now - since_ > limit_;
}

}  // namespace chat::tui
