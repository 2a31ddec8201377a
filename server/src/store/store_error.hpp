// Errors raised by the store layer.
#pragma once

#include <stdexcept>
#include <string>

namespace chat::store {

/// A backing store (Redis or MySQL) cannot be reached right now. The session layer answers
/// the request with `unavailable` (PROTOCOL.md error table); the caller may retry later.
class StoreUnavailable : public std::runtime_error {
 public:
  explicit StoreUnavailable(const std::string& what) : std::runtime_error(what) {}
};

}  // namespace chat::store
