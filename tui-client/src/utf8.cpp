#include "chat/tui/utf8.hpp"

#include <cwchar>

namespace chat::tui {
namespace {

bool is_continuation(unsigned char b) {
  return (b & 0xC0) == 0x80;
}

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
}

}  // namespace

std::u32string decode_utf8(std::string_view bytes) {
  std::u32string out;
  out.reserve(bytes.size());
  std::size_t i = 0;
  while (i < bytes.size()) {
    const auto b0 = static_cast<unsigned char>(bytes[i]);
    if (b0 < 0x80) {
      out.push_back(b0);
      ++i;
      continue;
    }
    std::size_t len = 0;
    char32_t cp = 0;
    char32_t min = 0;
    if ((b0 & 0xE0) == 0xC0) {
      len = 2;
      cp = b0 & 0x1F;
      min = 0x80;
    } else if ((b0 & 0xF0) == 0xE0) {
      len = 3;
      cp = b0 & 0x0F;
      min = 0x800;
    } else if ((b0 & 0xF8) == 0xF0) {
      len = 4;
      cp = b0 & 0x07;
      min = 0x10000;
    }
    bool ok = len != 0 && i + len <= bytes.size();
    for (std::size_t k = 1; ok && k < len; ++k) {
      const auto b = static_cast<unsigned char>(bytes[i + k]);
      if (!is_continuation(b)) ok = false;
      cp = (cp << 6) | (b & 0x3F);
    }
    if (ok && (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))) ok = false;
    if (ok) {
      out.push_back(cp);
      i += len;
    } else {
      // One replacement per bad lead byte; the continuation bytes after it are each
      // replaced in turn, which keeps the decoder simple and never loses sync for long.
      out.push_back(kReplacementChar);
      ++i;
    }
  }
  return out;
}

void append_utf8(std::string& out, char32_t cp) {
  if (cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) cp = kReplacementChar;
  if (cp < 0x80) {
    out.push_back(static_cast<char>(cp));
  } else if (cp < 0x800) {
    out.push_back(static_cast<char>(0xC0 | (cp >> 6)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else if (cp < 0x10000) {
    out.push_back(static_cast<char>(0xE0 | (cp >> 12)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  } else {
    out.push_back(static_cast<char>(0xF0 | (cp >> 18)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 12) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | ((cp >> 6) & 0x3F)));
    out.push_back(static_cast<char>(0x80 | (cp & 0x3F)));
  }
}

std::string encode_utf8(std::u32string_view text) {
  std::string out;
  out.reserve(text.size());
  for (char32_t cp : text) append_utf8(out, cp);
  return out;
}

int codepoint_width(char32_t cp) {
  if (cp == 0) return 0;
  const int w = ::wcwidth(static_cast<wchar_t>(cp));
  if (w < 0) return 1;  // unprintable in this locale: drawn as one cell by ncurses
  return w;
}

int display_width(std::u32string_view text) {
  int total = 0;
  for (char32_t cp : text) total += codepoint_width(cp);
  return total;
}

int display_width_utf8(std::string_view utf8) {
  return display_width(decode_utf8(utf8));
}

std::u32string sanitize(std::u32string_view text, bool keep_newlines) {
  std::u32string out;
  out.reserve(text.size());
  for (char32_t cp : text) {
    if (cp == U'\n') {
      out.push_back(keep_newlines ? U'\n' : U' ');
    } else if (cp == U'\t') {
      out.push_back(U' ');
    } else if (cp == U'\r') {
      // "\r\n" line ends: the '\n' does the work.
    } else if (is_control(cp)) {
      out.push_back(kReplacementChar);
    } else {
      out.push_back(cp);
    }
  }
  return out;
}

std::string truncate_to_width(std::string_view utf8, int width, bool ellipsis) {
  if (width <= 0) return {};
  const std::u32string text = sanitize(decode_utf8(utf8), false);
  if (display_width(text) <= width) return encode_utf8(text);
  const int budget = ellipsis ? width - 1 : width;
  std::u32string out;
  int used = 0;
  for (char32_t cp : text) {
    const int w = codepoint_width(cp);
    if (used + w > budget) break;
    out.push_back(cp);
    used += w;
  }
  if (ellipsis) out.push_back(U'\u2026');
  return encode_utf8(out);
}

std::string fit_to_width(std::string_view utf8, int width, bool align_right) {
  if (width <= 0) return {};
  std::string cut = truncate_to_width(utf8, width);
  const int pad = width - display_width_utf8(cut);
  if (pad <= 0) return cut;
  if (align_right) return std::string(static_cast<std::size_t>(pad), ' ') + cut;
  cut.append(static_cast<std::size_t>(pad), ' ');
  return cut;
}

}  // namespace chat::tui
