// Terminal input -> chat-tui events: curses key codes, escape-prefixed Alt keys, control
// characters and mouse reports become KeyEvent / MouseEvent (ui.hpp) with canonical key
// names (keys.hpp). Needs an active Screen.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <vector>

#include "chat/tui/ui.hpp"

namespace chat::tui {

/// One thing read from the terminal.
struct InputEvent {
  enum class Type { key, mouse, resize };
  Type type = Type::key;
  KeyEvent key;
  MouseEvent mouse;
};

/// Reads and translates keys from curses (stdscr, non-blocking).
class KeyReader {
 public:
  /// Learns the codes curses assigned to the terminal's modified arrows (Alt-Left, Ctrl-Right,
  /// ...: terminfo's extended kLFT3, kRIT5, ... capabilities).
  KeyReader();

  /// Everything buffered now, translated, in order. Never blocks.
  std::vector<InputEvent> read_all();

 private:
  std::optional<std::string> function_key(int code) const;
  std::map<int, std::string> extended_;
};

}  // namespace chat::tui
