// Key names and key bindings of chat-tui, without ncurses: the app turns terminal input into
// canonical key names ("C-o", "M-b", "F6", "PgUp", ...) and a KeyMap turns names into
// actions. The default bindings are a data table (WeeChat style) that the config file
// (`key.<name> = <action>`) can change.
#pragma once

#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

/// Everything a key can be bound to. Names for the config file: action_name().
enum class Action {
  none,
  // input line
  submit,
  complete,
  complete_back,
  history_prev,
  history_next,
  cursor_left,
  cursor_right,
  cursor_word_left,
  cursor_word_right,
  cursor_start,
  cursor_end,
  delete_back,
  delete_forward,
  kill_word_back,
  kill_word_forward,
  kill_to_start,
  kill_to_end,
  yank,
  // chat pane
  scroll_page_up,
  scroll_page_down,
  scroll_line_up,
  scroll_line_down,
  scroll_top,
  scroll_bottom,
  // meetings
  meeting_next,
  meeting_prev,
  meeting_1,
  meeting_2,
  meeting_3,
  meeting_4,
  meeting_5,
  meeting_6,
  meeting_7,
  meeting_8,
  meeting_9,
  server_buffer,
  // focus and panes
  focus_next,
  focus_prev,
  focus_input,
  focus_meetings,
  focus_chat,
  focus_participants,
  toggle_meetings,
  toggle_participants,
  meetings_narrower,
  meetings_wider,
  participants_narrower,
  participants_wider,
  // screen
  help,
  redraw,
  quit,
};

/// The config-file name of an action, e.g. "history-prev", "meeting-3"; "none" for none.
std::string_view action_name(Action action) noexcept;

/// The action of a config-file name (exact, lower case, '-' or '_'); nullopt when unknown.
std::optional<Action> parse_action(std::string_view name);

/// One-line description of an action for the help overlay.
std::string_view action_help(Action action) noexcept;

/// For meeting_1 .. meeting_9: the row number 1..9; 0 for every other action.
int meeting_number(Action action) noexcept;

/// Canonical form of a key name, or nullopt when it is not one. Modifier prefixes "C-",
/// "Ctrl-", "Ctrl+", "^" (control), "M-", "Alt-", "Meta-" (alt) and "S-", "Shift-" are
/// accepted in any case and written as "C-", "M-", "S-" in that order; named keys
/// (Tab, Enter/Return, Esc/Escape, Backspace/BS, Delete/Del, Insert, Up, Down, Left, Right,
/// Home, End, PgUp/PageUp/PPage, PgDn/PageDown/NPage, Space, F1..F12) are case-insensitive.
/// A control letter is lower case ("C-o"); an alt character keeps its case ("M-B" is
/// Alt-Shift-b). Examples: "ctrl-O" -> "C-o", "alt+left" -> "M-Left", "pageup" -> "PgUp".
std::optional<std::string> normalize_key(std::string_view name);

/// Key name -> action. Only keys with a binding are in the map; unbound keys fall back to
/// their default meaning (text for printable characters, nothing otherwise).
class KeyMap {
 public:
  /// chat-tui's default bindings (README.md and /help list them).
  static KeyMap defaults();

  /// The action bound to a canonical key name, Action::none when unbound.
  Action find(std::string_view key) const;
  /// Binds a canonical key name (see normalize_key) to an action; Action::none removes the
  /// binding.
  void bind(const std::string& key, Action action);
  /// Every key bound to an action, in a stable order (for the help overlay).
  std::vector<std::string> keys_for(Action action) const;
  /// All bindings by key name.
  const std::map<std::string, Action>& bindings() const noexcept { return map_; }

 private:
  std::map<std::string, Action> map_;
};

}  // namespace chat::tui
