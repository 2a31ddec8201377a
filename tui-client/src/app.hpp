// chat-tui's event loop: one thread, one io_context watching the server socket, the
// keyboard (stdin as a posix::stream_descriptor, as in Asio's posix_chat_client), the
// signals and the timers. The screen never waits for the network.
#pragma once

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <chrono>
#include <cstdint>
#include <deque>
#include <filesystem>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/protocol/frame.hpp"
#include "chat/tui/client_state.hpp"
#include "chat/tui/config.hpp"
#include "chat/tui/options.hpp"
#include "chat/tui/reconnect.hpp"
#include "chat/tui/session.hpp"
#include "chat/tui/ui.hpp"
#include "keyboard.hpp"
#include "renderer.hpp"

namespace chat::tui {

/// Server frames may exceed the 64 KiB client limit (PROTOCOL.md): a 1000-message history
/// page of 4 KiB texts is ~4 MiB, so allow that with room to spare.
inline constexpr std::size_t kMaxServerFrameBytes = 16 * 1024 * 1024;
/// Keep-alive and liveness probe period: the server closes connections silent for 60 s,
/// and a ping is how a peer that died without FIN/RST (frozen host, cut network) is noticed.
/// Probe period plus answer bound stay under chatd's default 10 s grace period, so even such
/// a silent failure is detected in time to get the seats back on another node.
inline constexpr std::chrono::seconds kPingInterval{4};
/// A connection whose server stays silent this long while a request (hello, login, a
/// ping, ...) waits for its answer counts as lost.
inline constexpr std::chrono::seconds kAnswerTimeout{4};
/// active_meetings and nodes are re-read every this many pings (participant counts of
/// meetings we are not in; nodes that joined or left the cluster): every 20 s.
inline constexpr int kRefreshEveryPings = 5;
/// How often the watchdog is checked and a reconnect countdown repainted.
inline constexpr std::chrono::milliseconds kTickInterval{250};
/// The screen is recomposed this often even without input (time left, latency); only rows
/// that changed reach the terminal.
inline constexpr int kRepaintEveryTicks = 4;
/// Give up on a TCP connect (or name lookup) after this long and try the next server.
inline constexpr std::chrono::seconds kConnectTimeout{5};

/// The running client. Construct, then run() until /quit, Ctrl-C or SIGTERM.
class App {
 public:
  /// config: the parsed config file (config_path: where it lives, for saving the last
  /// server and user; nullopt: nothing is saved).
  App(boost::asio::io_context& io, Options options, Config config,
      std::optional<std::filesystem::path> config_path);
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
  /// Closes the socket, tells the session, moves to the next server and schedules the
  /// attempt after the next backoff delay.
  void retry_later(const std::string& session_reason, const std::string& status_reason);
  void after_frames();
  void start_read(std::uint64_t generation);
  void flush_outbox();
  void start_write();
  void close_socket();
  // The TCP socket of the current connection (under the TLS stream with --tls).
  tcp::socket& socket() { return tls_ ? tls_->next_layer() : socket_; }
  // TCP is up: with --tls, does the handshake (verifying the server), then goes online.
  void on_tcp_connected(std::uint64_t generation);
  // The connection is usable: resets the framing and tells the session.
  void on_connected(std::uint64_t generation);

  // keyboard and screen
  void wait_stdin();
  void drain_keys();
  void after_ui();
  void save_config(const std::vector<std::pair<std::string, std::string>>& values);
  void wait_winch();
  void start_ping_timer();
  void start_tick_timer();
  void request_redraw();
  void draw();
  void quit();

  boost::asio::io_context& io_;
  Options options_;
  Config config_;
  std::optional<std::filesystem::path> config_path_;
  ClientState state_;
  ProtocolSession session_;
  Ui ui_;

  boost::asio::signal_set stop_signals_;
  boost::asio::signal_set winch_signal_;
  boost::asio::posix::stream_descriptor stdin_;
  tcp::resolver resolver_;
  tcp::socket socket_;  // plaintext connections
  // --tls: the context (CAs, TLS 1.2+), and the current connection's stream, made anew per
  // attempt (an ssl::stream is not reusable); shared with its pending handlers, which may
  // run after a reconnect replaced it.
  std::optional<boost::asio::ssl::context> tls_context_;
  std::shared_ptr<boost::asio::ssl::stream<tcp::socket>> tls_;
  boost::asio::steady_timer connect_timer_;
  boost::asio::steady_timer reconnect_timer_;
  boost::asio::steady_timer ping_timer_;
  boost::asio::steady_timer tick_timer_;
  boost::asio::steady_timer redraw_timer_;

  std::optional<Screen> screen_;
  std::optional<Renderer> renderer_;
  std::optional<KeyReader> keys_;

  // connection
  ServerRotation rotation_;
  Backoff backoff_;
  AnswerWatchdog watchdog_{kAnswerTimeout};
  int pings_ = 0;
  std::uint64_t generation_ = 0;  // bumped per attempt; stale handlers compare and return
  bool connected_ = false;
  bool awaiting_credentials_ = false;  // no connection until the login form is submitted
  protocol::FrameSplitter splitter_{kMaxServerFrameBytes};
  std::vector<char> read_buffer_ = std::vector<char>(64 * 1024);
  std::deque<std::string> write_queue_;
  bool writing_ = false;

  // screen
  bool redraw_pending_ = false;
  bool quitting_ = false;
  int ticks_ = 0;
  bool saved_login_ = false;  // server and user saved for this login
};

}  // namespace chat::tui
