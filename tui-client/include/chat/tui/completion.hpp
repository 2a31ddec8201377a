// Tab completion of the input line (WeeChat / readline style): command names after a
// leading '/', meeting titles after "/join ", participant names after "/msgs " and in
// ordinary text. Works on code points, so multi-byte names complete cleanly.
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "chat/tui/input_line.hpp"

namespace chat::tui {

/// What can be completed, gathered by the caller from the current state.
struct CompletionSources {
  std::vector<std::string> commands;  // "/join", "/leave", ...
  std::vector<std::string> names;     // participants of the current meeting (others first)
  std::vector<std::string> meetings;  // titles of the active meetings
  std::string self;                   // our own name: not offered in chat text
};

/// Completion state of one input line. The first Tab completes the word before the cursor
/// to the first match (matching ignores case); each further Tab (or Shift-Tab, backwards)
/// replaces it by the next match. Any other key ends the cycle (call reset()).
class Completer {
 public:
  /// Tab (backward = Shift-Tab). Returns true when the line changed; false when nothing
  /// matches. A name completed at the start of the line gets ": " after it (addressing
  /// someone), elsewhere a space; a command gets a space.
  bool complete(InputLine& line, const CompletionSources& sources, bool backward = false);

  /// Ends the cycle (the next Tab completes afresh).
  void reset() noexcept;

  /// True while a cycle is running (more than one match).
  bool active() const noexcept { return active_; }
  /// The matches of the running cycle, in cycling order.
  const std::vector<std::string>& candidates() const noexcept { return candidates_; }
  /// Index of the match shown in candidates().
  std::size_t index() const noexcept { return index_; }

 private:
  bool active_ = false;
  std::size_t start_ = 0;     // code point where the completed word starts
  std::size_t inserted_ = 0;  // code points inserted by the last step (match + suffix)
  std::vector<std::string> candidates_;
  std::vector<std::string> suffixes_;
  std::size_t index_ = 0;
};

}  // namespace chat::tui
