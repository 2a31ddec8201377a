// Helpers shared by the fuzz targets of tests/fuzz: invariant checks that abort (so libFuzzer
// records the input as a crash and the replay main fails its ctest), a deterministic PRNG
// seeded from the input, and line iteration as chatd and chat-tui do it.
#pragma once

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include "chat/protocol/frame.hpp"

namespace chat::fuzz {

/// Prints the failed invariant and aborts. Never returns; the abort is what turns a broken
/// invariant into a libFuzzer crash (with the input saved) or a failed replay test.
[[noreturn]] inline void fail(const char* what, const char* file, int line,
                              std::string_view detail = {}) {
  std::fprintf(stderr, "%s:%d: fuzz invariant failed: %s", file, line, what);
  if (!detail.empty())
    std::fprintf(stderr, " (%.*s)", static_cast<int>(detail.size()), detail.data());
  std::fputc('\n', stderr);
  std::abort();
}

}  // namespace chat::fuzz

/// Checks an invariant of the code under test; on failure prints the condition and aborts.
/// A macro so that the message names the condition and the line.
#define CHAT_FUZZ_CHECK(cond) \
  ((cond) ? static_cast<void>(0) : ::chat::fuzz::fail(#cond, __FILE__, __LINE__))
/// As CHAT_FUZZ_CHECK, with a string (e.g. an exception's what()) added to the message.
#define CHAT_FUZZ_CHECK_MSG(cond, detail) \
  ((cond) ? static_cast<void>(0) : ::chat::fuzz::fail(#cond, __FILE__, __LINE__, (detail)))

namespace chat::fuzz {

/// SplitMix64: a tiny deterministic generator, so that chunk sizes and call patterns are a
/// pure function of the input (a crash always reproduces from the saved file).
class SplitMix64 {
 public:
  explicit SplitMix64(std::uint64_t seed) noexcept : state_(seed) {}

  /// The next 64 pseudo-random bits.
  std::uint64_t next() noexcept {
    std::uint64_t z = (state_ += 0x9E3779B97F4A7C15ULL);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ULL;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBULL;
    return z ^ (z >> 31);
  }

  /// A value in [lo, hi] (hi >= lo); slightly biased, which does not matter here.
  std::size_t in(std::size_t lo, std::size_t hi) noexcept {
    return lo + static_cast<std::size_t>(next() % (hi - lo + 1));
  }

 private:
  std::uint64_t state_;
};

/// The fuzz input as text (the targets read it as wire bytes).
inline std::string_view as_text(const std::uint8_t* data, std::size_t size) noexcept {
  return {reinterpret_cast<const char*>(data), size};
}

/// Calls on_line(frame) for every non-blank frame of `stream`, split by a FrameSplitter of
/// max_frame_bytes exactly as a peer's read loop does (blank keep-alive lines skipped). A
/// '\n' is appended so that a last line without a terminator is seen too. Stops at
/// too_large, as the connection would be closed there.
template <typename OnLine>
void for_each_frame(std::string_view stream, std::size_t max_frame_bytes, OnLine&& on_line) {
  protocol::FrameSplitter splitter(max_frame_bytes);
  splitter.append(stream);
  splitter.append("\n");
  while (auto frame = splitter.next()) {
    if (protocol::is_blank_line(*frame)) continue;
    on_line(std::string_view(*frame));
  }
}

/// True when `wire` is one JSON Lines frame: ends in '\n' and holds no other newline.
inline bool is_one_line(std::string_view wire) noexcept {
  return !wire.empty() && wire.find('\n') == wire.size() - 1;
}

}  // namespace chat::fuzz
