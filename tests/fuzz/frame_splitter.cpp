// Fuzz target: FrameSplitter (PROTOCOL.md "Framing") fed a hostile byte stream in chunks.
//
// Input layout: the stream, then an optional 4-byte trailer (used only when the input has
// at least 4 bytes): the last byte picks the frame limit (>= 0xC0: a small limit 1..64, so
// short inputs reach the limit logic; otherwise kMaxFrameBytes), the three before it seed
// the PRNG that picks chunk sizes and how often next() is called between appends.
//
// Checked against a reference splitter that sees the whole stream at once:
//   - the same frames in the same order, whatever the chunking and call pattern;
//   - no frame holds '\n' or exceeds the limit (terminator included);
//   - too_large is reported exactly when the reference sees an over-long line (or a
//     newline-less tail of >= limit bytes), is sticky, and hides everything after it;
//   - after next() ran dry, fewer than `limit` bytes are pending (the memory bound);
//   - bytes are conserved: frames + terminators + pending bytes = the stream.
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol/frame.hpp"
#include "fuzz_util.hpp"

namespace {

using chat::fuzz::SplitMix64;
using chat::protocol::FrameSplitter;
using chat::protocol::kMaxFrameBytes;

// What any correct splitter must produce for `stream` once it has been drained.
struct Expected {
  std::vector<std::string> frames;
  bool too_large = false;
  std::size_t pending = 0;      // bytes of the unterminated tail (0 when too_large)
  std::size_t stripped_cr = 0;  // frames that ended in "\r\n" rather than "\n"
};

Expected reference_split(std::string_view stream, std::size_t limit) {
  Expected e;
  std::size_t start = 0;
  for (;;) {
    const std::size_t newline = stream.find('\n', start);
    if (newline == std::string_view::npos) {
      const std::size_t tail = stream.size() - start;
      // `limit` bytes without a newline can no longer become a frame of <= limit bytes.
      if (tail >= limit)
        e.too_large = true;
      else
        e.pending = tail;
      return e;
    }
    if (newline - start + 1 > limit) {
      e.too_large = true;
      return e;
    }
    std::string_view line = stream.substr(start, newline - start);
    if (!line.empty() && line.back() == '\r') {
      line.remove_suffix(1);
      ++e.stripped_cr;
    }
    e.frames.emplace_back(line);
    start = newline + 1;
  }
}

// One chunk size: mostly small (to split terminators and "\r\n" pairs), sometimes large
// (to cross the 64 KiB limit in one append), sometimes the whole rest.
std::size_t chunk_size(SplitMix64& rng, std::size_t left) {
  switch (rng.next() % 4) {
    case 0:
      return std::min(left, rng.in(1, 8));
    case 1:
      return std::min(left, rng.in(1, 512));
    case 2:
      return std::min(left, rng.in(1, 2 * kMaxFrameBytes + 8));
    default:
      return left;
  }
}

void check_frame(const std::string& frame, std::size_t limit) {
  CHAT_FUZZ_CHECK(frame.find('\n') == std::string::npos);
  CHAT_FUZZ_CHECK(frame.size() + 1 <= limit);
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  std::string_view stream = chat::fuzz::as_text(data, size);
  std::uint8_t mode = 0;
  std::uint64_t seed = 0;
  if (stream.size() >= 4) {
    const auto byte = [&](std::size_t from_end) {
      return static_cast<std::uint8_t>(stream[stream.size() - from_end]);
    };
    mode = byte(1);
    seed = (std::uint64_t{byte(2)} << 16) | (std::uint64_t{byte(3)} << 8) | byte(4);
    stream.remove_suffix(4);
  }
  const std::size_t limit = mode >= 0xC0 ? std::size_t{mode} - 0xBF : kMaxFrameBytes;
  const Expected want = reference_split(stream, limit);

  FrameSplitter splitter = limit == kMaxFrameBytes ? FrameSplitter() : FrameSplitter(limit);
  SplitMix64 rng(seed);
  std::vector<std::string> got;
  bool saw_too_large = false;
  // Collects frames; drain=true calls next() until it runs dry, as chatd's read loop does.
  const auto pull = [&](bool drain, std::size_t max_calls) {
    for (std::size_t i = 0; drain || i < max_calls; ++i) {
      auto frame = splitter.next();
      if (!frame) {
        if (drain) {
          CHAT_FUZZ_CHECK(splitter.too_large() || splitter.pending_bytes() < limit);
          return;
        }
        continue;
      }
      CHAT_FUZZ_CHECK(!saw_too_large);  // nothing is handed out after too_large
      check_frame(*frame, limit);
      got.push_back(std::move(*frame));
    }
  };

  std::size_t pos = 0;
  while (pos < stream.size()) {
    const std::uint64_t pattern = rng.next();
    if (pattern % 16 == 0) splitter.append({});  // an empty read must change nothing
    const std::size_t n = chunk_size(rng, stream.size() - pos);
    splitter.append(stream.substr(pos, n));
    pos += n;
    // Mostly drain like chatd; sometimes lag behind (0..2 calls) like a slow consumer.
    pull((pattern >> 8) % 4 != 0, (pattern >> 16) % 3);
    if (splitter.too_large()) {
      saw_too_large = true;
      CHAT_FUZZ_CHECK(splitter.pending_bytes() == 0);
    }
  }
  pull(true, 0);
  if (splitter.too_large()) saw_too_large = true;

  CHAT_FUZZ_CHECK(got.size() == want.frames.size());
  for (std::size_t i = 0; i < got.size(); ++i) CHAT_FUZZ_CHECK(got[i] == want.frames[i]);
  CHAT_FUZZ_CHECK(splitter.too_large() == want.too_large);
  if (want.too_large) {
    CHAT_FUZZ_CHECK(splitter.pending_bytes() == 0);
    // Sticky: later bytes are ignored, even a complete small frame.
    splitter.append("{}\n");
    CHAT_FUZZ_CHECK(!splitter.next());
    CHAT_FUZZ_CHECK(splitter.too_large());
    CHAT_FUZZ_CHECK(splitter.pending_bytes() == 0);
  } else {
    CHAT_FUZZ_CHECK(splitter.pending_bytes() == want.pending);
    std::size_t accounted = splitter.pending_bytes() + want.stripped_cr;
    for (const auto& frame : got) accounted += frame.size() + 1;
    CHAT_FUZZ_CHECK(accounted == stream.size());
    // The tail completes into one more frame once its newline arrives.
    if (want.pending + 1 <= limit) {
      splitter.append("\n");
      const auto last = splitter.next();
      const bool cr_tail = want.pending > 0 && stream.back() == '\r';
      CHAT_FUZZ_CHECK(last.has_value());
      CHAT_FUZZ_CHECK(last->size() == want.pending - (cr_tail ? 1 : 0));
      CHAT_FUZZ_CHECK(splitter.pending_bytes() == 0);
    }
  }
  return 0;
}
