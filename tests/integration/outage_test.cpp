// `unavailable` (PROTOCOL.md): a backing store that is unreachable gives that error within a
// bounded time — no crash, no hang — and service returns when the store does.
#include <algorithm>
#include <thread>

#include "chatd_fixture.hpp"
#include "private_redis.hpp"

namespace chat::test {
namespace {

using OutageTest = ChatdTest;

TEST_F(OutageTest, RedisDownGivesUnavailableAndServiceComesBack) {
  const TestUser a = db().create_user("a");
  const TestMeeting m = create_meeting(true);
  PrivateRedis redis;
  ChatdOptions o;
  o.redis_port = redis.port();
  ChatdProcess& node = start_chatd(o);
  TestClient c = login(a);
  c.ok("join", instance(m));
  const json before = c.ok("post", {{"meeting_id", m.meeting_id}, {"text", "before the outage"}});

  redis.stop();
  // Every request is still answered within 5 s (TestClient::call throws otherwise); post
  // needs Redis, so it must turn into `unavailable` soon.
  std::string last;
  const bool unavailable = eventually(
      [&] {
        const json r =
            c.call("post", {{"meeting_id", m.meeting_id}, {"text", "during the outage"}});
        last = r.dump();
        const std::string code = error_code(r);
        EXPECT_TRUE(code.empty() || code == "unavailable")
            << "unexpected answer while Redis is down: " << last;
        return code == "unavailable";
      },
      Millis(10000), Millis(200));
  EXPECT_TRUE(unavailable) << "post never gave unavailable with Redis down; last: " << last;
  // Other ops: answered (ok or unavailable), never hanging and never another error.
  for (const auto& [op, params] : std::vector<std::pair<std::string, json>>{
           {"active_meetings", json::object()},
           {"participants", instance(m)},
           {"messages", instance(m)},
           {"join_times", json::object()},
           {"join", instance(m)},
           {"leave", instance(m)},
       }) {
    const json r = c.call(op, params);
    const std::string code = error_code(r);
    EXPECT_TRUE(code.empty() || code == "unavailable" || (op == "join" && code == "already_joined"))
        << op << " with Redis down: " << r.dump();
  }
  EXPECT_TRUE(c.ok("ping").contains("time")) << "ping needs no backing store";
  EXPECT_EQ(connect().ok("hello").value("proto", 0), 1);
  EXPECT_TRUE(node.alive()) << "chatd must not exit when Redis goes away";

  redis.start();
  // Service comes back on its own: a post succeeds again, on the old connection or, if chatd
  // dropped it, on a new one.
  std::optional<TestClient> fresh;
  std::string after_last;
  json after;
  EXPECT_TRUE(eventually(
      [&] {
        try {
          if (c.closed() && !fresh) {
            fresh.emplace(connect());
            fresh->login(a.name, a.password);
          }
          TestClient& use = fresh ? *fresh : c;
          use.call("join", instance(m));  // ok or already_joined; the seat may have been lost
          const json r =
              use.call("post", {{"meeting_id", m.meeting_id}, {"text", "after the outage"}});
          after_last = r.dump();
          if (!error_code(r).empty()) return false;
          after = r.at("result");
          return true;
        } catch (const ClientError& e) {
          after_last = e.what();
          fresh.reset();
          return false;
        }
      },
      Millis(20000), Millis(250)))
      << "service did not come back within 20 s after Redis returned; last: " << after_last;
  TestClient reader = login(a);
  const json history = reader.ok("messages", instance(m)).at("messages");
  std::vector<std::string> ids;
  for (const auto& msg : history) ids.push_back(msg.value("message_id", ""));
  EXPECT_NE(std::find(ids.begin(), ids.end(), before.value("message_id", "?")), ids.end())
      << "the message from before the outage was lost: " << history.dump();
  if (!after.is_null()) {
    EXPECT_NE(std::find(ids.begin(), ids.end(), after.value("message_id", "?")), ids.end())
        << history.dump();
  }
}

TEST_F(OutageTest, MysqlUnreachableGivesUnavailableForLogin) {
  const TestUser a = db().create_user("a");
  ChatdOptions o;
  o.mysql_port = unused_tcp_port();  // nothing listens there
  ChatdProcess& node = start_chatd(o);
  TestClient c = connect();
  const json hello = c.ok("hello");
  EXPECT_EQ(hello.value("proto", 0), 1);
  EXPECT_EQ(hello.value("node", ""), node.node_id());
  EXPECT_TRUE(c.ok("ping").contains("time"));
  const auto t0 = std::chrono::steady_clock::now();
  const json r = c.call("login", {{"user", a.name}, {"password", a.password}}, Millis(10000));
  EXPECT_EQ(error_code(r), "unavailable") << r.dump();
  EXPECT_LT(ms_between(t0, std::chrono::steady_clock::now()), 6000)
      << "login must fail fast, not hang";
  // Ops that need no MySQL keep working; the connection stays usable.
  EXPECT_TRUE(c.ok("ping").contains("time"));
  // nodes lives in Redis (heartbeat registry), so it keeps working; the first heartbeat may
  // still be on its way right after start.
  std::string last_nodes;
  EXPECT_TRUE(eventually(
      [&] {
        const json r = c.ok("nodes");
        last_nodes = r.dump();
        for (const auto& n : r.at("nodes"))
          if (n.value("node", "") == node.node_id()) return true;
        return false;
      },
      Millis(3000)))
      << "nodes must list this node while MySQL is down: " << last_nodes;
  EXPECT_EQ(c.error("active_meetings"), "unauthenticated");
  EXPECT_TRUE(node.alive());
}

}  // namespace
}  // namespace chat::test
