// Fuzz target: the UTF-8 helpers of text.hpp (is_valid_utf8, is_only_whitespace) and
// is_blank_line, on arbitrary bytes: every frame either side sends passes through them.
//
// Checked against two independent oracles:
//   - a table-driven validator written from the Unicode "well-formed UTF-8 byte sequences"
//     table (Unicode 15, table 3-7), which also yields the code points;
//   - nlohmann::json's strict dump, which throws exactly on invalid UTF-8;
// and: is_only_whitespace == valid and every code point is White_Space (PropList.txt);
// is_blank_line == is_only_whitespace; validity splits at code point boundaries.
#include "chat/protocol/text.hpp"

#include <algorithm>
#include <array>
#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol/frame.hpp"
#include "fuzz_util.hpp"

namespace {

namespace proto = chat::protocol;

// The code points of `s`, or nullopt when it is not well-formed UTF-8. Follows table 3-7
// row by row (first byte range, then the allowed range of each following byte).
std::optional<std::vector<char32_t>> reference_decode(std::string_view s) {
  struct Row {
    std::uint8_t first_lo, first_hi;
    std::array<std::pair<std::uint8_t, std::uint8_t>, 3> next;
    int trailing;
  };
  static constexpr std::array<Row, 9> kTable{{
      {0x00, 0x7F, {}, 0},
      {0xC2, 0xDF, {{{0x80, 0xBF}}}, 1},
      {0xE0, 0xE0, {{{0xA0, 0xBF}, {0x80, 0xBF}}}, 2},
      {0xE1, 0xEC, {{{0x80, 0xBF}, {0x80, 0xBF}}}, 2},
      {0xED, 0xED, {{{0x80, 0x9F}, {0x80, 0xBF}}}, 2},
      {0xEE, 0xEF, {{{0x80, 0xBF}, {0x80, 0xBF}}}, 2},
      {0xF0, 0xF0, {{{0x90, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}}, 3},
      {0xF1, 0xF3, {{{0x80, 0xBF}, {0x80, 0xBF}, {0x80, 0xBF}}}, 3},
      {0xF4, 0xF4, {{{0x80, 0x8F}, {0x80, 0xBF}, {0x80, 0xBF}}}, 3},
  }};
  static constexpr std::array<std::uint8_t, 4> kFirstMask{0x7F, 0x1F, 0x0F, 0x07};
  std::vector<char32_t> out;
  std::size_t i = 0;
  while (i < s.size()) {
    const auto b0 = static_cast<std::uint8_t>(s[i]);
    const auto row = std::find_if(kTable.begin(), kTable.end(), [&](const Row& r) {
      return b0 >= r.first_lo && b0 <= r.first_hi;
    });
    if (row == kTable.end()) return std::nullopt;
    if (s.size() - i <= static_cast<std::size_t>(row->trailing)) return std::nullopt;
    char32_t cp = b0 & kFirstMask[static_cast<std::size_t>(row->trailing)];
    for (int k = 0; k < row->trailing; ++k) {
      const auto b = static_cast<std::uint8_t>(s[i + 1 + static_cast<std::size_t>(k)]);
      const auto [lo, hi] = row->next[static_cast<std::size_t>(k)];
      if (b < lo || b > hi) return std::nullopt;
      cp = (cp << 6) | (b & 0x3F);
    }
    out.push_back(cp);
    i += 1 + static_cast<std::size_t>(row->trailing);
  }
  return out;
}

// Unicode 15 PropList.txt, White_Space, as [first, last] ranges.
bool reference_white_space(char32_t cp) {
  static constexpr std::array<std::pair<char32_t, char32_t>, 10> kRanges{{
      {0x0009, 0x000D},
      {0x0020, 0x0020},
      {0x0085, 0x0085},
      {0x00A0, 0x00A0},
      {0x1680, 0x1680},
      {0x2000, 0x200A},
      {0x2028, 0x2029},
      {0x202F, 0x202F},
      {0x205F, 0x205F},
      {0x3000, 0x3000},
  }};
  return std::any_of(kRanges.begin(), kRanges.end(),
                     [&](const auto& r) { return cp >= r.first && cp <= r.second; });
}

bool nlohmann_accepts(std::string_view s) {
  try {
    (void)nlohmann::json(std::string(s))
        .dump(-1, ' ', false, nlohmann::json::error_handler_t::strict);
    return true;
  } catch (const nlohmann::json::type_error&) {
    return false;
  }
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view s = chat::fuzz::as_text(data, size);
  const bool valid = proto::is_valid_utf8(s);
  const auto code_points = reference_decode(s);
  CHAT_FUZZ_CHECK(valid == code_points.has_value());
  CHAT_FUZZ_CHECK(valid == nlohmann_accepts(s));

  const bool only_ws = proto::is_only_whitespace(s);
  const bool want_ws =
      code_points && std::all_of(code_points->begin(), code_points->end(), reference_white_space);
  CHAT_FUZZ_CHECK(only_ws == want_ws);
  CHAT_FUZZ_CHECK(proto::is_blank_line(s) == only_ws);

  // Splitting valid text at a code point boundary gives two valid halves; at any other
  // point the second half starts with a continuation byte and is invalid.
  if (valid && !s.empty()) {
    const std::size_t cut = static_cast<std::uint8_t>(s.front()) % (s.size() + 1);
    const bool boundary = cut == s.size() || (static_cast<std::uint8_t>(s[cut]) & 0xC0) != 0x80;
    CHAT_FUZZ_CHECK(proto::is_valid_utf8(s.substr(0, cut)) == boundary);
    CHAT_FUZZ_CHECK(proto::is_valid_utf8(s.substr(cut)) == boundary);
  }
  return 0;
}
