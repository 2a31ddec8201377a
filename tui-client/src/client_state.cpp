#include "chat/tui/client_state.hpp"

#include <algorithm>
#include <cwctype>
#include <type_traits>
#include <variant>

#include "chat/tui/utf8.hpp"

namespace chat::tui {

using protocol::UnixMs;

std::string_view to_string(ConnectionState state) noexcept {
  switch (state) {
    case ConnectionState::disconnected:
      return "offline";
    case ConnectionState::reconnecting:
      return "reconnecting";
    case ConnectionState::connecting:
      return "connecting";
    case ConnectionState::connected:
      return "connected";
    case ConnectionState::logging_in:
      return "logging in";
    case ConnectionState::online:
      return "online";
  }
  return "?";
}

bool mentions_name(std::string_view text, std::string_view name) {
  if (name.empty()) return false;
  const std::u32string t = decode_utf8(text);
  const std::u32string n = decode_utf8(name);
  const auto fold = [](char32_t c) {
    return static_cast<char32_t>(std::towlower(static_cast<wint_t>(c)));
  };
  const auto word = [](char32_t c) {
    return c == U'_' || std::iswalnum(static_cast<wint_t>(c)) != 0;
  };
  for (std::size_t i = 0; i + n.size() <= t.size(); ++i) {
    bool same = true;
    for (std::size_t k = 0; k < n.size() && same; ++k) same = fold(t[i + k]) == fold(n[k]);
    if (!same) continue;
    const bool starts = i == 0 || !word(t[i - 1]);
    const bool ends = i + n.size() == t.size() || !word(t[i + n.size()]);
    if (starts && ends) return true;
  }
  return false;
}

ClientState::ClientState() {
  server_.title = "chat-tui";
}

void ClientState::set_connection(ConnectionState state, std::string server, std::string detail,
                                 UnixMs retry_at) {
  status_.connection = state;
  // The node name belongs to a live connection; a new attempt learns it from hello again.
  if (state == ConnectionState::disconnected || state == ConnectionState::reconnecting ||
      state == ConnectionState::connecting || server != status_.server)
    status_.node.clear();
  status_.server = std::move(server);
  status_.detail = std::move(detail);
  status_.retry_at = state == ConnectionState::reconnecting ? retry_at : 0;
}

void ClientState::set_user(protocol::UserInfo user) {
  status_.user = user.name;
  user_ = std::move(user);
}

// ---- meetings pane -----------------------------------------------------------------------

void ClientState::set_meetings(std::vector<protocol::MeetingSummary> meetings) {
  std::optional<MeetingKey> selected_key;
  if (const auto* m = selected_meeting()) selected_key = MeetingKey{m->meeting_id, m->order_id};
  meetings_ = std::move(meetings);
  selected_ = 0;
  if (selected_key) {
    for (std::size_t i = 0; i < meetings_.size(); ++i) {
      if (meetings_[i].meeting_id == selected_key->meeting_id &&
          meetings_[i].order_id == selected_key->order_id) {
        selected_ = i;
        break;
      }
    }
  }
  // Counts of meetings whose participants we track are exact; keep them.
  for (const auto& [key, buf] : buffers_)
    if (buf.joined) sync_count(buf);
}

void ClientState::move_selection(int delta) {
  if (meetings_.empty()) {
    selected_ = 0;
    return;
  }
  const auto last = static_cast<long long>(meetings_.size()) - 1;
  const long long next = std::clamp<long long>(static_cast<long long>(selected_) + delta, 0, last);
  selected_ = static_cast<std::size_t>(next);
}

const protocol::MeetingSummary* ClientState::selected_meeting() const {
  if (selected_ >= meetings_.size()) return nullptr;
  return &meetings_[selected_];
}

// ---- buffers -----------------------------------------------------------------------------

const ChatBuffer* ClientState::find_buffer(MeetingKey key) const {
  const auto it = buffers_.find(key);
  return it == buffers_.end() ? nullptr : &it->second;
}

ChatBuffer& ClientState::buffer(MeetingKey key) {
  auto [it, inserted] = buffers_.try_emplace(key);
  if (inserted) {
    it->second.key = key;
    it->second.title = title_of(key);
  }
  return it->second;
}

const ChatBuffer& ClientState::current_buffer() const {
  if (current_) {
    if (const auto* b = find_buffer(*current_)) return *b;
  }
  return server_;
}

ChatBuffer* ClientState::mutable_current() {
  if (current_) {
    const auto it = buffers_.find(*current_);
    if (it != buffers_.end()) return &it->second;
  }
  return &server_;
}

void ClientState::set_current(std::optional<MeetingKey> key) {
  if (key != current_) {
    // Leaving a buffer: what it showed has been read.
    mutable_current()->marker_seq = 0;
  }
  current_ = key;
  if (key) {
    auto& buf = buffer(*key);
    buf.unread = 0;
    buf.mentions = 0;
  }
}

std::optional<std::string> ClientState::description_of(MeetingKey key) const {
  const auto* m = find_meeting(key);
  if (m == nullptr) return std::nullopt;
  return m->description;
}

const protocol::MeetingSummary* ClientState::find_meeting(MeetingKey key) const {
  for (const auto& m : meetings_)
    if (m.meeting_id == key.meeting_id && m.order_id == key.order_id) return &m;
  return nullptr;
}

void ClientState::select_meeting(MeetingKey key) {
  for (std::size_t i = 0; i < meetings_.size(); ++i)
    if (meetings_[i].meeting_id == key.meeting_id && meetings_[i].order_id == key.order_id)
      selected_ = i;
}

std::vector<MeetingKey> ClientState::joined_in_pane_order() const {
  std::vector<MeetingKey> keys;
  for (const auto& m : meetings_) {
    const MeetingKey key{m.meeting_id, m.order_id};
    if (const auto* b = find_buffer(key); b != nullptr && b->joined) keys.push_back(key);
  }
  for (const auto& [key, buf] : buffers_)
    if (buf.joined && std::find(keys.begin(), keys.end(), key) == keys.end()) keys.push_back(key);
  return keys;
}

void ClientState::apply_join_times(const std::vector<protocol::MeetingJoinTimes>& meetings) {
  for (const auto& m : meetings) {
    const auto it = buffers_.find(MeetingKey{m.meeting_id, m.order_id});
    if (it == buffers_.end()) continue;
    for (auto& p : it->second.participants) {
      for (const auto& jt : m.participants)
        if (jt.user_id == p.user.user_id) p.joined_at = jt.joined_at;
    }
  }
}

std::string ClientState::title_of(MeetingKey key) const {
  for (const auto& m : meetings_)
    if (m.meeting_id == key.meeting_id && m.order_id == key.order_id) return m.title;
  if (const auto* b = find_buffer(key); b != nullptr && !b->title.empty()) return b->title;
  return "meeting " + std::to_string(key.meeting_id);
}

void ClientState::trim(ChatBuffer& buffer) {
  while (buffer.lines.size() > kMaxLinesPerBuffer) {
    if (buffer.lines.front().seq == buffer.marker_seq) buffer.marker_seq = 0;
    buffer.lines.pop_front();
  }
}

void ClientState::count_unseen(ChatBuffer& buffer, const ChatLine& line, bool visible) {
  const bool from_other = line.kind == ChatLine::Kind::message &&
                          !(user_.has_value() && user_->user_id == line.user_id);
  if (!visible && from_other) {
    ++buffer.unread;
    if (line.mention) ++buffer.mentions;
  }
  // The marker goes above the first message the user has not seen: in a buffer not on
  // screen, or on screen while scrolled back.
  if (from_other && (!visible || buffer.scroll > 0) && buffer.marker_seq == 0)
    buffer.marker_seq = line.seq;
  // A reader scrolled back keeps looking at the same lines while new ones arrive.
  if (visible && buffer.scroll > 0) ++buffer.scroll;
}

void ClientState::push_line(ChatBuffer& buffer, ChatLine line, bool visible) {
  line.seq = next_seq_++;
  buffer.lines.push_back(std::move(line));
  count_unseen(buffer, buffer.lines.back(), visible);
  trim(buffer);
}

bool ClientState::insert_message(ChatBuffer& buffer, ChatLine line, bool visible, bool count) {
  // Walk back from the end (where a new message normally goes) past every message with a
  // greater id; the first smaller id ends the walk. Notices are stepped over, so a message
  // that arrives late lands right before the first newer message, after any notices.
  auto pos = buffer.lines.end();
  for (auto it = buffer.lines.end(); it != buffer.lines.begin();) {
    --it;
    if (it->kind != ChatLine::Kind::message || it->message_id.empty()) continue;
    if (it->message_id == line.message_id) return false;
    if (it->message_id < line.message_id) break;
    pos = it;
  }
  if (user_ && line.user_id != user_->user_id) line.mention = mentions_name(line.text, user_->name);
  line.seq = next_seq_++;
  const auto inserted = buffer.lines.insert(pos, std::move(line));
  if (count) count_unseen(buffer, *inserted, visible);
  trim(buffer);
  return true;
}

void ClientState::add_line(std::optional<MeetingKey> where, ChatLine line) {
  if (!where) {
    push_line(server_, std::move(line), !current_.has_value());
    return;
  }
  auto& buf = buffer(*where);
  push_line(buf, std::move(line), current_ == where);
}

void ClientState::add_info(std::string text, UnixMs now) {
  ChatLine line{ChatLine::Kind::info, now, {}, std::move(text), {}, 0};
  push_line(*mutable_current(), std::move(line), true);
}

void ClientState::sync_count(const ChatBuffer& buffer) {
  for (auto& m : meetings_) {
    if (m.meeting_id == buffer.key.meeting_id && m.order_id == buffer.key.order_id) {
      m.participant_count = static_cast<std::int64_t>(buffer.participants.size());
    }
  }
}

void ClientState::on_joined(MeetingKey key, std::string_view title, UnixMs now, bool resumed) {
  auto& buf = buffer(key);
  if (!title.empty()) buf.title = std::string(title);
  buf.joined = true;
  buf.ended = false;
  buf.catching_up = true;  // the session asks for the history next
  set_current(key);
  add_line(key, ChatLine{ChatLine::Kind::info,
                         now,
                         {},
                         (resumed ? "Back in " : "You joined ") + buf.title,
                         {},
                         0});
}

void ClientState::on_left(MeetingKey key, UnixMs now) {
  auto& buf = buffer(key);
  buf.joined = false;
  buf.participants.clear();
  add_line(key, ChatLine{ChatLine::Kind::info, now, {}, "You left " + buf.title, {}, 0});
}

void ClientState::set_participants(MeetingKey key,
                                   std::vector<protocol::Participant> participants) {
  auto& buf = buffer(key);
  buf.participants = std::move(participants);
  sync_count(buf);
}

void ClientState::merge_history(MeetingKey key, const std::vector<protocol::ChatMessage>& history,
                                bool complete) {
  auto& buf = buffer(key);
  for (const auto& m : history) {
    insert_message(buf,
                   ChatLine{ChatLine::Kind::message, m.ts, m.name, m.text, m.message_id, m.user_id},
                   current_ == key, false);
  }
  if (!complete) {
    if (!history.empty() && history.back().message_id > buf.synced_id)
      buf.synced_id = history.back().message_id;
    return;
  }
  // The last page was read after this connection logged in, and every message since then
  // came as a live event: the buffer has no gap up to its newest message.
  buf.catching_up = false;
  for (auto it = buf.lines.rbegin(); it != buf.lines.rend(); ++it) {
    if (it->kind == ChatLine::Kind::message && !it->message_id.empty()) {
      if (it->message_id > buf.synced_id) buf.synced_id = it->message_id;
      break;
    }
  }
}

void ClientState::abort_catch_up(MeetingKey key) {
  buffer(key).catching_up = false;
}

void ClientState::on_rejoined(MeetingKey key, RejoinOutcome outcome, UnixMs now,
                              std::string_view detail) {
  auto& buf = buffer(key);
  std::string text;
  switch (outcome) {
    case RejoinOutcome::resumed:
    case RejoinOutcome::still_joined:
      buf.joined = true;
      buf.ended = false;
      text = "Back in " + buf.title;
      break;
    case RejoinOutcome::new_seat:
      buf.joined = true;
      buf.ended = false;
      text = "Rejoined " + buf.title + " (the seat was lost while away)";
      break;
    case RejoinOutcome::ended:
      buf.joined = false;
      buf.ended = true;
      buf.participants.clear();
      text = "Meeting ended while you were away: " + buf.title;
      break;
    case RejoinOutcome::failed:
      buf.joined = false;
      buf.catching_up = false;
      buf.participants.clear();
      text = "Could not rejoin " + buf.title + ": " + std::string(detail);
      break;
  }
  const auto kind = outcome == RejoinOutcome::failed ? ChatLine::Kind::error : ChatLine::Kind::info;
  ChatLine line{kind, now, {}, std::move(text), {}, 0};
  // Live messages of the new connection may have come before this answer: the notice goes
  // in front of them (the first message after the sync point), where the missed ones will
  // be merged too, so it reads "back in", then everything posted since.
  auto pos = buf.lines.end();
  if (!buf.synced_id.empty()) {
    pos = std::find_if(buf.lines.begin(), buf.lines.end(), [&](const ChatLine& l) {
      return l.kind == ChatLine::Kind::message && !l.message_id.empty() &&
             l.message_id > buf.synced_id;
    });
  }
  if (pos == buf.lines.end()) {
    push_line(buf, std::move(line), current_ == key);
  } else {
    line.seq = next_seq_++;
    buf.lines.insert(pos, std::move(line));
    trim(buf);
  }
  sync_count(buf);
}

void ClientState::scroll_current(int rows) {
  auto* buf = mutable_current();
  // Saturating: scroll_to_top() parks the position far up until the renderer clamps it.
  const long long next = static_cast<long long>(buf->scroll) + rows;
  buf->scroll = static_cast<int>(std::clamp<long long>(next, 0, kScrollTop));
}

void ClientState::scroll_to_top() {
  mutable_current()->scroll = kScrollTop;
}

void ClientState::scroll_to_bottom() {
  mutable_current()->scroll = 0;
}

void ClientState::clamp_scroll(int max_rows) {
  auto* buf = mutable_current();
  buf->scroll = std::clamp(buf->scroll, 0, std::max(0, max_rows));
}

std::vector<MeetingKey> ClientState::joined_meetings() const {
  std::vector<MeetingKey> keys;
  for (const auto& [key, buf] : buffers_)
    if (buf.joined) keys.push_back(key);
  return keys;
}

std::vector<MeetingKey> ClientState::on_disconnected() {
  std::vector<MeetingKey> keys = joined_meetings();
  for (auto& [key, buf] : buffers_)
    if (buf.joined) buf.catching_up = true;
  user_.reset();
  return keys;
}

// ---- events --------------------------------------------------------------------------------

void ClientState::apply(const protocol::Event& event) {
  std::visit(
      [this](const auto& ev) {
        using T = std::decay_t<decltype(ev)>;
        const MeetingKey key{ev.meeting_id, ev.order_id};
        if constexpr (std::is_same_v<T, protocol::MessageEvent>) {
          auto& buf = buffer(key);
          const auto& m = ev.message;
          const bool added = insert_message(
              buf, ChatLine{ChatLine::Kind::message, m.ts, m.name, m.text, m.message_id, m.user_id},
              current_ == key, true);
          // A live mention by someone else rings the bell (history does not).
          if (added && user_ && m.user_id != user_->user_id && mentions_name(m.text, user_->name))
            ++mention_alerts_;
          // Live events are contiguous only once the history has been read.
          if (added && !buf.catching_up && m.message_id > buf.synced_id)
            buf.synced_id = m.message_id;
        } else if constexpr (std::is_same_v<T, protocol::JoinedEvent>) {
          auto& buf = buffer(key);
          const bool present =
              std::any_of(buf.participants.begin(), buf.participants.end(),
                          [&](const auto& p) { return p.user.user_id == ev.user_id; });
          if (!present) {
            protocol::Participant p;
            p.user.user_id = ev.user_id;
            p.user.name = ev.name;
            p.joined_at = ev.ts;
            buf.participants.push_back(std::move(p));
          }
          if (user_ && user_->user_id == ev.user_id) buf.joined = true;
          sync_count(buf);
          push_line(
              buf,
              ChatLine{ChatLine::Kind::joined, ev.ts, ev.name, ev.name + " joined", {}, ev.user_id},
              current_ == key);
        } else if constexpr (std::is_same_v<T, protocol::LeftEvent>) {
          auto& buf = buffer(key);
          std::erase_if(buf.participants,
                        [&](const auto& p) { return p.user.user_id == ev.user_id; });
          const bool me = user_ && user_->user_id == ev.user_id;
          if (me) {
            buf.joined = false;
            if (ev.reason != protocol::LeaveReason::leave) buf.participants.clear();
          }
          sync_count(buf);
          std::string text = ev.name + " left";
          if (ev.reason == protocol::LeaveReason::timeout) text += " (timeout)";
          if (ev.reason == protocol::LeaveReason::meeting_ended) text += " (meeting ended)";
          push_line(buf,
                    ChatLine{ChatLine::Kind::left, ev.ts, ev.name, std::move(text), {}, ev.user_id},
                    current_ == key);
        } else if constexpr (std::is_same_v<T, protocol::MeetingStartedEvent>) {
          const bool listed = std::any_of(meetings_.begin(), meetings_.end(), [&](const auto& m) {
            return m.meeting_id == ev.meeting_id && m.order_id == ev.order_id;
          });
          if (!listed) {
            protocol::MeetingSummary m;
            m.meeting_id = ev.meeting_id;
            m.order_id = ev.order_id;
            m.title = ev.title;
            m.from = ev.from;
            m.to = ev.to;
            m.is_public = true;  // not in the event; active_meetings refreshes the row
            auto list = meetings_;
            const auto pos =
                std::upper_bound(list.begin(), list.end(), m, [](const auto& a, const auto& b) {
                  return a.from != b.from ? a.from < b.from : a.meeting_id < b.meeting_id;
                });
            list.insert(pos, std::move(m));
            set_meetings(std::move(list));
          }
          add_line(
              std::nullopt,
              ChatLine{ChatLine::Kind::info, ev.from, {}, "Meeting started: " + ev.title, {}, 0});
        } else if constexpr (std::is_same_v<T, protocol::MeetingEndedEvent>) {
          const std::string title = title_of(key);
          // Keep the highlight on the same row when a row above it disappears.
          auto list = meetings_;
          const auto selected_before = selected_meeting();
          const std::optional<MeetingKey> sel =
              selected_before ? std::optional<MeetingKey>(MeetingKey{selected_before->meeting_id,
                                                                     selected_before->order_id})
                              : std::nullopt;
          std::erase_if(list, [&](const auto& m) {
            return m.meeting_id == ev.meeting_id && m.order_id == ev.order_id;
          });
          const std::size_t old_index = selected_;
          set_meetings(std::move(list));
          if (sel && *sel == key) {
            selected_ = meetings_.empty() ? 0 : std::min(old_index, meetings_.size() - 1);
          }
          const auto it = buffers_.find(key);
          if (it != buffers_.end()) {
            auto& buf = it->second;
            buf.ended = true;
            buf.joined = false;
            buf.participants.clear();
            push_line(buf,
                      ChatLine{ChatLine::Kind::info, ev.ts, {}, "Meeting ended: " + title, {}, 0},
                      current_ == key);
          }
          add_line(std::nullopt,
                   ChatLine{ChatLine::Kind::info, ev.ts, {}, "Meeting ended: " + title, {}, 0});
        }
      },
      event);
}

}  // namespace chat::tui
