#include "chat/tui/layout.hpp"

#include <algorithm>
#include <cstdio>
#include <ctime>

#include "chat/tui/utf8.hpp"
#include "chat/tui/wrap.hpp"

namespace chat::tui {

namespace {

int side_width(const SidePaneSpec& spec, int cols) {
  return std::clamp(cols * spec.percent / 100, spec.min_cols, spec.max_cols);
}

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

}  // namespace

Layout compute_layout(int rows, int cols) {
  rows = std::max(rows, 0);
  cols = std::max(cols, 0);
  Layout l;
  const int bottom = std::min(rows, 2);  // status + input
  const int pane_h = rows - bottom;
  l.status = Rect{rows >= 2 ? rows - 2 : 0, 0, rows >= 2 ? 1 : 0, cols};
  l.input = Rect{rows >= 1 ? rows - 1 : 0, 0, rows >= 1 ? 1 : 0, cols};
  l.side_panes = cols >= kMinColsForSidePanes;
  if (!l.side_panes) {
    l.chat = Rect{0, 0, pane_h, cols};
    return l;
  }
  const int left = side_width(kMeetingsPaneSpec, cols);
  const int right = side_width(kParticipantsPaneSpec, cols);
  l.meetings = Rect{0, 0, pane_h, left};
  l.left_separator_x = left;
  l.right_separator_x = cols - right - 1;
  l.chat = Rect{0, left + 1, pane_h, l.right_separator_x - left - 1};
  l.participants = Rect{0, cols - right, pane_h, right};
  return l;
}

std::string format_hhmm(protocol::UnixMs ts) {
  const std::time_t secs = static_cast<std::time_t>(ts / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  char buf[8];
  std::strftime(buf, sizeof buf, "%H:%M", &tm);
  return buf;
}

std::vector<ChatRow> chat_rows(const ChatBuffer& buffer, int width, std::size_t max_rows) {
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
      rows.push_back(std::move(row));
    }
  }
  std::reverse(rows.begin(), rows.end());
  return rows;
}

std::string meeting_row(const protocol::MeetingSummary& meeting, bool selected, bool joined,
                        int width) {
  if (width <= 0) return {};
  std::string head;
  head += selected ? '>' : ' ';
  head += joined ? '*' : ' ';
  head += meeting.is_public ? '#' : '!';
  const std::string count = " " + std::to_string(meeting.participant_count);
  const int title_width = width - 3 - static_cast<int>(count.size());
  if (title_width < 1) return fit_to_width(head + meeting.title, width);
  return head + fit_to_width(meeting.title, title_width) + count;
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
