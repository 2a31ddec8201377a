// Caps on open client connections: per node and per client address.
#pragma once

#include <boost/asio/ip/address.hpp>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>

namespace chat::net {

/// Settings of ConnectionLimits (chatd --max-connections, --max-connections-per-address).
struct ConnectionLimitOptions {
  std::size_t max_total = 20000;      // open connections of this node
  std::size_t max_per_address = 256;  // open connections from one client IP address
};

/// Counts open connections, in total and per client address, and refuses new ones beyond
/// the caps. An admitted connection holds a Slot; destroying (or releasing) the Slot gives
/// the place back, so a session that ends in any way frees its count (RAII). The counts
/// live in shared state that every Slot co-owns, so Slots may outlive this object (e.g.
/// sessions torn down after the listener at shutdown). Single-threaded (the io_context).
class ConnectionLimits {
  struct Counts {
    ConnectionLimitOptions options;
    std::size_t total = 0;
    std::unordered_map<std::string, std::size_t> per_address;  // only addresses with >= 1
  };

 public:
  /// Why a connection was refused.
  enum class Refusal { node_full, address_full };

  /// One admitted connection's place in the counts. Move-only; gives the place back when
  /// destroyed or released.
  class Slot {
   public:
    Slot(Slot&& other) noexcept = default;
    Slot& operator=(Slot&& other) noexcept;
    Slot(const Slot&) = delete;
    Slot& operator=(const Slot&) = delete;
    ~Slot() { release(); }

    /// The client address this slot counts against (as given to try_acquire).
    const std::string& address() const noexcept { return address_; }
    /// Gives the place back now (idempotent).
    void release() noexcept;

   private:
    friend class ConnectionLimits;
    Slot(std::shared_ptr<Counts> counts, std::string address)
        : counts_(std::move(counts)), address_(std::move(address)) {}

    std::shared_ptr<Counts> counts_;  // null once released
    std::string address_;
  };

  explicit ConnectionLimits(ConnectionLimitOptions options);

  /// Admits one more connection from `address` (a key from address_key()) when neither cap
  /// is reached; otherwise returns nullopt and sets `why`. The node cap is checked first.
  std::optional<Slot> try_acquire(const std::string& address, Refusal& why);

  /// Open connections counted now.
  std::size_t total() const noexcept { return counts_->total; }
  /// Open connections counted now for `address`.
  std::size_t count(const std::string& address) const;
  /// Distinct addresses with at least one open connection (bounded by total()).
  std::size_t addresses() const noexcept { return counts_->per_address.size(); }
  const ConnectionLimitOptions& options() const noexcept { return counts_->options; }

  /// The per-address key of a peer: its IP address as text, IPv4-mapped IPv6 addresses
  /// written as IPv4 (the same client either way). Ports are not part of it.
  static std::string address_key(const boost::asio::ip::address& address);

 private:
  std::shared_ptr<Counts> counts_;
};

}  // namespace chat::net
