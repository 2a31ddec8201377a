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
#include "chat/protocol/time.hpp"
#include "chat/tui/client_state.hpp"

namespace chat::tui {

/// Client name sent in hello.
inline constexpr std::string_view kClientName = "chat-tui";
/// History fetched when a meeting is joined (messages op, newest N).
inline constexpr int kHistoryLimit = 200;
/// Page size of the catch-up after a reconnect (messages op with after=, the protocol's
/// maximum): pages are read until one comes back shorter.
inline constexpr int kCatchUpPageLimit = protocol::kMaxPageLimit;

/// Protocol session of one client over successive connections (PROTOCOL.md). Call order per
/// connection: on_connected(), then handle_line() for each received frame, and
/// on_disconnected() when the socket is gone. After every call, write take_outbox().
class ProtocolSession {
 public:
  /// Kind of a request in flight; decides what its response does.
  enum class Op {
    hello,
    ping,
    login,
    active_meetings,
    join,
    rejoin,  // join of a meeting we were in before the connection dropped
    leave,
    participants,
    post,
    messages,
    nodes,
    user_messages,  // /msgs
    join_times,     // /jointimes
  };

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
  /// After a successful login it asks for `nodes` and active_meetings, and re-joins every
  /// meeting whose buffer is still joined (see on_disconnected): each answer of ok, ok +
  /// resumed or already_joined counts as still in and is followed by participants and a
  /// catch-up (`messages after=<synced_id> limit=1000`, paged until a short page), so the
  /// buffer ends up without gap or duplicate; meeting_inactive / not_found say the meeting
  /// ended while away (the rest of an ended instance's chat is still fetched).
  /// `now` is when hello is sent: its answer gives the first latency figure.
  void on_connected(std::string server, protocol::UnixMs now = protocol::now_ms());
  /// The connection is gone: pending requests are dropped, the state goes disconnected, and
  /// (when it was logged in) the joined buffers start catching up, to be re-joined after
  /// the next login.
  void on_disconnected(std::string reason);

  /// Handles one received frame (no line terminator). Malformed frames and unknown ids set
  /// the status error; never throws.
  void handle_line(std::string_view line, protocol::UnixMs now);

  /// Joins the meeting highlighted in the meetings pane, or just shows its buffer when
  /// already joined. Sends join, then (on success) participants and messages.
  void join_selected();
  /// Opens a meeting instance: shows its buffer when joined, else joins it (join op, then
  /// participants and the newest `messages` as history). Selects its row in the meetings
  /// pane. Sets a local error when not logged in.
  void open_meeting(MeetingKey key);
  /// Leaves the current meeting (leave op). Sets a local error when none is joined.
  void leave_current();
  /// Posts text to the current meeting (post op). Empty / whitespace-only or over-long text
  /// and "not joined" are reported locally as the status error, nothing is sent. Returns
  /// true when the post was queued (the input line may be cleared).
  bool post(std::string_view text);
  /// Sends ping (keep-alive: the server closes connections silent for 60 s). `now` is the
  /// send time: the answer's arrival minus it is the latency shown in the status line.
  void ping(protocol::UnixMs now = protocol::now_ms());

  // ---- listings asked for by commands: the answer is written as info lines into the
  // buffer that was on screen when the command was given.

  /// /who: participants op for the current meeting, listed with emails and join times.
  void list_participants();
  /// /msgs: user_messages op (newest 100) of one user in the current meeting. `name` is for
  /// the heading only.
  void list_user_messages(std::int64_t user_id, std::string name);
  /// /jointimes: join_times op: every active meeting we may attend with its participants'
  /// join times; also refreshes the join times in the participants panes.
  void list_join_times();
  /// /meetings: active_meetings op; refreshes the meetings pane and lists the meetings.
  void list_meetings();
  /// Re-reads active_meetings (when logged in).
  void refresh_meetings();
  /// Re-reads the live nodes (nodes op; when logged in).
  void refresh_nodes();
  /// Re-reads the join times of every active meeting (join_times op; when logged in and in
  /// a meeting) for the participants panes: times only, membership follows the events.
  void refresh_join_times();
  /// Why this connection should be given up for another server, once: set when login
  /// fails for a reason other than bad credentials (unavailable, internal, rate_limited:
  /// the node cannot serve us, another may). nullopt otherwise.
  std::optional<std::string> take_drop_request();
  /// The newest `nodes` answer not taken yet (for the server rotation), else nullopt.
  std::optional<std::vector<protocol::NodeInfo>> take_nodes();

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
    Pending(Op op_, MeetingKey key_ = {}, std::string title_ = {}, std::string after_ = {},
            int limit_ = 0)
        : op(op_), key(key_), title(std::move(title_)), after(std::move(after_)), limit(limit_) {}
    Op op;
    MeetingKey key;
    std::string title;  // join: the meeting title; user_messages: the user's name
    std::string after;  // messages: the after= sent (empty: newest page, no paging)
    int limit = 0;      // messages: the limit sent
    // Listings (/who, /meetings, ...): the answer is written into this buffer.
    bool announce = false;
    std::optional<MeetingKey> where;
    protocol::UnixMs sent_at = 0;  // hello / ping: for the latency
  };

  std::int64_t send(protocol::RequestBody body, Pending pending);
  void send_login();
  void send_join(MeetingKey key, std::string title);
  void after_join(MeetingKey key, const std::string& title, protocol::UnixMs now, bool resumed);
  void send_messages(MeetingKey key, std::string after);
  void after_rejoin(MeetingKey key, ClientState::RejoinOutcome outcome, protocol::UnixMs now);
  void handle_response(const protocol::Response& response, protocol::UnixMs now);
  void handle_error(const Pending& pending, const protocol::Response& response,
                    protocol::UnixMs now);
  void add_listing(const Pending& pending, std::string text, protocol::UnixMs now);
  bool require_meeting(const char* what);

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
  std::optional<std::vector<protocol::NodeInfo>> nodes_;
  std::optional<std::string> drop_request_;
};

}  // namespace chat::tui
