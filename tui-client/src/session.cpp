#include "chat/tui/session.hpp"

#include <algorithm>
#include <exception>
#include <variant>

#include "chat/protocol/codec.hpp"
#include "chat/protocol/errors.hpp"
#include "chat/protocol/frame.hpp"
#include "chat/protocol/text.hpp"
#include "chat/tui/layout.hpp"

namespace chat::tui {

using protocol::UnixMs;

ProtocolSession::ProtocolSession(ClientState& state) : state_(state) {}

std::int64_t ProtocolSession::send(protocol::RequestBody body, Pending pending) {
  const std::int64_t id = next_id_++;
  outbox_.push_back(protocol::encode_request(protocol::Request{id, std::move(body)}));
  pending_.emplace(id, std::move(pending));
  return id;
}

std::vector<std::string> ProtocolSession::take_outbox() {
  std::vector<std::string> out;
  out.swap(outbox_);
  return out;
}

void ProtocolSession::set_credentials(std::string user, std::string password) {
  user_ = std::move(user);
  password_ = std::move(password);
  login_error_.clear();
  state_.set_pending_user(user_);
  if (connected_ && !logged_in_) send_login();
}

void ProtocolSession::send_login() {
  state_.set_connection(ConnectionState::logging_in, server_);
  send(protocol::LoginRequest{user_, *password_}, Pending{Op::login, {}, {}});
}

void ProtocolSession::on_connected(std::string server, UnixMs now) {
  server_ = std::move(server);
  connected_ = true;
  logged_in_ = false;
  pending_.clear();
  state_.set_connection(ConnectionState::connected, server_);
  Pending hello{Op::hello, {}, {}};
  hello.sent_at = now;
  send(protocol::HelloRequest{std::string(kClientName)}, std::move(hello));
  if (password_) send_login();  // pipelined: responses come back in request order
}

void ProtocolSession::on_disconnected(std::string reason) {
  const bool was_logged_in = logged_in_;
  connected_ = false;
  logged_in_ = false;
  pending_.clear();
  outbox_.clear();
  drop_request_.reset();
  // Joined buffers stay joined (and so are re-joined after the next login, even when
  // several connections fail before one gets that far).
  if (was_logged_in) state_.on_disconnected();
  state_.set_latency(std::nullopt);
  state_.set_connection(ConnectionState::disconnected, server_, std::move(reason));
}

void ProtocolSession::send_join(MeetingKey key, std::string title) {
  send(protocol::JoinRequest{{key.meeting_id, key.order_id}},
       Pending{Op::join, key, std::move(title)});
}

void ProtocolSession::join_selected() {
  const auto* m = state_.selected_meeting();
  if (m == nullptr) {
    state_.set_error("no meeting selected");
    return;
  }
  open_meeting(MeetingKey{m->meeting_id, m->order_id});
}

void ProtocolSession::open_meeting(MeetingKey key) {
  state_.select_meeting(key);
  if (const auto* buf = state_.find_buffer(key); buf != nullptr && buf->joined) {
    state_.set_current(key);
    return;
  }
  if (!logged_in_) {
    state_.set_error("not connected");
    return;
  }
  send_join(key, state_.title_of(key));
}

bool ProtocolSession::require_meeting(const char* what) {
  const auto cur = state_.current();
  if (!cur) {
    state_.set_error(std::string(what) + ": open a meeting first");
    return false;
  }
  if (!logged_in_) {
    state_.set_error("not connected");
    return false;
  }
  return true;
}

void ProtocolSession::list_participants() {
  if (!require_meeting("/who")) return;
  const MeetingKey key = *state_.current();
  Pending p{Op::participants, key, state_.title_of(key)};
  p.announce = true;
  p.where = key;
  send(protocol::ParticipantsRequest{{key.meeting_id, key.order_id}}, std::move(p));
}

void ProtocolSession::list_user_messages(std::int64_t user_id, std::string name) {
  if (!require_meeting("/msgs")) return;
  const MeetingKey key = *state_.current();
  protocol::UserMessagesRequest req;
  req.instance = {key.meeting_id, key.order_id};
  req.user_id = user_id;
  req.page.limit = protocol::kDefaultPageLimit;
  Pending p{Op::user_messages, key, std::move(name)};
  p.announce = true;
  p.where = key;
  send(std::move(req), std::move(p));
}

void ProtocolSession::list_join_times() {
  if (!logged_in_) {
    state_.set_error("not connected");
    return;
  }
  Pending p{Op::join_times};
  p.announce = true;
  p.where = state_.current();
  send(protocol::JoinTimesRequest{}, std::move(p));
}

void ProtocolSession::list_meetings() {
  if (!logged_in_) {
    state_.set_error("not connected");
    return;
  }
  Pending p{Op::active_meetings};
  p.announce = true;
  p.where = state_.current();
  send(protocol::ActiveMeetingsRequest{}, std::move(p));
}

void ProtocolSession::add_listing(const Pending& p, std::string text, UnixMs now) {
  state_.add_line(p.where, ChatLine{ChatLine::Kind::info, now, {}, std::move(text), {}, 0});
}

void ProtocolSession::leave_current() {
  const auto cur = state_.current();
  const auto* buf = cur ? state_.find_buffer(*cur) : nullptr;
  if (buf == nullptr || !buf->joined) {
    state_.set_error("not in a meeting");
    return;
  }
  if (!logged_in_) {
    state_.set_error("not connected");
    return;
  }
  send(protocol::LeaveRequest{{cur->meeting_id, cur->order_id}},
       Pending{Op::leave, *cur, buf->title});
}

bool ProtocolSession::post(std::string_view text) {
  const auto cur = state_.current();
  const auto* buf = cur ? state_.find_buffer(*cur) : nullptr;
  if (buf == nullptr || !buf->joined) {
    state_.set_error("not in a meeting: select one and press Enter");
    return false;
  }
  if (!logged_in_) {
    state_.set_error("not connected: message not sent");
    return false;
  }
  if (protocol::is_only_whitespace(text)) return false;
  if (text.size() > protocol::kMaxTextBytes) {
    state_.set_error("message too long (" + std::to_string(text.size()) + " bytes, max " +
                     std::to_string(protocol::kMaxTextBytes) + ")");
    return false;
  }
  send(protocol::PostRequest{{cur->meeting_id, cur->order_id}, std::string(text)},
       Pending{Op::post, *cur, {}});
  return true;
}

void ProtocolSession::ping(UnixMs now) {
  if (!connected_) return;
  Pending p{Op::ping, {}, {}};
  p.sent_at = now;
  send(protocol::PingRequest{}, std::move(p));
}

void ProtocolSession::refresh_meetings() {
  if (logged_in_) send(protocol::ActiveMeetingsRequest{}, Pending{Op::active_meetings, {}, {}});
}

void ProtocolSession::refresh_join_times() {
  if (logged_in_ && !state_.joined_meetings().empty())
    send(protocol::JoinTimesRequest{}, Pending{Op::join_times});
}

void ProtocolSession::refresh_nodes() {
  if (logged_in_) send(protocol::NodesRequest{}, Pending{Op::nodes, {}, {}});
}

std::optional<std::string> ProtocolSession::take_drop_request() {
  auto out = std::move(drop_request_);
  drop_request_.reset();
  return out;
}

std::optional<std::vector<protocol::NodeInfo>> ProtocolSession::take_nodes() {
  auto out = std::move(nodes_);
  nodes_.reset();
  return out;
}

void ProtocolSession::handle_line(std::string_view line, UnixMs now) {
  if (protocol::is_blank_line(line)) return;
  std::optional<protocol::ServerFrame> frame;
  try {
    frame = protocol::decode_server_frame(line);
  } catch (const std::exception& e) {
    state_.set_error(std::string("bad frame from server: ") + e.what());
    return;
  }
  if (!frame) return;  // an event this client does not know
  if (const auto* ev = std::get_if<protocol::Event>(&*frame)) {
    state_.apply(*ev);
    // meeting_started carries no is_public / count: fetch the full rows.
    if (std::holds_alternative<protocol::MeetingStartedEvent>(*ev)) refresh_meetings();
    return;
  }
  handle_response(std::get<protocol::Response>(*frame), now);
}

void ProtocolSession::handle_response(const protocol::Response& r, UnixMs now) {
  if (r.id_null) {
    state_.set_error(std::string(protocol::to_string(r.code)) + ": " + r.message);
    return;
  }
  const auto it = pending_.find(r.id);
  if (it == pending_.end()) return;  // answer to a request of an earlier connection
  const Pending p = it->second;
  pending_.erase(it);
  if (!r.ok) {
    handle_error(p, r, now);
    return;
  }
  try {
    switch (p.op) {
      case Op::hello:
        state_.set_node(r.result.value("node", std::string()));
        state_.set_latency(std::max<UnixMs>(0, now - p.sent_at));
        break;
      case Op::ping:
        state_.set_latency(std::max<UnixMs>(0, now - p.sent_at));
        break;
      case Op::post:
        break;
      case Op::nodes:
        nodes_ = r.result.at("nodes").get<std::vector<protocol::NodeInfo>>();
        break;
      case Op::login: {
        state_.set_user(r.result.at("user").get<protocol::UserInfo>());
        logged_in_ = true;
        login_error_.clear();
        state_.set_connection(ConnectionState::online, server_);
        state_.clear_error();
        refresh_meetings();
        refresh_nodes();
        for (const auto& key : state_.joined_meetings())
          send(protocol::JoinRequest{{key.meeting_id, key.order_id}},
               Pending{Op::rejoin, key, state_.title_of(key)});
        break;
      }
      case Op::active_meetings: {
        auto meetings = r.result.at("meetings").get<std::vector<protocol::MeetingSummary>>();
        if (p.announce) {
          add_listing(p, "Active meetings (" + std::to_string(meetings.size()) + "):", now);
          int n = 0;
          for (const auto& m : meetings) {
            const auto* buf = state_.find_buffer(MeetingKey{m.meeting_id, m.order_id});
            std::string row = "  " + std::to_string(++n) + ". " + (m.is_public ? "#" : "!") + " " +
                              m.title + " (" + (m.is_public ? "public" : "private") + ", " +
                              std::to_string(m.participant_count) + " participant" +
                              (m.participant_count == 1 ? "" : "s") + ", " + format_hhmm(m.from) +
                              "-" + format_hhmm(m.to) + ", " + format_time_left(m.to, now) +
                              " left" + (buf != nullptr && buf->joined ? ", joined" : "") + ")";
            add_listing(p, std::move(row), now);
          }
        }
        state_.set_meetings(std::move(meetings));
        break;
      }
      case Op::user_messages: {
        const auto page = r.result.at("messages").get<std::vector<protocol::ChatMessage>>();
        add_listing(
            p,
            "Messages of " + p.title + " in " + state_.title_of(p.key) + " (" +
                std::to_string(page.size()) +
                (page.size() >= static_cast<std::size_t>(protocol::kDefaultPageLimit) ? ", newest"
                                                                                      : "") +
                "):",
            now);
        for (const auto& m : page) add_listing(p, "  " + format_hhmm(m.ts) + "  " + m.text, now);
        break;
      }
      case Op::join_times: {
        const auto meetings =
            r.result.at("meetings").get<std::vector<protocol::MeetingJoinTimes>>();
        state_.apply_join_times(meetings);
        if (!p.announce) break;  // a periodic refresh of the participants panes
        add_listing(p,
                    "Join times (" + std::to_string(meetings.size()) + " active meeting" +
                        (meetings.size() == 1 ? "" : "s") + "):",
                    now);
        for (const auto& m : meetings) {
          add_listing(p,
                      "  " + m.title + " (" + std::to_string(m.participants.size()) +
                          " participant" + (m.participants.size() == 1 ? "" : "s") + ")",
                      now);
          for (const auto& jt : m.participants)
            add_listing(p, "    " + format_hhmm(jt.joined_at) + "  " + jt.name, now);
        }
        break;
      }
      case Op::join: {
        const MeetingKey key{r.result.at("meeting_id").get<std::int64_t>(),
                             r.result.at("order_id").get<std::int64_t>()};
        after_join(key, p.title, now, r.result.value("resumed", false));
        break;
      }
      case Op::rejoin:
        after_rejoin(p.key,
                     r.result.value("resumed", false) ? ClientState::RejoinOutcome::resumed
                                                      : ClientState::RejoinOutcome::new_seat,
                     now);
        break;
      case Op::leave:
        state_.on_left(p.key, now);
        break;
      case Op::participants: {
        auto list = r.result.at("participants").get<std::vector<protocol::Participant>>();
        if (p.announce) {
          add_listing(p,
                      "Participants of " + state_.title_of(p.key) + " (" +
                          std::to_string(list.size()) + "):",
                      now);
          for (const auto& q : list)
            add_listing(
                p, "  " + format_hhmm(q.joined_at) + "  " + q.user.name + " <" + q.user.email + ">",
                now);
        }
        state_.set_participants(p.key, std::move(list));
        break;
      }
      case Op::messages: {
        const auto page = r.result.at("messages").get<std::vector<protocol::ChatMessage>>();
        // A full page after a known id may have more behind it; the newest-N history does not
        // page (it is what a fresh join shows).
        const bool more =
            !p.after.empty() && !page.empty() && page.size() >= static_cast<std::size_t>(p.limit);
        state_.merge_history(p.key, page, !more);
        if (more) send_messages(p.key, page.back().message_id);
        break;
      }
    }
  } catch (const std::exception& e) {
    state_.set_error(std::string("bad response from server: ") + e.what());
  }
}

void ProtocolSession::after_join(MeetingKey key, const std::string& title, UnixMs now,
                                 bool resumed) {
  state_.on_joined(key, title, now, resumed);
  send(protocol::ParticipantsRequest{{key.meeting_id, key.order_id}},
       Pending{Op::participants, key, {}});
  send_messages(key, {});
}

void ProtocolSession::send_messages(MeetingKey key, std::string after) {
  protocol::MessagesRequest req{{key.meeting_id, key.order_id}, {}};
  req.page.limit = after.empty() ? kHistoryLimit : kCatchUpPageLimit;
  if (!after.empty()) req.page.after = after;
  const int limit = req.page.limit;
  send(std::move(req), Pending{Op::messages, key, {}, std::move(after), limit});
}

void ProtocolSession::after_rejoin(MeetingKey key, ClientState::RejoinOutcome outcome, UnixMs now) {
  state_.on_rejoined(key, outcome, now);
  if (outcome != ClientState::RejoinOutcome::ended)
    send(protocol::ParticipantsRequest{{key.meeting_id, key.order_id}},
         Pending{Op::participants, key, {}});
  // What was posted while we were away: after the last message known without a gap (or,
  // with none, the newest page as on a fresh join). An ended instance still answers
  // messages by its explicit order_id.
  const auto* buf = state_.find_buffer(key);
  send_messages(key, buf != nullptr ? buf->synced_id : std::string());
}

void ProtocolSession::handle_error(const Pending& p, const protocol::Response& r, UnixMs now) {
  const std::string text = std::string(protocol::to_string(r.code)) + ": " + r.message;
  switch (p.op) {
    case Op::login:
      if (r.code == protocol::ErrorCode::invalid_credentials) {
        password_.reset();  // back to the login form
        login_error_ = text;
      } else {
        drop_request_ = "login failed: " + text;  // this node cannot log us in; try another
      }
      state_.set_connection(ConnectionState::connected, server_);
      state_.set_error(text);
      return;
    case Op::join:
      if (r.code == protocol::ErrorCode::already_joined) {
        // We are a participant already (e.g. another connection of ours joined): load the
        // buffer as after a join.
        after_join(p.key, p.title, now, true);
        return;
      }
      state_.set_error(text);
      state_.add_line(state_.current(),
                      ChatLine{ChatLine::Kind::error, now, {}, "join failed: " + text, {}, 0});
      return;
    case Op::rejoin:
      if (r.code == protocol::ErrorCode::already_joined) {
        after_rejoin(p.key, ClientState::RejoinOutcome::still_joined, now);
      } else if (r.code == protocol::ErrorCode::meeting_inactive) {
        after_rejoin(p.key, ClientState::RejoinOutcome::ended, now);
      } else if (r.code == protocol::ErrorCode::not_found) {
        state_.on_rejoined(p.key, ClientState::RejoinOutcome::ended, now);
        state_.abort_catch_up(p.key);  // no such instance: no history either
      } else {
        state_.on_rejoined(p.key, ClientState::RejoinOutcome::failed, now, text);
        state_.set_error(text);
      }
      return;
    case Op::messages:
      state_.abort_catch_up(p.key);
      state_.set_error(text);
      state_.add_line(p.key, ChatLine{ChatLine::Kind::error, now, {}, "messages: " + text, {}, 0});
      return;
    case Op::leave:
      if (r.code == protocol::ErrorCode::not_joined ||
          r.code == protocol::ErrorCode::meeting_inactive) {
        state_.on_left(p.key, now);  // the server agrees we are out
      }
      state_.set_error(text);
      return;
    case Op::post:
      state_.set_error(text);
      state_.add_line(p.key, ChatLine{ChatLine::Kind::error, now, {}, "not sent: " + text, {}, 0});
      return;
    default:
      state_.set_error(text);
      if (p.announce) {
        state_.add_line(p.where, ChatLine{ChatLine::Kind::error, now, {}, text, {}, 0});
      }
      return;
  }
}

}  // namespace chat::tui
