#include "renderer.hpp"

#include <curses.h>
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <set>
#include <stdexcept>

#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

WINDOW* as_win(void* w) {
  return static_cast<WINDOW*>(w);
}

}  // namespace

// ---- Screen ----------------------------------------------------------------------------------

Screen::Screen(bool mouse) {
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
  if (mouse) {
    // Presses (not clicks) so nothing waits for the release; wheel up/down are buttons 4/5.
    mouseinterval(0);
    mousemask(BUTTON1_PRESSED | BUTTON4_PRESSED | BUTTON5_PRESSED, nullptr);
  }
  // stdscr is never drawn on; refreshing it once marks it untouched, so the key reads on it
  // never repaint it over the pane windows.
  wnoutrefresh(stdscr);
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
}

int Screen::rows() const {
  return LINES;
}
int Screen::cols() const {
  return COLS;
}

// ---- Renderer --------------------------------------------------------------------------------

Renderer::Renderer(const Config& config, bool no_color) {
  if (no_color || config.colors == ColorMode::none || !has_colors()) return;
  start_color();
  use_default_colors();
  const bool has256 = COLORS >= 256;
  if (config.colors == ColorMode::c8 || !has256) {
    colors_ = 8;
    theme_ = config.theme8;
  } else {
    colors_ = 256;
    theme_ = config.theme256;
  }
  if (theme_.nicks.empty()) theme_.nicks = Theme::defaults8().nicks;
}

Renderer::~Renderer() {
  drop_windows();
}

std::string Renderer::color_mode() const {
  return colors_ == 0 ? "none" : std::to_string(colors_);
}

void Renderer::drop_windows() {
  for (auto& [name, w] : windows_)
    if (w.win != nullptr) delwin(as_win(w.win));
  windows_.clear();
}

short Renderer::pair_for(short fg, short bg) {
  if (fg < 0 && bg < 0) return 0;
  const auto key = std::make_pair(fg, bg);
  if (const auto it = pairs_.find(key); it != pairs_.end()) return it->second;
  const int next = static_cast<int>(pairs_.size()) + 1;
  if (next >= COLOR_PAIRS) return 0;  // out of pairs: default colours
  init_pair(static_cast<short>(next), fg, bg);
  pairs_.emplace(key, static_cast<short>(next));
  return static_cast<short>(next);
}

Renderer::Style Renderer::style_of(Role role, std::uint8_t slot) const {
  const bool c256 = colors_ == 256;
  const auto s = [](int fg, int bg, unsigned attrs = 0) {
    return Style{static_cast<short>(fg), static_cast<short>(bg), attrs};
  };
  const auto pick = [&](int fg256, int fg8) { return c256 ? fg256 : fg8; };
  if (colors_ == 0) {
    // Monochrome (NO_COLOR): attributes tell the roles apart.
    switch (role) {
      case Role::title:
      case Role::status:
      case Role::status_hint:
      case Role::header_focus:
        return s(-1, -1, A_REVERSE);
      case Role::status_error:
        return s(-1, -1, A_REVERSE | A_BOLD);
      case Role::header:
        return s(-1, -1, A_UNDERLINE);
      case Role::dim:
      case Role::time:
      case Role::hint:
      case Role::joined:
      case Role::left:
      case Role::day:
        return s(-1, -1, A_DIM);
      case Role::unread:
      case Role::self:
      case Role::error:
      case Role::marker:
      case Role::prompt:
      case Role::overlay_title:
        return s(-1, -1, A_BOLD);
      case Role::mention:
        return s(-1, -1, A_BOLD | A_UNDERLINE);
      case Role::highlight:
        return s(-1, -1, A_REVERSE | A_BOLD);
      case Role::field:
        return s(-1, -1, A_UNDERLINE);
      default:
        return s(-1, -1);
    }
  }
  switch (role) {
    case Role::normal:
      return s(-1, -1);
    case Role::dim:
    case Role::time:
    case Role::hint:
      return c256 ? s(244, -1) : s(-1, -1, A_DIM);
    case Role::title:
      return s(theme_.title.fg, theme_.title.bg);
    case Role::status:
      return s(theme_.status.fg, theme_.status.bg);
    case Role::status_error:
      return s(pick(226, 3), theme_.status.bg, A_BOLD);
    case Role::status_hint:
      return s(pick(250, 7), theme_.status.bg);
    case Role::header:
      return c256 ? s(252, 238) : s(0, 7);
    case Role::header_focus:
      return c256 ? s(16, 45) : s(0, 6);
    case Role::separator:
      return c256 ? s(240, -1) : s(4, -1);
    case Role::unread:
      return s(theme_.unread, -1, A_BOLD);
    case Role::mention:
      return s(theme_.mention, -1, A_BOLD);
    case Role::nick:
      return s(theme_.nicks[slot % theme_.nicks.size()], -1);
    case Role::self:
      return s(theme_.self, -1, A_BOLD);
    case Role::highlight:
      return s(theme_.highlight.fg, theme_.highlight.bg, A_BOLD);
    case Role::info:
      return s(pick(38, 6), -1);
    case Role::error:
      return s(pick(196, 1), -1);
    case Role::joined:
      return s(pick(35, 2), -1);
    case Role::left:
      return s(pick(172, 3), -1);
    case Role::marker:
      return s(theme_.marker, -1, A_BOLD);
    case Role::day:
      return s(pick(110, 4), -1);
    case Role::prompt:
      return s(pick(39, 6), -1, A_BOLD);
    case Role::overlay:
      return c256 ? s(252, 235) : s(7, 0);
    case Role::overlay_title:
      return c256 ? s(214, 235) : s(3, 0);
    case Role::field:
      return s(-1, -1, A_UNDERLINE);
  }
  return s(-1, -1);
}

unsigned Renderer::attrs_of(const Span& span, short& pair) {
  const Style st = style_of(span.role, span.slot);
  unsigned attrs = st.attrs;
  if ((span.flags & kBold) != 0) attrs |= A_BOLD;
  if ((span.flags & kReverse) != 0) attrs |= A_REVERSE;
  if ((span.flags & kUnderline) != 0) attrs |= A_UNDERLINE;
  pair = colors_ == 0 ? 0 : pair_for(st.fg, st.bg);
  return attrs;
}

void Renderer::draw_row(void* w, int y, const StyledRow& row) {
  WINDOW* win = as_win(w);
  wmove(win, y, 0);
  for (const auto& span : row.spans) {
    short pair = 0;
    const unsigned attrs = attrs_of(span, pair);
    wattr_set(win, static_cast<attr_t>(attrs), pair, nullptr);
    const std::u32string cps = decode_utf8(span.text);
    const std::wstring wide(cps.begin(), cps.end());
    // The row is exactly the window's width; the last cell of the last row makes
    // waddnwstr report ERR (the cursor cannot advance), but the cell is written.
    waddnwstr(win, wide.c_str(), static_cast<int>(wide.size()));
  }
  wattr_set(win, A_NORMAL, 0, nullptr);
}

void Renderer::paint(const ScreenView& view) {
  rows_painted_ = 0;
  if (view.overlay != had_overlay_) invalidated_ = true;  // what was under it comes back
  had_overlay_ = view.overlay;
  if (invalidated_) {
    invalidated_ = false;
    drop_windows();
    // The terminal may show anything (resize, another program wrote to it): blank the
    // virtual screen and resend every cell.
    werase(stdscr);
    wnoutrefresh(stdscr);
    clearok(curscr, TRUE);
  }
  std::set<std::string> seen;
  bool changed_any = false;
  for (const auto& pane : view.panes) {
    seen.insert(pane.name);
    Window& w = windows_[pane.name];
    if (w.win == nullptr || w.rect != pane.rect) {
      if (w.win != nullptr) delwin(as_win(w.win));
      w.win = nullptr;
      w.rows.clear();
      w.rect = pane.rect;
      if (pane.rect.height > 0 && pane.rect.width > 0 && pane.rect.y + pane.rect.height <= LINES &&
          pane.rect.x + pane.rect.width <= COLS) {
        w.win = newwin(pane.rect.height, pane.rect.width, pane.rect.y, pane.rect.x);
        if (w.win != nullptr) leaveok(as_win(w.win), TRUE);
      }
    }
    if (w.win == nullptr) continue;
    bool changed = false;
    for (std::size_t r = 0; r < pane.rows.size() && static_cast<int>(r) < pane.rect.height; ++r) {
      if (r < w.rows.size() && w.rows[r] == pane.rows[r]) continue;
      draw_row(w.win, static_cast<int>(r), pane.rows[r]);
      changed = true;
      ++rows_painted_;
    }
    w.rows = pane.rows;
    const bool is_overlay = view.overlay && &pane == &view.panes.back();
    if (is_overlay && changed_any) {
      // Panes below were repainted over part of the overlay: put it back on top.
      touchwin(as_win(w.win));
      changed = true;
    }
    if (changed) {
      wnoutrefresh(as_win(w.win));
      changed_any = true;
    }
  }
  for (auto it = windows_.begin(); it != windows_.end();) {
    if (seen.count(it->first) == 0) {
      if (it->second.win != nullptr) delwin(as_win(it->second.win));
      it = windows_.erase(it);
    } else {
      ++it;
    }
  }
  // The hardware cursor goes where the last window refreshed with leaveok off puts it.
  const auto cw = windows_.find(view.cursor_pane);
  if (view.cursor_visible && cw != windows_.end() && cw->second.win != nullptr) {
    WINDOW* win = as_win(cw->second.win);
    leaveok(win, FALSE);
    wmove(win, std::clamp(view.cursor_y - cw->second.rect.y, 0, cw->second.rect.height - 1),
          std::clamp(view.cursor_x - cw->second.rect.x, 0, cw->second.rect.width - 1));
    wnoutrefresh(win);
    leaveok(win, TRUE);
    curs_set(1);
  } else {
    curs_set(0);
  }
  doupdate();
}

}  // namespace chat::tui
