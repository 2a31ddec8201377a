// chat-tui's config file: the state that belongs to the user (last server, user name, key
// bindings, colours, panes, bell), one `key = value` per line, '#' starts a comment line.
// It lives in $XDG_CONFIG_HOME/chat-tui/config (default ~/.config/chat-tui/config). The
// password is never read from it nor written to it.
#pragma once

#include <filesystem>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/tui/keys.hpp"
#include "chat/tui/layout.hpp"

namespace chat::tui {

/// Foreground and background colour numbers (0..255; -1 = the terminal's default).
struct ColorPair {
  int fg = -1;
  int bg = -1;
  bool operator==(const ColorPair&) const = default;
};

/// The configurable colours. Two themes exist: one for 256-colour terminals and one for
/// 8/16-colour terminals; a colour set in the config goes into the second only when it
/// exists there (below 8).
struct Theme {
  std::vector<int> nicks;  // palette of author colours, picked by a hash of the name
  ColorPair title;         // title bar
  ColorPair status;        // status bar
  ColorPair highlight;     // the author of a message that mentions us
  int unread = -1;         // unread count in the meetings pane
  int mention = -1;        // unread count with a mention
  int marker = -1;         // the "new messages" marker
  int self = -1;           // our own name
  bool operator==(const Theme&) const = default;

  /// chat-tui's 256-colour theme.
  static Theme defaults256();
  /// chat-tui's 8-colour theme (also used for 16 colours).
  static Theme defaults8();
};

/// How colours are used: automatic (256 if the terminal has them, else 8), forced 256 or 8
/// colours (as far as the terminal has them), or none (attributes only: bold, reverse,
/// underline). NO_COLOR in the environment means none.
enum class ColorMode { automatic, c256, c8, none };

/// The parsed config file.
struct Config {
  std::optional<std::string> server;  // "host:port" last logged into (used without --server)
  std::optional<std::string> user;    // last user name (prefills the login form)
  bool bell = true;                   // ring the terminal bell when someone mentions us
  bool mouse = true;                  // clicks and wheel (off: the terminal selects text)
  ColorMode colors = ColorMode::automatic;
  PaneSettings panes;
  Theme theme256 = Theme::defaults256();
  Theme theme8 = Theme::defaults8();
  KeyMap keys = KeyMap::defaults();
  /// Problems found while parsing ("line 3: unknown setting 'colour'"); the rest applies.
  std::vector<std::string> warnings;
};

/// Parses config text. Never throws: bad lines are skipped with a warning.
Config parse_config(std::string_view text);

/// Returns text with each `key = value` of `values` set: an existing line of that key is
/// rewritten in place (the first one; comments and every other line stay as they are),
/// missing keys are appended. Empty text gets a short header comment first.
std::string update_config_text(std::string_view text,
                               const std::vector<std::pair<std::string, std::string>>& values);

/// The config file path: $XDG_CONFIG_HOME/chat-tui/config when that variable is an
/// absolute path, else $HOME/.config/chat-tui/config; nullopt without either. Pass the
/// variables' values (nullptr = unset).
std::optional<std::filesystem::path> config_path(const char* xdg_config_home, const char* home);

/// True when the NO_COLOR convention asks for no colour: the variable is set and not empty.
bool no_color_requested(const char* no_color_env) noexcept;

/// Reads a whole file; nullopt when it does not exist or cannot be read.
std::optional<std::string> read_text_file(const std::filesystem::path& path);

/// Writes a file atomically (a temporary file in the same directory, then rename),
/// creating the directory if needed. Returns an error text, or nullopt on success.
std::optional<std::string> write_text_file(const std::filesystem::path& path,
                                           std::string_view text);

}  // namespace chat::tui
