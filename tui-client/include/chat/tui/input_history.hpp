// Input history of chat-tui (Up / Down in the input line, as in a shell): lines submitted
// before, newest last, with the line being typed kept as a draft while browsing.
#pragma once

#include <cstddef>
#include <deque>
#include <optional>
#include <string>
#include <string_view>

namespace chat::tui {

/// A bounded list of submitted lines and a browsing position.
class InputHistory {
 public:
  /// Keeps at most max_entries lines (the oldest are dropped first); at least 1.
  explicit InputHistory(std::size_t max_entries = 200);

  /// Records a submitted line. Blank lines and a repeat of the newest entry are not
  /// recorded. Ends browsing.
  void add(std::string line);

  /// Up: the entry before the one shown, or nullopt at the oldest (nothing changes). The
  /// first step from the bottom keeps `current` (the text being typed) as the draft.
  std::optional<std::string> previous(std::string_view current);

  /// Down: the entry after the one shown; past the newest entry the draft comes back and
  /// browsing ends. nullopt when not browsing.
  std::optional<std::string> next();

  /// Ends browsing without changing anything (the user edited the line).
  void reset_navigation() noexcept { position_.reset(); }

  /// True while an entry (not the draft) is shown.
  bool browsing() const noexcept { return position_.has_value(); }

  /// The entries, oldest first.
  const std::deque<std::string>& entries() const noexcept { return entries_; }

 private:
  std::size_t max_;
  std::deque<std::string> entries_;
  std::optional<std::size_t> position_;  // index of the entry shown while browsing
  std::string draft_;
};

}  // namespace chat::tui
