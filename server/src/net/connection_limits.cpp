#include "net/connection_limits.hpp"

namespace chat::net {

ConnectionLimits::Slot& ConnectionLimits::Slot::operator=(Slot&& other) noexcept {
  if (this != &other) {
    release();
    counts_ = std::move(other.counts_);
    address_ = std::move(other.address_);
  }
  return *this;
}

void ConnectionLimits::Slot::release() noexcept {
  if (!counts_) return;
  --counts_->total;
  if (const auto it = counts_->per_address.find(address_); it != counts_->per_address.end()) {
    // Entries of addresses without connections go, so the map never outgrows total().
    if (--it->second == 0) counts_->per_address.erase(it);
  }
  counts_.reset();
}

ConnectionLimits::ConnectionLimits(ConnectionLimitOptions options)
    : counts_(std::make_shared<Counts>()) {
  counts_->options = options;
}

std::optional<ConnectionLimits::Slot> ConnectionLimits::try_acquire(const std::string& address,
                                                                    Refusal& why) {
  if (counts_->total >= counts_->options.max_total) {
    why = Refusal::node_full;
    return std::nullopt;
  }
  const auto it = counts_->per_address.find(address);
  if (it != counts_->per_address.end() && it->second >= counts_->options.max_per_address) {
    why = Refusal::address_full;
    return std::nullopt;
  }
  ++counts_->per_address[address];
  ++counts_->total;
  return Slot(counts_, address);
}

std::size_t ConnectionLimits::count(const std::string& address) const {
  const auto it = counts_->per_address.find(address);
  return it == counts_->per_address.end() ? 0 : it->second;
}

std::string ConnectionLimits::address_key(const boost::asio::ip::address& address) {
  if (address.is_v6() && address.to_v6().is_v4_mapped())
    return boost::asio::ip::make_address_v4(boost::asio::ip::v4_mapped, address.to_v6())
        .to_string();
  return address.to_string();
}

}  // namespace chat::net
