// A minimal HTTP/1.0 GET for tests of the metrics endpoint (no HTTP library in the tests).
#pragma once

#include <cstdint>
#include <string>

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

}  // namespace chat::test
