// Connection-level ops of PROTOCOL.md: hello, ping, nodes, login, the login gate
// (unauthenticated), request order, membership per user, idle limit and clean shutdown.
#include <thread>

#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

using SessionTest = ChatdTest;

// Every op that needs a logged-in connection, with parameters that are otherwise valid.
std::vector<std::pair<std::string, json>> ops_needing_login(const TestMeeting& m,
                                                            std::int64_t user_id) {
  return {
      {"active_meetings", json::object()},
      {"join", {{"meeting_id", m.meeting_id}}},
      {"leave", {{"meeting_id", m.meeting_id}}},
      {"participants", {{"meeting_id", m.meeting_id}}},
      {"post", {{"meeting_id", m.meeting_id}, {"text", "hello"}}},
      {"messages", {{"meeting_id", m.meeting_id}}},
      {"user_messages", {{"meeting_id", m.meeting_id}, {"user_id", user_id}}},
      {"join_times", json::object()},
  };
}

TEST_F(SessionTest, HelloBeforeLogin) {
  ChatdProcess& node = start_chatd();
  TestClient c = node.connect();
  const json r = c.ok("hello", {{"client", "integration-test/1"}});
  EXPECT_EQ(r.value("proto", 0), 1) << r.dump();
  ASSERT_TRUE(r.contains("server") && r["server"].is_string()) << r.dump();
  EXPECT_FALSE(r["server"].get<std::string>().empty());
  EXPECT_EQ(r.value("node", ""), node.node_id()) << r.dump();
  EXPECT_NEAR(static_cast<double>(ts_of(r, "time")), static_cast<double>(now_ms()), 5000.0);
  // client is optional.
  EXPECT_EQ(c.ok("hello").value("proto", 0), 1);
}

TEST_F(SessionTest, HelloWithIllTypedClientIsBadRequestWithIdEchoed) {
  start_chatd();
  TestClient c = connect();
  const std::int64_t id = c.send("hello", {{"client", 5}});
  const json r = c.wait_response(id);
  EXPECT_EQ(error_code(r), "bad_request") << r.dump();
  EXPECT_EQ(r.at("id"), id);
  EXPECT_EQ(c.ok("ping").size(), 1u) << "connection still usable";
}

TEST_F(SessionTest, PingBeforeLogin) {
  start_chatd();
  TestClient c = connect();
  const json r = c.ok("ping");
  EXPECT_NEAR(static_cast<double>(ts_of(r, "time")), static_cast<double>(now_ms()), 5000.0);
}

TEST_F(SessionTest, NodesListsThisNodeWithAddressAndClientCount) {
  ChatdProcess& node = start_chatd();
  TestClient a = connect();
  TestClient b = connect();
  TestClient c = connect();
  auto own_entry = [&]() -> std::optional<json> {
    const json r = a.ok("nodes");
    for (const auto& n : r.at("nodes"))
      if (n.value("node", "") == node.node_id()) return n;
    return std::nullopt;
  };
  std::optional<json> entry;
  EXPECT_TRUE(eventually([&] {
    entry = own_entry();
    return entry && entry->value("clients", -1) == 3;
  })) << "expected clients == 3 for "
      << node.node_id() << ", last entry: " << (entry ? entry->dump() : "none");
  ASSERT_TRUE(entry.has_value());
  EXPECT_EQ(entry->value("address", ""), node.address());
  b.close();
  c.close();
  EXPECT_TRUE(eventually([&] {
    entry = own_entry();
    return entry && entry->value("clients", -1) == 1;
  })) << "expected clients == 1 after closing two, last entry: "
      << (entry ? entry->dump() : "none");
}

TEST_F(SessionTest, NodesReportsTheAdvertisedAddress) {
  ChatdOptions o;
  o.advertise = "chat-node.example.test:4567";
  ChatdProcess& node = start_chatd(o);
  TestClient c = connect();
  std::optional<json> entry;
  EXPECT_TRUE(eventually([&] {
    for (const json r_ = c.ok("nodes"); const auto& n : r_.at("nodes"))
      if (n.value("node", "") == node.node_id()) entry = n;
    return entry.has_value();
  }));
  ASSERT_TRUE(entry.has_value()) << "node " << node.node_id() << " not listed";
  EXPECT_EQ(entry->value("address", ""), "chat-node.example.test:4567");
}

TEST_F(SessionTest, EveryOtherOpNeedsLogin) {
  const TestUser u = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = connect();
  for (const auto& [op, params] : ops_needing_login(m, u.user_id)) {
    const std::int64_t id = c.send(op, params);
    const json r = c.wait_response(id);
    EXPECT_EQ(error_code(r), "unauthenticated") << op << ": " << r.dump();
    EXPECT_EQ(r.at("id"), id) << op;
  }
  // A failed login leaves the connection unauthenticated.
  EXPECT_EQ(c.error("login", {{"user", u.name}, {"password", "wrong"}}), "invalid_credentials");
  for (const auto& [op, params] : ops_needing_login(m, u.user_id))
    EXPECT_EQ(c.error(op, params), "unauthenticated") << op << " after a failed login";
  // And works once logged in.
  c.login(u.name, u.password);
  EXPECT_TRUE(c.ok("active_meetings").at("meetings").is_array());
}

TEST_F(SessionTest, BadRequestTakesPrecedenceOverUnauthenticated) {
  start_chatd();
  TestClient c = connect();
  EXPECT_EQ(c.error("join", json::object()), "bad_request");
  EXPECT_EQ(c.error("join", {{"meeting_id", "7"}}), "bad_request");
  EXPECT_EQ(c.error("post", {{"meeting_id", 1}, {"text", ""}}), "bad_request");
  EXPECT_EQ(c.error("messages", {{"meeting_id", 1}, {"limit", 0}}), "bad_request");
  EXPECT_EQ(c.error("user_messages", {{"meeting_id", 1}}), "bad_request");
  EXPECT_EQ(c.error("login", {{"user", "x"}}), "bad_request");
  EXPECT_EQ(c.error("login", {{"user", 1}, {"password", "x"}}), "bad_request");
}

TEST_F(SessionTest, LoginByNameAndByEmailCaseInsensitively) {
  const TestUser u = db().create_user("Login", 41, std::string("f"));
  start_chatd();
  auto check_user = [&](const json& user) {
    EXPECT_EQ(user.value("user_id", std::int64_t{0}), u.user_id) << user.dump();
    EXPECT_EQ(user.value("name", ""), u.name);
    EXPECT_EQ(user.value("email", ""), u.email);
    EXPECT_EQ(user.at("age"), 41);
    EXPECT_EQ(user.at("gender"), "f");
  };
  std::string upper = u.email;
  for (auto& ch : upper) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  std::string mixed = u.email;
  mixed[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(mixed[0])));
  for (const std::string& login_name : {u.name, u.email, upper, mixed}) {
    TestClient c = connect();
    SCOPED_TRACE("login as " + login_name);
    check_user(c.ok("login", {{"user", login_name}, {"password", u.password}}).at("user"));
    EXPECT_TRUE(c.ok("active_meetings").at("meetings").is_array());
  }
}

TEST_F(SessionTest, LoginResultHasNullAgeAndGenderWhenUnset) {
  const TestUser u = db().create_user("nulls", std::nullopt, std::nullopt);
  start_chatd();
  TestClient c = connect();
  const json user = c.ok("login", {{"user", u.name}, {"password", u.password}}).at("user");
  ASSERT_TRUE(user.contains("age") && user.contains("gender"))
      << "null, not omitted: " << user.dump();
  EXPECT_TRUE(user["age"].is_null());
  EXPECT_TRUE(user["gender"].is_null());
}

TEST_F(SessionTest, InvalidCredentialsLooksTheSameForUnknownUserAndWrongPassword) {
  const TestUser u = db().create_user("creds");
  start_chatd();
  TestClient c = connect();
  auto failure = [&](const std::string& user, const std::string& password) {
    const json r = c.call("login", {{"user", user}, {"password", password}});
    EXPECT_EQ(error_code(r), "invalid_credentials") << user << ": " << r.dump();
    return r.value("error", json::object()).value("message", std::string("<none>"));
  };
  const std::string wrong_pw = failure(u.name, u.password + "x");
  const std::string wrong_pw_email = failure(u.email, "");
  const std::string unknown = failure(db().tag() + "_nobody", u.password);
  const std::string unknown_email = failure(db().tag() + "_nobody@example.test", "pw");
  EXPECT_EQ(wrong_pw, unknown) << "the message must not reveal whether the user exists";
  EXPECT_EQ(wrong_pw_email, unknown_email);
  EXPECT_EQ(wrong_pw, wrong_pw_email);
  // The password is case-sensitive.
  std::string flipped = u.password;
  flipped[0] = static_cast<char>(std::toupper(static_cast<unsigned char>(flipped[0])));
  ASSERT_NE(flipped, u.password);
  failure(u.name, flipped);
  // Still usable afterwards.
  EXPECT_EQ(c.ok("login", {{"user", u.name}, {"password", u.password}})
                .at("user")
                .value("user_id", std::int64_t{0}),
            u.user_id);
}

TEST_F(SessionTest, ResponsesComeInRequestOrder) {
  const TestUser u = db().create_user();
  start_chatd();
  TestClient c = login(u);
  std::vector<std::int64_t> ids;
  const char* ops[] = {"ping", "hello", "active_meetings", "nodes", "join_times"};
  for (int i = 0; i < 60; ++i) ids.push_back(c.send(ops[i % 5]));
  for (const auto id : ids) EXPECT_TRUE(c.wait_response(id).value("ok", false)) << id;
  EXPECT_TRUE(c.violations().empty()) << "responses out of request order (see violations)";
}

// Megabytes of events queue for a connection that does not read for a while (its socket
// buffer fills, so the node's writes come back partial or would block); once it reads again
// it gets every message, whole and in posting order.
TEST_F(SessionTest, ReaderThatPausesGetsEveryMessageWholeAndInOrder) {
  // ~6.5 MB of events in all: more than the kernel buffers of a connection that does not
  // read (its receive window stays small, the send buffer ends at 4 MiB), less than the
  // node's 8 MiB cap of unsent bytes.
  constexpr int kPosts = 1600;
  constexpr std::size_t kText = 4000;
  const TestUser reader_user = db().create_user("pauser");
  const TestUser poster_user = db().create_user("poster");
  const TestMeeting m = create_meeting(true);
  ChatdOptions options;
  options.log_level = "info";
  options.idle_timeout_ms = 120000;  // the reader sends nothing while the posts go out
  options.extra_args = {"--rate-limit", "0"};
  start_chatd(options);
  TestClient reader = login(reader_user);
  TestClient poster = login(poster_user);
  reader.ok("join", instance(m));
  poster.ok("join", instance(m));
  // The reader reads nothing from here until expect_events below.
  std::vector<std::string> posted;
  constexpr int kBatch = 100;  // posts pipelined per round trip
  for (int first = 0; first < kPosts; first += kBatch) {
    std::vector<std::pair<std::string, json>> batch;
    for (int i = first; i < first + kBatch; ++i) {
      std::string text = std::to_string(i) + ":";
      text.resize(kText, static_cast<char>('a' + i % 26));
      batch.emplace_back("post", json{{"meeting_id", m.meeting_id}, {"text", text}});
    }
    for (const auto id : poster.send_batch(batch)) {
      const json r = poster.wait_response(id);
      ASSERT_TRUE(r.value("ok", false)) << r.dump();
      posted.push_back(r.at("result").at("message_id").get<std::string>());
    }
  }
  const auto got = reader.expect_events(event_of("message", m.meeting_id), kPosts,
                                        "every message after the pause", Millis(60000));
  ASSERT_EQ(got.size(), static_cast<std::size_t>(kPosts));
  for (int i = 0; i < kPosts; ++i) {
    const json& e = got[static_cast<std::size_t>(i)];
    ASSERT_EQ(e.value("message_id", ""), posted[static_cast<std::size_t>(i)]) << "at " << i;
    const std::string text = e.value("text", "");
    ASSERT_EQ(text.size(), kText) << "at " << i;
    EXPECT_TRUE(text.starts_with(std::to_string(i) + ":")) << "at " << i;
    EXPECT_EQ(text.back(), static_cast<char>('a' + i % 26)) << "at " << i;
  }
  EXPECT_TRUE(reader.violations().empty());
  EXPECT_FALSE(reader.closed());
}

TEST_F(SessionTest, OneUserOnTwoConnectionsIsOneParticipant) {
  const TestUser u = db().create_user("twice");
  const TestUser v = db().create_user("other");
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c1 = login(u);
  TestClient c2 = login(u);
  TestClient cv = login(v);
  const json joined = c1.ok("join", instance(m, false));
  EXPECT_EQ(c2.error("join", instance(m, false)), "already_joined") << "membership is per user";
  cv.ok("join", instance(m));
  const json parts = cv.ok("participants", instance(m)).at("participants");
  int count_u = 0;
  for (const auto& p : parts) count_u += p.value("user_id", std::int64_t{0}) == u.user_id;
  EXPECT_EQ(count_u, 1) << parts.dump();
  // Both connections of u get the meeting's events; so does a connection logged in later.
  TestClient c3 = login(u);
  const json posted = cv.ok("post", {{"meeting_id", m.meeting_id}, {"text", "to both"}});
  const auto is_msg = [&](const json& e) {
    return event_of("message", m.meeting_id)(e) &&
           e.value("message_id", "") == posted.value("message_id", "?");
  };
  c1.expect_event(is_msg, "message on the first connection");
  c2.expect_event(is_msg, "message on the second connection");
  c3.expect_event(is_msg, "message on a connection logged in after the join");
  // Leaving from the other connection ends the membership for all of them.
  c2.ok("leave", instance(m));
  cv.expect_event(event_of("left", m.meeting_id, m.order_id, u.user_id), "left of u");
  EXPECT_EQ(c1.error("post", {{"meeting_id", m.meeting_id}, {"text", "x"}}), "not_joined");
  (void)joined;
}

TEST_F(SessionTest, ClosingOneOfTwoConnectionsKeepsTheSeat) {
  const TestUser u = db().create_user("twice");
  const TestUser v = db().create_user("watcher");
  const TestMeeting m = create_meeting(true);
  start_chatd();  // grace 1.5 s
  TestClient c1 = login(u);
  TestClient c2 = login(u);
  TestClient cv = login(v);
  c1.ok("join", instance(m));
  cv.ok("join", instance(m));
  c1.close();
  // Longer than the grace period: u still has a live connection, so nothing happens.
  cv.drain_for(Millis(3000));
  EXPECT_TRUE(cv.events_matching(event_of("left", m.meeting_id, m.order_id, u.user_id)).empty());
  bool listed = false;
  for (const json r_ = cv.ok("participants", instance(m)); const auto& p : r_.at("participants"))
    listed |= p.value("user_id", std::int64_t{0}) == u.user_id;
  EXPECT_TRUE(listed);
  c2.ok("post", {{"meeting_id", m.meeting_id}, {"text", "still here"}});
}

TEST_F(SessionTest, SilentConnectionIsClosedAfterTheIdleLimit) {
  ChatdOptions o;
  o.idle_timeout_ms = 1000;
  start_chatd(o);
  TestClient silent = connect();
  TestClient chatty = connect();
  silent.ok("hello");
  chatty.ok("hello");
  const auto t0 = std::chrono::steady_clock::now();
  // The chatty one sends a frame every 300 ms (a blank keep-alive line every other time).
  bool closed_at_right_time = false;
  for (int i = 0; i < 10; ++i) {
    std::this_thread::sleep_for(Millis(300));
    if (i % 2)
      chatty.ok("ping");
    else
      chatty.send_raw("\n");
    if (silent.wait_closed(Millis(1)) && !closed_at_right_time) {
      const auto elapsed = ms_between(t0, std::chrono::steady_clock::now());
      EXPECT_GE(elapsed, 800) << "closed before the idle limit";
      closed_at_right_time = true;
    }
  }
  EXPECT_TRUE(silent.wait_closed(Millis(1500))) << "silent connection not closed within ~4 s";
  EXPECT_FALSE(chatty.closed()) << "a connection that sends frames must stay open";
  EXPECT_TRUE(chatty.ok("ping").contains("time"));
}

TEST_F(SessionTest, SigtermStopsCleanlyWithExitZero) {
  const TestUser u = db().create_user();
  const TestMeeting m = create_meeting(true);
  ChatdProcess& node = start_chatd();
  TestClient c = login(u);
  c.ok("join", instance(m));
  c.ok("post", {{"meeting_id", m.meeting_id}, {"text", "before shutdown"}});
  EXPECT_EQ(node.stop(Millis(10000)), 0) << "SIGTERM must stop chatd cleanly with exit status 0";
  EXPECT_TRUE(c.wait_closed(Millis(1000)));
}

}  // namespace
}  // namespace chat::test
