// The composed screen as data: panes of styled rows, produced by Ui::view() without ncurses
// and painted by the renderer. Colours are semantic roles here; the renderer maps them to
// 256 colours, 8 colours or plain attributes (NO_COLOR). Because a frame is plain data, the
// renderer can compare it with the previous one and repaint only the rows that changed,
// and tests can read the whole screen as text.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "chat/tui/layout.hpp"

namespace chat::tui {

/// What a piece of text is, for its colour.
enum class Role : std::uint8_t {
  normal,
  dim,
  title,          // title bar
  status,         // status bar
  status_error,   // the error in the status bar
  status_hint,    // key hint at the right of the status bar
  header,         // side pane header row
  header_focus,   // header of the focused pane
  separator,      // pane separators and the " │ " after chat names
  unread,         // unread count in the meetings pane
  mention,        // unread count with a mention / a meeting title with a mention
  time,           // chat time stamps
  nick,           // an author (Span::slot = colour slot)
  self,           // our own name
  highlight,      // the author of a message that mentions us
  info,           // client notices
  error,          // errors in the chat
  joined,         // "x joined"
  left,           // "x left"
  marker,         // "new messages"
  day,            // day change separator
  prompt,         // input prompt
  hint,           // grey help text
  overlay,        // help overlay text
  overlay_title,  // help overlay border and headings
  field,          // login form input fields
};

/// Attribute flags added to a span's role colour.
enum SpanFlags : std::uint8_t {
  kBold = 1,
  kReverse = 2,
  kUnderline = 4,
};

/// A run of text in one style. The text is sanitized and fits its row.
struct Span {
  std::string text;
  Role role = Role::normal;
  std::uint8_t slot = 0;   // nick colour slot for Role::nick
  std::uint8_t flags = 0;  // SpanFlags
  bool operator==(const Span&) const = default;
};

/// One screen row of a pane: spans whose display widths add up to the pane width exactly.
struct StyledRow {
  std::vector<Span> spans;
  bool operator==(const StyledRow&) const = default;
};

/// A pane: where it is and its rows (rows.size() == rect.height).
struct PaneView {
  std::string name;  // "title", "meetings", "chat", "participants", "status", "input", ...
  Rect rect;
  std::vector<StyledRow> rows;
  bool operator==(const PaneView&) const = default;
};

/// A whole frame.
struct ScreenView {
  std::vector<PaneView> panes;  // in paint order; an overlay comes last
  bool overlay = false;         // the last pane is drawn over the others
  bool cursor_visible = false;
  std::string cursor_pane;  // the pane holding the cursor
  int cursor_y = 0;         // screen coordinates
  int cursor_x = 0;
};

/// The frame as plain text, one string per screen row (wide characters take two columns;
/// cells no pane covers are spaces). Trailing spaces are kept, so every row is `cols` wide.
std::vector<std::string> render_text(const ScreenView& view, int rows, int cols);

/// The pane of that name, or nullptr.
const PaneView* find_pane(const ScreenView& view, const std::string& name);

/// A row's text without styles.
std::string row_text(const StyledRow& row);

}  // namespace chat::tui
