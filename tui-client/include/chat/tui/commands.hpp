// What the input line means: a chat message or a /command.
#pragma once

#include <string>
#include <string_view>
#include <vector>

namespace chat::tui {

/// A parsed input line.
struct Command {
  enum class Kind {
    none,     // empty or whitespace only: nothing to do
    post,     // text to post to the current meeting (arg = the text)
    leave,    // /leave
    quit,     // /quit
    help,     // /help
    unknown,  // /something else (arg = the command word, for the error)
  };
  Kind kind = Kind::none;
  std::string arg;
};

/// Parses the input line. A line starting with "/" is a command (case-sensitive, words after
/// it ignored); "//text" posts "/text". Other text is posted as typed (not trimmed).
Command parse_input(std::string_view line);

/// The /help text: commands, keys and the meaning of the pane marks, one line each.
std::vector<std::string> help_lines();

}  // namespace chat::tui
