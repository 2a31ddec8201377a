// ncurses side of chat-tui: owns the terminal (Screen) and paints a ClientState (Renderer).
// Nothing here decides anything; the geometry and row texts come from layout.hpp.
#pragma once

#include <string>
#include <string_view>

#include "chat/tui/client_state.hpp"
#include "chat/tui/input_line.hpp"
#include "chat/tui/layout.hpp"
#include "chat/tui/login_form.hpp"

namespace chat::tui {

/// The curses terminal for the lifetime of the object: newterm() in the constructor,
/// endwin() + delscreen() in the destructor, so the terminal is restored on every exit path.
/// Must be created after the SIGWINCH/SIGINT asio signal_sets, so that ncurses leaves those
/// signals to them.
class Screen {
 public:
  /// Enters curses mode (cbreak, noecho, keypad, non-blocking reads). Throws
  /// std::runtime_error when the terminal cannot be used (e.g. TERM unknown).
  Screen();
  ~Screen();
  Screen(const Screen&) = delete;
  Screen& operator=(const Screen&) = delete;

  /// Adopts the terminal's new size (from TIOCGWINSZ) after SIGWINCH.
  void resize_from_terminal();
  /// Forces a full repaint on the next refresh (Ctrl-L).
  void invalidate();
  int rows() const;
  int cols() const;

 private:
  void* screen_ = nullptr;  // SCREEN*, kept opaque so this header needs no <curses.h>
};

/// Which part of the main screen receives keys.
enum class Focus { meetings, input };

/// What the renderer needs besides the model: the UI-only state owned by the app.
struct UiView {
  bool login_screen = false;
  const LoginForm* login = nullptr;
  std::string login_error;
  Focus focus = Focus::meetings;
  const InputLine* input = nullptr;
};

/// Paints the whole screen from the state on each draw(); curses sends only the cells that
/// changed, so a full repaint per event stays cheap.
class Renderer {
 public:
  /// Draws everything and refreshes. Returns the largest useful scroll of the chat pane
  /// (wrapped rows minus visible rows) so the app can clamp ClientState's scroll.
  int draw(const ClientState& state, const UiView& ui);
};

}  // namespace chat::tui
