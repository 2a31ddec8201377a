// The client's model (like WeeChat's buffers and nicklist): meetings, one chat buffer per
// meeting instance, participants and the status line. Updated by protocol responses and
// events (PROTOCOL.md "Events"), read by the renderer; knows nothing about ncurses or
// sockets, so every rule here is unit tested.
#pragma once

#include <compare>
#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include "chat/protocol/messages.hpp"

namespace chat::tui {

/// A meeting instance: meeting_id + order_id (PROTOCOL.md).
struct MeetingKey {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  auto operator<=>(const MeetingKey&) const = default;
};

/// Where the client stands with the server; shown in the status line.
enum class ConnectionState {
  disconnected,  // "offline": no socket and no attempt scheduled (Status::detail says why)
  reconnecting,  // no socket; the next attempt is at Status::retry_at
  connecting,    // resolving / TCP connect in progress
  connected,     // TCP up, not logged in (hello sent; waiting for credentials or login)
  logging_in,    // login request in flight
  online,        // logged in
};

/// Lower-case name of a state for the status line, e.g. "online" ("offline" for
/// disconnected).
std::string_view to_string(ConnectionState state) noexcept;

/// One row of a chat buffer before wrapping.
struct ChatLine {
  enum class Kind {
    message,  // a chat message (name = author)
    joined,   // "name joined"
    left,     // "name left (reason)"
    info,     // client notices (help text, meeting started / ended, you joined)
    error,    // errors that belong to this buffer
  };
  Kind kind = Kind::info;
  protocol::UnixMs ts = 0;  // when it happened (message ts, event ts or local time)
  std::string name;         // author for messages, subject for joined/left, else empty
  std::string text;
  std::string message_id;  // messages only; used to drop duplicates
  std::int64_t user_id = 0;
  // Set by ClientState when the line is added: a per-state sequence number (the identity
  // of the line for the "new messages" marker) and whether the message mentions us.
  std::uint64_t seq = 0;
  bool mention = false;
};

/// A chat buffer: what the center pane shows for one meeting instance (or the server buffer).
struct ChatBuffer {
  MeetingKey key;
  std::string title;
  bool joined = false;  // we are a participant (join ok, not left / ended)
  bool ended = false;   // meeting_ended received
  std::deque<ChatLine> lines;
  std::vector<protocol::Participant> participants;  // join order
  // Catch-up bookkeeping (failover without gaps): every message up to synced_id (empty =
  // none) is in `lines`. While catching_up, history pages are still to come, so live
  // events may sit after a gap and do not move synced_id; a reconnect fetches `messages
  // after=synced_id`.
  std::string synced_id;
  bool catching_up = false;
  int scroll = 0;            // rows scrolled back from the bottom (0 = follow new lines)
  std::size_t unread = 0;    // messages that arrived while another buffer was shown
  std::size_t mentions = 0;  // of those, messages that mention us (highlight)
  // The "new messages" marker goes right above the line with this seq (0 = no marker): the
  // first line that arrived while the buffer was not on screen (or scrolled back). It stays
  // until the user switches away from the buffer, as WeeChat's read marker does.
  std::uint64_t marker_seq = 0;
};

/// What the status line shows.
struct Status {
  std::string user;    // logged-in name, or the name being logged in
  std::string server;  // "host:port" in use or being tried
  std::string node;    // hello's `node` of the current connection, empty before it answers
  ConnectionState connection = ConnectionState::disconnected;
  protocol::UnixMs retry_at = 0;  // reconnecting: when the next attempt starts
  std::string detail;             // e.g. the reason of the last disconnect
  std::string last_error;         // "code: message" of the last failed request, or a local error
  std::optional<protocol::UnixMs> latency_ms;  // round trip of the last ping (or hello)
};

/// True when text mentions name: the name as a whole word (not preceded or followed by a
/// letter, digit or '_'), ignoring case; an '@' before it is allowed. Empty names never match.
bool mentions_name(std::string_view text, std::string_view name);

/// The whole UI-independent client state. Time values are UnixMs; "now" is passed in by
/// the caller where a local time stamp is needed, so tests stay deterministic.
class ClientState {
 public:
  /// Buffers keep at most this many lines (oldest dropped first).
  static constexpr std::size_t kMaxLinesPerBuffer = 5000;
  /// ChatBuffer::scroll of "at the oldest line" before the renderer clamps it.
  static constexpr int kScrollTop = 1 << 28;

  /// Empty state: no meetings, the server buffer current, disconnected.
  ClientState();

  // ---- status -------------------------------------------------------------------------

  /// What the status line shows.
  const Status& status() const noexcept { return status_; }
  /// Connection state, the server "host:port" it concerns, an optional detail (e.g. why the
  /// last attempt failed) and, for reconnecting, when the next attempt starts. The node
  /// name is kept for the states of a live connection and cleared for the others.
  void set_connection(ConnectionState state, std::string server, std::string detail = {},
                      protocol::UnixMs retry_at = 0);
  /// The node the current connection talks to (hello result `node`).
  void set_node(std::string node) { status_.node = std::move(node); }
  /// The status line's error: "code: message" of a failed request or a local error.
  void set_error(std::string text) { status_.last_error = std::move(text); }
  /// Clears the status line's error (on the next user action).
  void clear_error() { status_.last_error.clear(); }
  /// The measured round trip to the server in ms (ping or hello), shown in the status line;
  /// nullopt clears it (no connection).
  void set_latency(std::optional<protocol::UnixMs> ms) { status_.latency_ms = ms; }

  /// Mentions of us in live messages of other users since the last call (for the terminal
  /// bell); resets the count.
  std::size_t take_mention_alerts() noexcept { return std::exchange(mention_alerts_, 0); }

  /// The logged-in user (login result), or nullopt before login.
  const std::optional<protocol::UserInfo>& user() const noexcept { return user_; }
  /// Login succeeded: remembers the user (own joined/left events are recognised by user_id).
  void set_user(protocol::UserInfo user);
  /// Name shown before login finished (from --user or the login form).
  void set_pending_user(std::string name) { status_.user = std::move(name); }

  // ---- meetings pane ------------------------------------------------------------------

  /// Replaces the list (active_meetings result). The selection stays on the same meeting
  /// instance when it is still listed, else it is clamped to the list.
  void set_meetings(std::vector<protocol::MeetingSummary> meetings);
  const std::vector<protocol::MeetingSummary>& meetings() const noexcept { return meetings_; }

  /// Index of the highlighted row (0 when the list is empty).
  std::size_t selected_index() const noexcept { return selected_; }
  /// Moves the highlight by delta rows, clamped to the list.
  void move_selection(int delta);
  /// The highlighted meeting, or nullptr for an empty list.
  const protocol::MeetingSummary* selected_meeting() const;

  // ---- buffers ------------------------------------------------------------------------

  /// The server buffer (shown when no meeting is current): client notices and /help.
  const ChatBuffer& server_buffer() const noexcept { return server_; }

  /// The buffer of a meeting instance, or nullptr.
  const ChatBuffer* find_buffer(MeetingKey key) const;
  /// All meeting buffers, ordered by key.
  const std::map<MeetingKey, ChatBuffer>& buffers() const noexcept { return buffers_; }

  /// The meeting shown in the chat pane, or nullopt for the server buffer.
  std::optional<MeetingKey> current() const noexcept { return current_; }
  /// The buffer the chat pane shows (current meeting, else the server buffer).
  const ChatBuffer& current_buffer() const;
  /// Shows a meeting's buffer (created if needed; its unread and mention counts are reset)
  /// or, with nullopt, the server buffer. The buffer left loses its "new messages" marker:
  /// everything in it has been seen.
  void set_current(std::optional<MeetingKey> key);

  /// Description of a meeting from the meetings list (nullopt when none or not listed).
  std::optional<std::string> description_of(MeetingKey key) const;
  /// The listed meeting of a key, or nullptr.
  const protocol::MeetingSummary* find_meeting(MeetingKey key) const;
  /// Selects the row of a listed meeting in the meetings pane (no-op when not listed).
  void select_meeting(MeetingKey key);
  /// Joined meeting buffers in meetings pane order (then any joined buffer not listed),
  /// for Ctrl-N / Ctrl-P.
  std::vector<MeetingKey> joined_in_pane_order() const;
  /// Sets the join times of current participants from a join_times answer: participants
  /// listed there get that joined_at; nobody is added or removed (membership follows the
  /// joined / left events).
  void apply_join_times(const std::vector<protocol::MeetingJoinTimes>& meetings);

  /// Join succeeded (join response, or already_joined): marks the buffer joined, makes it
  /// current and adds an info line "You joined <title>". resumed: the server kept the seat.
  /// The buffer is catching up until the history (merge_history) arrives.
  void on_joined(MeetingKey key, std::string_view title, protocol::UnixMs now, bool resumed);

  /// How the re-join of a meeting after a reconnect went (join op, PROTOCOL.md "Timeout").
  enum class RejoinOutcome {
    resumed,       // ok with "resumed": true: the seat was kept
    still_joined,  // already_joined: the seat was kept (another connection of ours had it)
    new_seat,      // ok without resumed: the seat was lost while away, we have a new one
    ended,         // meeting_inactive / not_found: the meeting ended while we were away
    failed,        // anything else (detail = "code: message"); not joined any more
  };
  /// Applies a re-join answer to the buffer without changing the buffer on screen: still
  /// in (resumed, still_joined, new_seat) marks it joined; ended marks it ended; failed
  /// stops its catch-up. Each adds one line saying what happened.
  void on_rejoined(MeetingKey key, RejoinOutcome outcome, protocol::UnixMs now,
                   std::string_view detail = {});
  /// Leave succeeded: not joined any more, participants cleared, info line.
  void on_left(MeetingKey key, protocol::UnixMs now);
  /// Replaces the participants of a buffer (participants result).
  void set_participants(MeetingKey key, std::vector<protocol::Participant> participants);
  /// Merges a page of history (messages result, oldest first) into a buffer. Messages stay
  /// ordered by message_id (compared as strings, the order of `messages`): each goes right
  /// before the first message line with a greater id, or at the end, so notices and live
  /// events that raced the request keep their place; a message_id already there is dropped.
  /// complete: no page follows, the catch-up is over (synced_id = the newest id in the
  /// buffer); otherwise synced_id moves to the page's last id.
  void merge_history(MeetingKey key, const std::vector<protocol::ChatMessage>& history,
                     bool complete = true);
  /// The catch-up of a buffer failed (messages error): stops it, synced_id stays.
  void abort_catch_up(MeetingKey key);

  /// Adds a line to a meeting buffer (created if needed) or, with nullopt, the server buffer.
  void add_line(std::optional<MeetingKey> where, ChatLine line);
  /// Adds an info line to the buffer on screen.
  void add_info(std::string text, protocol::UnixMs now);

  /// Applies a server event:
  /// - message: inserted in message_id order unless its message_id is already there
  ///   (normally at the end); it moves synced_id unless the buffer is catching up;
  /// - joined / left: participants updated, a joined/left line added, the meeting's
  ///   participant_count follows; our own left (any reason) marks the buffer not joined;
  /// - meeting_started: the meeting appears in the meetings pane (until active_meetings
  ///   refreshes it with the full row) and the server buffer gets a line;
  /// - meeting_ended: removed from the meetings pane; its buffer (if any) gets a line, is
  ///   marked ended and not joined and its participants are cleared.
  void apply(const protocol::Event& event);

  /// Scrolls the chat pane back (positive) or forward (negative) by rows; never below 0.
  /// The upper bound is applied by the renderer, which knows the wrapped height.
  void scroll_current(int rows);
  /// Scrolls the current buffer to its oldest line (the bound is applied by clamp_scroll).
  void scroll_to_top();
  /// Back to the newest line (follow mode).
  void scroll_to_bottom();
  /// Limits the current buffer's scroll to max_rows (the renderer's wrapped height minus
  /// the pane height), so scrolling back past the top does not pile up.
  void clamp_scroll(int max_rows);

  /// Meetings whose buffer is joined: to re-join after a reconnect.
  std::vector<MeetingKey> joined_meetings() const;
  /// After losing a logged-in connection: the user is forgotten until the next login;
  /// joined buffers stay joined (the server keeps the seat for its grace period, and they
  /// are re-joined after the next login) and start catching up, so live events that arrive
  /// before the missed messages do not move synced_id. Participant lists stay on screen
  /// until the re-join refreshes them. Returns the joined meetings.
  std::vector<MeetingKey> on_disconnected();

  /// Title of a meeting instance from the meetings list or its buffer, else "meeting N".
  std::string title_of(MeetingKey key) const;

 private:
  ChatBuffer& buffer(MeetingKey key);
  ChatBuffer* mutable_current();
  void push_line(ChatBuffer& buffer, ChatLine line, bool visible);
  bool insert_message(ChatBuffer& buffer, ChatLine line, bool visible, bool count);
  void count_unseen(ChatBuffer& buffer, const ChatLine& line, bool visible);
  void trim(ChatBuffer& buffer);
  void sync_count(const ChatBuffer& buffer);

  Status status_;
  std::optional<protocol::UserInfo> user_;
  std::vector<protocol::MeetingSummary> meetings_;
  std::size_t selected_ = 0;
  ChatBuffer server_;
  std::map<MeetingKey, ChatBuffer> buffers_;
  std::optional<MeetingKey> current_;
  std::uint64_t next_seq_ = 1;
  std::size_t mention_alerts_ = 0;
};

}  // namespace chat::tui
