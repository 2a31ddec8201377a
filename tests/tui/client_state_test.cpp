// ClientState fed with protocol events and results, as the session applies them.
#include "chat/tui/client_state.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <string>
#include <vector>

#include "chat/protocol/messages.hpp"

namespace chat::tui {
namespace {

using protocol::ChatMessage;
using protocol::LeaveReason;
using protocol::MeetingSummary;
using protocol::Participant;

constexpr protocol::UnixMs kT0 = 1'795'000'000'000;  // 2026-11-18, fixed for repeatability
constexpr MeetingKey kSeminar{7, 2};
constexpr MeetingKey kOther{9, 1};

MeetingSummary summary(MeetingKey key, std::string title, bool is_public, std::int64_t count,
                       protocol::UnixMs from = kT0) {
  MeetingSummary m;
  m.meeting_id = key.meeting_id;
  m.order_id = key.order_id;
  m.title = std::move(title);
  m.is_public = is_public;
  m.from = from;
  m.to = from + 3'600'000;
  m.participant_count = count;
  return m;
}

Participant participant(std::int64_t id, std::string name) {
  Participant p;
  p.user.user_id = id;
  p.user.name = std::move(name);
  p.user.email = p.user.name + "@example.org";
  p.joined_at = kT0;
  return p;
}

protocol::MessageEvent message(MeetingKey key, std::string id, std::int64_t user, std::string name,
                               std::string text, protocol::UnixMs ts = kT0) {
  return protocol::MessageEvent{
      key.meeting_id, key.order_id,
      ChatMessage{std::move(id), user, std::move(name), std::move(text), ts}};
}

std::vector<std::string> names(const ChatBuffer& b) {
  std::vector<std::string> out;
  for (const auto& p : b.participants) out.push_back(p.user.name);
  return out;
}

std::vector<std::string> texts(const ChatBuffer& b) {
  std::vector<std::string> out;
  for (const auto& l : b.lines) out.push_back(l.text);
  return out;
}

// A state logged in as john (user 1) with the seminar joined and shown.
class JoinedState : public ::testing::Test {
 protected:
  void SetUp() override {
    protocol::UserInfo me;
    me.user_id = 1;
    me.name = "john";
    me.email = "john@example.org";
    state.set_user(me);
    state.set_meetings(
        {summary(kSeminar, "Seminar", true, 1), summary(kOther, "DSA", false, 0, kT0 + 1)});
    state.on_joined(kSeminar, "Seminar", kT0, false);
    state.set_participants(kSeminar, {participant(1, "john")});
  }
  const ChatBuffer& seminar() const { return *state.find_buffer(kSeminar); }
  ClientState state;
};

TEST_F(JoinedState, JoinMakesTheBufferCurrentAndJoined) {
  EXPECT_EQ(state.current(), kSeminar);
  EXPECT_TRUE(seminar().joined);
  EXPECT_EQ(&state.current_buffer(), &seminar());
  ASSERT_FALSE(seminar().lines.empty());
  EXPECT_EQ(seminar().lines.back().text, "You joined Seminar");
}

TEST_F(JoinedState, MessageEventAppendsToItsMeeting) {
  state.apply(message(kSeminar, "m1", 2, "hamid", "hi \u4e16\u754c"));
  state.apply(message(kSeminar, "m2", 1, "john", "hello"));
  const auto& lines = seminar().lines;
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[lines.size() - 2].kind, ChatLine::Kind::message);
  EXPECT_EQ(lines[lines.size() - 2].name, "hamid");
  EXPECT_EQ(lines[lines.size() - 2].text, "hi \u4e16\u754c");
  EXPECT_EQ(lines.back().message_id, "m2");
  EXPECT_EQ(lines.back().user_id, 1);
  EXPECT_EQ(seminar().unread, 0u);  // shown: nothing unread
}

TEST_F(JoinedState, DuplicateMessageIdIsDropped) {
  state.apply(message(kSeminar, "m1", 2, "hamid", "once"));
  state.apply(message(kSeminar, "m1", 2, "hamid", "once"));
  const auto t = texts(seminar());
  EXPECT_EQ(std::count(t.begin(), t.end(), "once"), 1);
}

TEST_F(JoinedState, MessageForAnotherMeetingCountsAsUnread) {
  state.apply(message(kOther, "x1", 3, "haled", "elsewhere"));
  const auto* other = state.find_buffer(kOther);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->lines.back().text, "elsewhere");
  EXPECT_EQ(other->title, "DSA");
  EXPECT_EQ(other->unread, 1u);
  EXPECT_EQ(state.current(), kSeminar);  // the view does not jump
  state.set_current(kOther);
  EXPECT_EQ(state.find_buffer(kOther)->unread, 0u);
}

TEST_F(JoinedState, JoinedAndLeftUpdateParticipantsAndCount) {
  state.apply(protocol::JoinedEvent{7, 2, 2, "hamid", kT0 + 10});
  state.apply(protocol::JoinedEvent{7, 2, 3, "haled", kT0 + 20});
  state.apply(protocol::JoinedEvent{7, 2, 3, "haled", kT0 + 20});  // repeated: no duplicate
  EXPECT_EQ(names(seminar()), (std::vector<std::string>{"john", "hamid", "haled"}));
  EXPECT_EQ(state.meetings()[0].participant_count, 3);
  EXPECT_EQ(seminar().lines.back().kind, ChatLine::Kind::joined);
  EXPECT_EQ(seminar().lines.back().text, "haled joined");

  state.apply(protocol::LeftEvent{7, 2, 2, "hamid", kT0 + 30, LeaveReason::timeout});
  EXPECT_EQ(names(seminar()), (std::vector<std::string>{"john", "haled"}));
  EXPECT_EQ(state.meetings()[0].participant_count, 2);
  EXPECT_EQ(seminar().lines.back().kind, ChatLine::Kind::left);
  EXPECT_EQ(seminar().lines.back().text, "hamid left (timeout)");
  EXPECT_TRUE(seminar().joined);  // someone else left, not us
}

TEST_F(JoinedState, OwnLeftMarksTheBufferNotJoined) {
  state.apply(protocol::LeftEvent{7, 2, 1, "john", kT0 + 5, LeaveReason::leave});
  EXPECT_FALSE(seminar().joined);
  EXPECT_TRUE(names(seminar()).empty());
}

TEST_F(JoinedState, MeetingEndedShowsALineClearsParticipantsAndTheRow) {
  state.apply(protocol::JoinedEvent{7, 2, 2, "hamid", kT0 + 10});
  state.apply(protocol::MeetingEndedEvent{7, 2, kT0 + 3'600'000});
  EXPECT_TRUE(seminar().ended);
  EXPECT_FALSE(seminar().joined);
  EXPECT_TRUE(seminar().participants.empty());
  EXPECT_EQ(seminar().lines.back().text, "Meeting ended: Seminar");
  ASSERT_EQ(state.meetings().size(), 1u);
  EXPECT_EQ(state.meetings()[0].title, "DSA");
  EXPECT_EQ(state.current(), kSeminar);  // still readable
  // the left events of the end may come after meeting_ended: harmless
  state.apply(protocol::LeftEvent{7, 2, 1, "john", kT0 + 3'600'000, LeaveReason::meeting_ended});
  EXPECT_EQ(seminar().lines.back().text, "john left (meeting ended)");
  EXPECT_FALSE(seminar().joined);
}

TEST_F(JoinedState, MeetingStartedAddsARowInStartOrder) {
  state.apply(protocol::MeetingStartedEvent{11, 1, "Standup", kT0 - 5, kT0 + 100});
  ASSERT_EQ(state.meetings().size(), 3u);
  EXPECT_EQ(state.meetings()[0].title, "Standup");
  EXPECT_EQ(state.server_buffer().lines.back().text, "Meeting started: Standup");
  state.apply(protocol::MeetingStartedEvent{11, 1, "Standup", kT0 - 5, kT0 + 100});  // again
  EXPECT_EQ(state.meetings().size(), 3u);
}

TEST_F(JoinedState, HistoryMergesBeforeLiveMessagesWithoutDuplicates) {
  // A live message raced the messages request and is also in the history.
  state.apply(message(kSeminar, "m3", 2, "hamid", "live"));
  EXPECT_TRUE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, "");  // the history is not there yet
  state.merge_history(kSeminar, {ChatMessage{"m1", 2, "hamid", "old 1", kT0 - 2000},
                                 ChatMessage{"m2", 3, "haled", "old 2", kT0 - 1000},
                                 ChatMessage{"m3", 2, "hamid", "live", kT0}});
  const auto t = texts(seminar());
  ASSERT_EQ(t.size(), 4u);
  EXPECT_EQ(t[0], "You joined Seminar");
  EXPECT_EQ(t[1], "old 1");
  EXPECT_EQ(t[2], "old 2");
  EXPECT_EQ(t[3], "live");
  EXPECT_FALSE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, "m3");
}

TEST_F(JoinedState, LeaveClearsParticipants) {
  state.on_left(kSeminar, kT0 + 1);
  EXPECT_FALSE(seminar().joined);
  EXPECT_TRUE(seminar().participants.empty());
  EXPECT_EQ(seminar().lines.back().text, "You left Seminar");
}

TEST_F(JoinedState, DisconnectKeepsTheSeatToRejoinAndStartsCatchingUp) {
  state.merge_history(kSeminar, {ChatMessage{"m1", 2, "hamid", "old", kT0}});
  EXPECT_FALSE(seminar().catching_up);
  const auto rejoin = state.on_disconnected();
  EXPECT_EQ(rejoin, (std::vector<MeetingKey>{kSeminar}));
  EXPECT_TRUE(seminar().joined);  // the server keeps the seat for its grace period
  EXPECT_TRUE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, "m1");
  EXPECT_EQ(names(seminar()), (std::vector<std::string>{"john"}));  // until refreshed
  EXPECT_FALSE(state.user().has_value());
  EXPECT_FALSE(state.find_buffer(kOther) != nullptr && state.find_buffer(kOther)->catching_up);
}

TEST_F(JoinedState, ScrollIsClampedAndNewLinesKeepTheViewStill) {
  state.scroll_current(-3);
  EXPECT_EQ(seminar().scroll, 0);
  state.scroll_current(5);
  EXPECT_EQ(seminar().scroll, 5);
  state.apply(message(kSeminar, "n1", 2, "hamid", "new"));
  EXPECT_EQ(seminar().scroll, 6);
  state.clamp_scroll(2);
  EXPECT_EQ(seminar().scroll, 2);
}

TEST(Mentions, WholeWordIgnoringCase) {
  EXPECT_TRUE(mentions_name("hi john!", "john"));
  EXPECT_TRUE(mentions_name("@John: look", "john"));
  EXPECT_TRUE(mentions_name("JOHN", "john"));
  EXPECT_TRUE(mentions_name("ask h\u00c9L\u00c8NE", "h\u00e9l\u00e8ne"));
  EXPECT_FALSE(mentions_name("johnny is here", "john"));
  EXPECT_FALSE(mentions_name("mr_john", "john"));
  EXPECT_FALSE(mentions_name("anything", ""));
}

TEST_F(JoinedState, MentionInAnotherMeetingCountsHighlightsAndRings) {
  state.apply(message(kOther, "x1", 3, "haled", "plain"));
  state.apply(message(kOther, "x2", 3, "haled", "@john look"));
  state.apply(message(kOther, "x3", 1, "john", "my own john"));  // own: not unread, no bell
  const auto* other = state.find_buffer(kOther);
  ASSERT_NE(other, nullptr);
  EXPECT_EQ(other->unread, 2u);
  EXPECT_EQ(other->mentions, 1u);
  EXPECT_FALSE(other->lines[0].mention);
  EXPECT_TRUE(other->lines[1].mention);
  EXPECT_FALSE(other->lines[2].mention);
  EXPECT_EQ(state.take_mention_alerts(), 1u);
  EXPECT_EQ(state.take_mention_alerts(), 0u);
  // A mention in the buffer on screen rings too, but is not unread.
  state.apply(message(kSeminar, "s1", 2, "hamid", "john?"));
  EXPECT_EQ(state.take_mention_alerts(), 1u);
  EXPECT_EQ(seminar().unread, 0u);
  // History never rings.
  state.merge_history(kSeminar, {ChatMessage{"s0", 2, "hamid", "old john", kT0 - 1}});
  EXPECT_EQ(state.take_mention_alerts(), 0u);
  state.set_current(kOther);
  EXPECT_EQ(state.find_buffer(kOther)->unread, 0u);
  EXPECT_EQ(state.find_buffer(kOther)->mentions, 0u);
}

TEST_F(JoinedState, NewMessagesMarkerSitsAboveTheFirstUnseenMessage) {
  state.apply(message(kOther, "x1", 3, "haled", "seen later"));
  state.apply(message(kOther, "x2", 3, "haled", "second"));
  const auto* other = state.find_buffer(kOther);
  ASSERT_NE(other->marker_seq, 0u);
  EXPECT_EQ(other->marker_seq, other->lines[0].seq);
  state.set_current(kOther);  // shown: the marker stays while we read
  EXPECT_EQ(state.find_buffer(kOther)->marker_seq, other->lines[0].seq);
  state.apply(message(kOther, "x3", 3, "haled", "live, seen at once"));
  EXPECT_EQ(state.find_buffer(kOther)->marker_seq, other->lines[0].seq);
  state.set_current(kSeminar);  // leaving it: read
  EXPECT_EQ(state.find_buffer(kOther)->marker_seq, 0u);
  // Scrolled back in the buffer on screen: new messages get a marker too.
  state.scroll_current(3);
  state.apply(message(kSeminar, "s1", 2, "hamid", "while scrolled"));
  EXPECT_EQ(seminar().marker_seq, seminar().lines.back().seq);
}

TEST_F(JoinedState, ScrollToTopAndBottom) {
  state.scroll_to_top();
  EXPECT_GT(seminar().scroll, 1000);
  state.clamp_scroll(4);
  EXPECT_EQ(seminar().scroll, 4);
  state.scroll_to_bottom();
  EXPECT_EQ(seminar().scroll, 0);
}

TEST_F(JoinedState, JoinedBuffersInPaneOrderAndJoinTimes) {
  state.on_joined(kOther, "DSA", kT0, false);
  // The pane lists the seminar first.
  EXPECT_EQ(state.joined_in_pane_order(), (std::vector<MeetingKey>{kSeminar, kOther}));
  protocol::MeetingJoinTimes jt;
  jt.meeting_id = kSeminar.meeting_id;
  jt.order_id = kSeminar.order_id;
  jt.participants = {protocol::JoinTime{1, "john", kT0 + 500}, protocol::JoinTime{9, "x", kT0}};
  state.apply_join_times({jt});
  ASSERT_EQ(seminar().participants.size(), 1u);  // nobody added
  EXPECT_EQ(seminar().participants[0].joined_at, kT0 + 500);
  EXPECT_EQ(state.description_of(kSeminar), std::nullopt);
  ASSERT_NE(state.find_meeting(kOther), nullptr);
  state.select_meeting(kOther);
  EXPECT_EQ(state.selected_meeting()->title, "DSA");
}

TEST(ClientState, SelectionFollowsTheMeetingAcrossRefreshes) {
  ClientState state;
  EXPECT_EQ(state.selected_meeting(), nullptr);
  state.set_meetings({summary({1, 1}, "A", true, 0), summary({2, 1}, "B", true, 0),
                      summary({3, 1}, "C", true, 0)});
  state.move_selection(1);
  EXPECT_EQ(state.selected_meeting()->title, "B");
  state.move_selection(10);
  EXPECT_EQ(state.selected_meeting()->title, "C");
  state.move_selection(-1);
  // B moves to the front in the new list: the highlight goes with it.
  state.set_meetings({summary({2, 1}, "B", true, 4), summary({1, 1}, "A", true, 0)});
  EXPECT_EQ(state.selected_index(), 0u);
  EXPECT_EQ(state.selected_meeting()->participant_count, 4);
  // The selected meeting ends: the highlight stays in range.
  state.apply(protocol::MeetingEndedEvent{2, 1, kT0});
  ASSERT_NE(state.selected_meeting(), nullptr);
  EXPECT_EQ(state.selected_meeting()->title, "A");
}

TEST(ClientState, InfoLinesGoToTheServerBufferWithoutAMeeting) {
  ClientState state;
  state.add_info("help text", kT0);
  EXPECT_FALSE(state.current().has_value());
  EXPECT_EQ(state.current_buffer().lines.back().text, "help text");
  EXPECT_EQ(state.current_buffer().lines.back().kind, ChatLine::Kind::info);
}

TEST(ClientState, BuffersAreBounded) {
  ClientState state;
  // Zero-padded ids, like the server's: they sort as strings.
  for (std::size_t i = 0; i < ClientState::kMaxLinesPerBuffer + 10; ++i) {
    std::string id = std::to_string(i);
    id.insert(0, 8 - id.size(), '0');
    state.apply(message(kSeminar, id, 2, "x", std::to_string(i)));
  }
  const auto* b = state.find_buffer(kSeminar);
  ASSERT_NE(b, nullptr);
  EXPECT_EQ(b->lines.size(), ClientState::kMaxLinesPerBuffer);
  EXPECT_EQ(b->lines.front().text, "10");
}

}  // namespace
}  // namespace chat::tui
