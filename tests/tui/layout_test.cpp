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

TEST(Layout, ThreePanesAndTwoBottomRowsAt120x40) {
  const Layout l = compute_layout(40, 120);
  ASSERT_TRUE(l.side_panes);
  expect_covers_width(l, 120);
  EXPECT_EQ(l.chat.height, 38);
  EXPECT_EQ(l.status.y, 38);
  EXPECT_EQ(l.input.y, 39);
  EXPECT_EQ(l.meetings.width, 26);  // 22 % of 120
  EXPECT_EQ(l.participants.width, 19);
  EXPECT_GT(l.chat.width, 60);
}

TEST(Layout, SidePanesShrinkToTheirMinimumAt60x20) {
  const Layout l = compute_layout(20, 60);
  ASSERT_TRUE(l.side_panes);
  expect_covers_width(l, 60);
  EXPECT_EQ(l.meetings.width, kMeetingsPaneSpec.min_cols);
  EXPECT_EQ(l.participants.width, kParticipantsPaneSpec.min_cols);
  EXPECT_EQ(l.chat.height, 18);
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

TEST(MeetingRow, MarksTitleAndCountInExactWidth) {
  protocol::MeetingSummary m;
  m.meeting_id = 1;
  m.order_id = 1;
  m.title = "Seminar";
  m.is_public = true;
  m.participant_count = 12;
  const auto row = meeting_row(m, true, true, 20);
  EXPECT_EQ(display_width_utf8(row), 20);
  EXPECT_EQ(row.substr(0, 3), ">*#");
  EXPECT_NE(row.find("Seminar"), std::string::npos);
  EXPECT_EQ(row.substr(row.size() - 3), " 12");
  m.is_public = false;
  m.title = "\u65e5\u672c\u8a9e\u306e\u9577\u3044\u30bf\u30a4\u30c8\u30eb";  // wider than the row
  const auto priv = meeting_row(m, false, false, 14);
  EXPECT_EQ(display_width_utf8(priv), 14);
  EXPECT_EQ(priv.substr(0, 3), "  !");
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
