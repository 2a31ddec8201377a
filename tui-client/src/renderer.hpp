// ncurses side of chat-tui: owns the terminal (Screen) and paints composed frames
// (Renderer). Nothing here decides anything; what to show comes from Ui::view().
#pragma once

#include <map>
#include <string>
#include <vector>

#include "chat/tui/config.hpp"
#include "chat/tui/view.hpp"

namespace chat::tui {

/// The curses terminal for the lifetime of the object: newterm() in the constructor,
/// endwin() + delscreen() in the destructor, so the terminal is restored on every exit path.
/// Must be created after the SIGWINCH/SIGINT asio signal_sets, so that ncurses leaves those
/// signals to them.
class Screen {
 public:
  /// Enters curses mode (cbreak, noecho, keypad, non-blocking reads) and, when `mouse`,
  /// asks for mouse presses and wheel events. Throws std::runtime_error when the terminal
  /// cannot be used (e.g. TERM unknown).
  explicit Screen(bool mouse);
  ~Screen();
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  /// Adopts the terminal's new size (from TIOCGWINSZ) after SIGWINCH.
  void resize_from_terminal();
  int rows() const;
  int cols() const;

 private:
  void* screen_ = nullptr;  // SCREEN*, kept opaque so this header needs no <curses.h>
};

/// Paints frames into one curses window per pane. Each window keeps the rows it shows; a
/// new frame rewrites only the rows that differ (a window whose rows are all equal is not
/// even refreshed), and doupdate() sends the terminal just those cells: no flicker, little
/// output. Colours follow the config (256, 8 or none; NO_COLOR means none).
class Renderer {
 public:
  /// Sets up colours for the terminal curses opened (call after Screen).
  Renderer(const Config& config, bool no_color);
  ~Renderer();
  Renderer(const Renderer&) = delete;
  Renderer& operator=(const Renderer&) = delete;

  /// Paints a frame.
  void paint(const ScreenView& view);
  /// Forgets what is on the terminal: the next paint repaints every cell (resize, Ctrl-L,
  /// the help overlay closed).
  void invalidate() noexcept { invalidated_ = true; }
  /// Screen rows written by the last paint (0 when nothing changed).
  int rows_painted() const noexcept { return rows_painted_; }
  /// "256", "8" or "none": the colours in use.
  std::string color_mode() const;

 private:
  struct Window {
    void* win = nullptr;  // WINDOW*
    Rect rect;
    std::vector<StyledRow> rows;
  };
  struct Style {
    short fg = -1;
    short bg = -1;
    unsigned attrs = 0;  // A_* bits
  };

  void drop_windows();
  void draw_row(void* win, int y, const StyledRow& row);
  Style style_of(Role role, std::uint8_t slot) const;
  unsigned attrs_of(const Span& span, short& pair);

  int colors_ = 0;  // 0 = no colour, 8 or 256
  Theme theme_;
  std::map<std::string, Window> windows_;
  std::map<std::pair<short, short>, short> pairs_;  // (fg, bg) -> pair, allocated on first use
  bool invalidated_ = true;
  bool had_overlay_ = false;
  int rows_painted_ = 0;

  short pair_for(short fg, short bg);
};

}  // namespace chat::tui
