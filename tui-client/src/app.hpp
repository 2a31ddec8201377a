// chat-tui's event loop: one thread, one io_context watching the server socket, the
// keyboard (stdin as a posix::stream_descriptor, as in Asio's posix_chat_client), the
// signals and the timers. The screen never waits for the network.
#pragma once

#include <boost/asio.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <optional>
#include <string>
#include <vector>

#include "chat/protocol/frame.hpp"
#include "chat/tui/client_state.hpp"
#include "chat/tui/input_line.hpp"
#include "chat/tui/login_form.hpp"
#include "chat/tui/options.hpp"
#include "chat/tui/session.hpp"
#include "renderer.hpp"

namespace chat::tui {

/// Server frames may exceed the 64 KiB client limit (PROTOCOL.md): a 1000-message history
/// page of 4 KiB texts is ~4 MiB, so allow that with room to spare.
inline constexpr std::size_t kMaxServerFrameBytes = 16 * 1024 * 1024;
/// Keep-alive period: the server closes connections silent for 60 s.
inline constexpr std::chrono::seconds kPingInterval{20};
/// Give up on a TCP connect (or name lookup) after this long and try the next server.
inline constexpr std::chrono::seconds kConnectTimeout{5};

/// The running client. Construct, then run() until /quit, Ctrl-C or SIGTERM.
class App {
 public:
  App(boost::asio::io_context& io, Options options);
  App(const App&) = delete;
  App& operator=(const App&) = delete;

  /// Enters curses mode, connects and serves events until quit. Returns the exit status.
  /// The terminal is restored before it returns (also when it throws).
  int run();

 private:
  using tcp = boost::asio::ip::tcp;

  // network
  void start_connect();
  void on_connect_failed(std::uint64_t generation, const std::string& why);
  void on_connection_lost(std::uint64_t generation, const std::string& why);
  void schedule_reconnect(std::chrono::milliseconds delay);
  /// "; retry in 1.0 s" (one server) or "; next HOST:PORT in 0.1 s" for the status line.
  std::string retry_text(std::chrono::milliseconds delay) const;
  void start_read(std::uint64_t generation);
  void flush_outbox();
  void start_write();
  void close_socket();

  // keyboard and screen
  void wait_stdin();
  void drain_keys();
  void handle_key(wint_t ch, bool function_key);
  void handle_login_key(wint_t ch, bool function_key);
  void handle_main_key(wint_t ch, bool function_key);
  void submit_input();
  void wait_winch();
  void start_ping_timer();
  void request_redraw();
  void draw();
  void quit();

  boost::asio::io_context& io_;
  Options options_;
  ClientState state_;
  ProtocolSession session_;

  boost::asio::signal_set stop_signals_;
  boost::asio::signal_set winch_signal_;
  boost::asio::posix::stream_descriptor stdin_;
  tcp::resolver resolver_;
  tcp::socket socket_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer redraw_timer_;

  std::optional<Screen> screen_;
  Renderer renderer_;

  // connection
  std::size_t server_index_ = 0;
  std::size_t failures_in_row_ = 0;  // connect failures since the last success
  std::uint64_t generation_ = 0;     // bumped per attempt; stale handlers compare and return
  bool connected_ = false;
  protocol::FrameSplitter splitter_{kMaxServerFrameBytes};
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  std::deque<std::string> write_queue_;
  bool writing_ = false;

  // UI-only state
  LoginForm login_;
  InputLine input_;
  Focus focus_ = Focus::meetings;
  bool redraw_pending_ = false;
  bool quitting_ = false;
};

}  // namespace chat::tui
