// The protocol side of chat-tui without any I/O: turns user intents into request frames,
// tracks pending requests by id, and applies responses and events to the ClientState.
// The app owns the socket; it feeds received lines in and writes take_outbox() out.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "chat/protocol/codec.hpp"
#include "chat/protocol/messages.hpp"
#include "chat/tui/client_state.hpp"

namespace chat::tui {

/// Client name sent in hello.
inline constexpr std::string_view kClientName = "chat-tui";
/// History fetched when a meeting is joined (messages op, newest N).
inline constexpr int kHistoryLimit = 200;

/// Protocol session of one client over successive connections (PROTOCOL.md). Call order per
/// connection: on_connected(), then handle_line() for each received frame, and
/// on_disconnected() when the socket is gone. After every call, write take_outbox().
class ProtocolSession {
 public:
  /// Kind of a request in flight; decides what its response does.
  enum class Op { hello, ping, login, active_meetings, join, leave, participants, post, messages };

  /// state must outlive the session.
  explicit ProtocolSession(ClientState& state);

  /// Credentials to log in with (from --user/--password or the login form). When connected
  /// and not logged in, a login request is queued at once.
  void set_credentials(std::string user, std::string password);
  /// True when no usable credentials are known: the app shows the login form. Set again by
  /// an invalid_credentials answer (the password is forgotten, the user name kept).
  bool needs_credentials() const noexcept { return !password_.has_value(); }
  /// The user name last given (to prefill the login form).
  const std::string& user_name() const noexcept { return user_; }
  /// The text of the last login failure, empty if none.
  const std::string& login_error() const noexcept { return login_error_; }

  /// A TCP connection to `server` is up: queues hello and, with credentials, login.
  void on_connected(std::string server);
  /// The connection is gone: pending requests are dropped, the state goes disconnected, and
  /// the joined meetings are remembered to re-join after the next login.
  void on_disconnected(std::string reason);

  /// Handles one received frame (no line terminator). Malformed frames and unknown ids set
  /// the status error; never throws.
  void handle_line(std::string_view line, protocol::UnixMs now);

  /// Joins the meeting highlighted in the meetings pane, or just shows its buffer when
  /// already joined. Sends join, then (on success) participants and messages.
  void join_selected();
  /// Leaves the current meeting (leave op). Sets a local error when none is joined.
  void leave_current();
  /// Posts text to the current meeting (post op). Empty / whitespace-only or over-long text
  /// and "not joined" are reported locally as the status error, nothing is sent. Returns
  /// true when the post was queued (the input line may be cleared).
  bool post(std::string_view text);
  /// Sends ping (keep-alive: the server closes connections silent for 60 s).
  void ping();
  /// Re-reads active_meetings (when logged in).
  void refresh_meetings();

  /// Frames queued since the last call, in send order, each ending in '\n'.
  std::vector<std::string> take_outbox();

  /// Requests sent and not answered yet.
  std::size_t pending_count() const noexcept { return pending_.size(); }
  /// True once login succeeded on the current connection.
  bool logged_in() const noexcept { return logged_in_; }
  /// True between on_connected() and on_disconnected().
  bool connected() const noexcept { return connected_; }

 private:
  struct Pending {
    Op op;
    MeetingKey key;
    std::string title;
  };

  std::int64_t send(protocol::RequestBody body, Pending pending);
  void send_login();
  void send_join(MeetingKey key, std::string title);
  void after_join(MeetingKey key, const std::string& title, protocol::UnixMs now, bool resumed);
  void handle_response(const protocol::Response& response, protocol::UnixMs now);
  void handle_error(const Pending& pending, const protocol::Response& response,
                    protocol::UnixMs now);

  ClientState& state_;
  std::string user_;
  std::optional<std::string> password_;
  std::string login_error_;
  std::string server_;
  bool connected_ = false;
  bool logged_in_ = false;
  std::int64_t next_id_ = 1;
  std::map<std::int64_t, Pending> pending_;
  std::vector<std::string> outbox_;
  std::vector<MeetingKey> rejoin_;  // joined before the connection dropped
};

}  // namespace chat::tui
