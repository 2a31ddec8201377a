// chatd --metrics-listen (README "Metrics"): the Prometheus endpoint counts what clients did,
// against the real services. The figures are compared exactly where the test controls them
// (its own node, its own clients), and only as "at least" where background work adds to them.
#include "chatd_fixture.hpp"
#include "metrics_scrape.hpp"

namespace chat::test {
namespace {

class MetricsTest : public ChatdTest {
 protected:
  ChatdProcess& start_with_metrics() {
    ChatdOptions o;
    o.extra_args = {"--metrics-listen", "127.0.0.1:0"};
    ChatdProcess& node = start_chatd(o);
    port_ = metrics_port(node);
    return node;
  }
  std::vector<Sample> scrape() {
    const auto r = http_get("127.0.0.1", port_, "/metrics");
    EXPECT_EQ(r.status, 200);
    return parse_metrics(r.body);
  }
  std::uint16_t port_ = 0;
};

TEST_F(MetricsTest, ShowsLoginsJoinsMessagesErrorsAndStoreTimings) {
  const TestMeeting m = create_meeting(/*is_public=*/true);
  ChatdProcess& node = start_with_metrics();
  ASSERT_NE(port_, 0) << node.log();
  const TestUser alice = db().create_user("alice");
  const TestUser bob = db().create_user("bob");
  TestClient a = login(alice);
  TestClient b = login(bob);
  TestClient guesser = connect();
  EXPECT_EQ(guesser.error("login", {{"user", alice.name}, {"password", "not it"}}),
            "invalid_credentials");
  a.ok("join", instance(m, false));
  b.ok("join", instance(m, false));
  for (int i = 0; i < 3; ++i) a.ok("post", {{"meeting_id", m.meeting_id}, {"text", "hi"}});
  b.expect_events([](const json& e) { return e.value("event", "") == "message"; }, 3,
                  "three messages");
  EXPECT_EQ(b.error("join", {{"meeting_id", 999999999}}), "not_found");

  std::vector<Sample> s;
  // The in-process dump commits the three messages within a few of its 300 ms runs.
  const bool dumped = eventually(
      [&] {
        s = scrape();
        return value_of(s, "chat_dump_rows_total", {{"table", "message"}}).value_or(0) >= 3;
      },
      Millis(8000), Millis(200));
  EXPECT_TRUE(dumped) << "chat_dump_rows_total{table=\"message\"} never reached 3";
  const std::map<std::string, std::string> node_label{{"node", node.node_id()}};
  EXPECT_EQ(value_of(s, "chat_messages_in_total", node_label), 3);
  EXPECT_EQ(value_of(s, "chat_messages_out_total"), 6) << "3 messages to 2 participants";
  EXPECT_EQ(value_of(s, "chat_requests_total", {{"op", "post"}}), 3);
  EXPECT_EQ(value_of(s, "chat_requests_total", {{"op", "join"}}), 3);
  EXPECT_EQ(value_of(s, "chat_request_errors_total", {{"op", "join"}, {"code", "not_found"}}), 1);
  EXPECT_EQ(
      value_of(s, "chat_request_errors_total", {{"op", "login"}, {"code", "invalid_credentials"}}),
      1);
  EXPECT_EQ(value_of(s, "chat_logins_total", {{"result", "failed"}}), 1);
  // alice, bob, and the fixture's probe that waited for the meeting.
  EXPECT_GE(value_of(s, "chat_logins_total", {{"result", "ok"}}).value_or(0), 2);
  EXPECT_GE(value_of(s, "chat_connections").value_or(0), 3) << "a, b and the guesser are open";
  EXPECT_GE(value_of(s, "chat_connections_total").value_or(0), 3);
  EXPECT_EQ(value_of(s, "chat_fanout_latency_seconds_count"), 3) << "one per message event";
  EXPECT_GT(value_of(s, "chat_redis_round_trip_seconds_count").value_or(0), 10);
  EXPECT_GE(value_of(s, "chat_request_duration_seconds_count").value_or(0), 9);
  EXPECT_TRUE(value_of(s, "chat_dump_lag_seconds").has_value());
  EXPECT_TRUE(value_of(s, "chat_scheduler_lease_held").has_value());

  // Closing connections shows at the next scrape.
  const double before = value_of(s, "chat_connections").value_or(0);
  guesser.close();
  EXPECT_TRUE(
      eventually([&] { return value_of(scrape(), "chat_connections").value_or(-1) == before - 1; },
                 Millis(3000)));
}

TEST_F(MetricsTest, UnknownPathIsNotFoundAndTheNodeKeepsServing) {
  ChatdProcess& node = start_with_metrics();
  ASSERT_NE(port_, 0) << node.log();
  EXPECT_EQ(http_get("127.0.0.1", port_, "/nope").status, 404);
  EXPECT_EQ(http_get("127.0.0.1", port_, "/metrics").status, 200);
  TestClient c = connect();
  c.ok("ping");
}

TEST_F(MetricsTest, AnAddressInUseStopsChatdWithAClearError) {
  ChatdProcess& first = start_with_metrics();
  ASSERT_NE(port_, 0) << first.log();
  ChatdOptions o;
  o.extra_args = {"--metrics-listen", "127.0.0.1:" + std::to_string(port_)};
  o.wait_until_listening = false;
  ChatdProcess second(o);
  ASSERT_TRUE(eventually([&] { return !second.alive(); }, Millis(10000)))
      << "chatd must not run without the metrics endpoint it was asked for";
  EXPECT_EQ(second.stop(), 1);
  EXPECT_NE(second.log().find("cannot serve metrics on 127.0.0.1:" + std::to_string(port_)),
            std::string::npos)
      << second.log();
}

}  // namespace
}  // namespace chat::test
