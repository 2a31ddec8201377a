// FrameSplitter and is_blank_line: the "Framing" section of PROTOCOL.md.
#include "chat/protocol/frame.hpp"

#include <gtest/gtest.h>

#include <random>
#include <string>
#include <vector>

namespace chat::protocol {
namespace {

// Feeds `stream` to a splitter in chunks of the given sizes (cycled) and collects every frame,
// calling next() until it runs dry after each append, as a connection's read loop does.
std::vector<std::string> split_in_chunks(FrameSplitter& splitter, const std::string& stream,
                                         const std::vector<std::size_t>& chunk_sizes) {
  std::vector<std::string> frames;
  std::size_t pos = 0;
  std::size_t i = 0;
  while (pos < stream.size()) {
    const std::size_t n = std::min(chunk_sizes[i++ % chunk_sizes.size()], stream.size() - pos);
    splitter.append(std::string_view(stream).substr(pos, n));
    pos += n;
    while (auto frame = splitter.next()) frames.push_back(std::move(*frame));
  }
  return frames;
}

const std::vector<std::string> kThreeFrames = {
    R"({"id":1,"op":"ping"})", R"({"id":2,"op":"hello","client":"t"})", R"({"id":3,"op":"nodes"})"};

std::string joined(const std::vector<std::string>& frames, const std::string& terminator) {
  std::string out;
  for (const auto& f : frames) out += f + terminator;
  return out;
}

TEST(FrameSplitter, WholeStreamAtOnce) {
  FrameSplitter s;
  EXPECT_EQ(split_in_chunks(s, joined(kThreeFrames, "\n"), {1 << 20}), kThreeFrames);
  EXPECT_EQ(s.pending_bytes(), 0u);
  EXPECT_FALSE(s.too_large());
}

TEST(FrameSplitter, ByteByByte) {
  FrameSplitter s;
  EXPECT_EQ(split_in_chunks(s, joined(kThreeFrames, "\n"), {1}), kThreeFrames);
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(FrameSplitter, EveryChunkSizeGivesTheSameFrames) {
  const std::string stream = joined(kThreeFrames, "\n");
  for (std::size_t chunk = 1; chunk <= stream.size(); ++chunk) {
    FrameSplitter s;
    EXPECT_EQ(split_in_chunks(s, stream, {chunk}), kThreeFrames) << "chunk size " << chunk;
  }
}

TEST(FrameSplitter, RandomChunkBoundaries) {
  std::mt19937 rng(12345);
  std::uniform_int_distribution<std::size_t> size(1, 40);
  const std::string stream = joined(kThreeFrames, "\r\n") + joined(kThreeFrames, "\n");
  std::vector<std::string> expected = kThreeFrames;
  expected.insert(expected.end(), kThreeFrames.begin(), kThreeFrames.end());
  for (int round = 0; round < 200; ++round) {
    std::vector<std::size_t> sizes(16);
    for (auto& n : sizes) n = size(rng);
    FrameSplitter s;
    EXPECT_EQ(split_in_chunks(s, stream, sizes), expected) << "round " << round;
  }
}

TEST(FrameSplitter, CrLfIsStrippedAndSplitBetweenCrAndLf) {
  FrameSplitter s;
  s.append("{\"id\":1}\r");
  EXPECT_EQ(s.next(), std::nullopt);
  s.append("\n{\"id\":2}\r\n");
  EXPECT_EQ(s.next(), std::optional<std::string>("{\"id\":1}"));
  EXPECT_EQ(s.next(), std::optional<std::string>("{\"id\":2}"));
  EXPECT_EQ(s.next(), std::nullopt);
}

TEST(FrameSplitter, OnlyOneTrailingCrIsStrippedAndInnerCrKept) {
  FrameSplitter s;
  s.append("a\rb\r\r\n");
  EXPECT_EQ(s.next(), std::optional<std::string>("a\rb\r"));
}

TEST(FrameSplitter, EmptyLinesAreFramesOfTheirOwn) {
  FrameSplitter s;
  s.append("\n\r\nx\n");
  EXPECT_EQ(s.next(), std::optional<std::string>(""));
  EXPECT_EQ(s.next(), std::optional<std::string>(""));
  EXPECT_EQ(s.next(), std::optional<std::string>("x"));
  EXPECT_EQ(s.next(), std::nullopt);
}

TEST(FrameSplitter, PartialFrameIsPending) {
  FrameSplitter s;
  s.append("{\"id\":1,\"op\":\"pi");
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_EQ(s.pending_bytes(), 16u);
  s.append("ng\"}\n{\"id\"");
  EXPECT_EQ(s.next(), std::optional<std::string>(R"({"id":1,"op":"ping"})"));
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_EQ(s.pending_bytes(), 5u);
}

TEST(FrameSplitter, ExactlyMaxBytesIncludingNewlineIsAccepted) {
  FrameSplitter s;
  const std::string body(kMaxFrameBytes - 1, 'x');
  s.append(body + "\n");
  const auto frame = s.next();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->size(), kMaxFrameBytes - 1);
  EXPECT_FALSE(s.too_large());
  // And the splitter keeps working afterwards.
  s.append("y\n");
  EXPECT_EQ(s.next(), std::optional<std::string>("y"));
}

TEST(FrameSplitter, ExactlyMaxBytesIncludingCrLfIsAccepted) {
  FrameSplitter s;
  s.append(std::string(kMaxFrameBytes - 2, 'x') + "\r\n");
  const auto frame = s.next();
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(frame->size(), kMaxFrameBytes - 2);
  EXPECT_FALSE(s.too_large());
}

TEST(FrameSplitter, ExactlyMaxBytesByteByByteIsAccepted) {
  FrameSplitter s;
  const std::string stream = std::string(kMaxFrameBytes - 1, 'x') + "\n";
  const auto frames = split_in_chunks(s, stream, {1});
  ASSERT_EQ(frames.size(), 1u);
  EXPECT_EQ(frames[0].size(), kMaxFrameBytes - 1);
  EXPECT_FALSE(s.too_large());
}

TEST(FrameSplitter, OneByteOverMaxIsRejected) {
  FrameSplitter s;
  s.append(std::string(kMaxFrameBytes, 'x') + "\n");  // 65 537 bytes with the newline
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_TRUE(s.too_large());
}

TEST(FrameSplitter, CrLfFrameOneByteOverMaxIsRejected) {
  FrameSplitter s;
  s.append(std::string(kMaxFrameBytes - 1, 'x') + "\r\n");  // 65 537 bytes
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_TRUE(s.too_large());
}

TEST(FrameSplitter, OneByteOverMaxByteByByteIsRejected) {
  FrameSplitter s;
  const auto frames = split_in_chunks(s, std::string(kMaxFrameBytes, 'x') + "\n", {1});
  EXPECT_TRUE(frames.empty());
  EXPECT_TRUE(s.too_large());
}

TEST(FrameSplitter, MaxBytesWithoutNewlineIsTooLargeBeforeTheNewlineArrives) {
  FrameSplitter s;
  s.append(std::string(kMaxFrameBytes - 1, 'x'));
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_FALSE(s.too_large()) << "65 535 bytes may still end in a newline";
  s.append("x");
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_TRUE(s.too_large()) << "65 536 bytes without a newline can never be a valid frame";
}

TEST(FrameSplitter, HugeAppendWithoutNewlineIsTooLarge) {
  FrameSplitter s;
  s.append(std::string(5 * kMaxFrameBytes, 'x'));
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_TRUE(s.too_large());
}

TEST(FrameSplitter, NothingIsReturnedAfterTooLarge) {
  FrameSplitter s;
  s.append("{\"id\":1}\n" + std::string(kMaxFrameBytes + 10, 'x') + "\n{\"id\":2}\n");
  EXPECT_EQ(s.next(), std::optional<std::string>("{\"id\":1}"));
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_TRUE(s.too_large());
  s.append("{\"id\":3}\n");
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_EQ(s.pending_bytes(), 0u);
}

TEST(FrameSplitter, LimitCountsFromTheStartOfEachFrame) {
  // Many frames of total size far above the limit are fine: only a single frame is bounded.
  FrameSplitter s;
  const std::string frame(1000, 'a');
  std::string stream;
  for (int i = 0; i < 200; ++i) stream += frame + "\n";
  const auto frames = split_in_chunks(s, stream, {4093});
  EXPECT_EQ(frames.size(), 200u);
  EXPECT_FALSE(s.too_large());
}

TEST(FrameSplitter, LargeFrameAfterSmallOnesInOneAppendIsAccepted) {
  FrameSplitter s;
  s.append("a\nb\n" + std::string(kMaxFrameBytes - 1, 'c') + "\n");
  EXPECT_EQ(s.next(), std::optional<std::string>("a"));
  EXPECT_EQ(s.next(), std::optional<std::string>("b"));
  const auto big = s.next();
  ASSERT_TRUE(big.has_value());
  EXPECT_EQ(big->size(), kMaxFrameBytes - 1);
  EXPECT_FALSE(s.too_large());
}

TEST(FrameSplitter, CustomLimit) {
  FrameSplitter s(8);
  s.append("1234567\n");  // 8 bytes: ok
  EXPECT_EQ(s.next(), std::optional<std::string>("1234567"));
  s.append("12345678\n");  // 9 bytes
  EXPECT_EQ(s.next(), std::nullopt);
  EXPECT_TRUE(s.too_large());
}

TEST(IsBlankLine, EmptyAndAsciiWhitespace) {
  EXPECT_TRUE(is_blank_line(""));
  EXPECT_TRUE(is_blank_line(" "));
  EXPECT_TRUE(is_blank_line(" \t \r \v \f "));
  EXPECT_TRUE(is_blank_line("\r"));
}

TEST(IsBlankLine, UnicodeWhitespace) {
  EXPECT_TRUE(is_blank_line("\u3000"));        // ideographic space
  EXPECT_TRUE(is_blank_line("\u00a0"));        // no-break space
  EXPECT_TRUE(is_blank_line("\xc2\x85"));      // next line
  EXPECT_TRUE(is_blank_line("\u2028\u2029"));  // line/paragraph separator
  EXPECT_TRUE(is_blank_line(" \u2000\u200a\u202f\u205f\u1680 "));
}

TEST(IsBlankLine, NonWhitespaceIsNotBlank) {
  EXPECT_FALSE(is_blank_line("{}"));
  EXPECT_FALSE(is_blank_line("  x  "));
  EXPECT_FALSE(is_blank_line("\u200b"));  // zero-width space is not White_Space
  EXPECT_FALSE(is_blank_line("\u180e"));  // Mongolian vowel separator: no longer White_Space
  EXPECT_FALSE(is_blank_line("\ufeff"));  // BOM
  EXPECT_FALSE(is_blank_line(std::string(1, '\0')));
}

TEST(IsBlankLine, InvalidUtf8IsNotBlank) {
  EXPECT_FALSE(is_blank_line("\xa0"));       // Latin-1 NBSP byte, not UTF-8
  EXPECT_FALSE(is_blank_line(" \xe3\x80"));  // truncated U+3000
  EXPECT_FALSE(is_blank_line("\xc0\xa0"));   // overlong space
}

}  // namespace
}  // namespace chat::protocol
