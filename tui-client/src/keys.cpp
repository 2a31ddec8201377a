#include "chat/tui/keys.hpp"

#include <algorithm>
#include <array>
#include <cctype>

namespace chat::tui {
namespace {

struct ActionInfo {
  Action action;
  std::string_view name;
  std::string_view help;
};

// One row per action: config name and help text.
constexpr std::array kActions{
    ActionInfo{Action::none, "none", "nothing (unbinds the key)"},
    ActionInfo{Action::submit, "submit", "post the input line or run the /command"},
    ActionInfo{Action::complete, "complete", "complete a participant name, command or meeting"},
    ActionInfo{Action::complete_back, "complete-back", "cycle the completions backwards"},
    ActionInfo{Action::history_prev, "history-prev", "previous input line (history)"},
    ActionInfo{Action::history_next, "history-next", "next input line (history)"},
    ActionInfo{Action::cursor_left, "cursor-left", "cursor one character left"},
    ActionInfo{Action::cursor_right, "cursor-right", "cursor one character right"},
    ActionInfo{Action::cursor_word_left, "cursor-word-left", "cursor one word left"},
    ActionInfo{Action::cursor_word_right, "cursor-word-right", "cursor one word right"},
    ActionInfo{Action::cursor_start, "cursor-start", "cursor to the start of the line"},
    ActionInfo{Action::cursor_end, "cursor-end", "cursor to the end of the line"},
    ActionInfo{Action::delete_back, "delete-back", "delete the character before the cursor"},
    ActionInfo{Action::delete_forward, "delete-forward", "delete the character under the cursor"},
    ActionInfo{Action::kill_word_back, "kill-word-back", "delete the word before the cursor"},
    ActionInfo{Action::kill_word_forward, "kill-word-forward", "delete the word after the cursor"},
    ActionInfo{Action::kill_to_start, "kill-to-start", "delete up to the start of the line"},
    ActionInfo{Action::kill_to_end, "kill-to-end", "delete up to the end of the line"},
    ActionInfo{Action::yank, "yank", "insert the text deleted last"},
    ActionInfo{Action::scroll_page_up, "scroll-page-up", "chat: one page back"},
    ActionInfo{Action::scroll_page_down, "scroll-page-down", "chat: one page forward"},
    ActionInfo{Action::scroll_line_up, "scroll-line-up", "chat: one row back"},
    ActionInfo{Action::scroll_line_down, "scroll-line-down", "chat: one row forward"},
    ActionInfo{Action::scroll_top, "scroll-top", "chat: oldest line"},
    ActionInfo{Action::scroll_bottom, "scroll-bottom", "chat: newest line (follow)"},
    ActionInfo{Action::meeting_next, "meeting-next", "next joined meeting"},
    ActionInfo{Action::meeting_prev, "meeting-prev", "previous joined meeting"},
    ActionInfo{Action::meeting_1, "meeting-1", "open meeting 1 of the meetings pane"},
    ActionInfo{Action::meeting_2, "meeting-2", "open meeting 2"},
    ActionInfo{Action::meeting_3, "meeting-3", "open meeting 3"},
    ActionInfo{Action::meeting_4, "meeting-4", "open meeting 4"},
    ActionInfo{Action::meeting_5, "meeting-5", "open meeting 5"},
    ActionInfo{Action::meeting_6, "meeting-6", "open meeting 6"},
    ActionInfo{Action::meeting_7, "meeting-7", "open meeting 7"},
    ActionInfo{Action::meeting_8, "meeting-8", "open meeting 8"},
    ActionInfo{Action::meeting_9, "meeting-9", "open meeting 9"},
    ActionInfo{Action::server_buffer, "server-buffer", "show the server buffer (notices)"},
    ActionInfo{Action::focus_next, "focus-next", "focus the next pane"},
    ActionInfo{Action::focus_prev, "focus-prev", "focus the previous pane"},
    ActionInfo{Action::focus_input, "focus-input", "focus the input line (closes the help)"},
    ActionInfo{Action::focus_meetings, "focus-meetings", "focus the meetings pane"},
    ActionInfo{Action::focus_chat, "focus-chat", "focus the chat pane"},
    ActionInfo{Action::focus_participants, "focus-participants", "focus the participants pane"},
    ActionInfo{Action::toggle_meetings, "toggle-meetings", "hide / show the meetings pane"},
    ActionInfo{Action::toggle_participants, "toggle-participants",
               "hide / show the participants pane"},
    ActionInfo{Action::meetings_narrower, "meetings-narrower", "meetings pane narrower"},
    ActionInfo{Action::meetings_wider, "meetings-wider", "meetings pane wider"},
    ActionInfo{Action::participants_narrower, "participants-narrower",
               "participants pane narrower"},
    ActionInfo{Action::participants_wider, "participants-wider", "participants pane wider"},
    ActionInfo{Action::help, "help", "show / hide the help overlay"},
    ActionInfo{Action::redraw, "redraw", "repaint the whole screen"},
    ActionInfo{Action::quit, "quit", "quit chat-tui"},
};

const ActionInfo* info_of(Action a) {
  for (const auto& i : kActions)
    if (i.action == a) return &i;
  return nullptr;
}

struct Binding {
  std::string_view key;
  Action action;
};

// The default key table. Tab completes (readline / WeeChat habit); focus moves with
// Ctrl-O, F6 and Alt-Left/Right, so no key is needed twice.
constexpr std::array kDefaultBindings{
    Binding{"Enter", Action::submit},
    Binding{"Tab", Action::complete},
    Binding{"S-Tab", Action::complete_back},
    Binding{"Up", Action::history_prev},
    Binding{"Down", Action::history_next},
    Binding{"Left", Action::cursor_left},
    Binding{"Right", Action::cursor_right},
    Binding{"C-b", Action::cursor_left},
    Binding{"C-f", Action::cursor_right},
    Binding{"M-b", Action::cursor_word_left},
    Binding{"M-f", Action::cursor_word_right},
    Binding{"C-Left", Action::cursor_word_left},
    Binding{"C-Right", Action::cursor_word_right},
    Binding{"C-a", Action::cursor_start},
    Binding{"C-e", Action::cursor_end},
    Binding{"Backspace", Action::delete_back},
    Binding{"Delete", Action::delete_forward},
    Binding{"C-d", Action::delete_forward},
    Binding{"C-w", Action::kill_word_back},
    Binding{"M-Backspace", Action::kill_word_back},
    Binding{"M-d", Action::kill_word_forward},
    Binding{"C-u", Action::kill_to_start},
    Binding{"C-k", Action::kill_to_end},
    Binding{"C-y", Action::yank},
    Binding{"PgUp", Action::scroll_page_up},
    Binding{"PgDn", Action::scroll_page_down},
    Binding{"M-Up", Action::scroll_line_up},
    Binding{"M-Down", Action::scroll_line_down},
    Binding{"Home", Action::scroll_top},
    Binding{"End", Action::scroll_bottom},
    Binding{"M-Home", Action::scroll_top},
    Binding{"M-End", Action::scroll_bottom},
    Binding{"C-n", Action::meeting_next},
    Binding{"C-p", Action::meeting_prev},
    Binding{"M-1", Action::meeting_1},
    Binding{"M-2", Action::meeting_2},
    Binding{"M-3", Action::meeting_3},
    Binding{"M-4", Action::meeting_4},
    Binding{"M-5", Action::meeting_5},
    Binding{"M-6", Action::meeting_6},
    Binding{"M-7", Action::meeting_7},
    Binding{"M-8", Action::meeting_8},
    Binding{"M-9", Action::meeting_9},
    Binding{"M-0", Action::server_buffer},
    Binding{"C-o", Action::focus_next},
    Binding{"F6", Action::focus_next},
    Binding{"M-Right", Action::focus_next},
    Binding{"M-Left", Action::focus_prev},
    Binding{"Esc", Action::focus_input},
    Binding{"F2", Action::focus_meetings},
    Binding{"F3", Action::focus_chat},
    Binding{"F4", Action::focus_participants},
    Binding{"F7", Action::toggle_meetings},
    Binding{"F8", Action::toggle_participants},
    Binding{"F9", Action::meetings_narrower},
    Binding{"F10", Action::meetings_wider},
    Binding{"F11", Action::participants_narrower},
    Binding{"F12", Action::participants_wider},
    Binding{"F1", Action::help},
    Binding{"M-h", Action::help},
    Binding{"C-l", Action::redraw},
};

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

bool starts_with_ci(std::string_view s, std::string_view prefix) {
  return s.size() >= prefix.size() && lower(s.substr(0, prefix.size())) == prefix;
}

// Named keys: lower-case alias -> canonical name.
std::optional<std::string> named_key(std::string_view base) {
  static constexpr std::array<std::pair<std::string_view, std::string_view>, 24> kNames{{
      {"tab", "Tab"},    {"enter", "Enter"},         {"return", "Enter"}, {"esc", "Esc"},
      {"escape", "Esc"}, {"backspace", "Backspace"}, {"bs", "Backspace"}, {"delete", "Delete"},
      {"del", "Delete"}, {"insert", "Insert"},       {"ins", "Insert"},   {"up", "Up"},
      {"down", "Down"},  {"left", "Left"},           {"right", "Right"},  {"home", "Home"},
      {"end", "End"},    {"pgup", "PgUp"},           {"pageup", "PgUp"},  {"ppage", "PgUp"},
      {"pgdn", "PgDn"},  {"pagedown", "PgDn"},       {"npage", "PgDn"},   {"space", "Space"},
  }};
  const std::string l = lower(base);
  for (const auto& [alias, canonical] : kNames)
    if (l == alias) return std::string(canonical);
  if (l.size() >= 2 && l.size() <= 3 && l[0] == 'f') {
    int n = 0;
    for (std::size_t i = 1; i < l.size(); ++i) {
      if (!std::isdigit(static_cast<unsigned char>(l[i]))) return std::nullopt;
      n = n * 10 + (l[i] - '0');
    }
    if (n >= 1 && n <= 12) return "F" + std::to_string(n);
  }
  return std::nullopt;
}

}  // namespace

std::string_view action_name(Action action) noexcept {
  const auto* i = info_of(action);
  return i != nullptr ? i->name : "none";
}

std::string_view action_help(Action action) noexcept {
  const auto* i = info_of(action);
  return i != nullptr ? i->help : "";
}

std::optional<Action> parse_action(std::string_view name) {
  std::string n(name);
  std::replace(n.begin(), n.end(), '_', '-');
  for (const auto& i : kActions)
    if (i.name == n) return i.action;
  return std::nullopt;
}

int meeting_number(Action action) noexcept {
  const int first = static_cast<int>(Action::meeting_1);
  const int a = static_cast<int>(action);
  return a >= first && a <= static_cast<int>(Action::meeting_9) ? a - first + 1 : 0;
}

std::optional<std::string> normalize_key(std::string_view name) {
  bool ctrl = false;
  bool alt = false;
  bool shift = false;
  std::string_view rest = name;
  // Prefixes; a single remaining character is the key itself even if it is '-' or '+'.
  while (rest.size() > 1) {
    if (starts_with_ci(rest, "ctrl-") || starts_with_ci(rest, "ctrl+")) {
      ctrl = true;
      rest.remove_prefix(5);
    } else if (starts_with_ci(rest, "c-")) {
      ctrl = true;
      rest.remove_prefix(2);
    } else if (rest[0] == '^') {
      ctrl = true;
      rest.remove_prefix(1);
    } else if (starts_with_ci(rest, "alt-") || starts_with_ci(rest, "alt+")) {
      alt = true;
      rest.remove_prefix(4);
    } else if (starts_with_ci(rest, "meta-") || starts_with_ci(rest, "meta+")) {
      alt = true;
      rest.remove_prefix(5);
    } else if (starts_with_ci(rest, "m-")) {
      alt = true;
      rest.remove_prefix(2);
    } else if (starts_with_ci(rest, "shift-") || starts_with_ci(rest, "shift+")) {
      shift = true;
      rest.remove_prefix(6);
    } else if (starts_with_ci(rest, "s-")) {
      shift = true;
      rest.remove_prefix(2);
    } else {
      break;
    }
  }
  if (rest.empty()) return std::nullopt;
  std::string base;
  if (rest.size() == 1) {
    const auto c = static_cast<unsigned char>(rest[0]);
    if (c < 0x21 || c > 0x7E) return std::nullopt;
    base = std::string(1, static_cast<char>(c));
    // Control keys exist for letters only, and they have no case.
    if (ctrl) {
      if (!std::isalpha(c)) return std::nullopt;
      base[0] = static_cast<char>(std::tolower(c));
    }
    if (shift) return std::nullopt;  // "S-a" is "A"
  } else {
    auto n = named_key(rest);
    if (!n) return std::nullopt;
    base = *n;
  }
  std::string out;
  if (ctrl) out += "C-";
  if (alt) out += "M-";
  if (shift) out += "S-";
  return out + base;
}

KeyMap KeyMap::defaults() {
  KeyMap m;
  for (const auto& b : kDefaultBindings) m.map_.emplace(std::string(b.key), b.action);
  return m;
}

Action KeyMap::find(std::string_view key) const {
  const auto it = map_.find(std::string(key));
  return it == map_.end() ? Action::none : it->second;
}

void KeyMap::bind(const std::string& key, Action action) {
  if (action == Action::none)
    map_.erase(key);
  else
    map_[key] = action;
}

std::vector<std::string> KeyMap::keys_for(Action action) const {
  // Order of the default table first (it puts the usual key first), then the rest by name.
  std::vector<std::string> keys;
  for (const auto& b : kDefaultBindings) {
    const std::string k(b.key);
    if (find(k) == action) keys.push_back(k);
  }
  for (const auto& [k, a] : map_)
    if (a == action && std::find(keys.begin(), keys.end(), k) == keys.end()) keys.push_back(k);
  return keys;
}

}  // namespace chat::tui
