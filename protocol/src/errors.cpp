#include "chat/protocol/errors.hpp"

#include <array>
#include <utility>

namespace chat::protocol {
namespace {
constexpr std::array<std::pair<ErrorCode, std::string_view>, 12> kNames{{
    {ErrorCode::bad_request, "bad_request"},
    {ErrorCode::unauthenticated, "unauthenticated"},
    {ErrorCode::invalid_credentials, "invalid_credentials"},
    {ErrorCode::forbidden, "forbidden"},
    {ErrorCode::not_found, "not_found"},
    {ErrorCode::meeting_inactive, "meeting_inactive"},
    {ErrorCode::already_joined, "already_joined"},
    {ErrorCode::not_joined, "not_joined"},
    {ErrorCode::too_large, "too_large"},
    {ErrorCode::rate_limited, "rate_limited"},
    {ErrorCode::unavailable, "unavailable"},
    {ErrorCode::internal, "internal"},
}};
}  // namespace

std::string_view to_string(ErrorCode code) noexcept {
  for (const auto& [c, name] : kNames)
    if (c == code) return name;
  return "internal";
}

std::optional<ErrorCode> error_code_from_string(std::string_view text) noexcept {
  for (const auto& [c, name] : kNames)
    if (name == text) return c;
  return std::nullopt;
}

}  // namespace chat::protocol
