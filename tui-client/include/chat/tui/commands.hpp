// What the input line means: a chat message or a /command, and the help text.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include "chat/protocol/messages.hpp"
#include "chat/tui/client_state.hpp"
#include "chat/tui/keys.hpp"

namespace chat::tui {

/// A parsed input line.
struct Command {
  enum class Kind {
    none,       // empty or whitespace only: nothing to do
    post,       // text to post to the current meeting (arg = the text)
    join,       // /join <meeting> (arg = the meeting: title, unique title prefix or #id)
    leave,      // /leave
    who,        // /who: participants of the current meeting
    msgs,       // /msgs <user> (arg = the user's name or #user_id)
    jointimes,  // /jointimes: join_times of every active meeting
    meetings,   // /meetings: the active meetings
    help,       // /help
    quit,       // /quit
    unknown,    // /something else (arg = the command word, for the error)
  };
  Kind kind = Kind::none;
  std::string arg;
};

/// Parses the input line. A line starting with "/" is a command (case-sensitive); its
/// argument is the rest of the line without surrounding white space. "//text" posts
/// "/text". Other text is posted as typed (not trimmed).
Command parse_input(std::string_view line);

/// The command names, with their '/', for Tab completion.
std::vector<std::string> command_names();

/// The /help and help overlay text for a key map: commands, keys and the meaning of the
/// pane marks, one line each.
std::vector<std::string> help_lines(const KeyMap& keys);
/// help_lines() of the default key map.
std::vector<std::string> help_lines();

/// Finds the meeting a /join argument names among the listed meetings: "#<id>" is a
/// meeting_id; otherwise a title equal to it ignoring case, else the only title starting
/// with it (ignoring case), else a row number 1..n of the meetings pane. Returns the index
/// in `meetings`, or the error text to show.
std::variant<std::size_t, std::string> resolve_meeting(
    const std::vector<protocol::MeetingSummary>& meetings, std::string_view query);

/// A user as /msgs names it.
struct UserRef {
  std::int64_t user_id = 0;
  std::string name;
};
/// Finds the user a /msgs argument names in a buffer: a participant or an author of a line
/// in it whose name equals the argument ignoring case, else the only such name starting
/// with it; "#<id>" is a user_id as given. Returns the user or the error text.
std::variant<UserRef, std::string> resolve_user(const ChatBuffer& buffer, std::string_view query);

}  // namespace chat::tui
