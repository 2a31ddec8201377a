// UTF-8 decoding, display widths and wrapping by display width (wide CJK and emoji).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "chat/tui/utf8.hpp"
#include "chat/tui/wrap.hpp"

namespace chat::tui {
namespace {

// Every row fits the width (the one exception, a wide char in a 1-column pane, is tested
// separately) and no character is lost except the spaces at soft breaks.
void expect_rows_fit(const std::vector<std::string>& rows, int width) {
  for (const auto& row : rows) EXPECT_LE(display_width_utf8(row), width) << "row '" << row << "'";
}

std::string without_spaces(std::string s) {
  std::erase(s, ' ');
  return s;
}

std::string joined(const std::vector<std::string>& rows) {
  std::string out;
  for (const auto& r : rows) out += r;
  return out;
}

TEST(Utf8, DecodeEncodeRoundTripsAllLengths) {
  const std::string text = "a\u00e9\u65e5\U0001F600";  // 1, 2, 3 and 4 bytes
  const std::u32string cps = decode_utf8(text);
  ASSERT_EQ(cps.size(), 4u);
  EXPECT_EQ(cps[0], U'a');
  EXPECT_EQ(cps[1], U'\u00e9');
  EXPECT_EQ(cps[2], U'\u65e5');
  EXPECT_EQ(cps[3], U'\U0001F600');
  EXPECT_EQ(encode_utf8(cps), text);
}

TEST(Utf8, MalformedBytesBecomeReplacementCharacters) {
  EXPECT_EQ(decode_utf8("a\xff"
                        "b"),
            (std::u32string{U'a', kReplacementChar, U'b'}));
  // Overlong "/" and a UTF-16 surrogate encoded in UTF-8 are rejected too.
  EXPECT_EQ(decode_utf8("\xc0\xaf").front(), kReplacementChar);
  EXPECT_EQ(decode_utf8("\xed\xa0\x80").front(), kReplacementChar);
  // A sequence cut off at the end of the input.
  EXPECT_EQ(decode_utf8("x\xe6\x97"), (std::u32string{U'x', kReplacementChar, kReplacementChar}));
}

TEST(Utf8, DisplayWidthCountsWideAndZeroWidthCharacters) {
  EXPECT_EQ(display_width_utf8("abc"), 3);
  EXPECT_EQ(display_width_utf8("\u65e5\u672c"), 4);  // CJK: 2 columns each
  EXPECT_EQ(display_width_utf8("\U0001F600"), 2);    // emoji
  EXPECT_EQ(display_width_utf8("e\u0301"), 1);       // e + combining acute
  EXPECT_EQ(display_width_utf8("\u00e9t\u00e9"), 3);
}

TEST(Utf8, SanitizeReplacesControlCharacters) {
  const auto out = sanitize(U"a\x1b[31mb\tc\nd\r\n", true);
  EXPECT_EQ(out, (std::u32string{U'a', kReplacementChar, U'[', U'3', U'1', U'm', U'b', U' ', U'c',
                                 U'\n', U'd', U'\n'}));
  EXPECT_EQ(sanitize(U"x\ny", false), U"x y");
}

TEST(Utf8, TruncateNeverSplitsAWideCharacter) {
  EXPECT_EQ(truncate_to_width("\u65e5\u672c\u8a9e", 5, false), "\u65e5\u672c");
  EXPECT_EQ(truncate_to_width("\u65e5\u672c\u8a9e", 5, true), "\u65e5\u672c\u2026");
  EXPECT_EQ(truncate_to_width("hello", 5), "hello");
  EXPECT_EQ(truncate_to_width("hello!", 5), "hell\u2026");
  EXPECT_EQ(truncate_to_width("hello", 0), "");
  EXPECT_EQ(fit_to_width("\u65e5", 4), "\u65e5  ");
  EXPECT_EQ(fit_to_width("ab", 4, true), "  ab");
}

TEST(Wrap, BreaksAsciiAtSpaces) {
  const auto rows = wrap_text("the quick brown fox jumps", 10);
  EXPECT_EQ(rows, (std::vector<std::string>{"the quick", "brown fox", "jumps"}));
}

TEST(Wrap, BreaksInsideAWordLongerThanTheRow) {
  const auto rows = wrap_text("abcdefghijkl xy", 5);
  EXPECT_EQ(rows, (std::vector<std::string>{"abcde", "fghij", "kl xy"}));
}

TEST(Wrap, MovesAnUnfinishedWordToTheNextRow) {
  EXPECT_EQ(wrap_text("hi wonderful", 8), (std::vector<std::string>{"hi", "wonderfu", "l"}));
  EXPECT_EQ(wrap_text("hi won", 5), (std::vector<std::string>{"hi", "won"}));
}

TEST(Wrap, CjkWrapsByTwoColumnCharacters) {
  // 7 characters of width 2 = 14 columns; a row of 5 columns holds two of them.
  const auto rows = wrap_text("\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8", 5);
  EXPECT_EQ(rows,
            (std::vector<std::string>{"\u65e5\u672c", "\u8a9e\u30c6", "\u30ad\u30b9", "\u30c8"}));
  expect_rows_fit(rows, 5);
}

TEST(Wrap, CjkAfterALatinWordFillsTheRow) {
  // CJK text has no spaces: it breaks between any two ideographs, so it does not jump to a
  // new row as one long word would.
  const auto rows = wrap_text("wide: \u4f60\u597d\u4e16\u754c\u4f60\u597d", 10);
  EXPECT_EQ(rows, (std::vector<std::string>{"wide: \u4f60\u597d", "\u4e16\u754c\u4f60\u597d"}));
  expect_rows_fit(rows, 10);
  // A variation selector stays with its emoji.
  const auto vs = wrap_text("ab \u2764\uFE0F\U0001F600", 4);
  for (const auto& r : vs) EXPECT_FALSE(r.starts_with("\uFE0F")) << r;
}

TEST(Wrap, EmojiNeverSplitAcrossRows) {
  // The emoji is a word of its own: "cd" after it stays in one piece on the next row.
  const auto rows = wrap_text("ab\U0001F600cd", 3);
  EXPECT_EQ(rows, (std::vector<std::string>{"ab", "\U0001F600", "cd"}));
  const auto three = wrap_text("\U0001F600\U0001F600\U0001F600", 4);
  EXPECT_EQ(three, (std::vector<std::string>{"\U0001F600\U0001F600", "\U0001F600"}));
}

TEST(Wrap, MixedScriptRowsFitAndKeepEveryCharacter) {
  const std::string text =
      "Hello \u4e16\u754c! caf\u00e9 \U0001F44D\U0001F3FD ok "
      "\u65e5\u672c\u8a9e\u306e\u30c6\u30ad\u30b9\u30c8 end";
  for (int width = 2; width <= 30; ++width) {
    const auto rows = wrap_text(text, width);
    expect_rows_fit(rows, width);
    EXPECT_EQ(without_spaces(joined(rows)), without_spaces(text)) << "width " << width;
  }
}

TEST(Wrap, CombiningMarkStaysWithItsBase) {
  const auto rows = wrap_text("ne\u0301e", 2);  // "née" with a combining accent
  EXPECT_EQ(rows, (std::vector<std::string>{"ne\u0301", "e"}));
}

TEST(Wrap, NewlinesStartRowsAndEmptyTextGivesOneRow) {
  EXPECT_EQ(wrap_text("a\n\nb", 10), (std::vector<std::string>{"a", "", "b"}));
  EXPECT_EQ(wrap_text("", 10), (std::vector<std::string>{""}));
}

TEST(Wrap, WideCharacterInAOneColumnPaneGetsItsOwnRow) {
  const auto rows = wrap_text("\u65e5\u672c", 1);
  EXPECT_EQ(rows, (std::vector<std::string>{"\u65e5", "\u672c"}));
  EXPECT_EQ(wrap_text("abc", 0),
            (std::vector<std::string>{"a", "b", "c"}));  // width < 1 counts as 1
}

TEST(Wrap, ControlCharactersAreNeutralised) {
  const auto rows = wrap_text("x\x1b]0;title\x07y", 80);
  ASSERT_EQ(rows.size(), 1u);
  EXPECT_EQ(rows[0].find('\x1b'), std::string::npos);
  EXPECT_EQ(rows[0].find('\x07'), std::string::npos);
}

}  // namespace
}  // namespace chat::tui
