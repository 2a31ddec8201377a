// Framing of PROTOCOL.md: JSON Lines, one frame per '\n'-terminated line.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chat::protocol {

/// Largest client frame in bytes, the terminating '\n' included (PROTOCOL.md "Framing").
inline constexpr std::size_t kMaxFrameBytes = 65536;

/// Splits a byte stream into frames. Bytes are appended as they arrive from the socket;
/// next() hands out complete lines without their "\n" or "\r\n". A line longer than
/// max_frame_bytes (terminator included), or max_frame_bytes buffered without a newline,
/// puts the splitter into the too_large state: the connection must answer too_large and
/// close, so nothing after that point is returned. Memory is bounded by max_frame_bytes
/// plus the largest single append().
class FrameSplitter {
 public:
  explicit FrameSplitter(std::size_t max_frame_bytes = kMaxFrameBytes)
      : max_frame_bytes_(max_frame_bytes) {}

  /// Adds received bytes. Ignored once too_large() is set.
  void append(std::string_view bytes);

  /// The next complete frame, or nullopt when more bytes are needed or too_large() is set.
  std::optional<std::string> next();

  /// True once a frame exceeded the limit.
  bool too_large() const noexcept { return too_large_; }

  /// Bytes received but not yet returned as a frame (a frame cut off mid-way).
  std::size_t pending_bytes() const noexcept { return buffer_.size() - start_; }

 private:
  void compact();

  std::size_t max_frame_bytes_;
  std::string buffer_;
  std::size_t start_ = 0;  // first byte not yet handed out
  std::size_t scan_ = 0;   // bytes from start_ already known to hold no '\n'
  bool too_large_ = false;
};

/// True for a line that is empty or holds only Unicode White_Space (a keep-alive).
bool is_blank_line(std::string_view line);

}  // namespace chat::protocol
