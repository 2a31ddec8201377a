// chatd's abuse limits seen from the outside (README "Limits"): the per-connection request
// rate (`rate_limited`, PROTOCOL.md), growing delays of failed logins, the connection caps
// (`unavailable` frame, id null), the login deadline, and the slow-consumer cut-off. Each
// test starts its own chatd with small limits.
#include <algorithm>
#include <string>
#include <vector>

#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

using LimitsTest = ChatdTest;
using Clock = std::chrono::steady_clock;

// Raw frames use ids from here on, so they never collide with TestClient's own ids.
constexpr std::int64_t kRawId = 1'000'000;

std::string raw_ping(std::int64_t id) {
  return R"({"id":)" + std::to_string(id) + R"(,"op":"ping"})" + "\n";
}

std::string message_of(const json& response) {
  const auto err = response.find("error");
  if (err == response.end() || !err->is_object()) return "";
  return err->value("message", "");
}

ChatdOptions with_args(std::vector<std::string> args) {
  ChatdOptions o;
  o.extra_args = std::move(args);
  return o;
}

// This node's open-connection count as its `nodes` op reports it (live for the own node).
std::int64_t open_connections(TestClient& c, const ChatdProcess& node) {
  for (const json r = c.ok("nodes"); const auto& n : r.at("nodes"))
    if (n.value("node", "") == node.node_id()) return n.value("clients", std::int64_t{-1});
  return -1;
}

std::size_t occurrences(const std::string& text, const std::string& what) {
  std::size_t n = 0;
  for (auto pos = text.find(what); pos != std::string::npos; pos = text.find(what, pos + 1)) ++n;
  return n;
}

// ---- request rate ------------------------------------------------------------------------

TEST_F(LimitsTest, RequestsOverTheRateAreAnsweredRateLimitedWithTheirIdAndTheConnectionRecovers) {
  start_chatd(with_args({"--rate-limit", "5", "--rate-burst", "10"}));
  TestClient c = connect();
  std::string burst;
  for (int i = 0; i < 30; ++i) burst += raw_ping(kRawId + i);
  c.send_raw(burst);
  int ok = 0, limited = 0;
  for (int i = 0; i < 30; ++i) {
    const json r = c.wait_response(kRawId + i);  // every request is answered, with its id
    const std::string code = error_code(r);
    if (code.empty()) {
      ++ok;
    } else {
      EXPECT_EQ(code, "rate_limited") << r.dump();
      EXPECT_FALSE(message_of(r).empty());
      ++limited;
    }
  }
  // The burst of 10, plus what 5/s refills while 30 pings are served (well under a second).
  EXPECT_GE(ok, 10);
  EXPECT_LE(ok, 14);
  EXPECT_EQ(ok + limited, 30);
  EXPECT_FALSE(c.closed()) << "rate_limited keeps the connection open";
  // Tokens come back at 5/s: a ping goes through again within a second or so.
  const auto t0 = Clock::now();
  EXPECT_TRUE(
      eventually([&] { return error_code(c.call("ping")).empty(); }, Millis(3000), Millis(250)));
  EXPECT_LT(ms_between(t0, Clock::now()), 2000);
  // Other connections have buckets of their own.
  TestClient other = connect();
  for (int i = 0; i < 10; ++i) EXPECT_TRUE(other.ok("ping").contains("time"));
}

TEST_F(LimitsTest, GarbageCostsTokensAndBlankLinesDoNot) {
  start_chatd(with_args({"--rate-limit", "5", "--rate-burst", "10"}));
  TestClient c = connect();
  // 2 000 keep-alives cost nothing: the whole burst is still there afterwards.
  std::string blanks;
  for (int i = 0; i < 1000; ++i) blanks += i % 2 ? "\n" : " \t\r\n";
  c.send_raw(blanks);
  c.send_raw(blanks);
  std::string pings;
  for (int i = 0; i < 10; ++i) pings += raw_ping(kRawId + i);
  c.send_raw(pings);
  for (int i = 0; i < 10; ++i)
    EXPECT_EQ(error_code(c.wait_response(kRawId + i)), "") << "ping " << i << " after blanks";
  // The bucket is empty now: unreadable lines are refused like requests (id null).
  std::string garbage;
  for (int i = 0; i < 20; ++i) garbage += "this is not json\n";
  c.send_raw(garbage);
  int limited = 0, bad = 0;
  for (int i = 0; i < 20; ++i) {
    const json r = c.wait_null_response();
    EXPECT_TRUE(r.at("id").is_null()) << r.dump();
    const std::string code = error_code(r);
    if (code == "rate_limited")
      ++limited;
    else if (code == "bad_request")
      ++bad;
    else
      ADD_FAILURE() << r.dump();
  }
  EXPECT_GE(limited, 16) << "garbage must not bypass the rate limit";
  EXPECT_FALSE(c.closed());
  EXPECT_TRUE(
      eventually([&] { return error_code(c.call("ping")).empty(); }, Millis(3000), Millis(250)));
}

TEST_F(LimitsTest, AConnectionFloodingFarOverItsLimitIsClosedWithAFinalFrame) {
  // Burst 5: more than 10 x 5 = 50 refusals in a row close the connection.
  ChatdProcess& node = start_chatd(with_args({"--rate-limit", "2", "--rate-burst", "5"}));
  TestClient bystander = connect();
  TestClient c = connect();
  std::string flood;
  for (int i = 0; i < 300; ++i) flood += raw_ping(kRawId + i);
  c.blast(flood, Millis(5000));
  ASSERT_TRUE(c.wait_closed()) << "a flood of 300 pings against burst 5 must be cut off";
  // Answers: the burst ok, then 50 rate_limited with their ids, then the final frame.
  int ok = 0, limited = 0;
  for (int i = 0; i < 300; ++i) {
    json r;
    try {
      r = c.wait_response(kRawId + i, Millis(0));
    } catch (const ClientError&) {
      break;  // unanswered from here on: the connection was closed
    }
    if (error_code(r).empty())
      ++ok;
    else if (error_code(r) == "rate_limited")
      ++limited;
    else
      ADD_FAILURE() << r.dump();
  }
  EXPECT_GE(ok, 5);
  EXPECT_LE(ok, 7);
  EXPECT_GE(limited, 50);
  EXPECT_LE(limited, 52);
  const json last = c.wait_null_response(Millis(0));
  EXPECT_EQ(error_code(last), "rate_limited") << last.dump();
  EXPECT_NE(message_of(last).find("closing"), std::string::npos) << last.dump();
  EXPECT_TRUE(bystander.ok("ping").contains("time")) << "others are not affected";
  EXPECT_NE(node.log().find("kept sending far over its rate limit"), std::string::npos);
}

// ---- failed logins -----------------------------------------------------------------------

TEST_F(LimitsTest, FailedLoginsAreDelayedMoreAndMoreWithoutSlowingOtherClients) {
  const TestUser u = db().create_user("victim");
  const TestUser v = db().create_user("other");
  ChatdProcess& node = start_chatd(
      with_args({"--login-failure-delay-ms", "400", "--login-failure-max-delay-ms", "5000"}));
  TestClient attacker = connect();
  TestClient bystander = connect();
  const json wrong = {{"user", u.name}, {"password", "not-" + u.password}};
  auto timed_failure = [&](const json& params) {
    const auto t0 = Clock::now();
    EXPECT_EQ(attacker.error("login", params, Millis(15000)), "invalid_credentials");
    return ms_between(t0, Clock::now());
  };
  // Three failures are free (only the Argon2id verification, well under the delay).
  for (int i = 0; i < 3; ++i) EXPECT_LT(timed_failure(wrong), 400) << "failure " << i + 1;
  // The 4th waits the base delay.
  EXPECT_GE(timed_failure(wrong), 400) << "4th failure";
  // The 5th waits twice that, and meanwhile other clients are served at full speed.
  const auto t0 = Clock::now();
  const std::int64_t id = attacker.send("login", wrong);
  int pings = 0;
  long long slowest_ping = 0;
  std::optional<json> answer;
  while (!answer) {
    const auto p0 = Clock::now();
    EXPECT_TRUE(bystander.ok("ping").contains("time"));
    slowest_ping = std::max(slowest_ping, ms_between(p0, Clock::now()));
    ++pings;
    try {
      answer = attacker.wait_response(id, Millis(20));
    } catch (const ClientError&) {
      ASSERT_LT(ms_between(t0, Clock::now()), 15000) << "no answer to the 5th login";
    }
  }
  const long long fifth = ms_between(t0, Clock::now());
  EXPECT_EQ(error_code(*answer), "invalid_credentials") << answer->dump();
  EXPECT_EQ(message_of(*answer), "invalid user, email or password") << "same answer, only later";
  EXPECT_GE(fifth, 800) << "5th failure: base delay doubled";
  EXPECT_GE(pings, 10) << "the bystander should have been served throughout";
  EXPECT_LT(slowest_ping, 300) << "the delay must not block the I/O thread";
  // The right password is not delayed, and it clears the user's count...
  const auto s0 = Clock::now();
  EXPECT_EQ(attacker.ok("login", {{"user", u.name}, {"password", u.password}}, Millis(15000))
                .at("user")
                .value("user_id", std::int64_t{0}),
            u.user_id);
  EXPECT_LT(ms_between(s0, Clock::now()), 800) << "a correct login is answered at once";
  // ...but not the address's: from here, a 6th failure (any user) waits 4 x the base.
  EXPECT_GE(timed_failure({{"user", v.email}, {"password", "wrong"}}), 1600);
  // One warning per burst, and no login string or password in the log.
  const std::string log = node.log();
  EXPECT_GE(occurrences(log, "repeated failed logins"), 1u);
  EXPECT_LE(occurrences(log, "repeated failed logins"), 1u) << "rate-limited warning";
  EXPECT_EQ(log.find("not-" + u.password), std::string::npos) << "a password reached the log";
  EXPECT_EQ(log.find(u.password), std::string::npos) << "a password reached the log";
}

// ---- connection caps ----------------------------------------------------------------------

TEST_F(LimitsTest, ConnectionsBeyondThePerAddressCapGetUnavailableAndAreClosed) {
  ChatdProcess& node =
      start_chatd(with_args({"--max-connections-per-address", "3", "--max-connections", "100"}));
  std::vector<TestClient> held;
  held.push_back(connect());
  // chatd's own readiness probe may still be counted for a moment: wait until only ours is.
  ASSERT_TRUE(eventually([&] { return open_connections(held[0], node) == 1; }));
  held.push_back(connect());
  held.push_back(connect());
  for (auto& c : held) EXPECT_TRUE(c.ok("ping").contains("time"));
  for (int i = 0; i < 5; ++i) {
    TestClient refused = connect();
    const json r = refused.wait_null_response();
    EXPECT_TRUE(r.at("id").is_null()) << r.dump();
    EXPECT_FALSE(r.at("ok").get<bool>()) << r.dump();
    EXPECT_EQ(error_code(r), "unavailable") << r.dump();
    EXPECT_NE(message_of(r).find("too many connections"), std::string::npos) << r.dump();
    EXPECT_TRUE(refused.wait_closed()) << "a refused connection is closed";
  }
  for (auto& c : held) EXPECT_TRUE(c.ok("ping").contains("time")) << "the admitted stay";
  // One warning for the burst of five, not one per socket.
  EXPECT_EQ(occurrences(node.log(), "refusing connections"), 1u) << node.log();
  // A closed connection gives its place back.
  held.pop_back();
  std::optional<TestClient> again;
  EXPECT_TRUE(eventually([&] {
    TestClient c = connect();
    if (error_code(c.call("ping")) != "") return false;
    again.emplace(std::move(c));
    return true;
  })) << "the place of a closed connection was not released";
}

TEST_F(LimitsTest, ConnectionsBeyondTheNodeCapGetUnavailableAndAreClosed) {
  ChatdProcess& node =
      start_chatd(with_args({"--max-connections", "2", "--max-connections-per-address", "100"}));
  std::vector<TestClient> held;
  held.push_back(connect());
  ASSERT_TRUE(eventually([&] { return open_connections(held[0], node) == 1; }));
  held.push_back(connect());
  EXPECT_TRUE(held[1].ok("ping").contains("time"));
  TestClient refused = connect();
  const json r = refused.wait_null_response();
  EXPECT_EQ(error_code(r), "unavailable") << r.dump();
  EXPECT_NE(message_of(r).find("too many connections to this node"), std::string::npos) << r.dump();
  EXPECT_TRUE(refused.wait_closed());
  EXPECT_EQ(open_connections(held[0], node), 2) << "refused sockets are not counted";
}

// ---- login deadline ------------------------------------------------------------------------

TEST_F(LimitsTest, ConnectionsNotLoggedInByTheDeadlineAreClosed) {
  const TestUser u = db().create_user();
  start_chatd(with_args({"--login-timeout-ms", "800"}));
  TestClient member = login(u);  // logged in: the deadline does not concern it
  TestClient loiterer = connect();
  const auto t0 = Clock::now();
  // Pings do not extend the deadline; only a login meets it.
  std::optional<json> closing;
  while (!closing && !loiterer.closed() && ms_between(t0, Clock::now()) < 5000) {
    try {
      const json r = loiterer.call("ping");
      EXPECT_TRUE(error_code(r).empty()) << r.dump();
      closing = loiterer.wait_null_response(Millis(100));
    } catch (const ClientError&) {
      // No frame yet, or the connection closed under a ping (then the frame came before).
    }
  }
  if (!closing) {
    try {
      closing = loiterer.wait_null_response(Millis(0));
    } catch (const ClientError&) {
    }
  }
  ASSERT_TRUE(closing.has_value()) << "no login-deadline frame within 5 s";
  const long long elapsed = ms_between(t0, Clock::now());
  EXPECT_GE(elapsed, 700);
  EXPECT_EQ(error_code(*closing), "unauthenticated") << closing->dump();
  EXPECT_TRUE(closing->at("id").is_null());
  EXPECT_NE(message_of(*closing).find("login deadline"), std::string::npos) << closing->dump();
  EXPECT_TRUE(loiterer.wait_closed());
  EXPECT_TRUE(member.ok("active_meetings").contains("meetings")) << "the logged-in one stays";
}

// ---- slow consumers ------------------------------------------------------------------------

TEST_F(LimitsTest, AClientThatNeverReadsIsCutOffAndTimedOutOfItsMeetings) {
  const TestUser slow = db().create_user("slow");
  const TestUser talker = db().create_user("talker");
  const TestMeeting m = create_meeting(true);
  ChatdOptions o = with_args(
      {"--max-outbound-bytes", "65536", "--rate-limit", "10000", "--rate-burst", "10000"});
  o.grace_ms = 1000;
  ChatdProcess& node = start_chatd(o);
  TestClient s = login(slow);
  s.ok("join", instance(m));
  TestClient t = login(talker);
  t.ok("join", instance(m));
  // From here on `s` reads nothing: its events pile up in the kernel buffers, then in
  // chatd's queue, until that passes 64 KiB.
  const std::string text(4000, 'x');
  json params = instance(m);
  params["text"] = text;
  int posts = 0;
  while (node.log().find("is not reading") == std::string::npos && posts < 5000) {
    t.ok("post", params);
    ++posts;
    if (posts % 50 == 0) t.clear_events();
  }
  ASSERT_NE(node.log().find("is not reading"), std::string::npos)
      << "no cut-off after " << posts << " posts of 4 kB";
  // The normal grace path then removes the user with reason timeout.
  const json left = t.expect_event(
      [&](const json& e) {
        return event_of("left", m.meeting_id, m.order_id, slow.user_id)(e) &&
               e.value("reason", "") == "timeout";
      },
      "left/timeout of the slow user", Millis(10000));
  EXPECT_EQ(left.value("name", ""), slow.name);
  const json ps = t.ok("participants", instance(m)).at("participants");
  for (const auto& p : ps) EXPECT_NE(p.value("user_id", std::int64_t{0}), slow.user_id);
  // Its connection is gone on the server (only the talker's is left). Not read here: the cut
  // came in the middle of a write, so the stream ends inside a frame, which TestClient would
  // report as a protocol violation.
  EXPECT_TRUE(eventually([&] { return open_connections(t, node) == 1; }))
      << "the slow client's connection must be closed";
  s.close();
}

}  // namespace
}  // namespace chat::test
