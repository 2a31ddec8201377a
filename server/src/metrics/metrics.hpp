// What a node counts for Prometheus, and the HTTP endpoint that serves it (prometheus-cpp).
#pragma once

#include <prometheus/counter.h>
#include <prometheus/family.h>
#include <prometheus/gauge.h>
#include <prometheus/histogram.h>
#include <prometheus/registry.h>

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>

namespace prometheus {
class Exposer;
}

namespace chat::metrics {

/// The metrics of one process (a chatd node or a chat-dumper job), every series labelled
/// with `node`. Counting is always on and cheap (atomic adds); serve() makes them readable in
/// the Prometheus text format at http://<listen>/metrics (README "Metrics" lists the names).
/// The recording functions are called from the I/O thread; the endpoint reads from its own
/// thread (prometheus-cpp's families and values are thread-safe).
class Metrics {
 public:
  /// `node`: the node id (chatd --node-id) or the dumper's consumer name.
  explicit Metrics(std::string node);
  ~Metrics();
  Metrics(const Metrics&) = delete;
  Metrics& operator=(const Metrics&) = delete;

  /// Starts the HTTP endpoint on `listen` ("host:port"; port 0 picks a free one).
  /// Throws std::runtime_error when it cannot listen.
  void serve(const std::string& listen);
  /// The port the endpoint listens on, once serve() succeeded.
  std::optional<int> port() const;

  // ---- connections (net::Listener, ChatService::open/close)
  void connection_opened();
  void connection_closed();
  /// A connection refused at accept; reason: "node_full" or "address_full".
  void connection_refused(std::string_view reason);

  // ---- requests (ChatService::handle): one call per answered request
  /// op: the protocol op name; error: the error code, or empty for ok; duration of the
  /// handling in seconds (includes store round trips and login verification).
  void request(std::string_view op, std::string_view error, double seconds);

  // ---- messages
  /// A post accepted (appended to the meeting's stream in Redis).
  void message_posted();
  /// `copies` message event frames queued to connections of this node; `latency_s`: from the
  /// message's server timestamp to now (the fan-out latency across the bus, in seconds).
  void message_delivered(std::size_t copies, double latency_s);

  // ---- stores
  /// One Redis command answered after `seconds`.
  void redis_round_trip(double seconds);
  /// One dump batch committed: rows inserted into `message` and `event_log`, and the age in
  /// seconds of the oldest entry it moved (the dump lag).
  void dump_batch(std::int64_t messages, std::int64_t events, double lag_s);
  /// Whether this node holds the scheduler lease (1/0 gauge).
  void scheduler_lease(bool held);

  /// The registry, for tests and for collectors of other parts.
  const std::shared_ptr<prometheus::Registry>& registry() const { return registry_; }

 private:
  std::shared_ptr<prometheus::Registry> registry_;
  prometheus::Family<prometheus::Counter>& requests_;
  prometheus::Family<prometheus::Counter>& errors_;
  prometheus::Family<prometheus::Counter>& refused_;
  prometheus::Family<prometheus::Counter>& logins_;
  prometheus::Family<prometheus::Counter>& dump_rows_;
  prometheus::Gauge& connections_open_;
  prometheus::Counter& connections_total_;
  prometheus::Counter& messages_in_;
  prometheus::Counter& messages_out_;
  prometheus::Histogram& request_seconds_;
  prometheus::Histogram& fanout_seconds_;
  prometheus::Histogram& redis_seconds_;
  prometheus::Gauge& dump_lag_;
  prometheus::Gauge& lease_;
  prometheus::Counter& dump_messages_;
  prometheus::Counter& dump_events_;
  // op -> its counter, and "op\ncode" -> its error counter: label lookups in the families
  // hash and lock; these caches are touched by the I/O thread only.
  std::unordered_map<std::string, prometheus::Counter*> request_by_op_;
  std::unordered_map<std::string, prometheus::Counter*> error_by_op_code_;
  std::unique_ptr<prometheus::Exposer> exposer_;
};

/// Seconds since `start` on the steady clock, for the duration arguments above.
inline double seconds_since(std::chrono::steady_clock::time_point start) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

}  // namespace chat::metrics
