#include "chat/protocol/frame.hpp"

#include "chat/protocol/text.hpp"

namespace chat::protocol {

void FrameSplitter::append(std::string_view bytes) {
  if (too_large_) return;
  compact();
  buffer_.append(bytes);
}

std::optional<std::string> FrameSplitter::next() {
  if (too_large_) return std::nullopt;
  const std::size_t newline = buffer_.find('\n', start_ + scan_);
  if (newline == std::string::npos) {
    scan_ = buffer_.size() - start_;
    // A frame of max bytes would need its newline at index max-1; having max bytes
    // without one means the frame is already too long.
    if (scan_ >= max_frame_bytes_) {
      too_large_ = true;
      buffer_.clear();
      start_ = scan_ = 0;
    }
    return std::nullopt;
  }
  const std::size_t frame_bytes = newline - start_ + 1;
  if (frame_bytes > max_frame_bytes_) {
    too_large_ = true;
    buffer_.clear();
    start_ = scan_ = 0;
    return std::nullopt;
  }
  std::size_t end = newline;
  if (end > start_ && buffer_[end - 1] == '\r') --end;
  std::string frame = buffer_.substr(start_, end - start_);
  start_ = newline + 1;
  scan_ = 0;
  return frame;
}

void FrameSplitter::compact() {
  // Drop consumed bytes before growing the buffer, so it never holds more than one
  // partial frame plus the newest append.
  if (start_ == 0) return;
  buffer_.erase(0, start_);
  start_ = 0;
}

bool is_blank_line(std::string_view line) {
  return is_only_whitespace(line);
}

}  // namespace chat::protocol
