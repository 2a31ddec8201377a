#include "app.hpp"

#include <curses.h>
#include <openssl/ssl.h>
#include <unistd.h>

#include <algorithm>
#include <csignal>
#include <cstdio>
#include <cstdlib>

#include "chat/protocol/time.hpp"

namespace chat::tui {

namespace asio = boost::asio;
using namespace std::chrono_literals;

App::App(asio::io_context& io, Options options, Config config,
         std::optional<std::filesystem::path> config_path)
    : io_(io),
      options_(std::move(options)),
      config_(std::move(config)),
      config_path_(std::move(config_path)),
      session_(state_),
      ui_(state_, session_, config_),
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
  if (options_.tls) {
    // Throws (main reports it) when the CA file is unreadable: better than failing later.
    tls_context_.emplace(asio::ssl::context::tls_client);
    tls_context_->set_options(asio::ssl::context::default_workarounds |
                              asio::ssl::context::no_sslv2 | asio::ssl::context::no_sslv3 |
                              asio::ssl::context::no_tlsv1 | asio::ssl::context::no_tlsv1_1);
    SSL_CTX_set_min_proto_version(tls_context_->native_handle(), TLS1_2_VERSION);
    if (options_.ca_file)
      tls_context_->load_verify_file(*options_.ca_file);
    else
      tls_context_->set_default_verify_paths();
    tls_context_->set_verify_mode(asio::ssl::verify_peer);
  }
  state_.set_connection(ConnectionState::disconnected, rotation_.current().text);
  // The user name: --user, else the one of the last login (config file).
  const std::optional<std::string> user = options_.user ? options_.user : config_.user;
  if (user) ui_.login().user().set_utf8(*user);
  if (options_.user && options_.password) {
    session_.set_credentials(*options_.user, *options_.password);
  } else if (user) {
    ui_.login().focus(LoginForm::Field::password);
  }
  const auto now = protocol::now_ms();
  if (config_path_)
    state_.add_line(
        std::nullopt,
        ChatLine{ChatLine::Kind::info, now, {}, "Config: " + config_path_->string(), {}, 0});
  for (const auto& w : config_.warnings)
    state_.add_line(std::nullopt, ChatLine{ChatLine::Kind::error, now, {}, "config " + w, {}, 0});
}

int App::run() {
  // The signal sets exist before curses starts, so ncurses sees handlers installed and does
  // not put its own on SIGWINCH/SIGINT/SIGTERM: all signals arrive through asio.
  stop_signals_.async_wait([this](const boost::system::error_code& ec, int) {
    if (!ec) quit();
  });
  wait_winch();
  screen_.emplace(config_.mouse);
  renderer_.emplace(config_, no_color_requested(std::getenv("NO_COLOR")));
  keys_.emplace();
  state_.add_line(std::nullopt,
                  ChatLine{ChatLine::Kind::info,
                           protocol::now_ms(),
                           {},
                           "Colours: " + renderer_->color_mode() + ". F1 lists the keys.",
                           {},
                           0});
  stdin_.assign(STDIN_FILENO);
  wait_stdin();
  start_connect();
  start_ping_timer();
  start_tick_timer();
  draw();
  io_.run();
  // Do not close the terminal's stdin: it is not ours.
  stdin_.release();
  keys_.reset();
  renderer_.reset();
  screen_.reset();
  return 0;
}

void App::quit() {
  if (quitting_) return;
  quitting_ = true;
  if (ui_.take_panes_changed()) {
    const PaneSettings& p = ui_.panes();
    save_config({{"meetings_pane", p.show_meetings ? "on" : "off"},
                 {"participants_pane", p.show_participants ? "on" : "off"},
                 {"meetings_width", std::to_string(p.meetings_width)},
                 {"participants_width", std::to_string(p.participants_width)}});
  }
  close_socket();
  io_.stop();
}

void App::save_config(const std::vector<std::pair<std::string, std::string>>& values) {
  if (!config_path_) return;
  const std::string old = read_text_file(*config_path_).value_or(std::string());
  if (auto err = write_text_file(*config_path_, update_config_text(old, values)))
    state_.set_error("config: " + *err);
}

// ---- network -----------------------------------------------------------------------------

void App::start_connect() {
  if (quitting_) return;
  const ServerAddress& server = rotation_.current();
  // chatd closes a connection that has not logged in within its login deadline (10 s by
  // default), so connect only once the login form has been filled in; after_ui() resumes.
  if (session_.needs_credentials()) {
    awaiting_credentials_ = true;
    state_.set_connection(ConnectionState::disconnected, server.text);
    request_redraw();
    return;
  }
  awaiting_credentials_ = false;
  const std::uint64_t gen = ++generation_;
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
        if (tls_context_)
          tls_ = std::make_shared<asio::ssl::stream<tcp::socket>>(io_, *tls_context_);
        asio::async_connect(
            socket(), results,
            [this, gen, keep = tls_](const boost::system::error_code& ec2, const tcp::endpoint&) {
              if (gen != generation_) return;
              if (ec2) {
                on_connect_failed(gen, ec2.message());
                return;
              }
              on_tcp_connected(gen);
            });
      });
}

void App::on_tcp_connected(std::uint64_t gen) {
  boost::system::error_code ignored;
  socket().set_option(tcp::no_delay(true), ignored);
  if (!tls_) {
    on_connected(gen);
    return;
  }
  // The certificate must verify against the CAs and name this host (DNS name or IP address
  // SAN); SNI only for names (RFC 6066 has no IP addresses). The connect timeout still runs,
  // so a server that never answers the handshake fails the attempt like a dead one.
  const std::string& host = rotation_.current().host;
  boost::system::error_code not_ip;
  asio::ip::make_address(host, not_ip);
  if (not_ip) SSL_set_tlsext_host_name(tls_->native_handle(), host.c_str());
  tls_->set_verify_callback(asio::ssl::host_name_verification(host));
  tls_->async_handshake(asio::ssl::stream_base::client,
                        [this, gen, keep = tls_](const boost::system::error_code& ec) {
                          if (gen != generation_) return;
                          if (ec) {
                            on_connect_failed(gen, "TLS: " + ec.message());
                            return;
                          }
                          on_connected(gen);
                        });
}

void App::on_connected(std::uint64_t gen) {
  connect_timer_.cancel();
  connected_ = true;
  splitter_ = protocol::FrameSplitter(kMaxServerFrameBytes);
  watchdog_.reset();
  session_.on_connected(rotation_.current().text);
  flush_outbox();
  start_read(gen);
  request_redraw();
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
  socket().shutdown(tcp::socket::shutdown_both, ignored);
  socket().close(ignored);
  // Its pending handlers hold it (and are stale by generation); the next attempt makes a
  // new one. No close_notify: the connection is being dropped either way.
  tls_.reset();
}

void App::start_read(std::uint64_t gen) {
  auto on_read = [this, gen, keep = tls_](const boost::system::error_code& ec, std::size_t n) {
    if (gen != generation_) return;
    if (ec) {
      // chatd ends TLS connections without close_notify: stream_truncated is its EOF.
      const bool closed = ec == asio::error::eof || ec == asio::ssl::error::stream_truncated;
      on_connection_lost(gen, closed ? "closed by server" : ec.message());
      return;
    }
    splitter_.append(std::string_view(read_buffer_.data(), n));
    const auto now = protocol::now_ms();
    while (auto line = splitter_.next()) session_.handle_line(*line, now);
    if (splitter_.too_large()) {
      on_connection_lost(gen,
                         "server frame over " + std::to_string(kMaxServerFrameBytes) + " bytes");
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
  };
  if (tls_)
    tls_->async_read_some(asio::buffer(read_buffer_), std::move(on_read));
  else
    socket_.async_read_some(asio::buffer(read_buffer_), std::move(on_read));
}

void App::after_frames() {
  // A login on this connection ends the backoff: the next loss starts again at the
  // shortest delay.
  if (session_.logged_in()) backoff_.reset();
  // The server and user of a successful login are the user's to keep (never the password).
  if (session_.logged_in() && !saved_login_) {
    saved_login_ = true;
    save_config({{"server", rotation_.current().text}, {"user", session_.user_name()}});
  }
  if (!session_.logged_in()) saved_login_ = false;
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
  auto on_written = [this, gen, keep = tls_](const boost::system::error_code& ec, std::size_t) {
    if (gen != generation_) return;
    if (ec) {
      on_connection_lost(gen, ec.message());
      return;
    }
    write_queue_.pop_front();
    start_write();
  };
  if (tls_)
    asio::async_write(*tls_, asio::buffer(write_queue_.front()), std::move(on_written));
  else
    asio::async_write(socket_, asio::buffer(write_queue_.front()), std::move(on_written));
}

// ---- timers ------------------------------------------------------------------------------

void App::start_ping_timer() {
  ping_timer_.expires_after(kPingInterval);
  ping_timer_.async_wait([this](const boost::system::error_code& ec) {
    if (ec) return;
    session_.ping(protocol::now_ms());
    if (++pings_ % kRefreshEveryPings == 0) {
      session_.refresh_meetings();    // participant counts of meetings we are not in
      session_.refresh_nodes();       // nodes that joined or left the cluster
      session_.refresh_join_times();  // join times in the participants panes
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
    if (state_.status().connection == ConnectionState::reconnecting ||
        ++ticks_ % kRepaintEveryTicks == 0)
      request_redraw();
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
  if (!screen_ || !renderer_ || quitting_) return;
  ui_.set_size(screen_->rows(), screen_->cols());
  if (ui_.take_full_redraw()) renderer_->invalidate();
  renderer_->paint(ui_.view(protocol::now_ms()));
  if (ui_.take_bell()) beep();
}

// ---- keyboard and resize -----------------------------------------------------------------

void App::wait_winch() {
  winch_signal_.async_wait([this](const boost::system::error_code& ec, int) {
    if (ec) return;
    if (screen_ && renderer_) {
      screen_->resize_from_terminal();
      renderer_->invalidate();
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
  if (!keys_ || !screen_) return;
  const auto now = protocol::now_ms();
  ui_.set_size(screen_->rows(), screen_->cols());  // page sizes and clicks need the real size
  for (const auto& e : keys_->read_all()) {
    if (quitting_) return;
    switch (e.type) {
      case InputEvent::Type::resize:
        if (renderer_) renderer_->invalidate();
        request_redraw();
        break;
      case InputEvent::Type::mouse:
        ui_.on_mouse(e.mouse, now);
        break;
      case InputEvent::Type::key:
        ui_.on_key(e.key, now);
        break;
    }
    after_ui();
  }
}

void App::after_ui() {
  if (ui_.take_quit()) {
    quit();
    return;
  }
  if (awaiting_credentials_ && !session_.needs_credentials()) start_connect();
}

}  // namespace chat::tui
