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
};

/// Width rule of a side pane: percent of the screen width, clamped to [min_cols, max_cols].
struct SidePaneSpec {
  int percent;
  int min_cols;
  int max_cols;
};

/// The default layout: meetings on the left, participants on the right.
inline constexpr SidePaneSpec kMeetingsPaneSpec{22, 14, 32};
inline constexpr SidePaneSpec kParticipantsPaneSpec{16, 10, 24};
/// Below this many columns the side panes are hidden and the chat uses the full width.
inline constexpr int kMinColsForSidePanes = 50;

/// Where every pane goes. Pane rects include their one-row title bar; separators are the
/// single columns between the panes. status and input are one row each at the bottom.
struct Layout {
  bool side_panes = true;
  Rect meetings;
  Rect chat;
  Rect participants;
  int left_separator_x = -1;
  int right_separator_x = -1;
  Rect status;
  Rect input;
};

/// Layout for a screen of rows x cols (any size, even 1x1: rects may be empty).
Layout compute_layout(int rows, int cols);

/// Drawn between the name column and the text of a chat row (U+2502 with spaces).
inline constexpr std::string_view kChatPrefixSeparator = " \u2502 ";

/// One screen row of the chat pane.
struct ChatRow {
  ChatLine::Kind kind = ChatLine::Kind::info;
  bool first = true;     // first row of its line: time and prefix are shown
  std::string time;      // "HH:MM" (first row only)
  std::string prefix;    // author name or a marker ("-->", "<--", "--", "!!"), right-aligned
  std::string text;      // the wrapped text of this row
  int text_col = 0;      // column where text starts (time, prefix and " | " before it)
  int prefix_width = 0;  // columns reserved for the prefix
};

/// "HH:MM" of a time stamp in the local time zone.
std::string format_hhmm(protocol::UnixMs ts);

/// Rows of a buffer's lines for a chat pane `width` columns wide: "HH:MM name │ text", with
/// continuation rows indented to the text column. The name column is as wide as the longest
/// name (or marker) in the buffer, capped at 16 and at a third of the pane; longer names are
/// cut with "…". Only the last max_rows rows are produced (oldest first), so a redraw
/// wraps just what can be seen.
std::vector<ChatRow> chat_rows(const ChatBuffer& buffer, int width,
                               std::size_t max_rows = static_cast<std::size_t>(-1));

/// The meetings pane row of a meeting, exactly `width` columns: selection marker ('>'),
/// joined marker ('*'), '#' public / '!' private, the title and the participant count.
std::string meeting_row(const protocol::MeetingSummary& meeting, bool selected, bool joined,
                        int width);

/// The left part of the status line (without error and key hint):
/// " user @ host:port (node) [state]", where state is "online", "connecting", "logging in",
/// "reconnecting in 1.5 s: <reason>" (counting down to retry_at from now) or
/// "offline: <reason>"; the node appears once hello named it.
std::string status_text(const Status& status, protocol::UnixMs now);

/// A stable colour slot (0 .. slots-1) for a name, so a name keeps its colour (FNV-1a).
int name_color_slot(std::string_view name, int slots);

}  // namespace chat::tui
