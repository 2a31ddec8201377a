#include "chat/tui/input_history.hpp"

#include <algorithm>
#include <utility>

#include "chat/protocol/text.hpp"

namespace chat::tui {

InputHistory::InputHistory(std::size_t max_entries) : max_(std::max<std::size_t>(1, max_entries)) {}

void InputHistory::add(std::string line) {
  position_.reset();
  draft_.clear();
  if (protocol::is_only_whitespace(line)) return;
  if (!entries_.empty() && entries_.back() == line) return;
  entries_.push_back(std::move(line));
  while (entries_.size() > max_) entries_.pop_front();
}

std::optional<std::string> InputHistory::previous(std::string_view current) {
  if (entries_.empty()) return std::nullopt;
  if (!position_) {
    draft_ = std::string(current);
    position_ = entries_.size() - 1;
    return entries_[*position_];
  }
  if (*position_ == 0) return std::nullopt;
  --*position_;
  return entries_[*position_];
}

std::optional<std::string> InputHistory::next() {
  if (!position_) return std::nullopt;
  if (*position_ + 1 < entries_.size()) {
    ++*position_;
    return entries_[*position_];
  }
  position_.reset();
  return std::exchange(draft_, std::string());
}

}  // namespace chat::tui
