// Time-driven behaviour of PROTOCOL.md / SCHEMA.md: instances starting and ending on
// schedule (meeting_started, meeting_ended, left reason meeting_ended, leave rows at `to`),
// reads of ended instances, timeouts after the grace period and resuming a seat.
#include <thread>

#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

using LifecycleTest = ChatdTest;

std::vector<EventLogRow> rows_of(const std::vector<EventLogRow>& log, std::int64_t user_id) {
  std::vector<EventLogRow> out;
  for (const auto& r : log)
    if (r.user_id == user_id) out.push_back(r);
  return out;
}

std::string describe(const std::vector<EventLogRow>& rows) {
  std::string s;
  for (const auto& r : rows)
    s += "\n  user " + std::to_string(r.user_id) + " type " + std::to_string(r.event_type) +
         " ts " + format_timestamp(r.ts);
  return s.empty() ? " (none)" : s;
}

TEST_F(LifecycleTest, MeetingStartedIsSentWhenAnInstanceBecomesActive) {
  const TestUser member = db().create_user("member");
  const TestUser outsider = db().create_user("outsider");
  start_chatd();
  TestClient cm = login(member);
  TestClient co = login(outsider);
  const TestMeeting priv =
      create_meeting(false, {member.email}, Millis(1000), Millis(60'000), "starts soon private");
  const TestMeeting pub =
      create_meeting(true, {}, Millis(1000), Millis(60'000), "starts soon public");
  for (TestClient* c : {&cm, &co}) {
    const json ev = c->expect_event(event_of("meeting_started", pub.meeting_id, pub.order_id),
                                    "meeting_started of the public meeting", Millis(6000));
    EXPECT_EQ(ev.value("title", ""), pub.title);
    EXPECT_EQ(ts_of(ev, "from"), pub.from);
    EXPECT_EQ(ts_of(ev, "to"), pub.to);
  }
  const json ev = cm.expect_event(event_of("meeting_started", priv.meeting_id, priv.order_id),
                                  "meeting_started of the private meeting", Millis(6000));
  const UnixMs arrived = now_ms();
  EXPECT_GE(arrived, priv.from - 50) << "started before its from";
  EXPECT_LE(arrived, priv.from + 2500) << "an instance starts within 1 s of its from once known";
  EXPECT_EQ(ev.value("title", ""), priv.title);
  EXPECT_EQ(ts_of(ev, "from"), priv.from);
  EXPECT_EQ(ts_of(ev, "to"), priv.to);
  co.drain_for(Millis(500));
  EXPECT_TRUE(co.events_matching(event_of("meeting_started", priv.meeting_id)).empty())
      << "outsiders do not hear of private meetings";
  // Now it is active: listed and joinable.
  bool listed = false;
  for (const json r_ = cm.ok("active_meetings"); const auto& m : r_.at("meetings"))
    listed |= m.value("meeting_id", std::int64_t{0}) == priv.meeting_id;
  EXPECT_TRUE(listed);
  EXPECT_EQ(cm.ok("join", instance(priv, false)).value("order_id", std::int64_t{0}), priv.order_id);
}

TEST_F(LifecycleTest, MeetingThatEndsRemovesItsParticipants) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestUser watcher = db().create_user("watcher");
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  TestClient cw = login(watcher);  // may attend, not joined
  const UnixMs now = now_ms();
  const TestMeeting m = add_meeting(true, {}, now - 1000, now + 5000, "ends soon");
  const UnixMs ja = ts_of(ca.ok("join", instance(m)), "joined_at");
  const UnixMs jb = ts_of(cb.ok("join", instance(m)), "joined_at");
  const json posted = ca.ok("post", {{"meeting_id", m.meeting_id}, {"text", "before the end"}});
  ASSERT_LT(now_ms(), m.to) << "setup too slow for this test";

  const Millis wait(std::max<long long>(0, m.to - now_ms()) + 3000);
  const json ended = ca.expect_event(event_of("meeting_ended", m.meeting_id, m.order_id),
                                     "meeting_ended at a", wait);
  EXPECT_GE(now_ms(), m.to - 50) << "ended before its to";
  EXPECT_EQ(ts_of(ended, "ts"), m.to) << "meeting_ended.ts = the instance's to";
  for (auto [client, user] : {std::pair{&ca, &a}, std::pair{&cb, &b}}) {
    SCOPED_TRACE(user->name);
    const json left =
        client->expect_event(event_of("left", m.meeting_id, m.order_id, user->user_id),
                             "own left at meeting end", Millis(3000));
    EXPECT_EQ(left.value("reason", ""), "meeting_ended");
    EXPECT_EQ(ts_of(left, "ts"), m.to) << "left.ts = the instance's to at its end";
    const json e = client->expect_event(event_of("meeting_ended", m.meeting_id, m.order_id),
                                        "meeting_ended", Millis(3000));
    EXPECT_EQ(ts_of(e, "ts"), m.to);
  }
  const json we = cw.expect_event(event_of("meeting_ended", m.meeting_id, m.order_id),
                                  "meeting_ended to a logged-in user who may attend", Millis(3000));
  EXPECT_EQ(ts_of(we, "ts"), m.to);

  // Reads of the ended instance.
  EXPECT_EQ(ca.error("participants", instance(m, true)), "meeting_inactive");
  EXPECT_EQ(ca.error("join", instance(m, true)), "meeting_inactive");
  EXPECT_EQ(
      ca.error("post", {{"meeting_id", m.meeting_id}, {"order_id", m.order_id}, {"text", "late"}}),
      "meeting_inactive");
  EXPECT_EQ(ca.error("messages", instance(m, false)), "meeting_inactive")
      << "no active instance any more";
  const json history = ca.ok("messages", instance(m, true)).at("messages");
  ASSERT_EQ(history.size(), 1u) << history.dump();
  EXPECT_EQ(history[0].value("message_id", ""), posted.value("message_id", "?"));
  EXPECT_EQ(history[0].value("text", ""), "before the end");
  json um = instance(m, true);
  um["user_id"] = a.user_id;
  EXPECT_EQ(ca.ok("user_messages", um).at("messages").size(), 1u);
  for (const json r_ = ca.ok("active_meetings"); const auto& am : r_.at("meetings"))
    EXPECT_NE(am.value("meeting_id", std::int64_t{0}), m.meeting_id)
        << "ended meeting still listed";

  // MySQL: every participant's join row and a leave row at `to`, each once.
  std::vector<EventLogRow> log;
  EXPECT_TRUE(eventually([&] {
    log = db().event_log(m.meeting_id, m.order_id);
    return log.size() >= 4;
  })) << "event_log rows:"
      << describe(log);
  std::this_thread::sleep_for(Millis(1000));  // more dump rounds: still no duplicates
  log = db().event_log(m.meeting_id, m.order_id);
  for (auto [user, joined] : {std::pair{&a, ja}, std::pair{&b, jb}}) {
    SCOPED_TRACE(user->name);
    const auto rows = rows_of(log, user->user_id);
    ASSERT_EQ(rows.size(), 2u) << describe(log);
    EXPECT_EQ(rows[0].event_type, 1);
    EXPECT_EQ(rows[0].ts, joined);
    EXPECT_EQ(rows[1].event_type, 2) << "a meeting's end is a leave (2), not a timeout";
    EXPECT_EQ(rows[1].ts, m.to) << "leave row ts = the instance's to";
  }
  EXPECT_EQ(log.size(), 4u) << describe(log);

  // History stays readable once it lives in MySQL only.
  const json later = ca.ok("messages", instance(m, true)).at("messages");
  ASSERT_EQ(later.size(), 1u);
  EXPECT_EQ(later[0], history[0]) << "same shape from Redis and from MySQL";
}

TEST_F(LifecycleTest, DeletingAnActiveInstanceEndsIt) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  c.ok("join", instance(m));
  db().delete_instance(m.meeting_id, m.order_id);
  c.expect_event(event_of("meeting_ended", m.meeting_id, m.order_id), "meeting_ended after delete",
                 Millis(5000));
  const json left = c.expect_event(event_of("left", m.meeting_id, m.order_id, a.user_id),
                                   "left after delete", Millis(3000));
  EXPECT_EQ(left.value("reason", ""), "meeting_ended");
  EXPECT_EQ(c.error("join", instance(m, false)), "meeting_inactive");
}

TEST_F(LifecycleTest, MovingToIntoThePastEndsTheInstanceAtOnce) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  c.ok("join", instance(m));
  const UnixMs new_to = now_ms() - 500;
  db().set_instance_to(m.meeting_id, m.order_id, new_to);
  const json ended = c.expect_event(event_of("meeting_ended", m.meeting_id, m.order_id),
                                    "meeting_ended after moving to into the past", Millis(5000));
  const json left =
      c.expect_event(event_of("left", m.meeting_id, m.order_id, a.user_id), "left", Millis(3000));
  EXPECT_EQ(left.value("reason", ""), "meeting_ended");
  EXPECT_EQ(ts_of(ended, "ts"), new_to) << "meeting_ended.ts = the instance's (new) to";
  EXPECT_EQ(c.error("participants", instance(m, true)), "meeting_inactive");
}

TEST_F(LifecycleTest, ClientThatVanishesIsRemovedAfterTheGracePeriod) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  start_chatd();  // grace 1500 ms
  TestClient ca = login(a);
  TestClient cb = login(b);
  ca.ok("join", instance(m));
  const UnixMs jb = ts_of(cb.ok("join", instance(m)), "joined_at");
  ca.expect_event(event_of("joined", m.meeting_id, m.order_id, b.user_id), "joined of b");
  const auto t0 = std::chrono::steady_clock::now();
  const UnixMs wall0 = now_ms();
  cb.close();  // no leave
  const json left = ca.expect_event(event_of("left", m.meeting_id, m.order_id, b.user_id),
                                    "left of b with reason timeout", Millis(1500 + 4000));
  const auto elapsed = ms_between(t0, std::chrono::steady_clock::now());
  EXPECT_GE(elapsed, 1500 - 100) << "removed before the grace period was over";
  EXPECT_EQ(left.value("reason", ""), "timeout");
  EXPECT_EQ(left.value("name", ""), b.name);
  const UnixMs left_ts = ts_of(left, "ts");
  EXPECT_GE(left_ts, wall0 + 1500 - 100);
  EXPECT_LE(left_ts, now_ms() + 100);
  for (const json r_ = ca.ok("participants", instance(m)); const auto& p : r_.at("participants"))
    EXPECT_NE(p.value("user_id", std::int64_t{0}), b.user_id) << "timed-out user still listed";

  // One timeout row (3) for b and no leave row (2).
  std::vector<EventLogRow> rows;
  EXPECT_TRUE(eventually([&] {
    rows = rows_of(db().event_log(m.meeting_id, m.order_id), b.user_id);
    return rows.size() >= 2;
  })) << describe(rows);
  std::this_thread::sleep_for(Millis(1000));
  rows = rows_of(db().event_log(m.meeting_id, m.order_id), b.user_id);
  ASSERT_EQ(rows.size(), 2u) << describe(rows);
  EXPECT_EQ(rows[0].event_type, 1);
  EXPECT_EQ(rows[0].ts, jb);
  EXPECT_EQ(rows[1].event_type, 3) << "timeout row, not leave";
  EXPECT_EQ(rows[1].ts, left_ts) << "the row's ts is the left event's ts";
  // b may join again later, as a new join.
  TestClient cb2 = login(b);
  const json again = cb2.ok("join", instance(m));
  EXPECT_FALSE(again.value("resumed", false)) << "after a timeout there is no seat to resume";
}

TEST_F(LifecycleTest, ReconnectWithinGraceKeepsTheSeat) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  start_chatd();  // grace 1500 ms
  TestClient ca = login(a);
  TestClient cb = login(b);
  ca.ok("join", instance(m));
  const UnixMs jb = ts_of(cb.ok("join", instance(m)), "joined_at");
  ca.expect_event(event_of("joined", m.meeting_id, m.order_id, b.user_id), "joined of b");
  ca.clear_events();
  cb.close();
  std::this_thread::sleep_for(Millis(300));
  TestClient cb2 = login(b);  // within the grace period
  // Events reach the resumed user's new connection from login on, even before it re-joins.
  const json posted = ca.ok("post", {{"meeting_id", m.meeting_id}, {"text", "welcome back"}});
  cb2.expect_event(
      [&](const json& e) {
        return event_of("message", m.meeting_id)(e) &&
               e.value("message_id", "") == posted.value("message_id", "?");
      },
      "message on the resumed connection");
  // Well past the grace period: nothing happened to b's seat.
  ca.drain_for(Millis(1500 + 1500));
  EXPECT_TRUE(ca.events_matching(event_of("left", m.meeting_id, m.order_id, b.user_id)).empty())
      << "a resumed seat must not time out";
  EXPECT_TRUE(ca.events_matching(event_of("joined", m.meeting_id, m.order_id, b.user_id)).empty())
      << "resuming sends no events";
  const json r = cb2.ok("join", instance(m, false));
  EXPECT_EQ(r.value("resumed", false), true) << "first join after a resume: " << r.dump();
  EXPECT_EQ(ts_of(r, "joined_at"), jb) << "joined_at unchanged";
  EXPECT_EQ(r.value("order_id", std::int64_t{0}), m.order_id);
  EXPECT_EQ(cb2.error("join", instance(m, false)), "already_joined")
      << "second join after the resume";
  bool listed = false;
  for (const json r_ = ca.ok("participants", instance(m)); const auto& p : r_.at("participants"))
    if (p.value("user_id", std::int64_t{0}) == b.user_id) {
      listed = true;
      EXPECT_EQ(ts_of(p, "joined_at"), jb);
    }
  EXPECT_TRUE(listed);
  // The event log has b's one join and nothing else.
  std::this_thread::sleep_for(Millis(1000));  // several dump rounds
  const auto rows = rows_of(db().event_log(m.meeting_id, m.order_id), b.user_id);
  ASSERT_EQ(rows.size(), 1u) << "a resume writes no log rows:" << describe(rows);
  EXPECT_EQ(rows[0].event_type, 1);
  EXPECT_EQ(rows[0].ts, jb);
}

TEST_F(LifecycleTest, SilentParticipantIsDisconnectedAndTimedOut) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  ChatdOptions o;
  o.idle_timeout_ms = 1000;
  start_chatd(o);
  TestClient ca = login(a);
  TestClient cb = login(b);
  ca.ok("join", instance(m));
  cb.ok("join", instance(m));
  // a keeps its connection alive; b goes silent.
  const auto deadline = std::chrono::steady_clock::now() + Millis(1000 + 1500 + 5000);
  std::optional<json> left;
  while (!left && std::chrono::steady_clock::now() < deadline) {
    ca.ok("ping");
    left = ca.wait_for_event(event_of("left", m.meeting_id, m.order_id, b.user_id), Millis(250));
  }
  ASSERT_TRUE(left.has_value()) << "silent participant not removed within idle + grace + 5 s";
  EXPECT_EQ(left->value("reason", ""), "timeout");
  EXPECT_TRUE(cb.wait_closed(Millis(100))) << "the silent connection must have been closed";
  EXPECT_FALSE(ca.closed());
}

}  // namespace
}  // namespace chat::test
