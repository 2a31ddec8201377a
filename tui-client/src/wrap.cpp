#include "chat/tui/wrap.hpp"

#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

void rtrim_spaces(std::u32string& s) {
  while (!s.empty() && s.back() == U' ') s.pop_back();
}

// Greedy wrap of one hard line (no '\n') into rows.
void wrap_line(std::u32string_view line, int width, std::vector<std::string>& rows) {
  std::u32string row;
  int row_width = 0;
  std::size_t break_at = std::u32string::npos;  // index in row just after the last space
  bool continuation = false;

  const auto emit = [&](std::u32string text) {
    rtrim_spaces(text);
    rows.push_back(encode_utf8(text));
  };

  for (char32_t cp : line) {
    const int w = codepoint_width(cp);
    if (cp == U' ' && row.empty() && continuation) continue;  // spaces at a soft break
    // Wide characters (CJK ideographs, emoji) are words of their own: a line may break
    // before and after each one, as CJK text has no spaces to break at.
    constexpr char32_t kZeroWidthJoiner = 0x200D;  // joins emoji into one picture
    if (w == 2 && !(!row.empty() && row.back() == kZeroWidthJoiner)) break_at = row.size();
    if (row_width + w > width && !row.empty()) {
      if (cp == U' ') {
        // The overflowing character is a space: break right here and drop it.
        emit(row);
        row.clear();
        row_width = 0;
        break_at = std::u32string::npos;
        continuation = true;
        continue;
      }
      if (break_at != std::u32string::npos && break_at < row.size()) {
        // Move the unfinished word to the next row.
        std::u32string tail = row.substr(break_at);
        row.resize(break_at);
        emit(row);
        row = std::move(tail);
        row_width = display_width(row);
      } else {
        emit(row);
        row.clear();
        row_width = 0;
      }
      break_at = std::u32string::npos;
      continuation = true;
      if (row_width + w > width && !row.empty()) {
        // The carried word plus this character still does not fit: break inside the word.
        emit(row);
        row.clear();
        row_width = 0;
      }
    }
    row.push_back(cp);
    row_width += w;
    if (cp == U' ' || w == 2) {
      break_at = row.size();
    } else if (w == 0 && cp != kZeroWidthJoiner && break_at == row.size() - 1) {
      break_at = row.size();  // a combining mark or variation selector stays with its base
    }
  }
  if (!row.empty() || !continuation) emit(row);
}

}  // namespace

std::vector<std::string> wrap_text(std::string_view utf8, int width) {
  if (width < 1) width = 1;
  const std::u32string text = sanitize(decode_utf8(utf8), true);
  std::vector<std::string> rows;
  std::size_t start = 0;
  while (true) {
    const std::size_t nl = text.find(U'\n', start);
    const std::u32string_view line =
        std::u32string_view(text).substr(start, nl == std::u32string::npos ? nl : nl - start);
    wrap_line(line, width, rows);
    if (nl == std::u32string::npos) break;
    start = nl + 1;
  }
  return rows;
}

}  // namespace chat::tui
