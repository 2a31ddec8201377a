// Chatting in an active meeting: joined/left/message events, participants, post limits,
// messages / user_messages paging, join_times, the dump to MySQL, and two nodes sharing a chat.
#include <map>
#include <set>
#include <thread>
#include <tuple>

#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

using ChatTest = ChatdTest;

json post_params(const TestMeeting& m, const std::string& text) {
  return {{"meeting_id", m.meeting_id}, {"text", text}};
}

std::vector<std::string> ids_of(const json& messages) {
  std::vector<std::string> ids;
  for (const auto& m : messages) ids.push_back(m.value("message_id", ""));
  return ids;
}

std::vector<std::string> texts_of(const json& messages) {
  std::vector<std::string> out;
  for (const auto& m : messages) out.push_back(m.value("text", ""));
  return out;
}

json messages_page(TestClient& c, const TestMeeting& m, const json& page) {
  json p = instance(m);
  p.update(page);
  return c.ok("messages", p).at("messages");
}

TEST_F(ChatTest, JoinedAndLeftEventsReachEveryParticipant) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  ca.ok("join", instance(m));
  const json jb = cb.ok("join", instance(m, false));
  for (TestClient* c : {&ca, &cb}) {
    const json ev =
        c->expect_event(event_of("joined", m.meeting_id, m.order_id, b.user_id), "joined of b");
    EXPECT_EQ(ev.value("name", ""), b.name);
    EXPECT_EQ(ts_of(ev, "ts"), ts_of(jb, "joined_at"));
  }
  const json lb = cb.ok("leave", instance(m));
  for (TestClient* c : {&ca, &cb}) {
    const json ev =
        c->expect_event(event_of("left", m.meeting_id, m.order_id, b.user_id), "left of b");
    EXPECT_EQ(ev.value("name", ""), b.name);
    EXPECT_EQ(ev.value("reason", ""), "leave");
    EXPECT_EQ(ts_of(ev, "ts"), ts_of(lb, "left_at"));
  }
  // b is no longer a participant: a's later message does not reach b.
  ca.ok("post", post_params(m, "after b left"));
  ca.expect_event(event_of("message", m.meeting_id), "a's own message");
  cb.drain_for(Millis(300));
  EXPECT_TRUE(cb.events_matching(event_of("message", m.meeting_id)).empty());
}

TEST_F(ChatTest, ParticipantsInJoinOrderWithUserFields) {
  const TestUser a = db().create_user("a", 30, std::string("f"));
  const TestUser b = db().create_user("b", std::nullopt, std::nullopt);
  const TestUser c = db().create_user("c", 55, std::string("m"));
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  TestClient cc = login(c);
  std::map<std::int64_t, UnixMs> joined_at;
  joined_at[c.user_id] = ts_of(cc.ok("join", instance(m)), "joined_at");
  joined_at[a.user_id] = ts_of(ca.ok("join", instance(m)), "joined_at");
  joined_at[b.user_id] = ts_of(cb.ok("join", instance(m)), "joined_at");
  auto check = [&](const std::vector<const TestUser*>& order) {
    const json parts = ca.ok("participants", instance(m, false)).at("participants");
    ASSERT_EQ(parts.size(), order.size()) << parts.dump();
    for (std::size_t i = 0; i < order.size(); ++i) {
      const json& p = parts[i];
      const TestUser& u = *order[i];
      SCOPED_TRACE(p.dump());
      EXPECT_EQ(p.value("user_id", std::int64_t{0}), u.user_id);
      EXPECT_EQ(p.value("name", ""), u.name);
      EXPECT_EQ(p.value("email", ""), u.email);
      ASSERT_TRUE(p.contains("age") && p.contains("gender"));
      if (u.age) {
        EXPECT_EQ(p["age"], *u.age);
      } else {
        EXPECT_TRUE(p["age"].is_null());
      }
      if (u.gender) {
        EXPECT_EQ(p["gender"], *u.gender);
      } else {
        EXPECT_TRUE(p["gender"].is_null());
      }
      EXPECT_EQ(ts_of(p, "joined_at"), joined_at[u.user_id]);
    }
  };
  check({&c, &a, &b});
  // Leaving and joining again moves a to the end, with the new joined_at.
  ca.ok("leave", instance(m));
  check({&c, &b});
  joined_at[a.user_id] = ts_of(ca.ok("join", instance(m)), "joined_at");
  check({&c, &b, &a});
}

TEST_F(ChatTest, PostTextLimits) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  c.ok("join", instance(m));
  EXPECT_EQ(c.error("post", post_params(m, "")), "bad_request");
  EXPECT_EQ(c.error("post", post_params(m, " \t\n")), "bad_request");
  EXPECT_EQ(c.error("post", post_params(m, "\u3000")), "bad_request");
  EXPECT_EQ(c.error("post", post_params(m, "\u00a0\u3000 \u2003\u2028")), "bad_request");
  EXPECT_EQ(c.error("post", post_params(m, std::string(4097, 'x'))), "bad_request");
  EXPECT_EQ(c.error("post", post_params(m, std::string(4095, 'x') + "\u00e9")), "bad_request")
      << "4096 characters but 4097 bytes";
  EXPECT_EQ(c.error("post", {{"meeting_id", m.meeting_id}}), "bad_request");
  EXPECT_EQ(c.error("post", {{"meeting_id", m.meeting_id}, {"text", 5}}), "bad_request");
  std::string euro;  // 4096 bytes exactly
  for (int i = 0; i < 1365; ++i) euro += "\u20ac";
  euro += "!";
  const std::string ascii(4096, 'y');
  const std::string padded = "\u3000 padded \u00a0";
  const json r1 = c.ok("post", post_params(m, euro));
  const json r2 = c.ok("post", post_params(m, ascii));
  const json r3 = c.ok("post", post_params(m, padded));
  EXPECT_TRUE(r1.contains("message_id") && r1["message_id"].is_string()) << r1.dump();
  ts_of(r1, "ts");
  const json msgs = c.ok("messages", instance(m)).at("messages");
  EXPECT_EQ(texts_of(msgs), (std::vector<std::string>{euro, ascii, padded})) << "stored verbatim";
  EXPECT_EQ(ids_of(msgs),
            (std::vector<std::string>{r1.value("message_id", ""), r2.value("message_id", ""),
                                      r3.value("message_id", "")}));
}

TEST_F(ChatTest, MessagesReachEveryParticipantInOneOrder) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestUser watcher = db().create_user("watcher");
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  TestClient cw = login(watcher);  // may attend, but did not join
  ca.ok("join", instance(m));
  cb.ok("join", instance(m));
  // Pipelined from both sides, so the two senders' posts race in the server.
  std::vector<std::pair<TestClient*, std::int64_t>> sent;
  std::map<std::string, std::pair<std::int64_t, std::string>> by_text;  // text -> (user, name)
  for (int i = 0; i < 10; ++i) {
    const std::string ta = "from a #" + std::to_string(i);
    const std::string tb = "from b #" + std::to_string(i) + " \U0001F600";
    sent.emplace_back(&ca, ca.send("post", post_params(m, ta)));
    sent.emplace_back(&cb, cb.send("post", post_params(m, tb)));
    by_text[ta] = {a.user_id, a.name};
    by_text[tb] = {b.user_id, b.name};
  }
  std::map<std::string, UnixMs> ts_by_id;
  for (auto& [client, id] : sent) {
    const json r = client->wait_response(id);
    ASSERT_TRUE(error_code(r).empty()) << r.dump();
    ts_by_id[r["result"].value("message_id", "")] = ts_of(r["result"], "ts");
  }
  ASSERT_EQ(ts_by_id.size(), 20u) << "message ids must be unique";
  const auto ev_a =
      ca.expect_events(event_of("message", m.meeting_id, m.order_id), 20, "20 messages at a");
  const auto ev_b =
      cb.expect_events(event_of("message", m.meeting_id, m.order_id), 20, "20 messages at b");
  ASSERT_EQ(ev_a.size(), 20u) << "no duplicates";
  ASSERT_EQ(ev_b.size(), 20u);
  std::vector<std::string> order_a, order_b;
  for (const auto& e : ev_a) order_a.push_back(e.value("message_id", ""));
  for (const auto& e : ev_b) order_b.push_back(e.value("message_id", ""));
  EXPECT_EQ(order_a, order_b) << "both participants see the same sequence";
  const json listed = ca.ok("messages", instance(m)).at("messages");
  EXPECT_EQ(ids_of(listed), order_a) << "events arrive in messages order";
  for (const auto& e : ev_a) {
    SCOPED_TRACE(e.dump());
    const std::string text = e.value("text", "");
    ASSERT_TRUE(by_text.count(text));
    EXPECT_EQ(e.value("user_id", std::int64_t{0}), by_text[text].first);
    EXPECT_EQ(e.value("name", ""), by_text[text].second);
    EXPECT_EQ(ts_of(e, "ts"), ts_by_id[e.value("message_id", "")]) << "event ts = post result ts";
  }
  // Each sender's own posts keep their relative order.
  std::vector<std::string> a_texts;
  for (const auto& e : ev_a)
    if (e.value("user_id", std::int64_t{0}) == a.user_id) a_texts.push_back(e.value("text", ""));
  for (std::size_t i = 0; i < a_texts.size(); ++i)
    EXPECT_EQ(a_texts[i], "from a #" + std::to_string(i));
  cw.drain_for(Millis(300));
  EXPECT_TRUE(cw.events_matching(event_of("message", m.meeting_id)).empty())
      << "message events go to participants only";
}

TEST_F(ChatTest, MessagesPaging) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  c.ok("join", instance(m));
  std::vector<std::string> id;  // id[i] = message i+1
  for (int i = 1; i <= 7; ++i)
    id.push_back(c.ok("post", post_params(m, "m" + std::to_string(i))).value("message_id", ""));
  auto sub = [&](int from, int to) {  // messages from..to (1-based, inclusive)
    return std::vector<std::string>(id.begin() + from - 1, id.begin() + to);
  };
  EXPECT_EQ(ids_of(messages_page(c, m, json::object())), sub(1, 7)) << "oldest first";
  EXPECT_EQ(ids_of(messages_page(c, m, {{"limit", 3}})), sub(5, 7)) << "the newest `limit`";
  EXPECT_EQ(ids_of(messages_page(c, m, {{"limit", 1}})), sub(7, 7));
  EXPECT_EQ(ids_of(messages_page(c, m, {{"limit", 1000}})), sub(1, 7));
  EXPECT_EQ(ids_of(messages_page(c, m, {{"after", id[1]}, {"limit", 2}})), sub(3, 4))
      << "with after: the first `limit` after it";
  EXPECT_EQ(ids_of(messages_page(c, m, {{"after", id[5]}})), sub(7, 7));
  EXPECT_TRUE(messages_page(c, m, {{"after", id[6]}}).empty());
  EXPECT_EQ(ids_of(messages_page(c, m, {{"before", id[3]}})), sub(1, 3));
  EXPECT_EQ(ids_of(messages_page(c, m, {{"before", id[3]}, {"limit", 2}})), sub(2, 3))
      << "with before: the newest `limit` before it";
  EXPECT_TRUE(messages_page(c, m, {{"before", id[0]}}).empty());
  // Without order_id: the active instance.
  EXPECT_EQ(ids_of(c.ok("messages", {{"meeting_id", m.meeting_id}, {"limit", 2}}).at("messages")),
            sub(6, 7));
  // Fields of one message.
  const json one = messages_page(c, m, {{"after", id[2]}, {"limit", 1}}).at(0);
  EXPECT_EQ(one.value("text", ""), "m4");
  EXPECT_EQ(one.value("user_id", std::int64_t{0}), a.user_id);
  EXPECT_EQ(one.value("name", ""), a.name);
  ts_of(one, "ts");
  // Bad paging.
  json both = instance(m);
  both.update({{"after", id[1]}, {"before", id[4]}});
  EXPECT_EQ(c.error("messages", both), "bad_request");
  for (const json& limit : {json(0), json(1001), json("3"), json(-1), json(2.5)}) {
    json p = instance(m);
    p["limit"] = limit;
    EXPECT_EQ(c.error("messages", p), "bad_request") << limit.dump();
  }
}

TEST_F(ChatTest, MessagesDefaultLimitIs100) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  c.ok("join", instance(m));
  std::vector<std::int64_t> reqs;
  for (int i = 1; i <= 101; ++i)
    reqs.push_back(c.send("post", post_params(m, "n" + std::to_string(i))));
  for (const auto r : reqs) ASSERT_EQ(error_code(c.wait_response(r)), "");
  const json def = c.ok("messages", instance(m)).at("messages");
  ASSERT_EQ(def.size(), 100u);
  EXPECT_EQ(def.front().value("text", ""), "n2") << "the newest 100, oldest first";
  EXPECT_EQ(def.back().value("text", ""), "n101");
  EXPECT_EQ(messages_page(c, m, {{"limit", 1000}}).size(), 101u);
  EXPECT_EQ(messages_page(c, m, {{"limit", 101}}).front().value("text", ""), "n1");
}

TEST_F(ChatTest, UserMessagesShowsOnlyThatUser) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestUser quiet = db().create_user("quiet");
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  ca.ok("join", instance(m));
  cb.ok("join", instance(m));
  std::vector<std::string> a_ids, b_ids;
  for (int i = 1; i <= 3; ++i) {
    a_ids.push_back(ca.ok("post", post_params(m, "a" + std::to_string(i))).value("message_id", ""));
    if (i <= 2)
      b_ids.push_back(
          cb.ok("post", post_params(m, "b" + std::to_string(i))).value("message_id", ""));
  }
  auto user_page = [&](const TestUser& u, const json& page) {
    json p = instance(m);
    p["user_id"] = u.user_id;
    p.update(page);
    return ca.ok("user_messages", p).at("messages");
  };
  const json of_a = user_page(a, json::object());
  EXPECT_EQ(ids_of(of_a), a_ids);
  EXPECT_EQ(texts_of(of_a), (std::vector<std::string>{"a1", "a2", "a3"}));
  for (const auto& msg : of_a) EXPECT_EQ(msg.value("user_id", std::int64_t{0}), a.user_id);
  EXPECT_EQ(ids_of(user_page(b, json::object())), b_ids);
  EXPECT_EQ(ids_of(user_page(b, {{"limit", 1}})), std::vector<std::string>{b_ids[1]});
  EXPECT_EQ(ids_of(user_page(a, {{"after", a_ids[0]}})),
            (std::vector<std::string>{a_ids[1], a_ids[2]}));
  EXPECT_EQ(ids_of(user_page(a, {{"before", a_ids[2]}, {"limit", 1}})),
            std::vector<std::string>{a_ids[1]});
  EXPECT_TRUE(user_page(quiet, json::object()).empty()) << "[] for a user who posted nothing";
  // Without order_id: the active instance.
  EXPECT_EQ(ids_of(ca.ok("user_messages", {{"meeting_id", m.meeting_id}, {"user_id", b.user_id}})
                       .at("messages")),
            b_ids);
  json both = instance(m);
  both.update({{"user_id", a.user_id}, {"after", a_ids[0]}, {"before", a_ids[2]}});
  EXPECT_EQ(ca.error("user_messages", both), "bad_request");
  json zero = instance(m);
  zero.update({{"user_id", a.user_id}, {"limit", 0}});
  EXPECT_EQ(ca.error("user_messages", zero), "bad_request");
}

TEST_F(ChatTest, JoinTimesListsAttendableActiveMeetingsWithCurrentParticipants) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestUser outsider = db().create_user("outsider");
  const TestMeeting pub = create_meeting(true, {}, Millis(-60'000), Millis(3'600'000), "jt public");
  const TestMeeting priv =
      create_meeting(false, {a.email}, Millis(-60'000), Millis(3'600'000), "jt private");
  const TestMeeting empty =
      create_meeting(true, {}, Millis(-60'000), Millis(3'600'000), "jt empty");
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  TestClient co = login(outsider);
  const UnixMs ja = ts_of(ca.ok("join", instance(pub)), "joined_at");
  const UnixMs jb = ts_of(cb.ok("join", instance(pub)), "joined_at");
  UnixMs jpriv = ts_of(ca.ok("join", instance(priv)), "joined_at");
  auto entry = [&](TestClient& c, const TestMeeting& m) -> std::optional<json> {
    for (const json r_ = c.ok("join_times"); const auto& e : r_.at("meetings"))
      if (e.value("meeting_id", std::int64_t{0}) == m.meeting_id) return e;
    return std::nullopt;
  };
  auto participants = [](const json& e) {
    std::vector<std::pair<std::int64_t, UnixMs>> out;
    for (const auto& p : e.at("participants"))
      out.emplace_back(p.value("user_id", std::int64_t{0}), ts_of(p, "joined_at"));
    return out;
  };
  const auto e_pub = entry(ca, pub);
  ASSERT_TRUE(e_pub.has_value());
  EXPECT_EQ(e_pub->value("order_id", std::int64_t{0}), pub.order_id);
  EXPECT_EQ(e_pub->value("title", ""), pub.title);
  std::set<std::pair<std::int64_t, UnixMs>> got_pub;
  for (const auto& p : participants(*e_pub)) got_pub.insert(p);
  EXPECT_EQ(got_pub, (std::set<std::pair<std::int64_t, UnixMs>>{{a.user_id, ja}, {b.user_id, jb}}));
  for (const auto& p : e_pub->at("participants")) {
    const bool is_a = p.value("user_id", std::int64_t{0}) == a.user_id;
    EXPECT_EQ(p.value("name", ""), is_a ? a.name : b.name);
  }
  const auto e_priv = entry(ca, priv);
  ASSERT_TRUE(e_priv.has_value());
  EXPECT_EQ(participants(*e_priv),
            (std::vector<std::pair<std::int64_t, UnixMs>>{{a.user_id, jpriv}}));
  const auto e_empty = entry(ca, empty);
  ASSERT_TRUE(e_empty.has_value()) << "one entry per active meeting the user may attend";
  EXPECT_TRUE(e_empty->at("participants").empty());
  // The outsider sees the public meetings, not the private one.
  EXPECT_TRUE(entry(co, pub).has_value());
  EXPECT_FALSE(entry(co, priv).has_value());
  // Current participants only; joined_at is the latest join.
  cb.ok("leave", instance(pub));
  EXPECT_EQ(participants(*entry(ca, pub)),
            (std::vector<std::pair<std::int64_t, UnixMs>>{{a.user_id, ja}}));
  ca.ok("leave", instance(priv));
  std::this_thread::sleep_for(Millis(20));  // so the rejoin has a later millisecond
  jpriv = ts_of(ca.ok("join", instance(priv)), "joined_at");
  EXPECT_EQ(participants(*entry(ca, priv)),
            (std::vector<std::pair<std::int64_t, UnixMs>>{{a.user_id, jpriv}}));
}

TEST_F(ChatTest, MessagesAndEventLogReachMysqlExactlyOnce) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  start_chatd();  // dump every 300 ms
  TestClient ca = login(a);
  TestClient cb = login(b);
  const UnixMs ja = ts_of(ca.ok("join", instance(m)), "joined_at");
  const UnixMs jb = ts_of(cb.ok("join", instance(m)), "joined_at");
  const std::vector<std::string> texts = {"plain", "4-byte \U0001F600 and \u00e9",
                                          "quotes \" \\ and\nnewline"};
  std::vector<json> posted;
  for (const auto& t : texts) posted.push_back(ca.ok("post", post_params(m, t)));
  const UnixMs lb = ts_of(cb.ok("leave", instance(m)), "left_at");

  std::vector<MessageRow> rows;
  EXPECT_TRUE(eventually([&] {
    rows = db().messages(m.meeting_id, m.order_id);
    return rows.size() >= texts.size();
  })) << "messages not in MySQL within 5 s (dump interval 300 ms); rows: "
      << rows.size();
  std::vector<EventLogRow> log;
  EXPECT_TRUE(eventually([&] {
    log = db().event_log(m.meeting_id, m.order_id);
    return log.size() >= 3;
  })) << "event_log not in MySQL within 5 s; rows: "
      << log.size();
  // Several more dump rounds must not duplicate anything.
  std::this_thread::sleep_for(Millis(1500));
  rows = db().messages(m.meeting_id, m.order_id);
  log = db().event_log(m.meeting_id, m.order_id);
  ASSERT_EQ(rows.size(), texts.size()) << "each message exactly once";
  for (std::size_t i = 0; i < texts.size(); ++i) {
    SCOPED_TRACE(i);
    EXPECT_EQ(rows[i].message_id, posted[i].value("message_id", ""));
    EXPECT_EQ(rows[i].user_id, a.user_id);
    EXPECT_EQ(rows[i].text, texts[i]);
    EXPECT_EQ(rows[i].ts, ts_of(posted[i], "ts"));
  }
  ASSERT_EQ(log.size(), 3u) << "join a, join b, leave b: each exactly once";
  std::multiset<std::tuple<std::int64_t, int, UnixMs>> got,
      want{{a.user_id, 1, ja}, {b.user_id, 1, jb}, {b.user_id, 2, lb}};
  for (const auto& r : log) got.insert({r.user_id, r.event_type, r.ts});
  EXPECT_EQ(got, want);
  // The messages op gives the same after the dump.
  EXPECT_EQ(ids_of(ca.ok("messages", instance(m)).at("messages")),
            (std::vector<std::string>{rows[0].message_id, rows[1].message_id, rows[2].message_id}));
}

TEST_F(ChatTest, TwoNodesShareOneChat) {
  const TestUser a = db().create_user("a");
  const TestUser b = db().create_user("b");
  const TestMeeting m = create_meeting(true);
  ChatdProcess& n1 = start_chatd();
  ChatdProcess& n2 = start_chatd();
  TestClient ca = login(a, &n1);
  TestClient cb = login(b, &n2);
  // nodes lists both live nodes, from either node.
  std::map<std::string, std::string> seen;
  EXPECT_TRUE(eventually([&] {
    seen.clear();
    for (const json r_ = cb.ok("nodes"); const auto& n : r_.at("nodes"))
      seen[n.value("node", "")] = n.value("address", "");
    return seen.count(n1.node_id()) && seen.count(n2.node_id());
  }));
  EXPECT_EQ(seen[n1.node_id()], n1.address());
  EXPECT_EQ(seen[n2.node_id()], n2.address());

  ca.ok("join", instance(m));
  cb.ok("join", instance(m));
  ca.expect_event(event_of("joined", m.meeting_id, m.order_id, b.user_id),
                  "joined of b (other node)");
  EXPECT_EQ(cb.error("join", instance(m)), "already_joined");
  std::vector<std::int64_t> ra, rb;
  for (int i = 0; i < 5; ++i) {
    ra.push_back(ca.send("post", post_params(m, "n1 #" + std::to_string(i))));
    rb.push_back(cb.send("post", post_params(m, "n2 #" + std::to_string(i))));
  }
  for (auto r : ra) ASSERT_EQ(error_code(ca.wait_response(r)), "");
  for (auto r : rb) ASSERT_EQ(error_code(cb.wait_response(r)), "");
  const auto ev_a =
      ca.expect_events(event_of("message", m.meeting_id), 10, "10 messages on node 1");
  const auto ev_b =
      cb.expect_events(event_of("message", m.meeting_id), 10, "10 messages on node 2");
  std::vector<std::string> oa, ob;
  for (const auto& e : ev_a) oa.push_back(e.value("message_id", ""));
  for (const auto& e : ev_b) ob.push_back(e.value("message_id", ""));
  EXPECT_EQ(oa, ob) << "one order on every node";
  EXPECT_EQ(ids_of(ca.ok("messages", instance(m)).at("messages")), oa);
  EXPECT_EQ(ids_of(cb.ok("messages", instance(m)).at("messages")), oa);
  const json parts = cb.ok("participants", instance(m)).at("participants");
  ASSERT_EQ(parts.size(), 2u) << parts.dump();
  EXPECT_EQ(parts[0].value("user_id", std::int64_t{0}), a.user_id);
  EXPECT_EQ(parts[1].value("user_id", std::int64_t{0}), b.user_id);
  cb.ok("leave", instance(m));
  const json left = ca.expect_event(event_of("left", m.meeting_id, m.order_id, b.user_id),
                                    "left of b (other node)");
  EXPECT_EQ(left.value("reason", ""), "leave");
}

TEST_F(ChatTest, NodesStartingTogetherAllSeeEveryActiveMeeting) {
  // Schedule changes are picked up by every node within 5 s (SCHEMA.md). Nodes that start at
  // the same moment race each other activating the instances; each must still end up with all
  // of them, whichever node activated them and whenever its own bus subscription went live.
  const TestUser a = db().create_user();
  std::vector<TestMeeting> meetings;
  for (int i = 0; i < 4; ++i)
    meetings.push_back(create_meeting(true, {}, Millis(-60'000), Millis(3'600'000), "together"));
  const auto nodes = start_chatd_nodes_together(4);
  // And they act as one cluster: a join on one node shows in participants on another.
  TestClient c1 = login(a, nodes[0]);
  c1.ok("join", instance(meetings[0]));
  TestClient c2 = login(a, nodes[3]);
  const json parts = c2.ok("participants", instance(meetings[0])).at("participants");
  ASSERT_EQ(parts.size(), 1u) << parts.dump();
  EXPECT_EQ(parts[0].value("user_id", std::int64_t{0}), a.user_id);
}

TEST_F(ChatTest, OneUserOnTwoNodesIsOneParticipant) {
  // "Membership is per user": a second connection of a live user is not a resume, on any node.
  const TestUser u = db().create_user("u");
  const TestUser v = db().create_user("v");
  const TestMeeting m = create_meeting(true);
  ChatdProcess& n1 = start_chatd();
  ChatdProcess& n2 = start_chatd();
  TestClient c1 = login(u, &n1);
  const UnixMs joined_at = ts_of(c1.ok("join", instance(m)), "joined_at");
  TestClient c2 = login(u, &n2);
  const json r = c2.call("join", instance(m));
  EXPECT_EQ(error_code(r), "already_joined")
      << "u never lost its connection on node 1, so a join from node 2 is not a resume: "
      << r.dump();
  TestClient cv = login(v, &n2);
  cv.ok("join", instance(m));
  const json posted = cv.ok("post", {{"meeting_id", m.meeting_id}, {"text", "to both nodes"}});
  const auto is_msg = [&](const json& e) {
    return event_of("message", m.meeting_id)(e) &&
           e.value("message_id", "") == posted.value("message_id", "?");
  };
  c1.expect_event(is_msg, "message on u's node-1 connection");
  c2.expect_event(is_msg, "message on u's node-2 connection");
  const json parts = cv.ok("participants", instance(m)).at("participants");
  ASSERT_EQ(parts.size(), 2u) << parts.dump();
  EXPECT_EQ(parts[0].value("user_id", std::int64_t{0}), u.user_id);
  EXPECT_EQ(ts_of(parts[0], "joined_at"), joined_at);
}

}  // namespace
}  // namespace chat::test
