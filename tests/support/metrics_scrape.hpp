// Reading a node's Prometheus endpoint in tests: a minimal HTTP/1.0 GET (no HTTP library in
// the tests) and a parser of the text format.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chatd_process.hpp"
#include "test_client.hpp"

namespace chat::test {

/// One HTTP response: status code (0 when none could be read) and body.
struct HttpResponse {
  int status = 0;
  std::string body;
};

/// GET http://host:port/path over HTTP/1.0 and read to EOF (bounded by timeout). Throws
/// std::runtime_error when the connection fails or the answer is not HTTP.
HttpResponse http_get(const std::string& host, std::uint16_t port, const std::string& path,
                      Millis timeout = kDefaultWait);

/// One sample line of the text format: name, labels, value.
struct Sample {
  std::string name;
  std::map<std::string, std::string> labels;
  double value = 0;
};

/// Parses the Prometheus text format (comments skipped; label values without escapes).
std::vector<Sample> parse_metrics(const std::string& text);

/// The value of the first series `name` whose labels include `labels`; nullopt when absent.
std::optional<double> value_of(const std::vector<Sample>& samples, const std::string& name,
                               const std::map<std::string, std::string>& labels = {});

/// The port chatd logged for its endpoint ("metrics at ... (port N)"; started with
/// --metrics-listen HOST:0), waiting up to 5 s for the line; 0 when it never came.
std::uint16_t metrics_port(const ChatdProcess& node);

/// GET /metrics of 127.0.0.1:port, parsed; throws std::runtime_error unless the status is 200.
std::vector<Sample> scrape_metrics(std::uint16_t port);

}  // namespace chat::test
