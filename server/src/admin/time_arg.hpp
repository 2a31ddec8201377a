// The times chatctl accepts for --from/--to: absolute UTC or relative to now.
#pragma once

#include <optional>
#include <string_view>

#include "chat/protocol/time.hpp"

namespace chat::admin {

/// Parses a time argument into ms since the epoch (UTC):
///   - "now";
///   - relative: "+N" or "-N" with unit ms, s, m, h or d ("+2s", "+90m", "-1h"), from `now`;
///   - ISO-8601 UTC: "YYYY-MM-DDTHH:MM[:SS[.fff]]" followed by "Z", "+00:00" or nothing
///     (always UTC; a space may stand for the "T"). Other offsets are refused so that no
///     local time slips into the schedule (SCHEMA.md: all times UTC).
/// nullopt for anything else, an impossible date, or an overflow.
std::optional<protocol::UnixMs> parse_time_arg(std::string_view text, protocol::UnixMs now);

}  // namespace chat::admin
