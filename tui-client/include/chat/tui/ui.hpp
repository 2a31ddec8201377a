// chat-tui's user interface without a terminal: what every key, mouse click and command
// does, the UI-only state (focus, input line, history, completion, pane sizes, help
// overlay) and the composition of a frame (view()). The app feeds terminal input in as
// KeyEvent / MouseEvent and paints the ScreenView; everything else is unit tested.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>
#include <utility>

#include "chat/protocol/messages.hpp"
#include "chat/tui/client_state.hpp"
#include "chat/tui/completion.hpp"
#include "chat/tui/config.hpp"
#include "chat/tui/input_history.hpp"
#include "chat/tui/input_line.hpp"
#include "chat/tui/keys.hpp"
#include "chat/tui/layout.hpp"
#include "chat/tui/login_form.hpp"
#include "chat/tui/session.hpp"
#include "chat/tui/view.hpp"

namespace chat::tui {

/// Which part of the main screen receives the navigation keys. Printable characters always
/// go to the input line (and focus it).
enum class Focus { input, meetings, chat, participants };

/// Lower-case name of a focus ("input", "meetings", "chat", "participants").
std::string_view to_string(Focus focus) noexcept;

/// A key press: a canonical key name (keys.hpp: "C-o", "M-1", "PgUp", ...) or, for a
/// printable character, the character (key empty).
struct KeyEvent {
  std::string key;
  char32_t text = 0;
  /// A named key.
  static KeyEvent named(std::string name) { return KeyEvent{std::move(name), 0}; }
  /// A printable character.
  static KeyEvent character(char32_t cp) { return KeyEvent{{}, cp}; }
};

/// A mouse event at a screen cell (0-based row y and column x).
struct MouseEvent {
  enum class Kind { press, wheel_up, wheel_down };
  Kind kind = Kind::press;
  int y = 0;
  int x = 0;
};

/// The interface. References must outlive it.
class Ui {
 public:
  /// Rows scrolled per mouse wheel step.
  static constexpr int kWheelRows = 3;

  Ui(ClientState& state, ProtocolSession& session, const Config& config);

  /// The terminal size in cells (call before view() and after every resize).
  void set_size(int rows, int cols);
  int rows() const noexcept { return rows_; }
  int cols() const noexcept { return cols_; }

  /// Handles one key press; `now` stamps local notices.
  void on_key(const KeyEvent& key, protocol::UnixMs now);
  /// Handles a mouse event: a press on a meetings row opens that meeting, on a participant
  /// selects it, on a pane focuses it; the wheel scrolls the chat (or moves the meetings
  /// selection over that pane). Any mouse event closes the help overlay.
  void on_mouse(const MouseEvent& event, protocol::UnixMs now);

  /// Composes the frame for the current state and size. Clamps the current buffer's scroll
  /// position to what there is to scroll back to.
  ScreenView view(protocol::UnixMs now);

  /// The layout of the current size and pane settings.
  Layout layout() const;

  // ---- what the app must do after a call (each take_* resets its flag) ----------------------
  /// /quit or the quit key.
  bool take_quit() noexcept { return std::exchange(quit_, false); }
  /// Repaint every cell (Ctrl-L, the help overlay closed).
  bool take_full_redraw() noexcept { return std::exchange(full_redraw_, false); }
  /// Ring the terminal bell: someone mentioned us and the bell is on.
  bool take_bell();
  /// Pane settings changed (to be saved in the config file).
  bool take_panes_changed() noexcept { return std::exchange(panes_changed_, false); }

  // ---- state, for the app and the tests ------------------------------------------------------
  /// The pane that receives navigation keys.
  Focus focus() const noexcept { return focus_; }
  /// Moves the focus (no check that the pane is shown).
  void set_focus(Focus focus) noexcept { focus_ = focus; }
  /// The input line being edited.
  const InputLine& input() const noexcept { return input_; }
  InputLine& input() noexcept { return input_; }
  /// Lines submitted so far (Up / Down).
  const InputHistory& history() const noexcept { return history_; }
  /// The Tab completion cycle.
  const Completer& completer() const noexcept { return completer_; }
  /// The login form (shown while the session needs credentials); the app prefills it.
  LoginForm& login() noexcept { return login_; }
  /// The side panes' visibility and widths (saved in the config file).
  const PaneSettings& panes() const noexcept { return panes_; }
  /// True while the help overlay is shown.
  bool help_visible() const noexcept { return help_; }
  /// Index of the highlighted participant (participants pane focus).
  std::size_t participant_selected() const noexcept { return participant_selected_; }
  /// The key bindings in use (defaults + config).
  const KeyMap& keys() const noexcept { return keys_; }

 private:
  bool login_mode() const { return session_.needs_credentials(); }
  void login_key(const KeyEvent& key);
  void help_key(const KeyEvent& key);
  bool pane_key(const std::string& key, protocol::UnixMs now);
  void run(Action action, protocol::UnixMs now);
  void edit(Action action);
  void submit(protocol::UnixMs now);
  void open_row(std::size_t index);
  void cycle_focus(int step);
  void resize_pane(bool meetings, int delta);
  int chat_page() const;
  CompletionSources completion_sources() const;
  const ChatBuffer* current_meeting_buffer() const;

  // composition
  void compose_title(ScreenView& v, const Layout& l, protocol::UnixMs now) const;
  void compose_meetings(ScreenView& v, const Layout& l, protocol::UnixMs now) const;
  int compose_chat(ScreenView& v, const Layout& l, protocol::UnixMs now) const;
  void compose_participants(ScreenView& v, const Layout& l) const;
  void compose_status(ScreenView& v, const Layout& l, protocol::UnixMs now) const;
  void compose_input(ScreenView& v, const Layout& l) const;
  void compose_login(ScreenView& v, const Layout& l, protocol::UnixMs now) const;
  void compose_help(ScreenView& v);

  ClientState& state_;
  ProtocolSession& session_;
  KeyMap keys_;
  bool bell_ = true;
  int rows_ = 24;
  int cols_ = 80;

  Focus focus_ = Focus::meetings;
  InputLine input_;
  InputHistory history_;
  Completer completer_;
  LoginForm login_;
  PaneSettings panes_;
  std::size_t participant_selected_ = 0;
  bool help_ = false;
  int help_scroll_ = 0;
  int help_page_ = 1;

  bool quit_ = false;
  bool full_redraw_ = false;
  bool panes_changed_ = false;
};

/// First meetings row shown in a pane of `visible` rows so that `selected` is visible.
std::size_t first_visible_row(std::size_t selected, int visible);

}  // namespace chat::tui
