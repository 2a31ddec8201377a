#include "chat/tui/commands.hpp"

#include "chat/protocol/text.hpp"

namespace chat::tui {

Command parse_input(std::string_view line) {
  if (protocol::is_only_whitespace(line)) return {};
  if (line.starts_with("//")) return {Command::Kind::post, std::string(line.substr(1))};
  if (!line.starts_with("/")) return {Command::Kind::post, std::string(line)};
  const auto end = line.find_first_of(" \t");
  const std::string_view word = line.substr(1, end == std::string_view::npos ? end : end - 1);
  if (word == "leave") return {Command::Kind::leave, {}};
  if (word == "quit") return {Command::Kind::quit, {}};
  if (word == "help") return {Command::Kind::help, {}};
  return {Command::Kind::unknown, "/" + std::string(word)};
}

std::vector<std::string> help_lines() {
  return {
      "Commands:",
      "  /help          this help",
      "  /leave         leave the current meeting",
      "  /quit          quit chat-tui (Ctrl-C too)",
      "  //text         post text that starts with /",
      "Keys:",
      "  Tab            switch focus: meetings pane <-> input line",
      "  Up/Down        meetings pane: move the selection",
      "  Enter          meetings pane: join the selected meeting (or show it)",
      "                 input line: post the text to the current meeting",
      "  PgUp/PgDn      scroll the chat",
      "  Left/Right, Home/End, Backspace/Delete, Ctrl-U, Ctrl-W   edit the input",
      "  Ctrl-L         redraw the screen",
      "Meetings pane: '>' selected, '*' joined, '#' public, '!' private, count = participants",
  };
}

}  // namespace chat::tui
