// Timestamps of PROTOCOL.md: RFC 3339 UTC with milliseconds, "2026-11-23T07:33:08.123Z".
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chat::protocol {

/// Milliseconds since the Unix epoch, UTC. Every time value in this code base has this unit.
using UnixMs = std::int64_t;

/// "YYYY-MM-DDTHH:MM:SS.mmmZ" for ms since the epoch.
std::string format_timestamp(UnixMs ms);

/// Parses the format_timestamp() form (also without fraction, or with "+00:00");
/// nullopt for anything else.
std::optional<UnixMs> parse_timestamp(std::string_view text);

/// Current wall-clock time in ms since the epoch.
UnixMs now_ms();

}  // namespace chat::protocol
