#include "renderer.hpp"

#include <curses.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <stdexcept>

#include "chat/protocol/time.hpp"
#include "chat/tui/layout.hpp"
#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

// Colour pairs. Nick colours take kNickBase .. kNickBase + kNickColors - 1.
enum Pair : short {
  kBar = 1,
  kStatus,
  kInfo,
  kError,
  kJoined,
  kLeft,
  kFocusBar,
  kNickBase,
};
constexpr int kNickColors = 6;
constexpr short kNickPalette[kNickColors] = {COLOR_RED,  COLOR_GREEN,   COLOR_YELLOW,
                                             COLOR_BLUE, COLOR_MAGENTA, COLOR_CYAN};

attr_t pair_attr(short pair) {
  return has_colors() ? COLOR_PAIR(pair) : A_NORMAL;
}

// Draws UTF-8 text at (y, x), cut to width columns. Text is sanitized first.
void put(int y, int x, int width, std::string_view utf8, attr_t attr = A_NORMAL) {
  if (width <= 0 || y < 0 || x < 0) return;
  const std::string fitted = truncate_to_width(utf8, width, false);
  const std::u32string cps = decode_utf8(fitted);
  const std::wstring wide(cps.begin(), cps.end());
  attron(attr);
  mvaddnwstr(y, x, wide.c_str(), static_cast<int>(wide.size()));
  attroff(attr);
}

// A full-width bar: text padded with spaces to width.
void bar(int y, int x, int width, std::string_view text, attr_t attr) {
  put(y, x, width, fit_to_width(text, width), attr);
}

void vertical_line(int x, int top, int height) {
  static const wchar_t kLine[] = L"\u2502";
  for (int y = top; y < top + height; ++y) mvaddnwstr(y, x, kLine, 1);
}

std::string buffer_title(const ChatBuffer& buf, bool server_buffer) {
  if (server_buffer) return " chat-tui: select a meeting and press Enter (/help) ";
  std::string t = " " + buf.title;
  if (buf.ended)
    t += " [ended]";
  else if (!buf.joined)
    t += " [not joined]";
  return t + " ";
}

void draw_meetings(const ClientState& state, const Rect& r, bool focused) {
  if (r.width <= 0 || r.height <= 0) return;
  const auto& meetings = state.meetings();
  bar(r.y, r.x, r.width, " Meetings (" + std::to_string(meetings.size()) + ")",
      pair_attr(focused ? kFocusBar : kBar) | (focused ? A_BOLD : A_NORMAL));
  const int visible = r.height - 1;
  if (visible <= 0) return;
  if (meetings.empty()) {
    put(r.y + 1, r.x, r.width, " (none active)", A_DIM);
    return;
  }
  const int selected = static_cast<int>(state.selected_index());
  const int top = selected >= visible ? selected - visible + 1 : 0;
  for (int i = 0; i < visible && top + i < static_cast<int>(meetings.size()); ++i) {
    const auto& m = meetings[static_cast<std::size_t>(top + i)];
    const MeetingKey key{m.meeting_id, m.order_id};
    const auto* buf = state.find_buffer(key);
    const bool joined = buf != nullptr && buf->joined;
    const bool is_selected = top + i == selected;
    attr_t attr = A_NORMAL;
    if (is_selected) attr = focused ? A_REVERSE : A_BOLD;
    if (state.current() == key) attr |= A_UNDERLINE;
    put(r.y + 1 + i, r.x, r.width, meeting_row(m, is_selected, joined, r.width), attr);
  }
}

int draw_chat(const ClientState& state, const Rect& r) {
  if (r.width <= 0 || r.height <= 0) return 0;
  const ChatBuffer& buf = state.current_buffer();
  const bool server_buffer = !state.current().has_value();
  const int visible = std::max(0, r.height - 1);
  // Wrap only what can be shown at this scroll position, plus one row to know whether
  // there is more to scroll back to.
  const std::size_t wanted =
      static_cast<std::size_t>(visible) + static_cast<std::size_t>(std::max(0, buf.scroll)) + 1;
  const auto rows = chat_rows(buf, r.width, wanted);
  const int max_scroll = rows.size() < wanted ? std::max(0, static_cast<int>(rows.size()) - visible)
                                              : std::max(0, buf.scroll) + 1;
  const int scroll = std::clamp(buf.scroll, 0, max_scroll);
  std::string title = buffer_title(buf, server_buffer);
  if (scroll > 0) title += "(scrolled back " + std::to_string(scroll) + " rows) ";
  bar(r.y, r.x, r.width, title, pair_attr(kBar) | A_BOLD);
  if (visible <= 0) return max_scroll;
  const int end = static_cast<int>(rows.size()) - scroll;  // one past the last row shown
  const int begin = std::max(0, end - visible);
  // Bottom-aligned like a terminal: the newest row sits right above the status line.
  int y = r.y + 1 + (visible - (end - begin));
  for (int i = begin; i < end; ++i, ++y) {
    const ChatRow& row = rows[static_cast<std::size_t>(i)];
    attr_t text_attr = A_NORMAL;
    attr_t prefix_attr = A_BOLD;
    switch (row.kind) {
      case ChatLine::Kind::message:
        prefix_attr =
            pair_attr(static_cast<short>(kNickBase + name_color_slot(row.prefix, kNickColors))) |
            A_BOLD;
        break;
      case ChatLine::Kind::joined:
        text_attr = prefix_attr = pair_attr(kJoined);
        break;
      case ChatLine::Kind::left:
        text_attr = prefix_attr = pair_attr(kLeft);
        break;
      case ChatLine::Kind::info:
        text_attr = prefix_attr = pair_attr(kInfo);
        break;
      case ChatLine::Kind::error:
        text_attr = prefix_attr = pair_attr(kError) | A_BOLD;
        break;
    }
    if (row.first) {
      put(y, r.x, 5, row.time, A_DIM);
      put(y, r.x + 6, row.prefix_width, row.prefix, prefix_attr);
    }
    put(y, r.x + 6 + row.prefix_width, 3, kChatPrefixSeparator, A_DIM);
    put(y, r.x + row.text_col, r.width - row.text_col, row.text, text_attr);
  }
  return max_scroll;
}

void draw_participants(const ClientState& state, const Rect& r) {
  if (r.width <= 0 || r.height <= 0) return;
  const auto cur = state.current();
  const ChatBuffer* buf = cur ? state.find_buffer(*cur) : nullptr;
  const std::size_t n = buf ? buf->participants.size() : 0;
  bar(r.y, r.x, r.width, " Participants (" + std::to_string(n) + ")", pair_attr(kBar));
  if (buf == nullptr) return;
  const int visible = r.height - 1;
  const auto& me = state.user();
  for (int i = 0; i < visible && i < static_cast<int>(n); ++i) {
    const auto& p = buf->participants[static_cast<std::size_t>(i)];
    const bool self = me && me->user_id == p.user.user_id;
    const attr_t attr =
        pair_attr(static_cast<short>(kNickBase + name_color_slot(p.user.name, kNickColors))) |
        (self ? A_BOLD : A_NORMAL);
    put(r.y + 1 + i, r.x, r.width, " " + p.user.name, attr);
  }
  if (static_cast<int>(n) > visible && visible > 0)
    put(r.y + visible, r.x, r.width,
        fit_to_width(" +" + std::to_string(n - static_cast<std::size_t>(visible) + 1) + " more",
                     r.width),
        A_DIM);
}

void draw_status(const ClientState& state, const Rect& r, const UiView& ui) {
  if (r.height <= 0) return;
  const Status& s = state.status();
  std::string text = status_text(s, protocol::now_ms());
  if (!s.last_error.empty()) text += "  error: " + s.last_error;
  // The key hint gives way to an error, which matters more.
  std::string hint = ui.login_screen ? " Ctrl-C quit " : " Tab focus | /help ";
  if (!s.last_error.empty()) hint.clear();
  const int hint_w = display_width_utf8(hint);
  const int left_w = std::max(0, r.width - hint_w);
  bar(r.y, r.x, r.width, "", pair_attr(kStatus));
  put(r.y, r.x, left_w, text, pair_attr(kStatus) | A_BOLD);
  if (!s.last_error.empty()) {
    // Re-draw the error part in the error colour so it stands out.
    const std::string before = text.substr(0, text.find("  error: "));
    const int x = display_width_utf8(before);
    if (x < left_w)
      put(r.y, r.x + x, left_w - x, text.substr(before.size()), pair_attr(kError) | A_BOLD);
  }
  if (hint_w > 0 && hint_w <= r.width)
    put(r.y, r.x + r.width - hint_w, hint_w, hint, pair_attr(kStatus));
}

// Draws an input field and returns the cursor's screen column.
int draw_field(int y, int x, int width, const InputLine& line, char32_t mask, attr_t attr) {
  const auto view = line.view(width, mask);
  put(y, x, width, std::string(static_cast<std::size_t>(std::max(width, 0)), ' '), attr);
  put(y, x, width, encode_utf8(view.visible), attr);
  return x + view.cursor_col;
}

void draw_login(const ClientState& state, const UiView& ui, int rows, int cols) {
  const int w = std::min(56, cols - 2);
  const int h = 10;
  if (w < 20 || rows < h + 2) {
    put(0, 0, cols, "chat-tui: terminal too small for the login form", A_BOLD);
  }
  const int top = std::max(0, (rows - 2 - h) / 2);
  const int left = std::max(0, (cols - w) / 2);
  const Status& s = state.status();
  bar(top, left, w, " chat-tui: log in", pair_attr(kBar) | A_BOLD);
  put(top + 2, left + 1, w - 2,
      "Server:   " + s.server + " (" + std::string(to_string(s.connection)) + ")");
  put(top + 4, left + 1, 10, "User:", A_BOLD);
  put(top + 5, left + 1, 10, "Password:", A_BOLD);
  const int field_w = w - 12;
  const bool on_user = ui.login->field() == LoginForm::Field::user;
  const int ux = draw_field(top + 4, left + 11, field_w, ui.login->user(), 0, A_UNDERLINE);
  const int px = draw_field(top + 5, left + 11, field_w, ui.login->password(), U'*', A_UNDERLINE);
  if (!ui.login_error.empty())
    put(top + 7, left + 1, w - 2, ui.login_error, pair_attr(kError) | A_BOLD);
  put(top + 9, left + 1, w - 2, "Enter: next field / log in   Tab: switch field", A_DIM);
  curs_set(1);
  move(on_user ? top + 4 : top + 5, on_user ? ux : px);
}

}  // namespace

Screen::Screen() {
  SCREEN* s = newterm(nullptr, stdout, stdin);
  if (s == nullptr) throw std::runtime_error("cannot initialise the terminal (is TERM set?)");
  screen_ = s;
  set_term(s);
  cbreak();
  noecho();
  nonl();
  keypad(stdscr, TRUE);
  nodelay(stdscr, TRUE);
  set_escdelay(25);
  if (has_colors()) {
    start_color();
    use_default_colors();
    init_pair(kBar, COLOR_WHITE, COLOR_BLUE);
    init_pair(kStatus, COLOR_WHITE, COLOR_BLUE);
    init_pair(kInfo, COLOR_CYAN, -1);
    init_pair(kError, COLOR_RED, -1);
    init_pair(kJoined, COLOR_GREEN, -1);
    init_pair(kLeft, COLOR_YELLOW, -1);
    init_pair(kFocusBar, COLOR_BLACK, COLOR_CYAN);
    for (int i = 0; i < kNickColors; ++i)
      init_pair(static_cast<short>(kNickBase + i), kNickPalette[i], -1);
  }
}

Screen::~Screen() {
  endwin();
  delscreen(static_cast<SCREEN*>(screen_));
}

void Screen::resize_from_terminal() {
  winsize ws{};
  if (ioctl(STDOUT_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_row > 0 && ws.ws_col > 0) {
    resize_term(ws.ws_row, ws.ws_col);
  } else {
    // No size available: let curses re-read it the classic way.
    endwin();
    refresh();
  }
  clearok(curscr, TRUE);
}

void Screen::invalidate() {
  clearok(curscr, TRUE);
}

int Screen::rows() const {
  return LINES;
}
int Screen::cols() const {
  return COLS;
}

int Renderer::draw(const ClientState& state, const UiView& ui) {
  erase();
  const int rows = LINES;
  const int cols = COLS;
  const Layout l = compute_layout(rows, cols);
  int max_scroll = 0;
  if (ui.login_screen) {
    draw_status(state, l.status, ui);
    draw_login(state, ui, rows, cols);
    refresh();
    return 0;
  }
  if (l.side_panes) {
    draw_meetings(state, l.meetings, ui.focus == Focus::meetings);
    vertical_line(l.left_separator_x, 0, l.chat.height);
    vertical_line(l.right_separator_x, 0, l.chat.height);
    draw_participants(state, l.participants);
  }
  max_scroll = draw_chat(state, l.chat);
  draw_status(state, l.status, ui);
  if (l.input.height > 0) {
    const std::string prompt = ui.focus == Focus::input ? "> " : "  ";
    put(l.input.y, 0, cols, prompt, A_BOLD);
    const int field_w = cols - 2;
    int cx = 2;
    if (ui.input->empty() && ui.focus == Focus::meetings) {
      put(l.input.y, 2, field_w, "Up/Down select, Enter join, Tab type a message, /help", A_DIM);
    } else {
      cx = draw_field(l.input.y, 2, field_w, *ui.input, 0, A_NORMAL);
    }
    if (ui.focus == Focus::input) {
      curs_set(1);
      move(l.input.y, std::min(cx, cols - 1));
    } else {
      curs_set(0);
    }
  }
  refresh();
  return max_scroll;
}

}  // namespace chat::tui
