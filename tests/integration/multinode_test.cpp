// Replicated chatd (issue "many nodes, one conversation, failover without gaps"): several
// nodes on one Redis act as one server. One order of every chat on every node; kill -9 of a
// node loses no message and no seat of a client that reconnects within the grace period, and
// times out (once) the seat of one that does not; the scheduler lease moves to a survivor;
// a Redis restart is survived without restarting the nodes; `nodes` follows the live set.
// PROTOCOL.md is the oracle; measured failover times are printed for the report.
#include <algorithm>
#include <iostream>
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "chatd_fixture.hpp"
#include "private_redis.hpp"
#include "redis_probe.hpp"

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;
using MultiNodeTest = ChatdTest;

constexpr int kHeartbeatMs = 300;
constexpr int kGraceMs = 2000;
constexpr const char* kLeaseKey = "chat:scheduler:lease";

/// Short intervals, so failover (3 heartbeats) and timeouts (grace) take about a second each.
ChatdOptions fast_options() {
  ChatdOptions o;
  o.heartbeat_ms = kHeartbeatMs;
  o.grace_ms = kGraceMs;
  o.schedule_poll_ms = 300;
  o.dump_interval_ms = 300;
  return o;
}

/// A measured figure: printed (the issue asks for the numbers) and kept in the XML report.
void report(const std::string& what, long long ms) {
  std::cout << "[multinode] " << what << ": " << ms << " ms" << std::endl;
  ::testing::Test::RecordProperty(what, std::to_string(ms));
}

json post_params(const TestMeeting& m, const std::string& text) {
  return {{"meeting_id", m.meeting_id}, {"order_id", m.order_id}, {"text", text}};
}

using Ids = std::vector<std::string>;

Ids ids_of(const json& array) {
  Ids ids;
  for (const auto& m : array) ids.push_back(m.value("message_id", ""));
  return ids;
}

Ids ids_of(const std::vector<json>& events) {
  Ids ids;
  for (const auto& e : events) ids.push_back(e.value("message_id", ""));
  return ids;
}

/// The message events of one instance a connection received so far, in arrival order.
std::vector<json> message_events(const TestClient& c, const TestMeeting& m) {
  return c.events_matching(event_of("message", m.meeting_id, m.order_id));
}

/// The first id that occurs twice, or "" when all are distinct.
std::string first_duplicate(const Ids& ids) {
  std::set<std::string> seen;
  for (const auto& id : ids)
    if (!seen.insert(id).second) return id;
  return "";
}

/// The whole history of an instance through `messages`, paging backwards with `before`
/// (without `after`, a page is the newest `limit`), oldest first.
json all_messages(TestClient& c, const TestMeeting& m, int limit) {
  json all = json::array();
  std::optional<std::string> before;
  for (int pages = 0; pages < 1000; ++pages) {
    json p = instance(m);
    p["limit"] = limit;
    if (before) p["before"] = *before;
    const json page = c.ok("messages", p).at("messages");
    all.insert(all.begin(), page.begin(), page.end());
    if (page.size() < static_cast<std::size_t>(limit)) return all;
    before = page.front().value("message_id", "");
  }
  ADD_FAILURE() << "messages paging did not end";
  return all;
}

/// Everything after `after` (exclusive), paging forwards; the whole history when after is
/// nullopt (a client that saw nothing yet).
json messages_after(TestClient& c, const TestMeeting& m, const std::optional<std::string>& after,
                    int limit = 1000) {
  if (!after) return all_messages(c, m, limit);
  json all = json::array();
  std::string cursor = *after;
  for (int pages = 0; pages < 1000; ++pages) {
    json p = instance(m);
    p["limit"] = limit;
    p["after"] = cursor;
    const json page = c.ok("messages", p).at("messages");
    all.insert(all.end(), page.begin(), page.end());
    if (page.size() < static_cast<std::size_t>(limit)) return all;
    cursor = page.back().value("message_id", "");
  }
  ADD_FAILURE() << "messages paging did not end";
  return all;
}

/// Posts `texts` pipelined on one connection and waits for every answer; returns the
/// results in order ({message_id, ts}). Any error fails the test.
std::vector<json> post_all(TestClient& c, const TestMeeting& m,
                           const std::vector<std::string>& texts) {
  std::vector<std::int64_t> reqs;
  for (const auto& t : texts) reqs.push_back(c.send("post", post_params(m, t)));
  std::vector<json> out;
  for (auto id : reqs) {
    const json r = c.wait_response(id, Millis(10000));
    EXPECT_TRUE(error_code(r).empty()) << "post failed: " << r.dump();
    out.push_back(r.value("result", json::object()));
  }
  return out;
}

std::vector<std::string> numbered(const std::string& prefix, int n) {
  std::vector<std::string> out;
  for (int i = 0; i < n; ++i) out.push_back(prefix + " #" + std::to_string(i));
  return out;
}

/// Index of id in ids, or -1.
long index_of(const Ids& ids, const std::string& id) {
  const auto it = std::find(ids.begin(), ids.end(), id);
  return it == ids.end() ? -1 : static_cast<long>(it - ids.begin());
}

/// The client's view across a failover has no gap and no duplicate compared to `truth` (the
/// one order from `messages`): what it saw live before the crash is a prefix of the truth,
/// the catch-up fetch (`after` the last id seen) continues it exactly, and the live events
/// on the new connection form a contiguous run that starts no later than the fetch ended
/// (overlap with the fetch is allowed: a client merges by id) and reaches the end.
void expect_gapless(const std::string& who, const Ids& before, const Ids& fetched, const Ids& live,
                    const Ids& truth) {
  SCOPED_TRACE(who);
  EXPECT_EQ(first_duplicate(before), "") << "duplicate live event before the crash";
  EXPECT_EQ(first_duplicate(fetched), "") << "duplicate in the catch-up fetch";
  EXPECT_EQ(first_duplicate(live), "") << "duplicate live event after reconnecting";
  ASSERT_LE(before.size(), truth.size());
  EXPECT_TRUE(std::equal(before.begin(), before.end(), truth.begin()))
      << "events before the crash are not a prefix of messages";
  const std::size_t f0 = before.size();
  ASSERT_LE(f0 + fetched.size(), truth.size()) << "fetch returned more than messages holds";
  EXPECT_TRUE(std::equal(fetched.begin(), fetched.end(), truth.begin() + static_cast<long>(f0)))
      << "catch-up fetch does not continue exactly after the last id seen";
  ASSERT_FALSE(live.empty()) << "no live message after reconnecting";
  const long l0 = index_of(truth, live.front());
  ASSERT_GE(l0, 0) << "live event " << live.front() << " is not in messages";
  EXPECT_LE(static_cast<std::size_t>(l0), f0 + fetched.size())
      << "gap between the catch-up fetch (ends at " << f0 + fetched.size()
      << ") and the first live event (at " << l0 << ")";
  ASSERT_LE(static_cast<std::size_t>(l0) + live.size(), truth.size())
      << "more live events than messages after the first one";
  EXPECT_TRUE(std::equal(live.begin(), live.end(), truth.begin() + l0))
      << "live events after reconnecting are not a contiguous run of messages";
  EXPECT_EQ(static_cast<std::size_t>(l0) + live.size(), truth.size())
      << "live events stop before the end of messages";
}

std::vector<EventLogRow> rows_of(const std::vector<EventLogRow>& rows, std::int64_t user) {
  std::vector<EventLogRow> out;
  for (const auto& r : rows)
    if (r.user_id == user) out.push_back(r);
  return out;
}

int count_type(const std::vector<EventLogRow>& rows, int type) {
  return static_cast<int>(std::count_if(
      rows.begin(), rows.end(), [&](const EventLogRow& r) { return r.event_type == type; }));
}

std::string describe(const std::vector<EventLogRow>& rows) {
  std::string s = "[";
  for (const auto& r : rows)
    s += " (user " + std::to_string(r.user_id) + ", type " + std::to_string(r.event_type) + ", " +
         format_timestamp(r.ts) + ")";
  return s + " ]";
}

/// `nodes` as node id -> entry.
std::map<std::string, json> nodes_of(TestClient& c) {
  std::map<std::string, json> out;
  const json list = c.ok("nodes").at("nodes");
  for (const auto& n : list) {
    const std::string id = n.value("node", "");
    EXPECT_FALSE(out.count(id)) << "node listed twice: " << list.dump();
    out[id] = n;
  }
  return out;
}

/// The scheduler lease as {node, token}; "<node>:<token>" with the token after the last ':'.
std::optional<std::pair<std::string, std::string>> lease_holder(RedisProbe& redis) {
  const auto v = redis.get(kLeaseKey);
  if (!v) return std::nullopt;
  const auto colon = v->rfind(':');
  if (colon == std::string::npos) {
    ADD_FAILURE() << kLeaseKey << " is not \"<node_id>:<token>\": " << *v;
    return std::nullopt;
  }
  return std::make_pair(v->substr(0, colon), v->substr(colon + 1));
}

// ---- 1. one order everywhere ---------------------------------------------------------------

TEST_F(MultiNodeTest, SixClientsOnThreeNodesSeeOneOrder) {
  constexpr int kClients = 6;
  constexpr int kPosts = 30;
  std::vector<TestUser> users;
  for (int i = 0; i < kClients; ++i) users.push_back(db().create_user("u"));
  const TestMeeting m = create_meeting(true);
  const auto nodes = start_chatd_nodes_together(3, fast_options());
  std::vector<TestClient> clients;
  for (int i = 0; i < kClients; ++i) clients.push_back(login(users[i], nodes[i % 3]));
  for (auto& c : clients) c.ok("join", instance(m));

  // All pipelined at once, round-robin: 6 connections on 3 nodes race in Redis.
  std::vector<std::vector<std::int64_t>> reqs(kClients);
  for (int r = 0; r < kPosts; ++r)
    for (int i = 0; i < kClients; ++i)
      reqs[i].push_back(clients[i].send(
          "post", post_params(m, "c" + std::to_string(i) + " #" + std::to_string(r))));
  // message_id -> (sender index, text, ts)
  std::map<std::string, std::tuple<int, std::string, UnixMs>> acked;
  for (int i = 0; i < kClients; ++i)
    for (int r = 0; r < kPosts; ++r) {
      const json resp = clients[i].wait_response(reqs[i][r], Millis(15000));
      ASSERT_TRUE(error_code(resp).empty()) << resp.dump();
      const json& res = resp.at("result");
      const bool fresh =
          acked
              .emplace(res.value("message_id", ""),
                       std::make_tuple(i, "c" + std::to_string(i) + " #" + std::to_string(r),
                                       ts_of(res, "ts")))
              .second;
      EXPECT_TRUE(fresh) << "message_id acked twice: " << res.dump();
    }
  const std::size_t total = static_cast<std::size_t>(kClients) * kPosts;
  ASSERT_EQ(acked.size(), total);

  std::vector<Ids> seen(kClients);
  for (int i = 0; i < kClients; ++i) {
    clients[i].expect_events(
        event_of("message", m.meeting_id, m.order_id), total,
        "all " + std::to_string(total) + " messages at client " + std::to_string(i), Millis(15000));
  }
  // Anything late (a duplicate) would arrive within a moment.
  clients[0].drain_for(Millis(300));
  for (int i = 0; i < kClients; ++i) {
    SCOPED_TRACE("client " + std::to_string(i) + " on node " + nodes[i % 3]->node_id());
    const auto events = message_events(clients[i], m);
    seen[i] = ids_of(events);
    EXPECT_EQ(seen[i].size(), total) << "each message exactly once";
    EXPECT_EQ(first_duplicate(seen[i]), "");
    for (const auto& e : events) {
      const auto it = acked.find(e.value("message_id", ""));
      if (it == acked.end()) {
        ADD_FAILURE() << "event for a message nobody posted: " << e.dump();
        continue;
      }
      const auto& [sender, text, ts] = it->second;
      EXPECT_EQ(e.value("user_id", std::int64_t{0}), users[sender].user_id) << e.dump();
      EXPECT_EQ(e.value("name", ""), users[sender].name) << e.dump();
      EXPECT_EQ(e.value("text", ""), text) << e.dump();
      EXPECT_EQ(ts_of(e, "ts"), ts) << "event ts = post result ts: " << e.dump();
    }
    if (i > 0) {
      EXPECT_EQ(seen[i], seen[0]) << "every client sees the same sequence";
    }
  }
  // `messages` through every node: the same one order, also when paged in small pages.
  for (int n = 0; n < 3; ++n) {
    SCOPED_TRACE("messages via node " + nodes[n]->node_id());
    EXPECT_EQ(ids_of(all_messages(clients[n], m, 1000)), seen[0]);
  }
  EXPECT_EQ(ids_of(all_messages(clients[1], m, 37)), seen[0]) << "paged backwards by 37";
  EXPECT_EQ(ids_of(messages_after(clients[2], m, seen[0].front(), 41)),
            Ids(seen[0].begin() + 1, seen[0].end()))
      << "paged forwards by 41";
  // Each sender's posts keep their order (one connection answers in order).
  for (int i = 0; i < kClients; ++i) {
    int next = 0;
    for (const auto& id : seen[0])
      if (std::get<0>(acked[id]) == i) {
        EXPECT_EQ(std::get<1>(acked[id]), "c" + std::to_string(i) + " #" + std::to_string(next));
        ++next;
      }
    EXPECT_EQ(next, kPosts);
  }
}

// ---- 2. kill -9 of a node ------------------------------------------------------------------

TEST_F(MultiNodeTest, KilledNodeClientsResumeWithoutGapAndTheMissingOneTimesOut) {
  const TestUser a1 = db().create_user("a1");  // on A; comes back at once (on B)
  const TestUser a2 = db().create_user("a2");  // on A; comes back once A is gone from nodes (on C)
  const TestUser g = db().create_user("ghost");  // on A; never comes back
  const TestUser b = db().create_user("b");
  const TestUser c = db().create_user("c");
  const TestMeeting m = create_meeting(true);
  const auto nodes = start_chatd_nodes_together(3, fast_options());
  ChatdProcess& A = *nodes[0];
  ChatdProcess& B = *nodes[1];
  ChatdProcess& C = *nodes[2];
  TestClient ca1 = login(a1, &A);
  TestClient ca2 = login(a2, &A);
  TestClient cg = login(g, &A);
  TestClient cb = login(b, &B);
  TestClient cc = login(c, &C);
  std::map<std::int64_t, UnixMs> joined_at;
  const std::vector<std::pair<TestClient*, const TestUser*>> seated{
      {&ca1, &a1}, {&ca2, &a2}, {&cg, &g}, {&cb, &b}, {&cc, &c}};
  for (auto [cl, u] : seated)
    joined_at[u->user_id] = ts_of(cl->ok("join", instance(m)), "joined_at");
  post_all(ca1, m, numbered("a1 early", 5));
  post_all(cb, m, numbered("b early", 5));

  // b's posts are in flight when A dies: A's clients have some of them, not necessarily all.
  std::vector<std::int64_t> inflight;
  for (const auto& t : numbered("b in flight", 40))
    inflight.push_back(cb.send("post", post_params(m, t)));
  ASSERT_EQ(error_code(cb.wait_response(inflight[5], Millis(10000))), "");
  const auto t_kill = Clock::now();
  A.kill();
  for (std::size_t i = 6; i < inflight.size(); ++i)
    ASSERT_EQ(error_code(cb.wait_response(inflight[i], Millis(10000))), "");
  for (TestClient* cl : {&ca1, &ca2, &cg})
    ASSERT_TRUE(cl->wait_closed(Millis(3000))) << "connection to the killed node stays open";
  const Ids before1 = ids_of(message_events(ca1, m));
  const Ids before2 = ids_of(message_events(ca2, m));
  std::cout << "[multinode] a1 saw " << before1.size() << ", a2 saw " << before2.size()
            << " of 50 messages before the crash" << std::endl;

  // a1 reconnects at once, to B (a client notices the closed socket immediately).
  TestClient ca1n = login(a1, &B);
  report("kill to a1 logged in on B", ms_between(t_kill, Clock::now()));
  const json j1 = ca1n.call("join", instance(m));
  EXPECT_TRUE(error_code(j1).empty() && j1["result"].value("resumed", false))
      << "a1 came back within the grace period, on another node, while A's registry entry "
         "had not expired yet: the first join must answer resumed: true; got "
      << j1.dump();
  // Posted after a1's login: these reach a1n live AND are in its catch-up fetch.
  post_all(cc, m, numbered("c overlap", 5));
  std::optional<std::string> last1;
  if (!before1.empty()) last1 = before1.back();
  const Ids fetched1 = ids_of(messages_after(ca1n, m, last1));

  // a2 reconnects once the survivors consider A dead (gone from nodes), still within grace.
  TestClient probe = C.connect();
  std::string nodes_seen;
  const bool a_gone = eventually(
      [&] {
        const auto list = nodes_of(probe);
        nodes_seen = json(list).dump();
        return !list.count(A.node_id());
      },
      Millis(5000), Millis(50));
  const auto t_a_gone = ms_between(t_kill, Clock::now());
  EXPECT_TRUE(a_gone) << "A still in nodes 5 s after kill -9: " << nodes_seen;
  report("kill to A gone from nodes", t_a_gone);
  ASSERT_LT(t_a_gone, kGraceMs - 400) << "too late to test a resume within the grace period";
  TestClient ca2n = login(a2, &C);
  report("kill to a2 logged in on C", ms_between(t_kill, Clock::now()));
  const json j2 = ca2n.call("join", instance(m));
  EXPECT_TRUE(error_code(j2).empty() && j2["result"].value("resumed", false))
      << "a2 came back within the grace period on another node after A's heartbeat expired: "
         "the first join must answer resumed: true; got "
      << j2.dump();
  EXPECT_EQ(ca2n.error("join", instance(m)), "already_joined") << "second join after the resume";
  std::optional<std::string> last2;
  if (!before2.empty()) last2 = before2.back();
  const Ids fetched2 = ids_of(messages_after(ca2n, m, last2));

  // Everyone goes on chatting, the reconnected ones included.
  post_all(cb, m, numbered("b after", 5));
  post_all(cc, m, numbered("c after", 5));
  post_all(ca1n, m, numbered("a1 after", 5));
  post_all(ca2n, m, numbered("a2 after", 5));

  // g never comes back: the survivors time it out after the grace period.
  const auto left_g = cb.wait_for_event(event_of("left", m.meeting_id, m.order_id, g.user_id),
                                        Millis(3 * kHeartbeatMs + kGraceMs + 4000));
  const auto t_left = ms_between(t_kill, Clock::now());
  EXPECT_TRUE(left_g.has_value()) << "no left event for the dead node's client " << g.name
                                  << " within " << 3 * kHeartbeatMs + kGraceMs + 4000
                                  << " ms of kill -9 (expected reason timeout, "
                                  << "about 3 heartbeats + grace after the kill)";
  UnixMs left_ts = 0;
  if (left_g) {
    report("kill to left(timeout) of the client that did not come back", t_left);
    EXPECT_EQ(left_g->value("reason", ""), "timeout") << left_g->dump();
    EXPECT_EQ(left_g->value("name", ""), g.name);
    EXPECT_GE(t_left, kGraceMs - 100) << "timed out before the grace period was over";
    left_ts = ts_of(*left_g, "ts");
    for (TestClient* cl : {&cc, &ca1n, &ca2n}) {
      const json e = cl->expect_event(event_of("left", m.meeting_id, m.order_id, g.user_id),
                                      "left of g on every survivor");
      EXPECT_EQ(e.value("reason", ""), "timeout");
      EXPECT_EQ(ts_of(e, "ts"), left_ts);
    }
  }

  // The one order, and every client's view of it.
  const Ids truth = ids_of(all_messages(cb, m, 1000));
  ASSERT_EQ(truth.size(), 5u + 5 + 40 + 5 + 5 + 5 + 5 + 5);
  EXPECT_EQ(first_duplicate(truth), "");
  for (TestClient* cl : {&cb, &cc, &ca1n, &ca2n})
    cl->expect_event(
        [&](const json& e) {
          return event_of("message", m.meeting_id, m.order_id)(e) &&
                 e.value("message_id", "") == truth.back();
        },
        "the last message, live");
  cb.drain_for(Millis(500));  // room for duplicates or late left events to show up
  for (TestClient* cl : {&cb, &cc}) cl->drain_for(Millis(10));
  EXPECT_EQ(ids_of(message_events(cb, m)), truth) << "b (never disconnected)";
  EXPECT_EQ(ids_of(message_events(cc, m)), truth) << "c (never disconnected)";
  expect_gapless("a1 (reconnected at once, on B)", before1, fetched1,
                 ids_of(message_events(ca1n, m)), truth);
  expect_gapless("a2 (reconnected after A's expiry, on C)", before2, fetched2,
                 ids_of(message_events(ca2n, m)), truth);
  for (TestClient* cl : {&cb, &cc})
    for (const TestUser* u : {&a1, &a2})
      EXPECT_TRUE(
          cl->events_matching(event_of("left", m.meeting_id, m.order_id, u->user_id)).empty())
          << u->name << " came back within the grace period: nobody may see it leave";

  // Seats: a1, a2 kept theirs (joined_at unchanged), g lost its own.
  std::map<std::int64_t, UnixMs> listed;
  for (const json r_ = cb.ok("participants", instance(m)); const auto& p : r_.at("participants"))
    listed[p.value("user_id", std::int64_t{0})] = ts_of(p, "joined_at");
  for (const TestUser* u : {&a1, &a2, &b, &c}) {
    EXPECT_TRUE(listed.count(u->user_id)) << u->name << " lost the seat";
    if (listed.count(u->user_id)) {
      EXPECT_EQ(listed[u->user_id], joined_at[u->user_id]) << u->name;
    }
  }
  EXPECT_FALSE(listed.count(g.user_id))
      << "the client that did not come back is still a participant";

  // Event log in MySQL: g one join and one timeout row (no leave), after several dumps.
  std::vector<EventLogRow> log;
  const bool dumped = eventually(
      [&] {
        log = db().event_log(m.meeting_id, m.order_id);
        return count_type(rows_of(log, g.user_id), 3) >= 1;
      },
      Millis(left_g ? 5000 : 500));
  EXPECT_TRUE(dumped) << "no timeout row for " << g.name << " in event_log: " << describe(log);
  std::this_thread::sleep_for(Millis(1000));  // 3 more dump rounds: no duplicates appear
  log = db().event_log(m.meeting_id, m.order_id);
  const auto gl = rows_of(log, g.user_id);
  EXPECT_EQ(count_type(gl, 1), 1) << describe(gl);
  EXPECT_EQ(count_type(gl, 3), 1) << "exactly one timeout row for g (2 survivors): "
                                  << describe(gl);
  EXPECT_EQ(count_type(gl, 2), 0) << "a timeout is not a leave: " << describe(gl);
  for (const auto& r : gl)
    if (r.event_type == 3 && left_ts) {
      EXPECT_EQ(r.ts, left_ts) << "row ts = left event ts";
    }
  for (const TestUser* u : {&a1, &a2}) {
    const auto ul = rows_of(log, u->user_id);
    EXPECT_EQ(count_type(ul, 1), 1) << u->name << ": " << describe(ul);
    EXPECT_EQ(count_type(ul, 2) + count_type(ul, 3), 0)
        << u->name << " resumed: no leave or timeout row: " << describe(ul);
  }
}

// ---- 3. the scheduler lease ----------------------------------------------------------------

TEST_F(MultiNodeTest, SchedulerLeaseMovesToASurvivorThatStartsAndEndsInstancesOnce) {
  // A private Redis: the lease is cluster-wide, so no node of another test may hold it.
  PrivateRedis redis;
  ChatdOptions o = fast_options();
  o.redis_port = redis.port();
  const TestUser u1 = db().create_user("u1");
  const TestUser u2 = db().create_user("u2");
  const TestUser u3 = db().create_user("u3");
  const TestMeeting ending = create_meeting(true, {}, Millis(-60'000), Millis(3'600'000), "ending");
  const auto nodes = start_chatd_nodes_together(3, o);
  RedisProbe probe("127.0.0.1", redis.port());

  std::optional<std::pair<std::string, std::string>> lease;
  const bool held = eventually(
      [&] {
        lease = lease_holder(probe);
        return lease && std::any_of(nodes.begin(), nodes.end(),
                                    [&](ChatdProcess* n) { return n->node_id() == lease->first; });
      },
      Millis(5000), Millis(50));
  EXPECT_TRUE(held) << "no node of this cluster holds " << kLeaseKey << " 5 s after start; value: "
                    << (lease ? lease->first + ":" + lease->second : std::string("(none)"));
  ChatdProcess* victim = nodes[0];
  if (held)
    for (ChatdProcess* n : nodes)
      if (n->node_id() == lease->first) victim = n;
  if (held) {
    const long long ttl = probe.pttl(kLeaseKey);
    EXPECT_GT(ttl, 0) << "the lease must expire on its own";
    EXPECT_LE(ttl, 3 * kHeartbeatMs) << "lease expiry is 3 heartbeats";
  }
  std::vector<ChatdProcess*> survivors;
  for (ChatdProcess* n : nodes)
    if (n != victim) survivors.push_back(n);

  // Four connections on the survivors: u1 on both, u2 and u3 on one each.
  std::vector<TestClient> conns;
  conns.push_back(login(u1, survivors[0]));
  conns.push_back(login(u1, survivors[1]));
  conns.push_back(login(u2, survivors[1]));
  conns.push_back(login(u3, survivors[0]));
  conns[0].ok("join", instance(ending));
  conns[2].ok("join", instance(ending));
  conns[3].ok("join", instance(ending));

  const auto t_kill = Clock::now();
  victim->kill();
  // While the lease still names the dead node (it was renewed at most one heartbeat ago and
  // lasts 3): `ending` is due in 0.3 s, before any survivor can hold the lease; a new one
  // starts in 1.5 s. Neither may be lost.
  const UnixMs end_at = now_ms() + 300;
  db().set_instance_to(ending.meeting_id, ending.order_id, end_at);
  const TestMeeting starting =
      create_meeting(true, {}, Millis(1500), Millis(3'600'000), "starting after failover");

  if (held) {
    std::optional<std::pair<std::string, std::string>> now_held;
    const bool moved = eventually(
        [&] {
          now_held = lease_holder(probe);
          return now_held && now_held->first != victim->node_id();
        },
        Millis(5000), Millis(25));
    const auto t_moved = ms_between(t_kill, Clock::now());
    EXPECT_TRUE(moved) << "lease still with the dead node (or gone) 5 s after kill -9: "
                       << (now_held ? now_held->first : std::string("(none)"));
    if (moved) {
      report("kill to scheduler lease taken over", t_moved);
      EXPECT_TRUE(std::any_of(survivors.begin(), survivors.end(),
                              [&](ChatdProcess* n) { return n->node_id() == now_held->first; }))
          << "the lease went to " << now_held->first << ", not a live node of this cluster";
      EXPECT_NE(now_held->second, lease->second) << "a new holder gets a new fencing token";
      try {
        EXPECT_GT(std::stoll(now_held->second), std::stoll(lease->second)) << "fencing tokens grow";
      } catch (const std::exception&) {
        // Not numeric: only "different" is promised.
      }
      EXPECT_LE(t_moved, 3 * kHeartbeatMs + kHeartbeatMs + 1000) << "about 3 heartbeats";
      if (t_moved < 300)
        std::cout << "[multinode] note: the lease moved before `ending` was due" << std::endl;
    }
  }

  // The new instance starts on time for every connection, once.
  for (auto& c : conns) {
    const json e =
        c.expect_event(event_of("meeting_started", starting.meeting_id, starting.order_id),
                       "meeting_started after failover",
                       Millis(std::max<long long>(0, starting.from - now_ms()) + 4000));
    EXPECT_EQ(e.value("title", ""), starting.title);
    EXPECT_EQ(ts_of(e, "from"), starting.from);
    EXPECT_EQ(ts_of(e, "to"), starting.to);
  }
  report("meeting_started after its from (lateness)", now_ms() - starting.from);
  report("kill to meeting_started", ms_between(t_kill, Clock::now()));
  // The instance due while no live node held the lease ends too, at its `to`.
  for (auto& c : conns) {
    const json e = c.expect_event(event_of("meeting_ended", ending.meeting_id, ending.order_id),
                                  "meeting_ended of the instance due while its scheduler was dead",
                                  Millis(std::max<long long>(0, end_at - now_ms()) + 4000));
    EXPECT_EQ(ts_of(e, "ts"), end_at);
  }
  conns[0].drain_for(Millis(1200));  // 4 schedule polls: room for a second start or end
  for (auto& c : conns) c.drain_for(Millis(10));
  for (std::size_t i = 0; i < conns.size(); ++i) {
    SCOPED_TRACE("connection " + std::to_string(i));
    EXPECT_EQ(conns[i].events_matching(event_of("meeting_ended", ending.meeting_id)).size(), 1u);
    EXPECT_EQ(conns[i].events_matching(event_of("meeting_started", starting.meeting_id)).size(),
              1u);
    const std::int64_t own = i < 2 ? u1.user_id : (i == 2 ? u2.user_id : u3.user_id);
    const auto lefts =
        conns[i].events_matching(event_of("left", ending.meeting_id, ending.order_id, own));
    ASSERT_EQ(lefts.size(), 1u) << "own left at the meeting's end, once";
    EXPECT_EQ(lefts[0].value("reason", ""), "meeting_ended");
    EXPECT_EQ(ts_of(lefts[0], "ts"), end_at);
  }
  // Both survivors agree on what is active.
  for (ChatdProcess* n : survivors) {
    TestClient c = login(u2, n);
    std::set<std::int64_t> active;
    for (const json r_ = c.ok("active_meetings"); const auto& x : r_.at("meetings"))
      active.insert(x.value("meeting_id", std::int64_t{0}));
    EXPECT_TRUE(active.count(starting.meeting_id)) << n->node_id();
    EXPECT_FALSE(active.count(ending.meeting_id)) << n->node_id();
  }
  // One leave row per participant at the end (ts = to), none twice.
  std::vector<EventLogRow> log;
  eventually([&] {
    log = db().event_log(ending.meeting_id, ending.order_id);
    return count_type(log, 2) >= 3;
  });
  for (const TestUser* u : {&u1, &u2, &u3}) {
    const auto ul = rows_of(log, u->user_id);
    EXPECT_EQ(count_type(ul, 2), 1) << u->name << ": " << describe(ul);
    for (const auto& r : ul)
      if (r.event_type == 2) {
        EXPECT_EQ(r.ts, end_at);
      }
  }
}

// ---- 4. Redis restart ----------------------------------------------------------------------

/// A connection of `user` to `node` that is logged in and seated in `m`, made anew when the
/// old one was closed. Returns false (with `last` set) while the node cannot serve.
bool ensure_seated(std::optional<TestClient>& conn, ChatdProcess& node, const TestUser& user,
                   const TestMeeting& m, std::string& last) {
  try {
    if (!conn || conn->closed()) {
      conn.reset();
      TestClient c = node.connect();
      const json r = c.call("login", {{"user", user.name}, {"password", user.password}});
      if (!error_code(r).empty()) {
        last = "login: " + r.dump();
        return false;
      }
      conn.emplace(std::move(c));
    }
    const json j = conn->call("join", instance(m));
    const std::string code = error_code(j);
    if (!code.empty() && code != "already_joined") {
      last = "join: " + j.dump();
      return false;
    }
    return true;
  } catch (const ClientError& e) {
    last = e.what();
    conn.reset();
    return false;
  }
}

TEST_F(MultiNodeTest, TwoNodesSurviveARedisRestart) {
  PrivateRedis redis;  // AOF with fsync always: the restart keeps the data
  ChatdOptions o = fast_options();
  o.redis_port = redis.port();
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  const auto nodes = start_chatd_nodes_together(2, o);
  std::optional<TestClient> ca, cb;
  ca.emplace(login(a, nodes[0]));
  cb.emplace(login(b, nodes[1]));
  ca->ok("join", instance(m));
  cb->ok("join", instance(m));
  std::vector<json> before = post_all(*ca, m, numbered("a before", 3));
  for (const auto& r : post_all(*cb, m, numbered("b before", 3))) before.push_back(r);
  cb->expect_events(event_of("message", m.meeting_id, m.order_id), 6, "6 messages across nodes");
  ca->expect_events(event_of("message", m.meeting_id, m.order_id), 6, "6 messages across nodes");

  redis.stop();
  const auto t_down = Clock::now();
  using Side = std::tuple<std::optional<TestClient>*, ChatdProcess*, const TestUser*, std::string>;
  const std::vector<Side> sides{{&ca, nodes[0], &a, "node 1"}, {&cb, nodes[1], &b, "node 2"}};
  for (auto [conn, node_, user_, name] : sides) {
    std::string last;
    const bool unavailable = eventually(
        [&] {
          const json r = (*conn)->call("post", post_params(m, "during the outage"));
          last = r.dump();
          const std::string code = error_code(r);
          EXPECT_TRUE(code.empty() || code == "unavailable") << name << ": " << last;
          return code == "unavailable";
        },
        Millis(10000), Millis(100));
    EXPECT_TRUE(unavailable) << name
                             << ": post never answered unavailable with Redis down: " << last;
  }
  report("Redis down to both nodes answering unavailable", ms_between(t_down, Clock::now()));
  for (ChatdProcess* n : nodes) EXPECT_TRUE(n->alive()) << n->node_id() << " exited without Redis";

  redis.start();
  const auto t_up = Clock::now();
  // Both nodes serve again by themselves: seated and posting on each.
  std::vector<json> after;
  for (auto [conn, node, user, name] : sides) {
    std::string last;
    const bool back = eventually(
        [&] {
          if (!ensure_seated(*conn, *node, *user, m, last)) return false;
          const json r =
              (*conn)->call("post", post_params(m, std::string("after restart via ") + name));
          last = r.dump();
          if (!error_code(r).empty()) return false;
          after.push_back(r.at("result"));
          return true;
        },
        Millis(20000), Millis(200));
    ASSERT_TRUE(back) << name
                      << " did not recover within 20 s after Redis came back; last: " << last;
    report(std::string("Redis up to ") + name + " posting again", ms_between(t_up, Clock::now()));
  }
  // The bus works again across nodes, both ways.
  using Hop = std::tuple<std::optional<TestClient>*, std::optional<TestClient>*, std::string>;
  for (auto [from, to, text] :
       std::vector<Hop>{{&ca, &cb, "a to b after restart"}, {&cb, &ca, "b to a after restart"}}) {
    const json r = (*from)->ok("post", post_params(m, text));
    after.push_back(r);
    (*to)->expect_event(
        [&](const json& e) {
          return event_of("message", m.meeting_id, m.order_id)(e) &&
                 e.value("message_id", "") == r.value("message_id", "?") &&
                 e.value("text", "") == text;
        },
        std::string("cross-node message after the restart: ") + text);
  }
  report("Redis up to chatting across nodes", ms_between(t_up, Clock::now()));
  // History: from before the restart, in the order posted, and the new ones after it.
  for (auto* conn : {&ca, &cb}) {
    const Ids ids = ids_of(all_messages(**conn, m, 1000));
    EXPECT_EQ(first_duplicate(ids), "");
    long prev = -1;
    for (const auto& r : before) {
      const long at = index_of(ids, r.value("message_id", "?"));
      EXPECT_GE(at, 0) << "message from before the restart lost: " << r.dump();
      EXPECT_GT(at, prev) << "order of messages from before the restart changed";
      prev = std::max(prev, at);
    }
    for (const auto& r : after) {
      const long at = index_of(ids, r.value("message_id", "?"));
      EXPECT_GT(at, prev) << "message after the restart missing or before older ones: " << r.dump();
    }
  }
}

// ---- 5. nodes ------------------------------------------------------------------------------

TEST_F(MultiNodeTest, NodesListsLiveNodesAndDropsAKilledOneWithinThreeHeartbeats) {
  ChatdOptions o = fast_options();
  const auto pair = start_chatd_nodes_together(2, o);
  o.advertise = "chat-node-3.example.test:7443";  // what clients should dial, not --listen
  ChatdProcess& third = start_chatd(o);
  const std::vector<ChatdProcess*> nodes{pair[0], pair[1], &third};
  std::map<std::string, std::string> want;
  for (ChatdProcess* n : nodes) want[n->node_id()] = n->address();
  want[third.node_id()] = *o.advertise;

  // From every node, before login: all three with their addresses.
  std::vector<TestClient> clients;
  for (ChatdProcess* n : nodes) clients.push_back(n->connect());
  for (std::size_t i = 0; i < nodes.size(); ++i) {
    SCOPED_TRACE("nodes via " + nodes[i]->node_id());
    std::map<std::string, json> seen;
    const bool all = eventually(
        [&] {
          seen = nodes_of(clients[i]);
          return std::all_of(want.begin(), want.end(),
                             [&](const auto& w) { return seen.count(w.first) > 0; });
        },
        Millis(3000));
    EXPECT_TRUE(all) << json(seen).dump();
    for (const auto& [id, address] : want) {
      if (!seen.count(id)) continue;
      const json& entry = seen[id];
      EXPECT_EQ(entry.value("address", ""), address) << entry.dump();
      ASSERT_TRUE(entry.contains("clients") && entry["clients"].is_number_integer())
          << entry.dump();
      EXPECT_GE(entry["clients"].get<std::int64_t>(), 0);
      if (id == nodes[i]->node_id()) {
        EXPECT_GE(entry["clients"].get<std::int64_t>(), 1) << "our own connection counts";
      }
    }
  }

  ChatdProcess& victim = *nodes[1];
  const auto t_kill = Clock::now();
  victim.kill();
  std::map<std::string, json> seen;
  const bool gone = eventually(
      [&] {
        seen = nodes_of(clients[0]);
        return !seen.count(victim.node_id());
      },
      Millis(5000), Millis(25));
  const auto t_gone = ms_between(t_kill, Clock::now());
  ASSERT_TRUE(gone) << "killed node still listed 5 s after kill -9: " << json(seen).dump();
  report("kill to node gone from nodes", t_gone);
  EXPECT_LE(t_gone, 3 * kHeartbeatMs + 600) << "expiry is 3 heartbeats";
  // It stays gone, and the live ones stay listed (seen through both survivors).
  clients[0].drain_for(Millis(2 * kHeartbeatMs));
  for (std::size_t i : {0u, 2u}) {
    const auto now = nodes_of(clients[i]);
    EXPECT_FALSE(now.count(victim.node_id())) << json(now).dump();
    EXPECT_TRUE(now.count(nodes[0]->node_id())) << json(now).dump();
    EXPECT_TRUE(now.count(third.node_id())) << json(now).dump();
  }
}

}  // namespace
}  // namespace chat::test
