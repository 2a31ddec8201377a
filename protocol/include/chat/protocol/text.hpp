// UTF-8 checks used by the framing and field rules of PROTOCOL.md.
#pragma once

#include <string_view>

namespace chat::protocol {

/// True when bytes are well-formed UTF-8 (no overlongs, no surrogates, <= U+10FFFF).
bool is_valid_utf8(std::string_view bytes) noexcept;

/// True when every code point is Unicode White_Space (an empty string counts as whitespace).
/// Invalid UTF-8 is reported as not whitespace.
bool is_only_whitespace(std::string_view utf8) noexcept;

}  // namespace chat::protocol
