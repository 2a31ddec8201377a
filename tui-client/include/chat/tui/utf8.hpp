// UTF-8 <-> code points and terminal display widths for chat-tui. Everything the client
// shows goes through here, so the wrapping, the input line and ncurses agree on how many
// columns a string takes (the same wcwidth() that ncursesw uses).
#pragma once

#include <string>
#include <string_view>

namespace chat::tui {

/// U+FFFD, shown for malformed UTF-8 and for control characters a server sent.
inline constexpr char32_t kReplacementChar = 0xFFFD;

/// Decodes UTF-8 into code points. Never throws: every byte that does not start a
/// well-formed sequence (overlong, surrogate, > U+10FFFF, truncated) becomes U+FFFD.
std::u32string decode_utf8(std::string_view bytes);

/// Appends the UTF-8 form of one code point; invalid code points are written as U+FFFD.
void append_utf8(std::string& out, char32_t cp);

/// Encodes code points as UTF-8 (see append_utf8).
std::string encode_utf8(std::u32string_view text);

/// Terminal columns of one code point: 0 for combining and zero-width characters, 2 for
/// wide (CJK, most emoji), 1 otherwise. Uses wcwidth(), so the process must run in a UTF-8
/// LC_CTYPE (chat-tui selects one at start); code points wcwidth() rejects count as 1.
int codepoint_width(char32_t cp);

/// Sum of codepoint_width() over the text.
int display_width(std::u32string_view text);

/// display_width() of UTF-8 text.
int display_width_utf8(std::string_view utf8);

/// Makes text from the network safe to draw: '\t' becomes a space, other C0/C1 control
/// characters and DEL become U+FFFD (so no escape sequence reaches the terminal). '\n' is
/// kept when keep_newlines is true (wrapping splits on it) and replaced by a space otherwise.
std::u32string sanitize(std::u32string_view text, bool keep_newlines);

/// The longest prefix of sanitized UTF-8 text that fits in `width` columns; when the text
/// was cut and ellipsis is true, the last column holds U+2026 ("…"). width <= 0 gives "".
std::string truncate_to_width(std::string_view utf8, int width, bool ellipsis = true);

/// truncate_to_width() and then spaces up to exactly `width` columns (on the right, or on
/// the left when align_right).
std::string fit_to_width(std::string_view utf8, int width, bool align_right = false);

}  // namespace chat::tui
