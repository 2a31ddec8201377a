#include "chat/tui/config.hpp"

#include <unistd.h>

#include <algorithm>
#include <array>
#include <cctype>
#include <charconv>
#include <fstream>
#include <sstream>
#include <system_error>

namespace chat::tui {
namespace {

std::string trim(std::string_view s) {
  const auto* ws = " \t\r";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::string lower(std::string s) {
  for (char& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return s;
}

std::optional<bool> parse_bool(const std::string& v) {
  const std::string l = lower(v);
  if (l == "on" || l == "true" || l == "yes" || l == "1") return true;
  if (l == "off" || l == "false" || l == "no" || l == "0") return false;
  return std::nullopt;
}

std::optional<int> parse_int(const std::string& v, int min, int max) {
  int out = 0;
  const auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), out);
  if (ec != std::errc{} || end != v.data() + v.size() || out < min || out > max)
    return std::nullopt;
  return out;
}

// A colour: -1..255 or a name of the 8 basic colours ("default" = -1).
std::optional<int> parse_color(const std::string& v) {
  static constexpr std::array<std::string_view, 8> kNames{"black", "red",     "green", "yellow",
                                                          "blue",  "magenta", "cyan",  "white"};
  const std::string l = lower(trim(v));
  if (l == "default") return -1;
  for (std::size_t i = 0; i < kNames.size(); ++i)
    if (l == kNames[i]) return static_cast<int>(i);
  return parse_int(l, -1, 255);
}

std::vector<std::string> split_commas(const std::string& v) {
  std::vector<std::string> out;
  std::stringstream ss(v);
  std::string item;
  while (std::getline(ss, item, ',')) out.push_back(trim(item));
  return out;
}

std::optional<ColorPair> parse_pair(const std::string& v) {
  const auto parts = split_commas(v);
  if (parts.empty() || parts.size() > 2) return std::nullopt;
  ColorPair p;
  const auto fg = parse_color(parts[0]);
  if (!fg) return std::nullopt;
  p.fg = *fg;
  if (parts.size() == 2) {
    const auto bg = parse_color(parts[1]);
    if (!bg) return std::nullopt;
    p.bg = *bg;
  }
  return p;
}

bool fits8(int c) {
  return c < 8;
}

}  // namespace

Theme Theme::defaults256() {
  Theme t;
  // Sixteen author colours that stay apart on dark and light backgrounds.
  t.nicks = {33, 37, 41, 75, 98, 134, 167, 172, 178, 203, 209, 44, 105, 141, 80, 113};
  t.title = {255, 24};
  t.status = {255, 24};
  t.highlight = {16, 214};
  t.unread = 220;
  t.mention = 201;
  t.marker = 203;
  t.self = 255;
  return t;
}

Theme Theme::defaults8() {
  Theme t;
  t.nicks = {1, 2, 3, 4, 5, 6};
  t.title = {7, 4};
  t.status = {7, 4};
  t.highlight = {0, 3};
  t.unread = 3;
  t.mention = 5;
  t.marker = 1;
  t.self = -1;
  return t;
}

Config parse_config(std::string_view text) {
  Config c;
  std::istringstream in{std::string(text)};
  std::string raw;
  int line_no = 0;
  while (std::getline(in, raw)) {
    ++line_no;
    const std::string line = trim(raw);
    if (line.empty() || line.front() == '#') continue;
    const auto warn = [&](const std::string& what) {
      c.warnings.push_back("line " + std::to_string(line_no) + ": " + what);
    };
    const auto eq = line.find('=');
    if (eq == std::string::npos) {
      warn("expected 'key = value'");
      continue;
    }
    const std::string key = trim(std::string_view(line).substr(0, eq));
    const std::string value = trim(std::string_view(line).substr(eq + 1));
    const auto bad = [&] { warn("bad value '" + value + "' for " + key); };
    if (key == "server") {
      if (!value.empty()) c.server = value;
    } else if (key == "user") {
      if (!value.empty()) c.user = value;
    } else if (key == "password") {
      warn("passwords are never read from the config file");
    } else if (key == "bell" || key == "mouse" || key == "meetings_pane" ||
               key == "participants_pane") {
      const auto b = parse_bool(value);
      if (!b) {
        bad();
        continue;
      }
      if (key == "bell") c.bell = *b;
      if (key == "mouse") c.mouse = *b;
      if (key == "meetings_pane") c.panes.show_meetings = *b;
      if (key == "participants_pane") c.panes.show_participants = *b;
    } else if (key == "meetings_width" || key == "participants_width") {
      const auto n = parse_int(value, 0, 500);
      if (!n) {
        bad();
        continue;
      }
      (key == "meetings_width" ? c.panes.meetings_width : c.panes.participants_width) = *n;
    } else if (key == "colors" || key == "colours") {
      const std::string l = lower(value);
      if (l == "auto") {
        c.colors = ColorMode::automatic;
      } else if (l == "256") {
        c.colors = ColorMode::c256;
      } else if (l == "8" || l == "16") {
        c.colors = ColorMode::c8;
      } else if (l == "none" || l == "off" || l == "mono") {
        c.colors = ColorMode::none;
      } else {
        bad();
      }
    } else if (key == "color.nicks") {
      std::vector<int> nicks;
      bool ok = true;
      for (const auto& part : split_commas(value)) {
        const auto col = parse_color(part);
        if (!col) ok = false;
        if (col) nicks.push_back(*col);
      }
      if (!ok || nicks.empty()) {
        bad();
        continue;
      }
      c.theme256.nicks = nicks;
      if (std::all_of(nicks.begin(), nicks.end(), fits8)) c.theme8.nicks = nicks;
    } else if (key == "color.title" || key == "color.status" || key == "color.highlight") {
      const auto p = parse_pair(value);
      if (!p) {
        bad();
        continue;
      }
      ColorPair Theme::*member = key == "color.title"    ? &Theme::title
                                 : key == "color.status" ? &Theme::status
                                                         : &Theme::highlight;
      c.theme256.*member = *p;
      if (fits8(p->fg) && fits8(p->bg)) c.theme8.*member = *p;
    } else if (key == "color.unread" || key == "color.mention" || key == "color.marker" ||
               key == "color.self") {
      const auto col = parse_color(value);
      if (!col) {
        bad();
        continue;
      }
      int Theme::*member = key == "color.unread"    ? &Theme::unread
                           : key == "color.mention" ? &Theme::mention
                           : key == "color.marker"  ? &Theme::marker
                                                    : &Theme::self;
      c.theme256.*member = *col;
      if (fits8(*col)) c.theme8.*member = *col;
    } else if (key.starts_with("key.")) {
      const auto k = normalize_key(std::string_view(key).substr(4));
      if (!k) {
        warn("unknown key name '" + key.substr(4) + "'");
        continue;
      }
      const auto a = parse_action(lower(value));
      if (!a) {
        warn("unknown action '" + value + "' (see the README for the list)");
        continue;
      }
      c.keys.bind(*k, *a);
    } else {
      warn("unknown setting '" + key + "'");
    }
  }
  return c;
}

std::string update_config_text(std::string_view text,
                               const std::vector<std::pair<std::string, std::string>>& values) {
  std::vector<std::string> lines;
  {
    std::istringstream in{std::string(text)};
    std::string l;
    while (std::getline(in, l)) lines.push_back(l);
  }
  if (lines.empty()) {
    lines.emplace_back(
        "# chat-tui configuration: key = value, one per line; '#' starts a comment.");
    lines.emplace_back(
        "# chat-tui rewrites server and user after each login. See tui-client/README.md.");
  }
  std::vector<bool> done(values.size(), false);
  for (auto& l : lines) {
    const std::string t = trim(l);
    if (t.empty() || t.front() == '#') continue;
    const auto eq = t.find('=');
    if (eq == std::string::npos) continue;
    const std::string key = trim(std::string_view(t).substr(0, eq));
    for (std::size_t i = 0; i < values.size(); ++i) {
      if (!done[i] && values[i].first == key) {
        l = key + " = " + values[i].second;
        done[i] = true;
        break;
      }
    }
  }
  for (std::size_t i = 0; i < values.size(); ++i)
    if (!done[i]) lines.push_back(values[i].first + " = " + values[i].second);
  std::string out;
  for (const auto& l : lines) out += l + "\n";
  return out;
}

std::optional<std::filesystem::path> config_path(const char* xdg_config_home, const char* home) {
  if (xdg_config_home != nullptr && xdg_config_home[0] == '/')
    return std::filesystem::path(xdg_config_home) / "chat-tui" / "config";
  if (home != nullptr && home[0] != '\0')
    return std::filesystem::path(home) / ".config" / "chat-tui" / "config";
  return std::nullopt;
}

bool no_color_requested(const char* no_color_env) noexcept {
  return no_color_env != nullptr && no_color_env[0] != '\0';
}

std::optional<std::string> read_text_file(const std::filesystem::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return std::nullopt;
  std::ostringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::optional<std::string> write_text_file(const std::filesystem::path& path,
                                           std::string_view text) {
  std::error_code ec;
  if (path.has_parent_path()) std::filesystem::create_directories(path.parent_path(), ec);
  if (ec) return "cannot create " + path.parent_path().string() + ": " + ec.message();
  std::filesystem::path tmp = path;
  tmp += ".tmp." + std::to_string(::getpid());
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) return "cannot write " + tmp.string();
    out << text;
    out.flush();
    if (!out) return "cannot write " + tmp.string();
  }
  std::filesystem::rename(tmp, path, ec);
  if (ec) {
    std::filesystem::remove(tmp, ec);
    return "cannot replace " + path.string();
  }
  return std::nullopt;
}

}  // namespace chat::tui
