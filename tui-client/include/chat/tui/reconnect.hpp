// Failover policy of chat-tui without any I/O: which server to try next (the --server list
// plus the live nodes the `nodes` op reports), how long to wait before the attempt
// (exponential backoff with jitter) and when a silent connection counts as dead. The app
// owns the sockets and timers; these classes only decide, so every rule is unit tested.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <random>
#include <string_view>
#include <vector>

#include "chat/protocol/messages.hpp"
#include "chat/tui/options.hpp"

namespace chat::tui {

/// The servers a client may use, in the order it tries them: every --server address as
/// given, then the addresses of live nodes (PROTOCOL.md `nodes`) that are not already in
/// the list. Exact "host:port" text is the identity, so duplicates are dropped; the node the
/// client is connected to is recognised by its name (hello's `node`), so its advertised
/// address does not become a second entry when the user reached it under another name.
class ServerRotation {
 public:
  /// configured: the --server list in order of preference; must not be empty
  /// (std::invalid_argument otherwise). current() starts at its first entry.
  explicit ServerRotation(std::vector<ServerAddress> configured);

  /// The server in use or to be tried next.
  const ServerAddress& current() const noexcept { return servers_[index_]; }
  /// Moves to the next server (wrapping to the first after the last) and returns it. Called
  /// before every reconnect attempt, so the server that just failed is tried last.
  const ServerAddress& advance() noexcept;

  /// Replaces the discovered part of the list by the addresses of `nodes` (the result of
  /// the nodes op on the current connection, current_node = that connection's hello
  /// `node`). Configured servers always stay; discovered ones missing from the newest
  /// answer are dropped (those nodes are gone); invalid addresses are ignored. current()
  /// stays the same server.
  void set_nodes(const std::vector<protocol::NodeInfo>& nodes, std::string_view current_node);

  /// Every known server in rotation order (configured first).
  const std::vector<ServerAddress>& servers() const noexcept { return servers_; }
  /// Position of current() in servers().
  std::size_t index() const noexcept { return index_; }

 private:
  std::size_t configured_count_;
  std::vector<ServerAddress> servers_;
  std::size_t index_ = 0;
};

/// Exponential backoff with jitter between reconnect attempts: attempt n (0-based) waits
/// min(initial * 2^n, max) scaled by a uniform factor in [1 - jitter, 1 + jitter], so many
/// clients cut off by one node's death do not all hit the next node at the same instant.
class Backoff {
 public:
  using Ms = std::chrono::milliseconds;

  /// Tuning; the defaults are chat-tui's: 200 ms doubling to 5 s, +-30 %.
  struct Params {
    Ms initial{200};
    Ms max{5000};
    double jitter = 0.3;  // fraction of the delay, 0 .. 1
  };

  /// seed: for the jitter's random generator (tests pass a fixed one).
  explicit Backoff(Params params, std::uint64_t seed);
  /// Default params, seeded from std::random_device.
  Backoff();

  /// The delay before the next attempt; counts the attempt.
  Ms next();
  /// Back to the first delay (after a successful login).
  void reset() noexcept { attempts_ = 0; }
  /// Attempts counted since the last reset.
  int attempts() const noexcept { return attempts_; }

  /// The delay of attempt n without jitter: min(initial * 2^n, max).
  Ms base_delay(int attempt) const noexcept;
  /// base scaled by 1 + jitter * (2u - 1), u in [0, 1]; never negative.
  static Ms with_jitter(Ms base, double jitter, double u) noexcept;

  const Params& params() const noexcept { return params_; }

 private:
  Params params_;
  int attempts_ = 0;
  std::mt19937_64 rng_;
};

/// Detects a connection that stopped answering (a peer that died without a FIN or RST, a
/// cut network): once a request is written, some frame must arrive within `limit`; every
/// frame received restarts the clock, and with nothing left unanswered it stops. The app
/// pings periodically, so an idle connection is probed too.
class AnswerWatchdog {
 public:
  using Clock = std::chrono::steady_clock;

  /// limit: how long the server may stay silent while a request waits for its answer.
  explicit AnswerWatchdog(std::chrono::milliseconds limit) : limit_(limit) {}

  /// A request was written at `now`; starts the clock unless it is already running.
  void on_sent(Clock::time_point now) noexcept;
  /// A frame arrived at `now`; `unanswered` = requests still waiting for their response.
  void on_received(Clock::time_point now, std::size_t unanswered) noexcept;
  /// True when a request has been waiting and nothing arrived for longer than the limit.
  bool expired(Clock::time_point now) const noexcept;
  /// Stops the clock (connection closed or new).
  void reset() noexcept { waiting_ = false; }

  std::chrono::milliseconds limit() const noexcept { return limit_; }

 private:
  std::chrono::milliseconds limit_;
  bool waiting_ = false;
  Clock::time_point since_{};
};

}  // namespace chat::tui
