#include "metrics/metrics.hpp"

#include <prometheus/exposer.h>

#include <stdexcept>

namespace chat::metrics {
namespace {

using prometheus::BuildCounter;
using prometheus::BuildGauge;
using prometheus::BuildHistogram;
using prometheus::Histogram;

// Latency buckets in seconds: 100 us .. 10 s, about three per decade.
Histogram::BucketBoundaries latency_buckets() {
  return {0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
          0.05,   0.1,     0.25,   0.5,   1,      2.5,   5,    10};
}

}  // namespace

Metrics::Metrics(std::string node)
    : registry_(std::make_shared<prometheus::Registry>()),
      requests_(BuildCounter()
                    .Name("chat_requests_total")
                    .Help("Requests answered, by protocol op")
                    .Labels({{"node", node}})
                    .Register(*registry_)),
      errors_(BuildCounter()
                  .Name("chat_request_errors_total")
                  .Help("Requests answered with an error, by op and error code")
                  .Labels({{"node", node}})
                  .Register(*registry_)),
      refused_(BuildCounter()
                   .Name("chat_connections_refused_total")
                   .Help("Connections refused at accept, by reason (node_full, address_full)")
                   .Labels({{"node", node}})
                   .Register(*registry_)),
      logins_(BuildCounter()
                  .Name("chat_logins_total")
                  .Help("Login requests answered, by result (ok, failed)")
                  .Labels({{"node", node}})
                  .Register(*registry_)),
      dump_rows_(BuildCounter()
                     .Name("chat_dump_rows_total")
                     .Help("Rows the dump committed to MySQL, by table")
                     .Labels({{"node", node}})
                     .Register(*registry_)),
      connections_open_(BuildGauge()
                            .Name("chat_connections")
                            .Help("Client connections open now")
                            .Labels({{"node", node}})
                            .Register(*registry_)
                            .Add({})),
      connections_total_(BuildCounter()
                             .Name("chat_connections_total")
                             .Help("Client connections accepted")
                             .Labels({{"node", node}})
                             .Register(*registry_)
                             .Add({})),
      messages_in_(BuildCounter()
                       .Name("chat_messages_in_total")
                       .Help("Chat messages posted through this node and stored")
                       .Labels({{"node", node}})
                       .Register(*registry_)
                       .Add({})),
      messages_out_(BuildCounter()
                        .Name("chat_messages_out_total")
                        .Help("Chat message events queued to this node's connections (copies)")
                        .Labels({{"node", node}})
                        .Register(*registry_)
                        .Add({})),
      request_seconds_(BuildHistogram()
                           .Name("chat_request_duration_seconds")
                           .Help("Time from a request read to its answer queued")
                           .Labels({{"node", node}})
                           .Register(*registry_)
                           .Add({}, latency_buckets())),
      fanout_seconds_(BuildHistogram()
                          .Name("chat_fanout_latency_seconds")
                          .Help("Time from a message's server timestamp to its event queued to "
                                "the participants on this node (ms resolution)")
                          .Labels({{"node", node}})
                          .Register(*registry_)
                          .Add({}, latency_buckets())),
      redis_seconds_(BuildHistogram()
                         .Name("chat_redis_round_trip_seconds")
                         .Help("Time from a Redis command sent to its reply")
                         .Labels({{"node", node}})
                         .Register(*registry_)
                         .Add({}, latency_buckets())),
      dump_lag_(BuildGauge()
                    .Name("chat_dump_lag_seconds")
                    .Help("Age of the oldest entry of the last dump batch when it was committed")
                    .Labels({{"node", node}})
                    .Register(*registry_)
                    .Add({})),
      lease_(BuildGauge()
                 .Name("chat_scheduler_lease_held")
                 .Help("1 while this node holds the scheduler lease (starts and ends instances)")
                 .Labels({{"node", node}})
                 .Register(*registry_)
                 .Add({})),
      dump_messages_(dump_rows_.Add({{"table", "message"}})),
      dump_events_(dump_rows_.Add({{"table", "event_log"}})) {}

Metrics::~Metrics() = default;

void Metrics::serve(const std::string& listen) {
  try {
    exposer_ = std::make_unique<prometheus::Exposer>(listen, /*num_threads=*/1);
  } catch (const std::exception& e) {
    throw std::runtime_error("cannot serve metrics on " + listen + ": " + e.what());
  }
  exposer_->RegisterCollectable(registry_);
}

std::optional<int> Metrics::port() const {
  if (!exposer_) return std::nullopt;
  const auto ports = exposer_->GetListeningPorts();
  if (ports.empty()) return std::nullopt;
  return ports.front();
}

void Metrics::connection_opened() {
  connections_open_.Increment();
  connections_total_.Increment();
}

void Metrics::connection_closed() {
  connections_open_.Decrement();
}

void Metrics::connection_refused(std::string_view reason) {
  refused_.Add({{"reason", std::string(reason)}}).Increment();
}

void Metrics::request(std::string_view op, std::string_view error, double seconds) {
  std::string key(op);
  auto it = request_by_op_.find(key);
  if (it == request_by_op_.end())
    it = request_by_op_.emplace(key, &requests_.Add({{"op", key}})).first;
  it->second->Increment();
  request_seconds_.Observe(seconds);
  if (op == "login") logins_.Add({{"result", error.empty() ? "ok" : "failed"}}).Increment();
  if (error.empty()) return;
  key.append("\n").append(error);
  auto e = error_by_op_code_.find(key);
  if (e == error_by_op_code_.end())
    e = error_by_op_code_
            .emplace(key, &errors_.Add({{"op", std::string(op)}, {"code", std::string(error)}}))
            .first;
  e->second->Increment();
}

void Metrics::message_posted() {
  messages_in_.Increment();
}

void Metrics::message_delivered(std::size_t copies, double latency_s) {
  if (copies == 0) return;
  messages_out_.Increment(static_cast<double>(copies));
  fanout_seconds_.Observe(latency_s < 0 ? 0 : latency_s);
}

void Metrics::redis_round_trip(double seconds) {
  redis_seconds_.Observe(seconds);
}

void Metrics::dump_batch(std::int64_t messages, std::int64_t events, double lag_s) {
  dump_messages_.Increment(static_cast<double>(messages));
  dump_events_.Increment(static_cast<double>(events));
  dump_lag_.Set(lag_s);
}

void Metrics::scheduler_lease(bool held) {
  lease_.Set(held ? 1 : 0);
}

}  // namespace chat::metrics
