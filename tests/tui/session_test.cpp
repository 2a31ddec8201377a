// ProtocolSession: the requests chat-tui sends and how answers and events change the state.
// Server frames are built with the protocol library's own server-side encoders.
#include "chat/tui/session.hpp"

#include <gtest/gtest.h>

#include <string>
#include <variant>
#include <vector>

#include "chat/protocol/codec.hpp"
#include "chat/tui/layout.hpp"

namespace chat::tui {
namespace {

using nlohmann::json;
using protocol::ErrorCode;

constexpr protocol::UnixMs kNow = 1'795'000'000'000;

std::string strip(std::string frame) {
  if (!frame.empty() && frame.back() == '\n') frame.pop_back();
  return frame;
}

// Decodes the frames the session wants to send, checking each is a valid request line.
std::vector<protocol::Request> sent(ProtocolSession& s) {
  std::vector<protocol::Request> out;
  for (const auto& frame : s.take_outbox()) {
    EXPECT_FALSE(frame.empty());
    EXPECT_EQ(frame.back(), '\n');
    auto decoded = protocol::decode_request(strip(frame));
    if (auto* r = std::get_if<protocol::Request>(&decoded)) {
      out.push_back(*r);
    } else {
      ADD_FAILURE() << "not a valid request: " << frame;
    }
  }
  return out;
}

template <typename T>
const T& body(const protocol::Request& r) {
  const T* b = std::get_if<T>(&r.body);
  if (b == nullptr)
    throw std::runtime_error("unexpected op " + std::string(protocol::op_name(r.body)));
  return *b;
}

json user_json(std::int64_t id, const std::string& name) {
  return {{"user_id", id},
          {"name", name},
          {"email", name + "@example.org"},
          {"age", nullptr},
          {"gender", nullptr}};
}

json meeting_json(std::int64_t mid, std::int64_t oid, const std::string& title, bool pub,
                  int count) {
  return {{"meeting_id", mid},
          {"order_id", oid},
          {"title", title},
          {"description", nullptr},
          {"is_public", pub},
          {"from", "2026-11-18T10:00:00.000Z"},
          {"to", "2026-11-18T11:00:00.000Z"},
          {"participant_count", count}};
}

class Session : public ::testing::Test {
 protected:
  void reply_ok(std::int64_t id, const json& result) {
    session.handle_line(strip(protocol::encode_ok(id, result)), kNow);
  }
  void reply_error(std::int64_t id, ErrorCode code, const std::string& msg) {
    session.handle_line(strip(protocol::encode_error(id, code, msg)), kNow);
  }
  void event(const protocol::Event& e) {
    session.handle_line(strip(protocol::encode_event(e)), kNow);
  }

  // Connects, logs in as john (id 1) and answers active_meetings with the seminar (7/2).
  void log_in() {
    session.set_credentials("john", "john-pw");
    session.on_connected("127.0.0.1:7000");
    auto reqs = sent(session);
    ASSERT_EQ(reqs.size(), 2u);
    reply_ok(
        reqs[0].id,
        {{"proto", 1}, {"server", "chatd"}, {"node", "n1"}, {"time", "2026-11-18T10:00:00.000Z"}});
    reply_ok(reqs[1].id, {{"user", user_json(1, "john")}});
    auto after = sent(session);
    ASSERT_EQ(after.size(), 2u);  // active_meetings, nodes
    body<protocol::ActiveMeetingsRequest>(after[0]);
    body<protocol::NodesRequest>(after[1]);
    reply_ok(after[0].id, {{"meetings", json::array({meeting_json(7, 2, "Seminar", true, 1)})}});
    reply_ok(
        after[1].id,
        {{"nodes",
          json::array({json{{"node", "n1"}, {"address", "127.0.0.1:7000"}, {"clients", 1}}})}});
  }

  // Joins the selected meeting and answers join, participants and messages.
  void join_seminar() {
    session.join_selected();
    auto join = sent(session);
    ASSERT_EQ(join.size(), 1u);
    const auto& j = body<protocol::JoinRequest>(join[0]);
    EXPECT_EQ(j.instance.meeting_id, 7);
    EXPECT_EQ(j.instance.order_id, 2);
    reply_ok(join[0].id,
             {{"meeting_id", 7}, {"order_id", 2}, {"joined_at", "2026-11-18T10:01:00.000Z"}});
    auto follow = sent(session);
    ASSERT_EQ(follow.size(), 2u);
    body<protocol::ParticipantsRequest>(follow[0]);
    const auto& m = body<protocol::MessagesRequest>(follow[1]);
    EXPECT_EQ(m.page.limit, kHistoryLimit);
    reply_ok(follow[0].id,
             {{"participants", json::array({json{{"user_id", 2},
                                                 {"name", "hamid"},
                                                 {"email", "h@x"},
                                                 {"age", nullptr},
                                                 {"gender", nullptr},
                                                 {"joined_at", "2026-11-18T10:00:30.000Z"}},
                                            json{{"user_id", 1},
                                                 {"name", "john"},
                                                 {"email", "j@x"},
                                                 {"age", 30},
                                                 {"gender", "m"},
                                                 {"joined_at", "2026-11-18T10:01:00.000Z"}}})}});
    reply_ok(follow[1].id, {{"messages", json::array({json{{"message_id", "0001"},
                                                           {"user_id", 2},
                                                           {"name", "hamid"},
                                                           {"text", "earlier"},
                                                           {"ts", "2026-11-18T10:00:40.000Z"}}})}});
  }

  ClientState state;
  ProtocolSession session{state};
};

TEST_F(Session, ConnectSendsHelloThenWaitsForCredentials) {
  session.on_connected("127.0.0.1:7000");
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(body<protocol::HelloRequest>(reqs[0]).client, std::optional<std::string>("chat-tui"));
  EXPECT_TRUE(session.needs_credentials());
  EXPECT_EQ(state.status().connection, ConnectionState::connected);

  session.set_credentials("john", "john-pw");
  reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& login = body<protocol::LoginRequest>(reqs[0]);
  EXPECT_EQ(login.user, "john");
  EXPECT_EQ(login.password, "john-pw");
  EXPECT_EQ(state.status().connection, ConnectionState::logging_in);
}

TEST_F(Session, RequestIdsAreUniqueAndIncreasing) {
  log_in();
  session.ping();
  session.refresh_meetings();
  session.ping();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 3u);
  EXPECT_LT(reqs[0].id, reqs[1].id);
  EXPECT_LT(reqs[1].id, reqs[2].id);
  EXPECT_EQ(session.pending_count(), 3u);
}

TEST_F(Session, LoginFillsStatusAndMeetings) {
  log_in();
  EXPECT_TRUE(session.logged_in());
  EXPECT_EQ(state.status().connection, ConnectionState::online);
  EXPECT_EQ(state.status().user, "john");
  ASSERT_EQ(state.meetings().size(), 1u);
  EXPECT_EQ(state.meetings()[0].title, "Seminar");
  EXPECT_EQ(session.pending_count(), 0u);
}

TEST_F(Session, InvalidCredentialsBringTheLoginFormBack) {
  session.set_credentials("john", "wrong");
  session.on_connected("s:1");
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 2u);
  reply_error(reqs[1].id, ErrorCode::invalid_credentials, "wrong user or password");
  EXPECT_TRUE(session.needs_credentials());
  EXPECT_EQ(session.user_name(), "john");
  EXPECT_EQ(session.login_error(), "invalid_credentials: wrong user or password");
  EXPECT_FALSE(session.logged_in());
  EXPECT_FALSE(session.take_drop_request().has_value());  // another node would say the same
}

TEST_F(Session, LoginTheNodeCannotServeAsksForAnotherServer) {
  session.set_credentials("john", "pw");
  session.on_connected("s:1");
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 2u);
  reply_error(reqs[1].id, ErrorCode::unavailable, "redis down");
  EXPECT_FALSE(session.needs_credentials());  // the password is kept for the next server
  EXPECT_EQ(session.take_drop_request(), "login failed: unavailable: redis down");
  EXPECT_FALSE(session.take_drop_request().has_value());  // once
}

TEST_F(Session, JoinLoadsParticipantsAndHistory) {
  log_in();
  join_seminar();
  const auto* b = state.find_buffer({7, 2});
  ASSERT_NE(b, nullptr);
  EXPECT_TRUE(b->joined);
  EXPECT_EQ(state.current(), (MeetingKey{7, 2}));
  ASSERT_EQ(b->participants.size(), 2u);
  EXPECT_EQ(b->participants[0].user.name, "hamid");
  // The history follows the notice, in message_id order.
  ASSERT_EQ(b->lines.size(), 2u);
  EXPECT_EQ(b->lines[0].text, "You joined Seminar");
  EXPECT_EQ(b->lines[1].text, "earlier");
  EXPECT_EQ(b->synced_id, "0001");
  EXPECT_FALSE(b->catching_up);
  EXPECT_EQ(state.meetings()[0].participant_count, 2);
}

TEST_F(Session, PostSendsTextToTheCurrentMeetingAndEventsShowIt) {
  log_in();
  join_seminar();
  EXPECT_TRUE(session.post("h\u00e9llo \u4e16\u754c"));
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& p = body<protocol::PostRequest>(reqs[0]);
  EXPECT_EQ(p.instance.meeting_id, 7);
  EXPECT_EQ(p.instance.order_id, 2);
  EXPECT_EQ(p.text, "h\u00e9llo \u4e16\u754c");
  reply_ok(reqs[0].id, {{"message_id", "0002"}, {"ts", "2026-11-18T10:02:00.000Z"}});
  event(protocol::MessageEvent{7, 2, {"0002", 1, "john", "h\u00e9llo \u4e16\u754c", kNow}});
  EXPECT_EQ(state.find_buffer({7, 2})->lines.back().text, "h\u00e9llo \u4e16\u754c");
}

TEST_F(Session, PostIsRefusedLocallyWhenItCannotSucceed) {
  EXPECT_FALSE(session.post("offline"));  // no meeting
  log_in();
  EXPECT_FALSE(session.post("not joined yet"));
  EXPECT_NE(state.status().last_error.find("not in a meeting"), std::string::npos);
  join_seminar();
  EXPECT_FALSE(session.post(" \t "));
  EXPECT_FALSE(session.post(std::string(protocol::kMaxTextBytes + 1, 'x')));
  EXPECT_TRUE(sent(session).empty());
  EXPECT_TRUE(session.post(std::string(protocol::kMaxTextBytes, 'x')));
}

TEST_F(Session, ServerErrorsReachTheStatusLine) {
  log_in();
  session.join_selected();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  reply_error(reqs[0].id, ErrorCode::forbidden, "not in the audience");
  EXPECT_EQ(state.status().last_error, "forbidden: not in the audience");
  EXPECT_EQ(state.find_buffer({7, 2}), nullptr);  // not joined: no buffer
  EXPECT_EQ(state.current_buffer().lines.back().kind, ChatLine::Kind::error);
}

TEST_F(Session, AlreadyJoinedCountsAsJoined) {
  log_in();
  session.join_selected();
  auto reqs = sent(session);
  reply_error(reqs[0].id, ErrorCode::already_joined, "already a participant");
  EXPECT_TRUE(state.find_buffer({7, 2})->joined);
  EXPECT_EQ(sent(session).size(), 2u);  // participants + messages
}

TEST_F(Session, LeaveCurrentMeeting) {
  log_in();
  join_seminar();
  session.leave_current();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& l = body<protocol::LeaveRequest>(reqs[0]);
  EXPECT_EQ(l.instance.meeting_id, 7);
  reply_ok(reqs[0].id,
           {{"meeting_id", 7}, {"order_id", 2}, {"left_at", "2026-11-18T10:03:00.000Z"}});
  EXPECT_FALSE(state.find_buffer({7, 2})->joined);
  session.leave_current();  // nothing joined any more
  EXPECT_TRUE(sent(session).empty());
  EXPECT_EQ(state.status().last_error, "not in a meeting");
}

TEST_F(Session, MeetingStartedTriggersAMeetingsRefresh) {
  log_in();
  event(protocol::MeetingStartedEvent{8, 1, "New", kNow, kNow + 60'000});
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  body<protocol::ActiveMeetingsRequest>(reqs[0]);
  EXPECT_EQ(state.meetings().size(), 2u);
}

TEST_F(Session, ReconnectLogsInAgainAndRejoins) {
  log_in();
  join_seminar();
  session.on_disconnected("closed by server");
  EXPECT_EQ(state.status().connection, ConnectionState::disconnected);
  EXPECT_EQ(session.pending_count(), 0u);
  EXPECT_FALSE(session.post("lost"));

  session.on_connected("127.0.0.1:7001");
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 2u);  // hello + login with the remembered credentials
  body<protocol::HelloRequest>(reqs[0]);
  body<protocol::LoginRequest>(reqs[1]);
  reply_ok(reqs[1].id, {{"user", user_json(1, "john")}});
  auto after = sent(session);
  ASSERT_EQ(after.size(), 3u);
  body<protocol::ActiveMeetingsRequest>(after[0]);
  body<protocol::NodesRequest>(after[1]);
  const auto& j = body<protocol::JoinRequest>(after[2]);
  EXPECT_EQ(j.instance.meeting_id, 7);
  EXPECT_EQ(j.instance.order_id, 2);
  reply_ok(after[2].id, {{"meeting_id", 7},
                         {"order_id", 2},
                         {"joined_at", "2026-11-18T10:01:00.000Z"},
                         {"resumed", true}});
  EXPECT_TRUE(state.find_buffer({7, 2})->joined);
  EXPECT_EQ(state.find_buffer({7, 2})->lines.back().text, "Back in Seminar");
}

TEST_F(Session, AnswersOfAnEarlierConnectionAreIgnored) {
  log_in();
  session.ping();
  auto reqs = sent(session);
  session.on_disconnected("reset");
  session.on_connected("s:2");
  sent(session);
  reply_error(reqs[0].id, ErrorCode::internal, "stale");
  EXPECT_EQ(state.status().last_error, "");
}

TEST_F(Session, LatencyIsTheRoundTripOfHelloAndPing) {
  session.on_connected("s:1", kNow - 30);
  auto reqs = sent(session);
  reply_ok(reqs[0].id, {{"proto", 1}, {"server", "chatd"}, {"node", "n1"}, {"time", "x"}});
  EXPECT_EQ(state.status().latency_ms, std::optional<protocol::UnixMs>(30));
  session.ping(kNow - 7);
  reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  body<protocol::PingRequest>(reqs[0]);
  reply_ok(reqs[0].id, {{"time", "2026-11-18T10:00:00.000Z"}});
  EXPECT_EQ(state.status().latency_ms, std::optional<protocol::UnixMs>(7));
  session.on_disconnected("gone");
  EXPECT_FALSE(state.status().latency_ms.has_value());
}

TEST_F(Session, OpenMeetingJoinsOrShows) {
  log_in();
  session.open_meeting({7, 2});
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(body<protocol::JoinRequest>(reqs[0]).instance.meeting_id, 7);
  reply_ok(reqs[0].id,
           {{"meeting_id", 7}, {"order_id", 2}, {"joined_at", "2026-11-18T10:01:00.000Z"}});
  sent(session);
  state.set_current(std::nullopt);
  session.open_meeting({7, 2});  // joined already: just shown, nothing sent
  EXPECT_TRUE(sent(session).empty());
  EXPECT_EQ(state.current(), (MeetingKey{7, 2}));
}

TEST_F(Session, WhoListsParticipantsWithJoinTimes) {
  log_in();
  join_seminar();
  session.list_participants();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  EXPECT_EQ(body<protocol::ParticipantsRequest>(reqs[0]).instance.meeting_id, 7);
  reply_ok(reqs[0].id,
           {{"participants", json::array({json{{"user_id", 2},
                                               {"name", "hamid"},
                                               {"email", "h@x"},
                                               {"age", nullptr},
                                               {"gender", nullptr},
                                               {"joined_at", "2026-11-18T10:00:30.000Z"}}})}});
  const auto& lines = state.find_buffer({7, 2})->lines;
  ASSERT_GE(lines.size(), 2u);
  EXPECT_EQ(lines[lines.size() - 2].text, "Participants of Seminar (1):");
  EXPECT_NE(lines.back().text.find("hamid <h@x>"), std::string::npos);
  EXPECT_NE(
      lines.back().text.find(format_hhmm(*protocol::parse_timestamp("2026-11-18T10:00:30.000Z"))),
      std::string::npos);
  EXPECT_EQ(state.find_buffer({7, 2})->participants.size(), 1u);  // the pane follows
}

TEST_F(Session, MsgsAsksForOneUsersMessages) {
  log_in();
  join_seminar();
  session.list_user_messages(2, "hamid");
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  const auto& um = body<protocol::UserMessagesRequest>(reqs[0]);
  EXPECT_EQ(um.instance.meeting_id, 7);
  EXPECT_EQ(um.instance.order_id, std::optional<std::int64_t>(2));
  EXPECT_EQ(um.user_id, 2);
  reply_ok(reqs[0].id, {{"messages", json::array({json{{"message_id", "0001"},
                                                       {"user_id", 2},
                                                       {"name", "hamid"},
                                                       {"text", "earlier \u4e16"},
                                                       {"ts", "2026-11-18T10:00:40.000Z"}}})}});
  const auto& lines = state.find_buffer({7, 2})->lines;
  EXPECT_EQ(lines[lines.size() - 2].text, "Messages of hamid in Seminar (1):");
  EXPECT_NE(lines.back().text.find("earlier \u4e16"), std::string::npos);
  EXPECT_EQ(lines.back().kind, ChatLine::Kind::info);  // a listing, not a chat message
  // An unknown user is the server's not_found, shown in the buffer.
  session.list_user_messages(99, "#99");
  reqs = sent(session);
  reply_error(reqs[0].id, ErrorCode::not_found, "no such user");
  EXPECT_EQ(state.find_buffer({7, 2})->lines.back().kind, ChatLine::Kind::error);
}

TEST_F(Session, JoinTimesListsEveryMeetingAndUpdatesThePane) {
  log_in();
  join_seminar();
  session.list_join_times();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  body<protocol::JoinTimesRequest>(reqs[0]);
  reply_ok(
      reqs[0].id,
      {{"meetings",
        json::array({json{
            {"meeting_id", 7},
            {"order_id", 2},
            {"title", "Seminar"},
            {"participants", json::array({json{{"user_id", 2},
                                               {"name", "hamid"},
                                               {"joined_at", "2026-11-18T10:05:00.000Z"}}})}}})}});
  const auto* b = state.find_buffer({7, 2});
  const auto& lines = b->lines;
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[lines.size() - 3].text, "Join times (1 active meeting):");
  EXPECT_EQ(lines[lines.size() - 2].text, "  Seminar (1 participant)");
  EXPECT_NE(lines.back().text.find("hamid"), std::string::npos);
  EXPECT_EQ(b->participants[0].joined_at, *protocol::parse_timestamp("2026-11-18T10:05:00.000Z"));
}

TEST_F(Session, PeriodicJoinTimesRefreshOnlyUpdatesThePane) {
  log_in();
  session.refresh_join_times();  // in no meeting: nothing to refresh
  EXPECT_TRUE(sent(session).empty());
  join_seminar();
  const auto lines_before = state.find_buffer({7, 2})->lines.size();
  session.refresh_join_times();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  body<protocol::JoinTimesRequest>(reqs[0]);
  reply_ok(
      reqs[0].id,
      {{"meetings",
        json::array({json{
            {"meeting_id", 7},
            {"order_id", 2},
            {"title", "Seminar"},
            {"participants", json::array({json{{"user_id", 1},
                                               {"name", "john"},
                                               {"joined_at", "2026-11-18T10:07:00.000Z"}}})}}})}});
  const auto* b = state.find_buffer({7, 2});
  EXPECT_EQ(b->lines.size(), lines_before);  // no listing
  EXPECT_EQ(b->participants.size(), 2u);     // hamid stays: membership follows the events
  EXPECT_EQ(b->participants[1].joined_at, *protocol::parse_timestamp("2026-11-18T10:07:00.000Z"));
}

TEST_F(Session, MeetingsListsAndRefreshesThePane) {
  log_in();
  session.list_meetings();
  auto reqs = sent(session);
  ASSERT_EQ(reqs.size(), 1u);
  body<protocol::ActiveMeetingsRequest>(reqs[0]);
  reply_ok(reqs[0].id, {{"meetings", json::array({meeting_json(7, 2, "Seminar", true, 1),
                                                  meeting_json(9, 1, "DSA", false, 3)})}});
  EXPECT_EQ(state.meetings().size(), 2u);
  const auto& lines = state.server_buffer().lines;
  ASSERT_GE(lines.size(), 3u);
  EXPECT_EQ(lines[lines.size() - 3].text, "Active meetings (2):");
  EXPECT_NE(lines.back().text.find("! DSA (private, 3 participants"), std::string::npos);
}

TEST_F(Session, ListingsNeedAMeetingAndALogin) {
  session.list_participants();
  session.list_join_times();
  EXPECT_TRUE(sent(session).empty());
  log_in();
  session.list_participants();  // no meeting on screen
  session.list_user_messages(2, "hamid");
  EXPECT_TRUE(sent(session).empty());
  EXPECT_NE(state.status().last_error.find("open a meeting"), std::string::npos);
}

TEST_F(Session, MalformedFramesSetAnErrorAndDoNotThrow) {
  log_in();
  session.handle_line("not json", kNow);
  EXPECT_NE(state.status().last_error.find("bad frame"), std::string::npos);
  state.clear_error();
  session.handle_line("   ", kNow);  // keep-alive
  session.handle_line(R"({"event":"brand_new","meeting_id":1,"order_id":1})",
                      kNow);  // unknown event
  EXPECT_EQ(state.status().last_error, "");
  session.handle_line(R"({"id":null,"ok":false,"error":{"code":"bad_request","message":"x"}})",
                      kNow);
  EXPECT_EQ(state.status().last_error, "bad_request: x");
}

}  // namespace
}  // namespace chat::tui
