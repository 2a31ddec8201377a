// is_valid_utf8 / is_only_whitespace: the UTF-8 and "only whitespace" rules of PROTOCOL.md.
#include "chat/protocol/text.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::protocol {
namespace {

std::string bytes(std::initializer_list<unsigned char> list) {
  return std::string(list.begin(), list.end());
}

TEST(IsValidUtf8, WellFormed) {
  EXPECT_TRUE(is_valid_utf8(""));
  EXPECT_TRUE(is_valid_utf8("plain ascii"));
  EXPECT_TRUE(is_valid_utf8(std::string(1, '\0')));
  EXPECT_TRUE(is_valid_utf8("h\u00e9llo \u4e16\u754c \U0001F600"));
  EXPECT_TRUE(is_valid_utf8(bytes({0x7F})));
  EXPECT_TRUE(is_valid_utf8(bytes({0xC2, 0x80})));              // U+0080, smallest 2-byte
  EXPECT_TRUE(is_valid_utf8(bytes({0xDF, 0xBF})));              // U+07FF
  EXPECT_TRUE(is_valid_utf8(bytes({0xE0, 0xA0, 0x80})));        // U+0800, smallest 3-byte
  EXPECT_TRUE(is_valid_utf8(bytes({0xED, 0x9F, 0xBF})));        // U+D7FF, just below surrogates
  EXPECT_TRUE(is_valid_utf8(bytes({0xEE, 0x80, 0x80})));        // U+E000, just above surrogates
  EXPECT_TRUE(is_valid_utf8(bytes({0xEF, 0xBF, 0xBF})));        // U+FFFF
  EXPECT_TRUE(is_valid_utf8(bytes({0xF0, 0x90, 0x80, 0x80})));  // U+10000
  EXPECT_TRUE(is_valid_utf8(bytes({0xF4, 0x8F, 0xBF, 0xBF})));  // U+10FFFF, the last code point
}

TEST(IsValidUtf8, Overlong) {
  EXPECT_FALSE(is_valid_utf8(bytes({0xC0, 0x80})));              // NUL in 2 bytes
  EXPECT_FALSE(is_valid_utf8(bytes({0xC1, 0xBF})));              // U+007F in 2 bytes
  EXPECT_FALSE(is_valid_utf8(bytes({0xE0, 0x80, 0xAF})));        // '/' in 3 bytes
  EXPECT_FALSE(is_valid_utf8(bytes({0xE0, 0x9F, 0xBF})));        // U+07FF in 3 bytes
  EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x80, 0x80, 0xAF})));  // '/' in 4 bytes
  EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x8F, 0xBF, 0xBF})));  // U+FFFF in 4 bytes
}

TEST(IsValidUtf8, Surrogates) {
  EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xA0, 0x80})));  // U+D800
  EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xAF, 0xBF})));  // U+DBFF
  EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xB0, 0x80})));  // U+DC00
  EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xBF, 0xBF})));  // U+DFFF
  // CESU-8 style pair for U+1F600.
  EXPECT_FALSE(is_valid_utf8(bytes({0xED, 0xA0, 0xBD, 0xED, 0xB8, 0x80})));
}

TEST(IsValidUtf8, BeyondUnicode) {
  EXPECT_FALSE(is_valid_utf8(bytes({0xF4, 0x90, 0x80, 0x80})));  // U+110000
  EXPECT_FALSE(is_valid_utf8(bytes({0xF5, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xF7, 0xBF, 0xBF, 0xBF})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xF8, 0x88, 0x80, 0x80, 0x80})));  // 5-byte form
  EXPECT_FALSE(is_valid_utf8(bytes({0xFC, 0x84, 0x80, 0x80, 0x80, 0x80})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xFE})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xFF})));
}

TEST(IsValidUtf8, BrokenSequences) {
  EXPECT_FALSE(is_valid_utf8(bytes({0x80})));  // lone continuation
  EXPECT_FALSE(is_valid_utf8(bytes({0xBF})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xC3})));  // truncated at the end
  EXPECT_FALSE(is_valid_utf8(bytes({0xE4, 0xB8})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xF0, 0x9F, 0x98})));
  EXPECT_FALSE(is_valid_utf8(bytes({0xC3, 0x41})));        // continuation replaced by ASCII
  EXPECT_FALSE(is_valid_utf8(bytes({0xE4, 0xC3, 0xA9})));  // lead byte where continuation is due
  EXPECT_FALSE(is_valid_utf8(std::string("ok") + bytes({0xE9}) + "t\xc3\xa9"));  // Latin-1 byte
}

TEST(IsOnlyWhitespace, EmptyAndAscii) {
  EXPECT_TRUE(is_only_whitespace(""));
  EXPECT_TRUE(is_only_whitespace(" \t\n\v\f\r"));
  EXPECT_FALSE(is_only_whitespace("a"));
  EXPECT_FALSE(is_only_whitespace(" a "));
  EXPECT_FALSE(is_only_whitespace(std::string(1, '\0')));
  EXPECT_FALSE(is_only_whitespace("\x1f"));  // unit separator: a control, not White_Space
}

TEST(IsOnlyWhitespace, EveryUnicodeWhiteSpaceCodePoint) {
  // The full Unicode White_Space list (PropList.txt) beyond ASCII.
  for (const char* ws : {"\xc2\x85", "\u00a0", "\u1680", "\u2000", "\u2001", "\u2002", "\u2003",
                         "\u2004", "\u2005", "\u2006", "\u2007", "\u2008", "\u2009", "\u200a",
                         "\u2028", "\u2029", "\u202f", "\u205f", "\u3000"}) {
    EXPECT_TRUE(is_only_whitespace(ws)) << "bytes of length " << std::string(ws).size();
  }
  EXPECT_TRUE(is_only_whitespace("\u3000\u3000 \u00a0\t"));
}

TEST(IsOnlyWhitespace, LookAlikesAreNotWhitespace) {
  EXPECT_FALSE(is_only_whitespace("\u200b"));  // zero width space
  EXPECT_FALSE(is_only_whitespace("\u200c"));  // ZWNJ
  EXPECT_FALSE(is_only_whitespace("\u2060"));  // word joiner
  EXPECT_FALSE(is_only_whitespace("\ufeff"));  // BOM
  EXPECT_FALSE(is_only_whitespace("\u180e"));  // Mongolian vowel separator (not since Unicode 6.3)
  EXPECT_FALSE(is_only_whitespace("\u3000x"));
  EXPECT_FALSE(is_only_whitespace("\u00a0.\u00a0"));
}

TEST(IsOnlyWhitespace, InvalidUtf8IsNotWhitespace) {
  EXPECT_FALSE(is_only_whitespace(bytes({0xA0})));
  EXPECT_FALSE(is_only_whitespace(bytes({0xC0, 0xA0})));  // overlong U+0020
  EXPECT_FALSE(is_only_whitespace(bytes({0xE3, 0x80})));  // truncated U+3000
  EXPECT_FALSE(is_only_whitespace(std::string(" ") + bytes({0x80})));
}

}  // namespace
}  // namespace chat::protocol
