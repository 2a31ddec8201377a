// Screen geometry and the text of each pane row, computed without ncurses (the renderer
// only paints what these functions return). The pane sizes are a data table, WeeChat style.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol/messages.hpp"
#include "chat/tui/client_state.hpp"

namespace chat::tui {

/// A rectangle on screen, in character cells.
struct Rect {
  int y = 0;
  int x = 0;
  int height = 0;
  int width = 0;
  bool operator==(const Rect&) const = default;
  /// True when (row, col) lies inside.
  bool contains(int row, int col) const noexcept {
    return row >= y && row < y + height && col >= x && col < x + width;
  }
};

/// Width rule of a side pane: percent of the screen width, clamped to [min_cols, max_cols].
struct SidePaneSpec {
  int percent;
  int min_cols;
  int max_cols;
};

/// The default layout: meetings on the left, participants (with join times) on the right.
inline constexpr SidePaneSpec kMeetingsPaneSpec{24, 14, 32};
inline constexpr SidePaneSpec kParticipantsPaneSpec{18, 12, 26};
/// Below this many columns the side panes are hidden and the chat uses the full width.
inline constexpr int kMinColsForSidePanes = 50;
/// The chat keeps at least this many columns: side panes that would leave less are hidden
/// (participants first), whatever their setting.
inline constexpr int kMinChatCols = 24;
/// Bounds and step of a side pane width set by the user (F9..F12 or the config file).
inline constexpr int kMinSidePaneCols = 8;
inline constexpr int kPaneResizeStep = 2;

/// The user's choice of side panes (config file and F7..F12). Width 0 = automatic (the
/// SidePaneSpec); otherwise the width in columns, kept between kMinSidePaneCols and half
/// the screen.
struct PaneSettings {
  bool show_meetings = true;
  bool show_participants = true;
  int meetings_width = 0;
  int participants_width = 0;
  bool operator==(const PaneSettings&) const = default;
};

/// Where every pane goes: the title bar on the top row, then meetings | chat | participants
/// (side pane rects include their one-row header; separators are the single columns between
/// the panes), then the status bar and the input line at the bottom.
struct Layout {
  bool side_panes = true;  // at least one side pane is shown
  bool show_meetings = true;
  bool show_participants = true;
  Rect title;
  Rect meetings;
  Rect chat;
  Rect participants;
  int left_separator_x = -1;   // -1: no separator
  int right_separator_x = -1;  // -1: no separator
  Rect status;
  Rect input;
};

/// Layout for a screen of rows x cols (any size, even 1x1: rects may be empty).
Layout compute_layout(int rows, int cols, const PaneSettings& panes = {});

/// The width a side pane gets from a setting (0 = spec) on a screen `cols` wide.
int side_pane_width(const SidePaneSpec& spec, int setting, int cols);

/// Drawn between the name column and the text of a chat row (U+2502 with spaces).
inline constexpr std::string_view kChatPrefixSeparator = " \u2502 ";

/// One screen row of the chat pane.
struct ChatRow {
  /// A row of a chat line, the "new messages" marker, or a day-change separator.
  enum class Type { line, marker, day };
  Type type = Type::line;
  ChatLine::Kind kind = ChatLine::Kind::info;
  bool first = true;         // first row of its line: time and prefix are shown
  std::string time;          // "HH:MM" (first row only)
  std::string prefix;        // author name or a marker ("-->", "<--", "--", "!!"), right-aligned
  std::string text;          // the wrapped text of this row; marker / day: the label
  int text_col = 0;          // column where text starts (time, prefix and " | " before it)
  int prefix_width = 0;      // columns reserved for the prefix
  std::string name;          // author of a message row (full name, for its colour)
  std::int64_t user_id = 0;  // author of a message row
  bool mention = false;      // the message mentions us
};

/// Extra rows of chat_rows().
struct ChatRowOptions {
  /// When set (a time on "today"), a day separator also goes above the oldest line if that
  /// line is from another day. Day changes between lines always get one.
  protocol::UnixMs today = 0;
};

/// "HH:MM" of a time stamp in the local time zone.
std::string format_hhmm(protocol::UnixMs ts);

/// The local date of a time stamp for day separators, e.g. "Mon, 23 Nov 2026".
std::string format_day(protocol::UnixMs ts);

/// How long until `to`, at most 4 columns: "<1m", "42m", "1h05", "23h", "3d"; "0m" once
/// passed.
std::string format_time_left(protocol::UnixMs to, protocol::UnixMs now);

/// Label of the "new messages" marker row.
inline constexpr std::string_view kNewMessagesLabel = "new messages";

/// Rows of a buffer's lines for a chat pane `width` columns wide: "HH:MM name │ text", with
/// continuation rows indented to the text column. The name column is as wide as the longest
/// name (or marker) in the buffer, capped at 16 and at a third of the pane; longer names are
/// cut with "…". A marker row (Type::marker) goes above the line of buffer.marker_seq and
/// a day row (Type::day) above the first line of each new local day. Only the last
/// max_rows rows are produced (oldest first), so a redraw wraps just what can be seen.
std::vector<ChatRow> chat_rows(const ChatBuffer& buffer, int width,
                               std::size_t max_rows = static_cast<std::size_t>(-1),
                               const ChatRowOptions& options = {});

/// What a meetings pane row shows besides the meeting itself.
struct MeetingRowInfo {
  bool selected = false;     // '>' in the first column
  bool joined = false;       // '*'
  int number = 0;            // 1..9: the Alt-<n> key, shown as a digit; 0: blank
  std::size_t unread = 0;    // "(3)"
  bool mention = false;      // "(3@)"
  protocol::UnixMs now = 0;  // for the time left; 0: not shown
};

/// A meetings pane row in parts whose widths add up to exactly the row width:
/// head = '>' or ' ', the number or ' ', '#' public / '!' private, '*' joined or ' ';
/// title (cut with "…" and padded); unread = " (3)" / " (3@)" or empty; left = " 42m" or
/// empty. The time left is dropped before the title gets narrower than 6 columns.
struct MeetingRowParts {
  std::string head;
  std::string title;
  std::string unread;
  std::string left;
};
MeetingRowParts meeting_row_parts(const protocol::MeetingSummary& meeting,
                                  const MeetingRowInfo& info, int width);

/// The parts of meeting_row_parts() joined: exactly `width` columns.
std::string meeting_row(const protocol::MeetingSummary& meeting, const MeetingRowInfo& info,
                        int width);

/// A participants pane row in two parts of exactly `width` columns together: " name" (cut
/// and padded) and, when width >= kMinColsForJoinTime, " HH:MM" of the join time.
struct ParticipantRowParts {
  std::string name;
  std::string time;
};
inline constexpr int kMinColsForJoinTime = 14;
ParticipantRowParts participant_row_parts(const protocol::Participant& participant, int width);

/// The left part of the status line (without error and key hint):
/// " user @ host:port (node) [state]", where state is "online", "connecting", "logging in",
/// "reconnecting in 1.5 s: <reason>" (counting down to retry_at from now) or
/// "offline: <reason>"; the node appears once hello named it.
std::string status_text(const Status& status, protocol::UnixMs now);

/// A stable colour slot (0 .. slots-1) for a name, so a name keeps its colour (FNV-1a).
int name_color_slot(std::string_view name, int slots);

}  // namespace chat::tui
