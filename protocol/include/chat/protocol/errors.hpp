// Error codes of PROTOCOL.md ("Error codes" table) and the exception that carries one.
#pragma once

#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

namespace chat::protocol {

/// One row of the PROTOCOL.md error table. The wire spelling is to_string().
enum class ErrorCode {
  bad_request,
  unauthenticated,
  invalid_credentials,
  forbidden,
  not_found,
  meeting_inactive,
  already_joined,
  not_joined,
  too_large,
  rate_limited,
  unavailable,
  internal,
};

/// Wire spelling of a code, e.g. "meeting_inactive".
std::string_view to_string(ErrorCode code) noexcept;

/// Inverse of to_string(); nullopt for a spelling the protocol does not define.
std::optional<ErrorCode> error_code_from_string(std::string_view text) noexcept;

/// A request that must be answered with an error frame. Thrown by the decoders of this
/// library (always bad_request) and by the server's service layer (any code). what() is the
/// human text that goes into the frame's "message".
class ProtocolError : public std::runtime_error {
 public:
  ProtocolError(ErrorCode code, const std::string& message)
      : std::runtime_error(message), code_(code) {}
  ErrorCode code() const noexcept { return code_; }

 private:
  ErrorCode code_;
};

}  // namespace chat::protocol
