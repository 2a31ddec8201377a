#include "chat/tui/commands.hpp"

#include <algorithm>
#include <charconv>
#include <cwctype>

#include "chat/protocol/text.hpp"
#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

struct CommandInfo {
  std::string_view name;
  Command::Kind kind;
  std::string_view usage;
  std::string_view help;
};

constexpr CommandInfo kCommands[] = {
    {"join", Command::Kind::join, "/join <meeting>", "open a meeting (title, prefix, #id or row)"},
    {"leave", Command::Kind::leave, "/leave", "leave the current meeting"},
    {"who", Command::Kind::who, "/who", "list the participants and their join times"},
    {"msgs", Command::Kind::msgs, "/msgs <user>", "that user's messages in this meeting"},
    {"jointimes", Command::Kind::jointimes, "/jointimes", "join times in every active meeting"},
    {"meetings", Command::Kind::meetings, "/meetings", "list the active meetings"},
    {"help", Command::Kind::help, "/help", "show / hide the keys and commands (F1)"},
    {"quit", Command::Kind::quit, "/quit", "quit chat-tui (Ctrl-C too)"},
};

std::string trim(std::string_view s) {
  const auto* ws = " \t";
  const auto b = s.find_first_not_of(ws);
  if (b == std::string_view::npos) return {};
  const auto e = s.find_last_not_of(ws);
  return std::string(s.substr(b, e - b + 1));
}

std::u32string fold(std::string_view utf8) {
  std::u32string out = decode_utf8(utf8);
  for (char32_t& c : out) c = static_cast<char32_t>(std::towlower(static_cast<wint_t>(c)));
  return out;
}

std::optional<std::int64_t> parse_id(std::string_view s) {
  if (s.empty()) return std::nullopt;
  std::int64_t v = 0;
  const auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
  if (ec != std::errc{} || end != s.data() + s.size() || v < 1) return std::nullopt;
  return v;
}

std::string pad(std::string_view s, std::size_t width) {
  std::string out(s);
  const auto w = static_cast<std::size_t>(display_width_utf8(s));
  if (w < width) out.append(width - w, ' ');
  return out;
}

std::string join_keys(const std::vector<std::string>& keys) {
  std::string out;
  for (const auto& k : keys) out += (out.empty() ? "" : " ") + k;
  return out;
}

}  // namespace

Command parse_input(std::string_view line) {
  if (protocol::is_only_whitespace(line)) return {};
  if (line.starts_with("//")) return {Command::Kind::post, std::string(line.substr(1))};
  if (!line.starts_with("/")) return {Command::Kind::post, std::string(line)};
  const auto end = line.find_first_of(" \t");
  const std::string_view word = line.substr(1, end == std::string_view::npos ? end : end - 1);
  const std::string arg = end == std::string_view::npos ? std::string() : trim(line.substr(end));
  for (const auto& c : kCommands)
    if (word == c.name) return {c.kind, arg};
  return {Command::Kind::unknown, "/" + std::string(word)};
}

std::vector<std::string> command_names() {
  std::vector<std::string> out;
  for (const auto& c : kCommands) out.push_back("/" + std::string(c.name));
  return out;
}

std::vector<std::string> help_lines(const KeyMap& keys) {
  std::vector<std::string> out;
  out.emplace_back("Commands:");
  for (const auto& c : kCommands) out.push_back("  " + pad(c.usage, 17) + std::string(c.help));
  out.emplace_back("  " + pad("//text", 17) + "post text that starts with /");
  out.emplace_back("Keys (any pane; change them with key.<KEY> = <action> in the config):");
  static constexpr Action kShown[] = {
      Action::submit,
      Action::complete,
      Action::complete_back,
      Action::history_prev,
      Action::history_next,
      Action::cursor_start,
      Action::cursor_end,
      Action::cursor_word_left,
      Action::cursor_word_right,
      Action::kill_word_back,
      Action::kill_word_forward,
      Action::kill_to_start,
      Action::kill_to_end,
      Action::yank,
      Action::scroll_page_up,
      Action::scroll_page_down,
      Action::scroll_top,
      Action::scroll_bottom,
      Action::scroll_line_up,
      Action::scroll_line_down,
      Action::meeting_next,
      Action::meeting_prev,
      Action::meeting_1,
      Action::server_buffer,
      Action::focus_next,
      Action::focus_prev,
      Action::focus_input,
      Action::focus_meetings,
      Action::focus_chat,
      Action::focus_participants,
      Action::toggle_meetings,
      Action::toggle_participants,
      Action::meetings_narrower,
      Action::meetings_wider,
      Action::participants_narrower,
      Action::participants_wider,
      Action::help,
      Action::redraw,
  };
  for (Action a : kShown) {
    auto k = keys.keys_for(a);
    std::string label = join_keys(k);
    std::string help(action_help(a));
    if (a == Action::meeting_1) {
      // One line for Alt-1 .. Alt-9.
      const auto last = keys.keys_for(Action::meeting_9);
      if (!k.empty() && !last.empty()) label = k.front() + " .. " + last.front();
      help = "open meeting 1..9 of the meetings pane (joins it)";
    }
    if (label.empty()) continue;
    out.push_back("  " + pad(label, 17) + " " + help);
  }
  out.emplace_back("  Left/Right Backspace Delete Ctrl-B/F/D: edit the input line");
  out.emplace_back("Pane keys (after F2/F3/F4 or Ctrl-O):");
  out.emplace_back("  meetings:     Up/Down select, Enter open (join), Home/End first/last");
  out.emplace_back("  chat:         Up/Down scroll a row, PgUp/PgDn a page, Home/End");
  out.emplace_back("  participants: Up/Down select, Enter list the user's messages (/msgs)");
  out.emplace_back("  typing a character goes back to the input line; Esc too");
  out.emplace_back("Mouse: click a meeting to open it, a pane to focus it; the wheel scrolls");
  out.emplace_back("Meetings pane: '>' selected, digit = Alt key, '#' public, '!' private,");
  out.emplace_back("  '*' joined, (3) unread, (3@) unread with a mention of you, time left");
  return out;
}

std::vector<std::string> help_lines() {
  return help_lines(KeyMap::defaults());
}

std::variant<std::size_t, std::string> resolve_meeting(
    const std::vector<protocol::MeetingSummary>& meetings, std::string_view query) {
  const std::string q = trim(query);
  if (q.empty()) return std::string("usage: /join <meeting title, #id or row number>");
  if (q.starts_with("#")) {
    if (const auto id = parse_id(std::string_view(q).substr(1))) {
      for (std::size_t i = 0; i < meetings.size(); ++i)
        if (meetings[i].meeting_id == *id) return i;
    }
    return "no active meeting with id " + q;
  }
  const std::u32string fq = fold(q);
  for (std::size_t i = 0; i < meetings.size(); ++i)
    if (fold(meetings[i].title) == fq) return i;
  std::vector<std::size_t> prefixed;
  for (std::size_t i = 0; i < meetings.size(); ++i)
    if (fold(meetings[i].title).starts_with(fq)) prefixed.push_back(i);
  if (prefixed.size() == 1) return prefixed.front();
  if (prefixed.size() > 1) {
    std::string names;
    for (std::size_t k = 0; k < prefixed.size() && k < 4; ++k)
      names += (k == 0 ? "" : ", ") + meetings[prefixed[k]].title;
    if (prefixed.size() > 4) names += ", ...";
    return "'" + q + "' matches " + std::to_string(prefixed.size()) + " meetings: " + names;
  }
  if (const auto n = parse_id(q); n && static_cast<std::size_t>(*n) <= meetings.size())
    return static_cast<std::size_t>(*n - 1);
  return "no active meeting matches '" + q + "' (see /meetings)";
}

std::variant<UserRef, std::string> resolve_user(const ChatBuffer& buffer, std::string_view query) {
  const std::string q = trim(query);
  if (q.empty()) return std::string("usage: /msgs <user name or #id>");
  if (q.starts_with("#")) {
    if (const auto id = parse_id(std::string_view(q).substr(1))) {
      UserRef ref{*id, "#" + std::to_string(*id)};
      for (const auto& p : buffer.participants)
        if (p.user.user_id == *id) ref.name = p.user.name;
      return ref;
    }
    return "bad user id " + q;
  }
  // Known users of this buffer: participants, then authors of lines.
  std::vector<UserRef> known;
  const auto add = [&](std::int64_t id, const std::string& name) {
    if (id == 0 || name.empty()) return;
    const bool seen =
        std::any_of(known.begin(), known.end(), [&](const UserRef& u) { return u.user_id == id; });
    if (!seen) known.push_back(UserRef{id, name});
  };
  for (const auto& p : buffer.participants) add(p.user.user_id, p.user.name);
  for (auto it = buffer.lines.rbegin(); it != buffer.lines.rend(); ++it)
    if (it->kind == ChatLine::Kind::message || it->kind == ChatLine::Kind::joined ||
        it->kind == ChatLine::Kind::left)
      add(it->user_id, it->name);
  const std::u32string fq = fold(q);
  for (const auto& u : known)
    if (fold(u.name) == fq) return u;
  std::vector<UserRef> prefixed;
  for (const auto& u : known)
    if (fold(u.name).starts_with(fq)) prefixed.push_back(u);
  if (prefixed.size() == 1) return prefixed.front();
  if (prefixed.size() > 1) return "'" + q + "' matches several users; type more of the name";
  return "no user '" + q + "' in this meeting (participants and authors are known; or #id)";
}

}  // namespace chat::tui
