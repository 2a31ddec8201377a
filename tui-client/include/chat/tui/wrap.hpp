// Word wrapping by terminal display width (wide CJK and emoji take two columns).
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

/// Splits UTF-8 text into rows of at most `width` display columns (width < 1 counts as 1).
/// Rows break after spaces when a word fits on the next row, otherwise inside the word; a
/// wide character (CJK, emoji) counts as a word of its own, so CJK text breaks between any
/// two characters; a wide character is never split and moves to the next row whole (a row is only
/// ever wider than `width` when width is 1 and the character is wide). '\n' starts a new row, the
/// spaces at a soft break are dropped, and text is sanitized first (see sanitize()).
/// Empty text gives one empty row.
std::vector<std::string> wrap_text(std::string_view utf8, int width);

}  // namespace chat::tui
