#include "app.hpp"

#include <curses.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>

#include "chat/protocol/time.hpp"
#include "chat/tui/commands.hpp"

namespace chat::tui {

namespace asio = boost::asio;
using namespace std::chrono_literals;

namespace {

constexpr wint_t kCtrlL = 12;
constexpr wint_t kCtrlU = 21;
constexpr wint_t kCtrlW = 23;
constexpr wint_t kDel = 127;
constexpr wint_t kCtrlH = 8;

bool is_enter(wint_t ch, bool fkey) {
  return fkey ? ch == KEY_ENTER : (ch == L'\n' || ch == L'\r');
}
bool is_backspace(wint_t ch, bool fkey) {
  return fkey ? ch == KEY_BACKSPACE : (ch == kDel || ch == kCtrlH);
}

}  // namespace

App::App(asio::io_context& io, Options options)
    : io_(io),
      options_(std::move(options)),
      session_(state_),
      stop_signals_(io, SIGINT, SIGTERM, SIGHUP),
      winch_signal_(io, SIGWINCH),
      stdin_(io),
      resolver_(io),
      socket_(io),
      connect_timer_(io),
      reconnect_timer_(io),
      ping_timer_(io),
      tick_timer_(io),
      redraw_timer_(io),
      rotation_(options_.servers) {
  state_.set_connection(ConnectionState::disconnected, rotation_.current().text);
  if (options_.user) login_.user().set_utf8(*options_.user);
  if (options_.user && options_.password) {
    session_.set_credentials(*options_.user, *options_.password);
  } else if (options_.user) {
    login_.focus(LoginForm::Field::password);
  }
}

int App::run() {
  // The signal sets exist before curses starts, so ncurses sees handlers installed and does
  // not put its own on SIGWINCH/SIGINT/SIGTERM: all signals arrive through asio.
  stop_signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) quit();
  });
  wait_winch();
  screen_.emplace();
  stdin_.assign(STDIN_FILENO);
  wait_stdin();
  start_connect();
  start_ping_timer();
  start_tick_timer();
  draw();
  io_.run();
  // Do not close the terminal's stdin: it is not ours.
  stdin_.release();
  screen_.reset();
  return 0;
}

void App::quit() {
  if (quitting_) return;
  quitting_ = true;
  close_socket();
  io_.stop();
}

// ---- network -----------------------------------------------------------------------------

void App::start_connect() {
  if (quitting_) return;
  const std::uint64_t gen = ++generation_;
  const ServerAddress& server = rotation_.current();
  state_.set_connection(ConnectionState::connecting, server.text);
  request_redraw();
  connect_timer_.expires_after(kConnectTimeout);
  connect_timer_.async_wait([this, gen](const boost::system::error_code& ec) {
    if (ec || gen != generation_ || connected_) return;
    on_connect_failed(gen, "timed out");
  });
  resolver_.async_resolve(
      server.host, server.port,
      [this, gen](const boost::system::error_code& ec, const tcp::resolver::results_type& results) {
        if (gen != generation_) return;
        if (ec) {
          on_connect_failed(gen, ec.message());
          return;
        }
        asio::async_connect(
            socket_, results,
            [this, gen](const boost::system::error_code& ec2, const tcp::endpoint&) {
              if (gen != generation_) return;
              if (ec2) {
                on_connect_failed(gen, ec2.message());
                return;
              }
              connect_timer_.cancel();
              connected_ = true;
              boost::system::error_code ignored;
              socket_.set_option(tcp::no_delay(true), ignored);
              splitter_ = protocol::FrameSplitter(kMaxServerFrameBytes);
              watchdog_.reset();
              session_.on_connected(rotation_.current().text);
              flush_outbox();
              start_read(gen);
              request_redraw();
            });
      });
}

void App::on_connect_failed(std::uint64_t generation, const std::string& why) {
  if (generation != generation_ || quitting_) return;
  const std::string server = rotation_.current().text;
  retry_later("cannot connect to " + server + ": " + why, server + ": " + why);
}

void App::on_connection_lost(std::uint64_t generation, const std::string& why) {
  if (generation != generation_ || quitting_) return;
  const std::string server = rotation_.current().text;
  const std::string node = state_.status().node;
  const std::string text =
      "connection to " + server + (node.empty() ? "" : " (" + node + ")") + " lost: " + why;
  // Shown where the user is looking; the status line says what happens next.
  state_.add_line(state_.current(),
                  ChatLine{ChatLine::Kind::error, protocol::now_ms(), {}, text, {}, 0});
  retry_later(text, "lost " + server + ": " + why);
}

void App::retry_later(const std::string& session_reason, const std::string& status_reason) {
  ++generation_;  // whatever is still in flight for the old attempt is now stale
  close_socket();
  session_.on_disconnected(session_reason);
  // The next attempt goes to the next known server, so a dead node is tried last; the
  // delay grows per attempt (reset by a successful login) so a down cluster is not hammered.
  const ServerAddress& next = rotation_.advance();
  const auto delay = backoff_.next();
  state_.set_connection(ConnectionState::reconnecting, next.text, status_reason,
                        protocol::now_ms() + delay.count());
  request_redraw();
  reconnect_timer_.expires_after(delay);
  reconnect_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (!ec) start_connect();
  });
}

void App::close_socket() {
  connected_ = false;
  writing_ = false;
  write_queue_.clear();
  watchdog_.reset();
  connect_timer_.cancel();
  resolver_.cancel();
  boost::system::error_code ignored;
  socket_.shutdown(tcp::socket::shutdown_both, ignored);
  socket_.close(ignored);
}

void App::start_read(std::uint64_t gen) {
  socket_.async_read_some(
      asio::buffer(read_buffer_), [this, gen](const boost::system::error_code& ec, std::size_t n) {
        if (gen != generation_) return;
        if (ec) {
          on_connection_lost(gen, ec == asio::error::eof ? "closed by server" : ec.message());
          return;
        }
        splitter_.append(std::string_view(read_buffer_.data(), n));
        const auto now = protocol::now_ms();
        while (auto line = splitter_.next()) session_.handle_line(*line, now);
        if (splitter_.too_large()) {
          on_connection_lost(
              gen, "server frame over " + std::to_string(kMaxServerFrameBytes) + " bytes");
          return;
        }
        watchdog_.on_received(AnswerWatchdog::Clock::now(), session_.pending_count());
        if (auto why = session_.take_drop_request()) {
          on_connection_lost(gen, *why);
          return;
        }
        after_frames();
        flush_outbox();
        request_redraw();
        start_read(gen);
      });
}

void App::after_frames() {
  // A login on this connection ends the backoff: the next loss starts again at the
  // shortest delay.
  if (session_.logged_in()) backoff_.reset();
  if (auto nodes = session_.take_nodes()) rotation_.set_nodes(*nodes, state_.status().node);
}

void App::flush_outbox() {
  auto frames = session_.take_outbox();
  if (!connected_) return;  // the session refuses requests while offline
  if (frames.empty()) return;
  watchdog_.on_sent(AnswerWatchdog::Clock::now());
  for (auto& f : frames) write_queue_.push_back(std::move(f));
  if (!writing_) start_write();
}

void App::start_write() {
  if (write_queue_.empty() || !connected_) {
    writing_ = false;
    return;
  }
  writing_ = true;
  const std::uint64_t gen = generation_;
  asio::async_write(socket_, asio::buffer(write_queue_.front()),
                    [this, gen](const boost::system::error_code& ec, std::size_t) {
                      if (gen != generation_) return;
                      if (ec) {
                        on_connection_lost(gen, ec.message());
                        return;
                      }
                      write_queue_.pop_front();
                      start_write();
                    });
}

// ---- timers ------------------------------------------------------------------------------

void App::start_ping_timer() {
  ping_timer_.expires_after(kPingInterval);
  ping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    session_.ping();
    if (++pings_ % kRefreshEveryPings == 0) {
      session_.refresh_meetings();  // participant counts of meetings we are not in
      session_.refresh_nodes();     // nodes that joined or left the cluster
    }
    flush_outbox();
    start_ping_timer();
  });
}

void App::start_tick_timer() {
  tick_timer_.expires_after(kTickInterval);
  tick_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    if (connected_ && watchdog_.expired(AnswerWatchdog::Clock::now())) {
      on_connection_lost(generation_,
                         "no answer for " + std::to_string(kAnswerTimeout.count()) + " s");
    }
    if (state_.status().connection == ConnectionState::reconnecting) request_redraw();
    start_tick_timer();
  });
}

void App::request_redraw() {
  if (redraw_pending_ || quitting_) return;
  redraw_pending_ = true;
  // A short delay folds a burst of frames or keys into one repaint.
  redraw_timer_.expires_after(10ms);
  redraw_timer_.async_wait([this](const boost::system::error_code& ec) {
    redraw_pending_ = false;
    if (!ec) draw();
  });
}

void App::draw() {
  if (!screen_ || quitting_) return;
  UiView ui;
  ui.login_screen = session_.needs_credentials();
  ui.login = &login_;
  ui.login_error = session_.login_error();
  ui.focus = focus_;
  ui.input = &input_;
  const int max_scroll = renderer_.draw(state_, ui);
  state_.clamp_scroll(max_scroll);
}

// ---- keyboard and resize -----------------------------------------------------------------

void App::wait_winch() {
  winch_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (screen_) {
      screen_->resize_from_terminal();
      drain_keys();  // resize_term queues KEY_RESIZE; take it now, not at the next key press
      draw();
    }
    wait_winch();
  });
}

void App::wait_stdin() {
  stdin_.async_wait(asio::posix::descriptor_base::wait_read,
                    [this](const boost::system::error_code& ec) {
                      if (ec) return;
                      drain_keys();
                      if (quitting_) return;
                      flush_outbox();
                      request_redraw();
                      wait_stdin();
                    });
}

void App::drain_keys() {
  // stdscr is in nodelay mode: read every key that is buffered, then go back to asio.
  wint_t ch = 0;
  int rc = 0;
  while (!quitting_ && (rc = get_wch(&ch)) != ERR) handle_key(ch, rc == KEY_CODE_YES);
}

void App::handle_key(wint_t ch, bool function_key) {
  if (function_key && ch == KEY_RESIZE) {
    request_redraw();
    return;
  }
  if (!function_key && ch == kCtrlL) {
    screen_->invalidate();
    request_redraw();
    return;
  }
  if (session_.needs_credentials())
    handle_login_key(ch, function_key);
  else
    handle_main_key(ch, function_key);
}

void App::handle_login_key(wint_t ch, bool fkey) {
  InputLine& field = login_.active();
  if (is_enter(ch, fkey)) {
    if (login_.enter()) {
      session_.set_credentials(login_.user().utf8(), login_.password().utf8());
      login_.reset_password();
      focus_ = Focus::meetings;
    }
  } else if ((!fkey && ch == L'\t') ||
             (fkey && (ch == KEY_UP || ch == KEY_DOWN || ch == KEY_BTAB))) {
    login_.next_field();
  } else if (is_backspace(ch, fkey)) {
    field.backspace();
  } else if (fkey) {
    switch (ch) {
      case KEY_DC:
        field.erase_forward();
        break;
      case KEY_LEFT:
        field.move_left();
        break;
      case KEY_RIGHT:
        field.move_right();
        break;
      case KEY_HOME:
        field.move_home();
        break;
      case KEY_END:
        field.move_end();
        break;
      default:
        break;
    }
  } else if (ch == kCtrlU) {
    field.kill_to_start();
  } else if (ch == kCtrlW) {
    field.kill_word_before();
  } else {
    field.insert(static_cast<char32_t>(ch));
  }
}

void App::handle_main_key(wint_t ch, bool fkey) {
  const int page = std::max(1, (LINES - 3) / 2);
  if (!fkey && ch == L'\t') {
    focus_ = focus_ == Focus::meetings ? Focus::input : Focus::meetings;
    return;
  }
  if (fkey && ch == KEY_BTAB) {
    focus_ = focus_ == Focus::meetings ? Focus::input : Focus::meetings;
    return;
  }
  if (fkey && ch == KEY_PPAGE) {
    state_.scroll_current(page);
    return;
  }
  if (fkey && ch == KEY_NPAGE) {
    state_.scroll_current(-page);
    return;
  }
  if (focus_ == Focus::meetings) {
    if (is_enter(ch, fkey)) {
      state_.clear_error();
      session_.join_selected();
      focus_ = Focus::input;
      return;
    }
    if (fkey) {
      switch (ch) {
        case KEY_UP:
          state_.move_selection(-1);
          break;
        case KEY_DOWN:
          state_.move_selection(1);
          break;
        case KEY_HOME:
          state_.move_selection(-static_cast<int>(state_.meetings().size()));
          break;
        case KEY_END:
          state_.move_selection(static_cast<int>(state_.meetings().size()));
          break;
        default:
          break;
      }
      return;
    }
    if (ch < 0x20 || ch == kDel) return;
    focus_ = Focus::input;  // typing starts a message
  }
  // input line
  if (is_enter(ch, fkey)) {
    submit_input();
  } else if (is_backspace(ch, fkey)) {
    input_.backspace();
  } else if (fkey) {
    switch (ch) {
      case KEY_DC:
        input_.erase_forward();
        break;
      case KEY_LEFT:
        input_.move_left();
        break;
      case KEY_RIGHT:
        input_.move_right();
        break;
      case KEY_HOME:
        input_.move_home();
        break;
      case KEY_END:
        input_.move_end();
        break;
      case KEY_UP:
        state_.scroll_current(1);
        break;
      case KEY_DOWN:
        state_.scroll_current(-1);
        break;
      default:
        break;
    }
  } else if (ch == kCtrlU) {
    input_.kill_to_start();
  } else if (ch == kCtrlW) {
    input_.kill_word_before();
  } else {
    input_.insert(static_cast<char32_t>(ch));
  }
}

void App::submit_input() {
  const Command cmd = parse_input(input_.utf8());
  const auto now = protocol::now_ms();
  switch (cmd.kind) {
    case Command::Kind::none:
      return;
    case Command::Kind::post:
      state_.clear_error();
      if (session_.post(cmd.arg)) input_.clear();
      return;
    case Command::Kind::leave:
      state_.clear_error();
      session_.leave_current();
      break;
    case Command::Kind::quit:
      quit();
      return;
    case Command::Kind::help:
      for (const auto& line : help_lines()) state_.add_info(line, now);
      state_.clamp_scroll(0);
      break;
    case Command::Kind::unknown:
      state_.set_error("unknown command " + cmd.arg + " (see /help)");
      break;
  }
  input_.clear();
}

}  // namespace chat::tui
