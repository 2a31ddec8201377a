// Screen geometry and the text of pane rows.
#include "chat/tui/layout.hpp"

#include <gtest/gtest.h>

#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

constexpr protocol::UnixMs kT0 = 1'795'000'000'000;

void expect_covers_width(const Layout& l, int cols) {
  EXPECT_EQ(l.meetings.x, 0);
  EXPECT_EQ(l.left_separator_x, l.meetings.width);
  EXPECT_EQ(l.chat.x, l.left_separator_x + 1);
  EXPECT_EQ(l.right_separator_x, l.chat.x + l.chat.width);
  EXPECT_EQ(l.participants.x, l.right_separator_x + 1);
  EXPECT_EQ(l.participants.x + l.participants.width, cols);
}

TEST(Layout, TitleThreePanesAndTwoBottomRowsAt120x40) {
  const Layout l = compute_layout(40, 120);
  ASSERT_TRUE(l.side_panes);
  expect_covers_width(l, 120);
  EXPECT_EQ(l.title, (Rect{0, 0, 1, 120}));
  EXPECT_EQ(l.chat.y, 1);
  EXPECT_EQ(l.chat.height, 37);
  EXPECT_EQ(l.meetings.y, 1);
  EXPECT_EQ(l.meetings.height, 37);
  EXPECT_EQ(l.status.y, 38);
  EXPECT_EQ(l.input.y, 39);
  EXPECT_EQ(l.meetings.width, 28);      // 24 % of 120
  EXPECT_EQ(l.participants.width, 21);  // 18 % of 120
  EXPECT_GT(l.chat.width, 60);
}

TEST(Layout, SidePanesShrinkToTheirMinimumAt60x20) {
  const Layout l = compute_layout(20, 60);
  ASSERT_TRUE(l.side_panes);
  expect_covers_width(l, 60);
  EXPECT_EQ(l.meetings.width, kMeetingsPaneSpec.min_cols);
  EXPECT_EQ(l.participants.width, kParticipantsPaneSpec.min_cols);
  EXPECT_GE(l.chat.width, kMinChatCols);
  EXPECT_EQ(l.chat.height, 17);
  EXPECT_EQ(l.status.y, 18);
  EXPECT_EQ(l.input.y, 19);
}

TEST(Layout, PanesHideAndResizeBySetting) {
  PaneSettings s;
  s.show_participants = false;
  Layout l = compute_layout(30, 100, s);
  EXPECT_TRUE(l.show_meetings);
  EXPECT_FALSE(l.show_participants);
  EXPECT_EQ(l.right_separator_x, -1);
  EXPECT_EQ(l.chat.x + l.chat.width, 100);
  s.show_participants = true;
  s.show_meetings = false;
  s.participants_width = 30;
  l = compute_layout(30, 100, s);
  EXPECT_FALSE(l.show_meetings);
  EXPECT_EQ(l.left_separator_x, -1);
  EXPECT_EQ(l.chat.x, 0);
  EXPECT_EQ(l.participants.width, 30);
  EXPECT_EQ(l.participants.x + 30, 100);
  // A width beyond half the screen is clamped; so is one below the minimum.
  s.participants_width = 90;
  EXPECT_EQ(compute_layout(30, 100, s).participants.width, 50);
  s.participants_width = 2;
  EXPECT_EQ(compute_layout(30, 100, s).participants.width, kMinSidePaneCols);
}

TEST(Layout, SidePanesNeverSqueezeTheChat) {
  PaneSettings s;
  s.meetings_width = 30;
  s.participants_width = 30;
  // 30 + 1 + 30 + 1 leaves 20 < kMinChatCols: the participants pane goes first.
  const Layout l = compute_layout(20, 82, s);
  EXPECT_TRUE(l.show_meetings);
  EXPECT_FALSE(l.show_participants);
  EXPECT_GE(l.chat.width, kMinChatCols);
}

TEST(Layout, NarrowScreensShowOnlyTheChat) {
  const Layout l = compute_layout(10, 40);
  EXPECT_FALSE(l.side_panes);
  EXPECT_EQ(l.chat.width, 40);
  const Layout tiny = compute_layout(1, 1);
  EXPECT_EQ(tiny.chat.height, 0);
  EXPECT_EQ(tiny.input.height, 1);
}

ChatBuffer buffer_with(std::initializer_list<ChatLine> lines) {
  ChatBuffer b;
  for (const auto& l : lines) b.lines.push_back(l);
  return b;
}

TEST(ChatRows, PrefixTimeAndIndentedContinuation) {
  const auto b = buffer_with(
      {ChatLine{ChatLine::Kind::message, kT0, "hamid", "one two three four five six", "m1", 2}});
  const auto rows = chat_rows(b, 30);
  ASSERT_GE(rows.size(), 2u);
  EXPECT_TRUE(rows[0].first);
  EXPECT_EQ(rows[0].time, format_hhmm(kT0));
  EXPECT_EQ(rows[0].time.size(), 5u);
  EXPECT_EQ(rows[0].prefix, "hamid");
  EXPECT_FALSE(rows[1].first);
  EXPECT_TRUE(rows[1].prefix.empty());
  EXPECT_EQ(rows[0].text_col, rows[1].text_col);
  for (const auto& r : rows) EXPECT_LE(r.text_col + display_width_utf8(r.text), 30);
}

TEST(ChatRows, NamesAlignRightAndLongNamesAreCut) {
  const auto b = buffer_with(
      {ChatLine{ChatLine::Kind::message, kT0, "al", "x", "1", 1},
       ChatLine{ChatLine::Kind::message, kT0, "a-very-long-user-name-indeed", "y", "2", 2}});
  const auto rows = chat_rows(b, 80);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(display_width_utf8(rows[0].prefix), 16);
  EXPECT_EQ(rows[0].prefix, std::string(14, ' ') + "al");
  EXPECT_EQ(rows[1].prefix, "a-very-long-use\u2026");
}

TEST(ChatRows, WideTextWrapsWithinThePane) {
  const auto b =
      buffer_with({ChatLine{ChatLine::Kind::message, kT0, "li",
                            "\u4f60\u597d\u4e16\u754c\U0001F600\u4f60\u597d\u4e16\u754c", "1", 1}});
  const auto rows = chat_rows(b, 20);
  ASSERT_GE(rows.size(), 2u);
  for (const auto& r : rows) EXPECT_LE(r.text_col + display_width_utf8(r.text), 20);
}

TEST(ChatRows, MaxRowsKeepsTheNewest) {
  const auto b = buffer_with({ChatLine{ChatLine::Kind::info, kT0, {}, "first", {}, 0},
                              ChatLine{ChatLine::Kind::info, kT0, {}, "second", {}, 0},
                              ChatLine{ChatLine::Kind::joined, kT0, "x", "x joined", {}, 3}});
  const auto rows = chat_rows(b, 40, 2);
  ASSERT_EQ(rows.size(), 2u);
  EXPECT_EQ(rows[0].text, "second");
  EXPECT_EQ(rows[1].text, "x joined");
  EXPECT_EQ(rows[1].prefix, "-->");
}

TEST(MeetingRow, MarksTitleUnreadAndTimeLeftInExactWidth) {
  protocol::MeetingSummary m;
  m.meeting_id = 1;
  m.order_id = 1;
  m.title = "Seminar";
  m.is_public = true;
  m.to = kT0 + 42 * 60'000 + 30'000;
  MeetingRowInfo info;
  info.selected = true;
  info.joined = true;
  info.number = 3;
  info.unread = 12;
  info.now = kT0;
  const auto row = meeting_row(m, info, 26);
  EXPECT_EQ(display_width_utf8(row), 26);
  EXPECT_EQ(row.substr(0, 4), ">3#*");
  EXPECT_NE(row.find("Seminar"), std::string::npos);
  EXPECT_EQ(row.substr(row.size() - 9), " (12) 42m");
  info.mention = true;
  EXPECT_EQ(meeting_row(m, info, 26).substr(19), "2@) 42m");
  m.is_public = false;
  m.title = "\u65e5\u672c\u8a9e\u306e\u9577\u3044\u30bf\u30a4\u30c8\u30eb";  // wider than the row
  MeetingRowInfo plain;
  plain.now = kT0;
  const auto priv = meeting_row(m, plain, 14);
  EXPECT_EQ(display_width_utf8(priv), 14);
  EXPECT_EQ(priv.substr(0, 4), "  ! ");
  // No room for the time left at 14 columns with an unread count: the title keeps 6.
  plain.unread = 5;
  const auto parts = meeting_row_parts(m, plain, 14);
  EXPECT_EQ(parts.unread, " (5)");
  EXPECT_TRUE(parts.left.empty());
  EXPECT_EQ(display_width_utf8(parts.head + parts.title + parts.unread + parts.left), 14);
}

TEST(MeetingRow, TimeLeftFitsFourColumns) {
  EXPECT_EQ(format_time_left(kT0 + 30'000, kT0), "<1m");
  EXPECT_EQ(format_time_left(kT0 + 59 * 60'000, kT0), "59m");
  EXPECT_EQ(format_time_left(kT0 + 65 * 60'000, kT0), "1h05");
  EXPECT_EQ(format_time_left(kT0 + 23 * 3'600'000LL, kT0), "23h");
  EXPECT_EQ(format_time_left(kT0 + 3 * 86'400'000LL, kT0), "3d");
  EXPECT_EQ(format_time_left(kT0 - 1, kT0), "0m");
}

TEST(ParticipantRow, NameAndJoinTimeInExactWidth) {
  protocol::Participant p;
  p.user.user_id = 4;
  p.user.name = "hamid";
  p.joined_at = kT0;
  const auto wide = participant_row_parts(p, 20);
  EXPECT_EQ(wide.name, " hamid" + std::string(8, ' '));
  EXPECT_EQ(wide.time, " " + format_hhmm(kT0));
  // Too narrow for the time: the name only.
  const auto narrow = participant_row_parts(p, 10);
  EXPECT_TRUE(narrow.time.empty());
  EXPECT_EQ(display_width_utf8(narrow.name), 10);
  p.user.name = "\u738b\u5c0f\u660e\u738b\u5c0f\u660e";  // 12 columns of CJK
  const auto cut = participant_row_parts(p, 14);
  EXPECT_EQ(display_width_utf8(cut.name + cut.time), 14);
}

TEST(ChatRows, MarkerAndDaySeparators) {
  ChatBuffer b;
  constexpr protocol::UnixMs kDay = 86'400'000;
  b.lines.push_back(ChatLine{ChatLine::Kind::message, kT0, "al", "yesterday", "1", 1, 1});
  b.lines.push_back(ChatLine{ChatLine::Kind::message, kT0 + kDay, "al", "today", "2", 1, 2});
  b.lines.push_back(ChatLine{ChatLine::Kind::message, kT0 + kDay + 1, "bo", "unread", "3", 2, 3});
  b.marker_seq = 3;
  const auto rows = chat_rows(b, 60);
  ASSERT_EQ(rows.size(), 5u);
  EXPECT_EQ(rows[0].text, "yesterday");
  EXPECT_EQ(rows[1].type, ChatRow::Type::day);
  EXPECT_EQ(rows[1].text, format_day(kT0 + kDay));
  EXPECT_EQ(rows[2].text, "today");
  EXPECT_EQ(rows[3].type, ChatRow::Type::marker);
  EXPECT_EQ(rows[3].text, kNewMessagesLabel);
  EXPECT_EQ(rows[4].text, "unread");
  // With "today" given, the oldest line of another day gets a separator too.
  ChatRowOptions opts;
  opts.today = kT0 + kDay;
  const auto with_top = chat_rows(b, 60, static_cast<std::size_t>(-1), opts);
  ASSERT_EQ(with_top.size(), 6u);
  EXPECT_EQ(with_top[0].type, ChatRow::Type::day);
  EXPECT_EQ(with_top[0].text, format_day(kT0));
  // max_rows counts separator rows too.
  EXPECT_EQ(chat_rows(b, 60, 2).front().type, ChatRow::Type::marker);
}

TEST(NameColor, StableAndInRange) {
  EXPECT_EQ(name_color_slot("john", 6), name_color_slot("john", 6));
  for (const char* n : {"a", "b", "hamid", "haled", "\u00e9"}) {
    const int s = name_color_slot(n, 6);
    EXPECT_GE(s, 0);
    EXPECT_LT(s, 6);
  }
}

}  // namespace
}  // namespace chat::tui
