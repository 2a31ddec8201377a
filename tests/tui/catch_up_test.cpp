// Failover without gaps, client side: after a reconnect chat-tui re-joins its meetings and
// reads what it missed (messages after=<last id>, paged) while live events keep coming.
// The chat buffer must end up with every message once, in message_id order.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <string>
#include <variant>
#include <vector>

#include "chat/protocol/codec.hpp"
#include "chat/tui/client_state.hpp"
#include "chat/tui/session.hpp"

namespace chat::tui {
namespace {

using nlohmann::json;
using protocol::ChatMessage;
using protocol::ErrorCode;
using Outcome = ClientState::RejoinOutcome;

constexpr protocol::UnixMs kNow = 1'795'000'000'000;
constexpr MeetingKey kSeminar{7, 2};
constexpr MeetingKey kDsa{9, 1};

// Zero-padded like the server's message ids, so they sort as strings.
std::string mid(int n) {
  std::string s = std::to_string(n);
  return std::string(6 - s.size(), '0') + s;
}

ChatMessage msg(int n, const std::string& name = "hamid") {
  return ChatMessage{mid(n), 2, name, "text " + std::to_string(n), kNow + n};
}

protocol::MessageEvent live(MeetingKey key, int n) {
  return protocol::MessageEvent{key.meeting_id, key.order_id, msg(n)};
}

// The message ids of a buffer in display order.
std::vector<std::string> ids(const ChatBuffer& b) {
  std::vector<std::string> out;
  for (const auto& l : b.lines)
    if (l.kind == ChatLine::Kind::message) out.push_back(l.message_id);
  return out;
}

std::vector<std::string> range(int first, int last) {
  std::vector<std::string> out;
  for (int i = first; i <= last; ++i) out.push_back(mid(i));
  return out;
}

// ---- ClientState: merging catch-up pages with live events ---------------------------------

class CatchUp : public ::testing::Test {
 protected:
  void SetUp() override {
    protocol::UserInfo me;
    me.user_id = 1;
    me.name = "john";
    state.set_user(me);
    state.on_joined(kSeminar, "Seminar", kNow, false);
    state.merge_history(kSeminar, {msg(1), msg(2)});
  }
  const ChatBuffer& seminar() const { return *state.find_buffer(kSeminar); }
  ClientState state;
};

TEST_F(CatchUp, LiveMessagesAfterTheHistoryMoveTheSyncPoint) {
  EXPECT_FALSE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, mid(2));
  state.apply(live(kSeminar, 3));
  EXPECT_EQ(seminar().synced_id, mid(3));
}

TEST_F(CatchUp, EventsDuringTheCatchUpLandAfterTheMissedMessagesAndOnlyOnce) {
  state.on_disconnected();
  // Connection lost notice, then (after re-login) live messages 6 and 7 arrive before the
  // catch-up answer, which holds 3..6.
  state.add_line(kSeminar, ChatLine{ChatLine::Kind::error, kNow, {}, "connection lost", {}, 0});
  state.apply(live(kSeminar, 6));
  state.apply(live(kSeminar, 7));
  EXPECT_EQ(seminar().synced_id, mid(2));  // 3..5 are still missing
  state.on_rejoined(kSeminar, Outcome::resumed, kNow);
  state.merge_history(kSeminar, {msg(3), msg(4), msg(5), msg(6)}, true);
  EXPECT_EQ(ids(seminar()), range(1, 7));
  EXPECT_FALSE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, mid(7));
  // The notices stay where they were: after the messages seen before the loss.
  std::vector<std::string> kinds;
  for (const auto& l : seminar().lines)
    kinds.push_back(l.kind == ChatLine::Kind::message ? l.message_id : l.text);
  EXPECT_EQ(kinds,
            (std::vector<std::string>{"You joined Seminar", mid(1), mid(2), "connection lost",
                                      "Back in Seminar", mid(3), mid(4), mid(5), mid(6), mid(7)}));
}

TEST_F(CatchUp, DuplicatesInPagesAndEventsAreDropped) {
  state.on_disconnected();
  state.apply(live(kSeminar, 4));
  state.apply(live(kSeminar, 4));  // the same event twice
  state.merge_history(kSeminar, {msg(2), msg(3), msg(3), msg(4)}, false);
  state.merge_history(kSeminar, {msg(4), msg(5)}, true);
  state.apply(live(kSeminar, 5));  // late duplicate of a caught-up message
  EXPECT_EQ(ids(seminar()), range(1, 5));
}

TEST_F(CatchUp, PagesMoveTheSyncPointAndTheLastPageEndsTheCatchUp) {
  state.on_disconnected();
  state.apply(live(kSeminar, 9));
  state.merge_history(kSeminar, {msg(3), msg(4)}, false);
  EXPECT_TRUE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, mid(4));
  // Lost again in the middle: the next catch-up starts after 4, not after the live 9.
  state.on_disconnected();
  EXPECT_EQ(seminar().synced_id, mid(4));
  state.merge_history(kSeminar, {msg(5), msg(6), msg(7), msg(8)}, true);
  EXPECT_EQ(seminar().synced_id, mid(9));
  EXPECT_EQ(ids(seminar()), range(1, 9));
}

TEST_F(CatchUp, OutOfOrderArrivalsAreSortedByMessageId) {
  state.apply(live(kSeminar, 5));
  state.apply(live(kSeminar, 3));
  state.apply(live(kSeminar, 4));
  EXPECT_EQ(ids(seminar()), range(1, 5));
}

TEST_F(CatchUp, RejoinOutcomesLeaveTheShownBufferAlone) {
  state.on_joined(kDsa, "DSA", kNow, false);
  state.set_current(kSeminar);
  state.on_disconnected();
  state.on_rejoined(kDsa, Outcome::new_seat, kNow);
  EXPECT_EQ(state.current(), kSeminar);
  EXPECT_TRUE(state.find_buffer(kDsa)->joined);
  EXPECT_EQ(state.find_buffer(kDsa)->lines.back().text,
            "Rejoined DSA (the seat was lost while away)");
  EXPECT_EQ(state.find_buffer(kDsa)->unread, 0u);  // notices are not unread messages

  state.on_rejoined(kSeminar, Outcome::ended, kNow);
  EXPECT_FALSE(seminar().joined);
  EXPECT_TRUE(seminar().ended);
  EXPECT_EQ(seminar().lines.back().text, "Meeting ended while you were away: Seminar");

  state.on_rejoined(kDsa, Outcome::failed, kNow, "forbidden: not in the audience");
  EXPECT_FALSE(state.find_buffer(kDsa)->joined);
  EXPECT_FALSE(state.find_buffer(kDsa)->catching_up);
  EXPECT_EQ(state.find_buffer(kDsa)->lines.back().kind, ChatLine::Kind::error);
  EXPECT_EQ(state.find_buffer(kDsa)->lines.back().text,
            "Could not rejoin DSA: forbidden: not in the audience");
}

// ---- ProtocolSession: the reconnect sequence -------------------------------------------------

std::string strip(std::string frame) {
  if (!frame.empty() && frame.back() == '\n') frame.pop_back();
  return frame;
}

json user_json(std::int64_t id, const std::string& name) {
  return {{"user_id", id},
          {"name", name},
          {"email", name + "@example.org"},
          {"age", nullptr},
          {"gender", nullptr}};
}

json meeting_json(MeetingKey key, const std::string& title) {
  return {{"meeting_id", key.meeting_id},
          {"order_id", key.order_id},
          {"title", title},
          {"description", nullptr},
          {"is_public", true},
          {"from", "2026-11-18T10:00:00.000Z"},
          {"to", "2026-11-18T11:00:00.000Z"},
          {"participant_count", 1}};
}

json page_json(int first, int last) {
  json arr = json::array();
  for (int i = first; i <= last; ++i)
    arr.push_back({{"message_id", mid(i)},
                   {"user_id", 2},
                   {"name", "hamid"},
                   {"text", "text " + std::to_string(i)},
                   {"ts", "2026-11-18T10:00:40.000Z"}});
  return {{"messages", arr}};
}

json participants_json() {
  return {{"participants", json::array({json{{"user_id", 1},
                                             {"name", "john"},
                                             {"email", "j@x"},
                                             {"age", nullptr},
                                             {"gender", nullptr},
                                             {"joined_at", "2026-11-18T10:01:00.000Z"}}})}};
}

class Reconnect : public ::testing::Test {
 protected:
  std::vector<protocol::Request> sent() {
    std::vector<protocol::Request> out;
    for (const auto& frame : session.take_outbox()) {
      auto decoded = protocol::decode_request(strip(frame));
      if (auto* r = std::get_if<protocol::Request>(&decoded))
        out.push_back(*r);
      else
        ADD_FAILURE() << "not a valid request: " << frame;
    }
    return out;
  }
  void ok(std::int64_t id, const json& result) {
    session.handle_line(strip(protocol::encode_ok(id, result)), kNow);
  }
  void error(std::int64_t id, ErrorCode code) {
    session.handle_line(strip(protocol::encode_error(id, code, "m")), kNow);
  }
  void event(const protocol::Event& e) {
    session.handle_line(strip(protocol::encode_event(e)), kNow);
  }
  static std::string op(const protocol::Request& r) {
    return std::string(protocol::op_name(r.body));
  }
  static std::vector<std::string> ops(const std::vector<protocol::Request>& rs) {
    std::vector<std::string> out;
    for (const auto& r : rs) out.push_back(op(r));
    return out;
  }
  static const protocol::MessagesRequest& messages_of(const protocol::Request& r) {
    return std::get<protocol::MessagesRequest>(r.body);
  }

  // Connects to `server`, answers hello (as `node`) and login. Returns what followed login.
  std::vector<protocol::Request> connect_and_log_in(const std::string& server,
                                                    const std::string& node) {
    session.on_connected(server);
    auto reqs = sent();
    EXPECT_EQ(ops(reqs), (std::vector<std::string>{"hello", "login"}));
    ok(reqs[0].id,
       {{"proto", 1}, {"server", "chatd"}, {"node", node}, {"time", "2026-11-18T10:00:00.000Z"}});
    ok(reqs[1].id, {{"user", user_json(1, "john")}});
    return sent();
  }

  // Logged in on a:1 (node-a) and in the seminar, whose history is messages 1..2.
  void SetUp() override {
    session.set_credentials("john", "pw");
    auto after = connect_and_log_in("a:1", "node-a");
    ASSERT_EQ(ops(after), (std::vector<std::string>{"active_meetings", "nodes"}));
    ok(after[0].id,
       {{"meetings", json::array({meeting_json(kSeminar, "Seminar"), meeting_json(kDsa, "DSA")})}});
    ok(after[1].id,
       {{"nodes", json::array({json{{"node", "node-a"}, {"address", "a:1"}, {"clients", 1}},
                               json{{"node", "node-b"}, {"address", "b:2"}, {"clients", 0}}})}});
    auto nodes = session.take_nodes();
    ASSERT_TRUE(nodes.has_value());
    EXPECT_EQ(nodes->size(), 2u);
    EXPECT_FALSE(session.take_nodes().has_value());  // taken once
    EXPECT_EQ(state.status().node, "node-a");
    session.join_selected();
    auto join = sent();
    ASSERT_EQ(ops(join), (std::vector<std::string>{"join"}));
    ok(join[0].id, {{"meeting_id", 7}, {"order_id", 2}, {"joined_at", "2026-11-18T10:01:00.000Z"}});
    auto follow = sent();
    ASSERT_EQ(ops(follow), (std::vector<std::string>{"participants", "messages"}));
    ok(follow[0].id, participants_json());
    ok(follow[1].id, page_json(1, 2));
    ASSERT_EQ(state.find_buffer(kSeminar)->synced_id, mid(2));
  }

  // Loses a:1 and logs in on b:2; returns the rejoin request of the seminar.
  protocol::Request fail_over() {
    session.on_disconnected("connection to a:1 lost: closed by server");
    EXPECT_EQ(state.status().connection, ConnectionState::disconnected);
    EXPECT_EQ(state.status().node, "");
    auto after = connect_and_log_in("b:2", "node-b");
    EXPECT_EQ(state.status().connection, ConnectionState::online);
    EXPECT_EQ(state.status().server, "b:2");
    EXPECT_EQ(state.status().node, "node-b");
    EXPECT_EQ(ops(after), (std::vector<std::string>{"active_meetings", "nodes", "join"}));
    const auto& j = std::get<protocol::JoinRequest>(after.at(2).body);
    EXPECT_EQ(j.instance.meeting_id, 7);
    EXPECT_EQ(j.instance.order_id, 2);
    return after.at(2);
  }

  const ChatBuffer& seminar() const { return *state.find_buffer(kSeminar); }
  ClientState state;
  ProtocolSession session{state};
};

TEST_F(Reconnect, ResumedSeatCatchesUpInPagesWhileLiveEventsArrive) {
  const auto rejoin = fail_over();
  ok(rejoin.id, {{"meeting_id", 7},
                 {"order_id", 2},
                 {"joined_at", "2026-11-18T10:01:00.000Z"},
                 {"resumed", true}});
  auto follow = sent();
  ASSERT_EQ(ops(follow), (std::vector<std::string>{"participants", "messages"}));
  const auto& m1 = messages_of(follow[1]);
  EXPECT_EQ(m1.instance.order_id, 2);  // explicit: the instance we were in
  EXPECT_EQ(m1.page.after, mid(2));
  EXPECT_FALSE(m1.page.before.has_value());
  EXPECT_EQ(m1.page.limit, 1000);
  ok(follow[0].id, participants_json());
  ASSERT_EQ(seminar().participants.size(), 1u);
  EXPECT_TRUE(seminar().joined);

  // Live messages 1500 and 1501 arrive before the first page (3..1002), which is full.
  event(live(kSeminar, 1500));
  event(live(kSeminar, 1501));
  ok(follow[1].id, page_json(3, 1002));
  auto next = sent();
  ASSERT_EQ(ops(next), (std::vector<std::string>{"messages"}));
  EXPECT_EQ(messages_of(next[0]).page.after, mid(1002));
  EXPECT_EQ(messages_of(next[0]).page.limit, 1000);
  EXPECT_TRUE(seminar().catching_up);
  // The second page overlaps the live events and is short: the catch-up is over.
  ok(next[0].id, page_json(1003, 1500));
  EXPECT_TRUE(sent().empty());
  EXPECT_FALSE(seminar().catching_up);
  EXPECT_EQ(seminar().synced_id, mid(1501));
  EXPECT_EQ(ids(seminar()), range(1, 1501));
  EXPECT_EQ(state.current(), kSeminar);
}

TEST_F(Reconnect, AlreadyJoinedCountsAsStillIn) {
  const auto rejoin = fail_over();
  error(rejoin.id, ErrorCode::already_joined);
  auto follow = sent();
  ASSERT_EQ(ops(follow), (std::vector<std::string>{"participants", "messages"}));
  EXPECT_EQ(messages_of(follow[1]).page.after, mid(2));
  EXPECT_TRUE(seminar().joined);
  EXPECT_EQ(seminar().lines.back().text, "Back in Seminar");
  EXPECT_EQ(state.status().last_error, "");
  ok(follow[1].id, page_json(3, 4));
  EXPECT_EQ(ids(seminar()), range(1, 4));
}

TEST_F(Reconnect, PlainOkMeansANewSeat) {
  const auto rejoin = fail_over();
  ok(rejoin.id, {{"meeting_id", 7}, {"order_id", 2}, {"joined_at", "2026-11-18T10:09:00.000Z"}});
  auto follow = sent();
  ASSERT_EQ(ops(follow), (std::vector<std::string>{"participants", "messages"}));
  EXPECT_TRUE(seminar().joined);
  EXPECT_EQ(seminar().lines.back().text, "Rejoined Seminar (the seat was lost while away)");
}

TEST_F(Reconnect, MeetingThatEndedWhileAwayIsReportedAndItsLastMessagesRead) {
  const auto rejoin = fail_over();
  error(rejoin.id, ErrorCode::meeting_inactive);
  EXPECT_FALSE(seminar().joined);
  EXPECT_TRUE(seminar().ended);
  EXPECT_EQ(seminar().lines.back().text, "Meeting ended while you were away: Seminar");
  auto follow = sent();
  ASSERT_EQ(ops(follow), (std::vector<std::string>{"messages"}));  // no participants
  EXPECT_EQ(messages_of(follow[0]).instance.order_id, 2);
  EXPECT_EQ(messages_of(follow[0]).page.after, mid(2));
  ok(follow[0].id, page_json(3, 3));
  EXPECT_EQ(ids(seminar()), range(1, 3));
  EXPECT_FALSE(session.post("anyone?"));
}

TEST_F(Reconnect, MeetingNotFoundEndsWithoutFurtherRequests) {
  const auto rejoin = fail_over();
  error(rejoin.id, ErrorCode::not_found);
  EXPECT_TRUE(sent().empty());
  EXPECT_TRUE(seminar().ended);
  EXPECT_FALSE(seminar().joined);
  EXPECT_FALSE(seminar().catching_up);
}

TEST_F(Reconnect, OtherRejoinErrorsLeaveTheMeeting) {
  const auto rejoin = fail_over();
  error(rejoin.id, ErrorCode::forbidden);
  EXPECT_TRUE(sent().empty());
  EXPECT_FALSE(seminar().joined);
  EXPECT_EQ(seminar().lines.back().text, "Could not rejoin Seminar: forbidden: m");
  EXPECT_EQ(state.status().last_error, "forbidden: m");
}

TEST_F(Reconnect, FailedCatchUpStopsAndSaysSo) {
  const auto rejoin = fail_over();
  error(rejoin.id, ErrorCode::already_joined);
  auto follow = sent();
  error(follow[1].id, ErrorCode::unavailable);
  EXPECT_FALSE(seminar().catching_up);
  EXPECT_EQ(seminar().lines.back().text, "messages: unavailable: m");
}

TEST_F(Reconnect, SeveralFailedAttemptsStillRejoinAfterTheFirstLogin) {
  session.on_disconnected("lost");
  session.on_connected("b:2");  // connected, but lost again before login
  sent();
  session.on_disconnected("lost again");
  EXPECT_TRUE(seminar().joined);
  const auto rejoin = fail_over();
  ok(rejoin.id, {{"meeting_id", 7},
                 {"order_id", 2},
                 {"joined_at", "2026-11-18T10:01:00.000Z"},
                 {"resumed", true}});
  auto follow = sent();
  ASSERT_EQ(ops(follow), (std::vector<std::string>{"participants", "messages"}));
  EXPECT_EQ(messages_of(follow[1]).page.after, mid(2));
}

TEST_F(Reconnect, EveryJoinedMeetingIsRejoinedAndTheViewStays) {
  // Also in DSA, but the seminar is on screen.
  state.move_selection(1);
  session.join_selected();
  auto join = sent();
  ok(join.at(0).id,
     {{"meeting_id", 9}, {"order_id", 1}, {"joined_at", "2026-11-18T10:01:00.000Z"}});
  auto follow = sent();
  ok(follow.at(1).id, page_json(1, 0));  // empty history
  state.set_current(kSeminar);

  session.on_disconnected("lost");
  session.on_connected("b:2");
  auto reqs = sent();
  ok(reqs[1].id, {{"user", user_json(1, "john")}});
  auto after = sent();
  ASSERT_EQ(ops(after), (std::vector<std::string>{"active_meetings", "nodes", "join", "join"}));
  std::set<std::int64_t> rejoined;
  for (std::size_t i = 2; i < 4; ++i)
    rejoined.insert(std::get<protocol::JoinRequest>(after[i].body).instance.meeting_id);
  EXPECT_EQ(rejoined, (std::set<std::int64_t>{7, 9}));
  ok(after[2].id, {{"meeting_id", 7},
                   {"order_id", 2},
                   {"joined_at", "2026-11-18T10:01:00.000Z"},
                   {"resumed", true}});
  ok(after[3].id, {{"meeting_id", 9},
                   {"order_id", 1},
                   {"joined_at", "2026-11-18T10:01:00.000Z"},
                   {"resumed", true}});
  EXPECT_EQ(state.current(), kSeminar);
  // DSA had no messages: its catch-up is the newest page, as on a fresh join.
  auto catch_up = sent();
  ASSERT_EQ(ops(catch_up),
            (std::vector<std::string>{"participants", "messages", "participants", "messages"}));
  EXPECT_EQ(messages_of(catch_up[1]).page.after, mid(2));
  EXPECT_FALSE(messages_of(catch_up[3]).page.after.has_value());
  EXPECT_EQ(messages_of(catch_up[3]).page.limit, kHistoryLimit);
}

}  // namespace
}  // namespace chat::tui
