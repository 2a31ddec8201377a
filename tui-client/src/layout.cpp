#include "chat/tui/layout.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>
#include <iterator>

#include "chat/tui/utf8.hpp"
#include "chat/tui/wrap.hpp"

namespace chat::tui {

namespace {

constexpr int kPrefixSeparatorWidth = 3;  // display width of kChatPrefixSeparator
constexpr int kTimeWidth = 5;             // "HH:MM"

std::string prefix_of(const ChatLine& line) {
  switch (line.kind) {
    case ChatLine::Kind::message:
      return line.name;
    case ChatLine::Kind::joined:
      return "-->";
    case ChatLine::Kind::left:
      return "<--";
    case ChatLine::Kind::info:
      return "--";
    case ChatLine::Kind::error:
      return "!!";
  }
  return {};
}

std::tm local_tm(protocol::UnixMs ts) {
  const std::time_t secs = static_cast<std::time_t>(ts / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  return tm;
}

int day_key(protocol::UnixMs ts) {
  const std::tm tm = local_tm(ts);
  return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

}  // namespace

int side_pane_width(const SidePaneSpec& spec, int setting, int cols) {
  if (setting > 0)
    return std::clamp(setting, kMinSidePaneCols, std::max(kMinSidePaneCols, cols / 2));
  return std::clamp(cols * spec.percent / 100, spec.min_cols, spec.max_cols);
}

Layout compute_layout(int rows, int cols, const PaneSettings& panes) {
  rows = std::max(rows, 0);
  cols = std::max(cols, 0);
  Layout l;
  const int bottom = std::min(rows, 2);  // status + input
  const int top = rows >= 3 ? 1 : 0;     // title bar
  const int pane_h = std::max(0, rows - bottom - top);
  l.title = Rect{0, 0, top, cols};
  l.status = Rect{rows >= 2 ? rows - 2 : 0, 0, rows >= 2 ? 1 : 0, cols};
  l.input = Rect{rows >= 1 ? rows - 1 : 0, 0, rows >= 1 ? 1 : 0, cols};
  const bool wide = cols >= kMinColsForSidePanes;
  bool show_m = wide && panes.show_meetings;
  bool show_p = wide && panes.show_participants;
  const int mw = side_pane_width(kMeetingsPaneSpec, panes.meetings_width, cols);
  const int pw = side_pane_width(kParticipantsPaneSpec, panes.participants_width, cols);
  const auto chat_width = [&] { return cols - (show_m ? mw + 1 : 0) - (show_p ? pw + 1 : 0); };
  // The chat matters most: side panes that would squeeze it go, participants first.
  if (chat_width() < kMinChatCols) show_p = false;
  if (chat_width() < kMinChatCols) show_m = false;
  l.show_meetings = show_m;
  l.show_participants = show_p;
  l.side_panes = show_m || show_p;
  int x = 0;
  if (show_m) {
    l.meetings = Rect{top, 0, pane_h, mw};
    l.left_separator_x = mw;
    x = mw + 1;
  }
  int right = cols;
  if (show_p) {
    l.participants = Rect{top, cols - pw, pane_h, pw};
    l.right_separator_x = cols - pw - 1;
    right = l.right_separator_x;
  }
  l.chat = Rect{top, x, pane_h, std::max(0, right - x)};
  return l;
}

std::string format_hhmm(protocol::UnixMs ts) {
  const std::tm tm = local_tm(ts);
  char buf[8];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

std::string format_day(protocol::UnixMs ts) {
  const std::tm tm = local_tm(ts);
  char buf[64];
  std::strftime(buf, sizeof buf, "%a, %d %b %Y", &tm);
  return buf;
}

std::string format_time_left(protocol::UnixMs to, protocol::UnixMs now) {
  if (to <= now) return "0m";
  const long long mins = (to - now) / 60000;
  if (mins < 1) return "<1m";
  if (mins < 60) return std::to_string(mins) + "m";
  if (mins < 600) {
    char buf[24];
    std::snprintf(buf, sizeof buf, "%lldh%02lld", mins / 60, mins % 60);
    return buf;
  }
  if (mins < 48 * 60) return std::to_string(mins / 60) + "h";
  return std::to_string(std::min<long long>(mins / (60 * 24), 999)) + "d";
}

std::vector<ChatRow> chat_rows(const ChatBuffer& buffer, int width, std::size_t max_rows,
                               const ChatRowOptions& options) {
  std::vector<ChatRow> rows;
  if (width <= 0 || max_rows == 0) return rows;
  // The name column is as wide as the longest prefix in the buffer (so all text starts in one
  // column, as in WeeChat), but never more than 16 or a third of what the text could use.
  const int cap = std::clamp((width - kTimeWidth - 1 - kPrefixSeparatorWidth) / 3, 2, 16);
  int longest = 2;
  for (const auto& line : buffer.lines)
    longest = std::max(longest, display_width_utf8(prefix_of(line)));
  const int name_width = std::min(longest, cap);
  const int text_col = kTimeWidth + 1 + name_width + kPrefixSeparatorWidth;
  const int text_width = std::max(1, width - text_col);
  const auto separator = [&](ChatRow::Type type, std::string label) {
    ChatRow row;
    row.type = type;
    row.text = std::move(label);
    row.prefix_width = name_width;
    rows.push_back(std::move(row));
  };
  // Newest line first, so only the rows that can be shown are wrapped.
  for (auto it = buffer.lines.rbegin(); it != buffer.lines.rend() && rows.size() < max_rows; ++it) {
    const ChatLine& line = *it;
    const auto wrapped = wrap_text(line.text, text_width);
    for (std::size_t k = wrapped.size(); k-- > 0 && rows.size() < max_rows;) {
      ChatRow row;
      row.kind = line.kind;
      row.first = k == 0;
      if (row.first) {
        row.time = format_hhmm(line.ts);
        row.prefix = fit_to_width(prefix_of(line), name_width, true);
      }
      row.text = wrapped[k];
      row.text_col = text_col;
      row.prefix_width = name_width;
      row.name = line.name;
      row.user_id = line.user_id;
      row.mention = line.mention;
      rows.push_back(std::move(row));
    }
    // Rows above the line (pushed after it, the list is reversed at the end): the marker,
    // then a day separator when this line starts a new day.
    if (rows.size() < max_rows && buffer.marker_seq != 0 && line.seq == buffer.marker_seq)
      separator(ChatRow::Type::marker, std::string(kNewMessagesLabel));
    if (rows.size() >= max_rows) break;
    const auto older = std::next(it);
    const int day = day_key(line.ts);
    const bool new_day = older != buffer.lines.rend()
                             ? day > day_key(older->ts)
                             : options.today != 0 && day != day_key(options.today);
    if (new_day) separator(ChatRow::Type::day, format_day(line.ts));
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

MeetingRowParts meeting_row_parts(const protocol::MeetingSummary& meeting,
                                  const MeetingRowInfo& info, int width) {
  MeetingRowParts parts;
  if (width <= 0) return parts;
  std::string head;
  head += info.selected ? '>' : ' ';
  head += info.number >= 1 && info.number <= 9 ? static_cast<char>('0' + info.number) : ' ';
  head += meeting.is_public ? '#' : '!';
  head += info.joined ? '*' : ' ';
  if (width <= 4) {
    parts.head = head.substr(0, static_cast<std::size_t>(width));
    return parts;
  }
  parts.head = head;
  int room = width - 4;
  if (info.unread > 0) {
    parts.unread = " (" + std::to_string(info.unread) + (info.mention ? "@" : "") + ")";
    // The count matters more than the title, but a title of one column is kept.
    if (static_cast<int>(parts.unread.size()) >= room) parts.unread.clear();
    room -= static_cast<int>(parts.unread.size());
  }
  if (info.now != 0) {
    std::string left = " " + format_time_left(meeting.to, info.now);
    if (room - static_cast<int>(left.size()) >= 6) {
      parts.left = std::move(left);
      room -= static_cast<int>(parts.left.size());
    }
  }
  parts.title = fit_to_width(meeting.title, room);
  return parts;
}

std::string meeting_row(const protocol::MeetingSummary& meeting, const MeetingRowInfo& info,
                        int width) {
  const auto p = meeting_row_parts(meeting, info, width);
  return p.head + p.title + p.unread + p.left;
}

ParticipantRowParts participant_row_parts(const protocol::Participant& participant, int width) {
  ParticipantRowParts parts;
  if (width <= 0) return parts;
  int name_width = width;
  if (width >= kMinColsForJoinTime && participant.joined_at != 0) {
    parts.time = " " + format_hhmm(participant.joined_at);
    name_width -= static_cast<int>(parts.time.size());
  }
  parts.name = fit_to_width(" " + participant.user.name, name_width);
  return parts;
}

std::string status_text(const Status& s, protocol::UnixMs now) {
  std::string text =
      " " + (s.user.empty() ? std::string("(not logged in)") : s.user) + " @ " + s.server;
  if (!s.node.empty()) text += " (" + s.node + ")";
  text += " [" + std::string(to_string(s.connection));
  if (s.connection == ConnectionState::reconnecting) {
    const auto left_ms = std::max<protocol::UnixMs>(0, s.retry_at - now);
    char secs[32];
    std::snprintf(secs, sizeof secs, " in %.1f s", static_cast<double>(left_ms) / 1000.0);
    text += secs;
  }
  if (!s.detail.empty()) text += ": " + s.detail;
  return text + "]";
}

int name_color_slot(std::string_view name, int slots) {
  if (slots <= 0) return 0;
  std::uint32_t h = 2166136261u;
  for (unsigned char c : name) {
    h ^= c;
    h *= 16777619u;
  }
  return static_cast<int>(h % static_cast<std::uint32_t>(slots));
}

}  // namespace chat::tui
