// Who may see and join what: active_meetings, join, leave and the error precedence of
// PROTOCOL.md (bad_request, unauthenticated, not_found meeting, forbidden, not_found
// instance/user, meeting_inactive, already_joined/not_joined).
#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

using AccessTest = ChatdTest;

// A meeting id that does not exist: far above every id in use, still a valid protocol integer.
std::int64_t unknown_meeting_id(MysqlFixture& db) {
  const auto rows = db.query("SELECT COALESCE(MAX(meeting_id), 0) + 1000000 FROM meeting");
  return std::stoll(rows.at(0).at(0).value());
}

std::vector<json> ours(const json& meetings, const std::vector<TestMeeting>& mine) {
  std::vector<json> out;
  for (const auto& m : meetings)
    for (const auto& t : mine)
      if (m.value("meeting_id", std::int64_t{0}) == t.meeting_id) out.push_back(m);
  return out;
}

TEST_F(AccessTest, ActiveMeetingsListsOnlyAttendableMeetingsSortedWithAllFields) {
  const TestUser member = db().create_user("member");
  const TestUser outsider = db().create_user("outsider");
  std::string upper_email = member.email;
  for (auto& ch : upper_email) ch = static_cast<char>(std::toupper(static_cast<unsigned char>(ch)));
  const UnixMs now = now_ms();
  const UnixMs hour = 3'600'000;
  const TestMeeting pub_a = add_meeting(true, {}, now - 30 * 60'000, now + hour, "pub A");
  const TestMeeting pub_d =
      add_meeting(true, {}, pub_a.from, now + 2 * hour, "pub D same from", std::nullopt);
  const TestMeeting priv_b =
      add_meeting(false, {member.email}, now - 20 * 60'000, now + hour, "priv B");
  const TestMeeting priv_c =
      add_meeting(false, {"someone-else@example.test"}, now - 10 * 60'000, now + hour, "priv C");
  const TestMeeting priv_g =
      add_meeting(false, {upper_email}, now - 5 * 60'000, now + hour, "priv G upper");
  const TestMeeting future = add_meeting(true, {}, now + hour, now + 2 * hour, "future");
  const TestMeeting ended = add_meeting(true, {}, now - 2 * hour, now - hour, "ended");
  start_chatd();

  TestClient cm = login(member);
  const json all = cm.ok("active_meetings").at("meetings");
  ASSERT_TRUE(all.is_array());
  // Sorted by from, then meeting_id, over the whole list (other tests' meetings included).
  for (std::size_t i = 1; i < all.size(); ++i) {
    const auto a =
        std::make_pair(ts_of(all[i - 1], "from"), all[i - 1].value("meeting_id", std::int64_t{0}));
    const auto b =
        std::make_pair(ts_of(all[i], "from"), all[i].value("meeting_id", std::int64_t{0}));
    EXPECT_LT(a, b) << "not sorted at index " << i << ": " << all[i - 1].dump() << " / "
                    << all[i].dump();
  }
  const auto mine = ours(all, {pub_a, pub_d, priv_b, priv_c, priv_g, future, ended});
  std::vector<std::int64_t> ids;
  for (const auto& m : mine) ids.push_back(m.value("meeting_id", std::int64_t{0}));
  EXPECT_EQ(ids, (std::vector<std::int64_t>{pub_a.meeting_id, pub_d.meeting_id, priv_b.meeting_id,
                                            priv_g.meeting_id}))
      << "member sees public + own private meetings (audience email matched case-insensitively), "
         "no other private, future or ended ones";

  const std::vector<TestMeeting> expected = {pub_a, pub_d, priv_b, priv_g};
  for (std::size_t i = 0; i < mine.size() && i < expected.size(); ++i) {
    const json& m = mine[i];
    const TestMeeting& t = expected[i];
    SCOPED_TRACE(m.dump());
    EXPECT_EQ(m.value("order_id", std::int64_t{0}), t.order_id);
    EXPECT_EQ(m.value("title", ""), t.title);
    ASSERT_TRUE(m.contains("is_public") && m["is_public"].is_boolean());
    EXPECT_EQ(m["is_public"].get<bool>(), t.is_public);
    EXPECT_EQ(ts_of(m, "from"), t.from);
    EXPECT_EQ(ts_of(m, "to"), t.to);
    EXPECT_EQ(m.value("participant_count", -1), 0);
    ASSERT_TRUE(m.contains("description"));
    if (t.meeting_id == pub_d.meeting_id) {
      EXPECT_TRUE(m["description"].is_null());
    } else {
      EXPECT_EQ(m["description"], "test meeting");
    }
  }

  TestClient co = login(outsider);
  std::vector<std::int64_t> outsider_ids;
  for (const auto& m :
       ours(co.ok("active_meetings").at("meetings"), {pub_a, pub_d, priv_b, priv_c, priv_g}))
    outsider_ids.push_back(m.value("meeting_id", std::int64_t{0}));
  EXPECT_EQ(outsider_ids, (std::vector<std::int64_t>{pub_a.meeting_id, pub_d.meeting_id}))
      << "private meetings are invisible to outsiders";

  // participant_count follows joins and leaves.
  cm.ok("join", instance(pub_a, false));
  co.ok("join", instance(pub_a, false));
  auto count_of = [&](TestClient& c, const TestMeeting& t) {
    for (const json r_ = c.ok("active_meetings"); const auto& m : r_.at("meetings"))
      if (m.value("meeting_id", std::int64_t{0}) == t.meeting_id)
        return m.value("participant_count", -1);
    return -2;
  };
  EXPECT_TRUE(eventually([&] { return count_of(co, pub_a) == 2; }, Millis(3000)))
      << "participant_count " << count_of(co, pub_a);
  co.ok("leave", instance(pub_a));
  EXPECT_TRUE(eventually([&] { return count_of(cm, pub_a) == 1; }, Millis(3000)))
      << "participant_count " << count_of(cm, pub_a);
}

TEST_F(AccessTest, JoinPublicMeetingWithAndWithoutOrderId) {
  const TestUser a = db().create_user();
  const TestUser b = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient ca = login(a);
  TestClient cb = login(b);
  const UnixMs before = now_ms();
  const json ra = ca.ok("join", instance(m, false));
  const UnixMs after = now_ms();
  EXPECT_EQ(ra.value("meeting_id", std::int64_t{0}), m.meeting_id);
  EXPECT_EQ(ra.value("order_id", std::int64_t{0}), m.order_id) << "the active instance is meant";
  const UnixMs joined_at = ts_of(ra, "joined_at");
  EXPECT_GE(joined_at, before - 1000);
  EXPECT_LE(joined_at, after + 1000);
  const json ev =
      ca.expect_event(event_of("joined", m.meeting_id, m.order_id, a.user_id), "own joined event");
  EXPECT_EQ(ev.value("name", ""), a.name);
  EXPECT_EQ(ts_of(ev, "ts"), joined_at) << "joined.ts = joined_at";

  const json rb = cb.ok("join", instance(m, true));
  EXPECT_EQ(rb.value("order_id", std::int64_t{0}), m.order_id);
  EXPECT_FALSE(rb.value("resumed", false)) << "a fresh join is not a resume";
}

TEST_F(AccessTest, JoinPrivateMeetingNeedsAudience) {
  const TestUser member = db().create_user("member");
  const TestUser outsider = db().create_user("outsider");
  const TestMeeting m = create_meeting(false, {member.email});
  start_chatd();
  TestClient co = login(outsider);
  EXPECT_EQ(co.error("join", instance(m, false)), "forbidden");
  EXPECT_EQ(co.error("join", instance(m, true)), "forbidden");
  TestClient cm = login(member);
  EXPECT_EQ(cm.ok("join", instance(m, false)).value("order_id", std::int64_t{0}), m.order_id);
  // The outsider must not get the private meeting's events either.
  cm.ok("post", {{"meeting_id", m.meeting_id}, {"text", "members only"}});
  cm.expect_event(event_of("message", m.meeting_id), "member sees own message");
  co.drain_for(Millis(300));
  EXPECT_TRUE(co.events_matching([&](const json& e) {
                  return e.value("meeting_id", std::int64_t{0}) == m.meeting_id;
                }).empty());
}

TEST_F(AccessTest, PrivateMeetingReadsAreForbiddenToOutsiders) {
  const TestUser member = db().create_user("member");
  const TestUser outsider = db().create_user("outsider");
  const TestMeeting m = create_meeting(false, {member.email});
  start_chatd();
  TestClient cm = login(member);
  cm.ok("join", instance(m));
  cm.ok("post", {{"meeting_id", m.meeting_id}, {"text", "secret"}});
  TestClient co = login(outsider);
  for (const bool with_order : {false, true}) {
    EXPECT_EQ(co.error("participants", instance(m, with_order)), "forbidden");
    EXPECT_EQ(co.error("messages", instance(m, with_order)), "forbidden");
    json um = instance(m, with_order);
    um["user_id"] = member.user_id;
    EXPECT_EQ(co.error("user_messages", um), "forbidden");
    EXPECT_EQ(co.error("post", {{"meeting_id", m.meeting_id}, {"text", "x"}}), "forbidden");
    EXPECT_EQ(co.error("leave", instance(m, with_order)), "forbidden");
  }
  bool listed = false;
  for (const json r_ = co.ok("join_times"); const auto& j : r_.at("meetings"))
    listed |= j.value("meeting_id", std::int64_t{0}) == m.meeting_id;
  EXPECT_FALSE(listed) << "join_times lists only meetings the user may attend";
  // The member may read.
  EXPECT_EQ(cm.ok("participants", instance(m)).at("participants").size(), 1u);
  EXPECT_EQ(cm.ok("messages", instance(m)).at("messages").size(), 1u);
}

TEST_F(AccessTest, UnknownMeetingOrInstanceIsNotFound) {
  const TestUser member = db().create_user("member");
  const TestUser outsider = db().create_user("outsider");
  const TestMeeting pub = create_meeting(true);
  const TestMeeting priv = create_meeting(false, {member.email});
  const std::int64_t unknown = unknown_meeting_id(db());
  start_chatd();
  TestClient cm = login(member);
  TestClient co = login(outsider);
  for (const std::int64_t mid : {unknown, std::numeric_limits<std::int64_t>::max()}) {
    SCOPED_TRACE(mid);
    EXPECT_EQ(cm.error("join", {{"meeting_id", mid}}), "not_found");
    EXPECT_EQ(cm.error("join", {{"meeting_id", mid}, {"order_id", 1}}), "not_found");
    EXPECT_EQ(cm.error("leave", {{"meeting_id", mid}}), "not_found")
        << "not_found precedes not_joined";
    EXPECT_EQ(cm.error("participants", {{"meeting_id", mid}}), "not_found");
    EXPECT_EQ(cm.error("post", {{"meeting_id", mid}, {"text", "x"}}), "not_found");
    EXPECT_EQ(cm.error("messages", {{"meeting_id", mid}}), "not_found");
    EXPECT_EQ(cm.error("user_messages", {{"meeting_id", mid}, {"user_id", member.user_id}}),
              "not_found");
  }
  // Unknown instance of a public meeting.
  EXPECT_EQ(cm.error("join", {{"meeting_id", pub.meeting_id}, {"order_id", 999}}), "not_found");
  EXPECT_EQ(co.error("messages", {{"meeting_id", pub.meeting_id}, {"order_id", 999}}), "not_found");
  // Unknown instance of a private meeting: the member learns it does not exist ...
  EXPECT_EQ(cm.error("join", {{"meeting_id", priv.meeting_id}, {"order_id", 999}}), "not_found");
  EXPECT_EQ(cm.error("participants", {{"meeting_id", priv.meeting_id}, {"order_id", 999}}),
            "not_found");
  // ... an outsider only that the meeting is private (forbidden precedes not_found instance).
  EXPECT_EQ(co.error("join", {{"meeting_id", priv.meeting_id}, {"order_id", 999}}), "forbidden");
  EXPECT_EQ(co.error("messages", {{"meeting_id", priv.meeting_id}, {"order_id", 999}}),
            "forbidden");
}

TEST_F(AccessTest, UserMessagesOfUnknownUserIsNotFound) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  const auto rows = db().query("SELECT COALESCE(MAX(user_id), 0) + 1000000 FROM `user`");
  const std::int64_t unknown_user = std::stoll(rows.at(0).at(0).value());
  EXPECT_EQ(c.error("user_messages", {{"meeting_id", m.meeting_id}, {"user_id", unknown_user}}),
            "not_found");
  EXPECT_EQ(c.error("user_messages", {{"meeting_id", m.meeting_id},
                                      {"order_id", m.order_id},
                                      {"user_id", std::numeric_limits<std::int64_t>::max()}}),
            "not_found");
}

TEST_F(AccessTest, InstanceNotActiveIsMeetingInactive) {
  const TestUser member = db().create_user("member");
  const TestUser outsider = db().create_user("outsider");
  const TestMeeting future =
      create_meeting(true, {}, Millis(3'600'000), Millis(7'200'000), "future");
  const TestMeeting ended =
      create_meeting(true, {}, Millis(-7'200'000), Millis(-3'600'000), "ended");
  const TestMeeting priv_future =
      create_meeting(false, {member.email}, Millis(3'600'000), Millis(7'200'000), "private future");
  const std::int64_t no_instance = db().create_meeting("no instance", true);
  start_chatd();
  TestClient cm = login(member);
  TestClient co = login(outsider);
  for (const TestMeeting* m : {&future, &ended, &priv_future}) {
    SCOPED_TRACE(m->title);
    for (const bool with_order : {true, false}) {
      SCOPED_TRACE(with_order ? "explicit order_id" : "active instance");
      EXPECT_EQ(cm.error("join", instance(*m, with_order)), "meeting_inactive");
      EXPECT_EQ(cm.error("participants", instance(*m, with_order)), "meeting_inactive");
      EXPECT_EQ(cm.error("leave", instance(*m, with_order)), "meeting_inactive")
          << "meeting_inactive precedes not_joined";
      json post = instance(*m, with_order);
      post["text"] = "hi";
      EXPECT_EQ(cm.error("post", post), "meeting_inactive")
          << "meeting_inactive precedes not_joined";
      // Even `ended` never became active (its window passed before chatd knew it), so reading
      // its messages is meeting_inactive as well.
      EXPECT_EQ(cm.error("messages", instance(*m, with_order)), "meeting_inactive");
      json um = instance(*m, with_order);
      um["user_id"] = member.user_id;
      EXPECT_EQ(cm.error("user_messages", um), "meeting_inactive");
    }
  }
  // A meeting without any instance has no active instance.
  EXPECT_EQ(cm.error("join", {{"meeting_id", no_instance}}), "meeting_inactive");
  EXPECT_EQ(cm.error("messages", {{"meeting_id", no_instance}}), "meeting_inactive");
  // Precedence: forbidden before meeting_inactive for outsiders of a private meeting.
  EXPECT_EQ(co.error("join", instance(priv_future, true)), "forbidden");
  EXPECT_EQ(co.error("join", instance(priv_future, false)), "forbidden");
  EXPECT_EQ(co.error("participants", instance(priv_future, true)), "forbidden");
}

TEST_F(AccessTest, AlreadyJoinedAndNotJoined) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  const TestMeeting other = create_meeting(true);
  start_chatd();
  TestClient c = login(a);
  EXPECT_EQ(c.error("leave", instance(m)), "not_joined");
  EXPECT_EQ(c.error("post", {{"meeting_id", m.meeting_id}, {"text", "x"}}), "not_joined");
  c.ok("join", instance(m));
  EXPECT_EQ(c.error("join", instance(m, false)), "already_joined");
  EXPECT_EQ(c.error("join", instance(m, true)), "already_joined");
  EXPECT_EQ(c.error("leave", instance(other)), "not_joined") << "joined elsewhere only";
  // Precedence: bad_request before already_joined.
  EXPECT_EQ(c.error("join", {{"meeting_id", m.meeting_id}, {"order_id", 0}}), "bad_request");
  const UnixMs before = now_ms();
  const json left = c.ok("leave", instance(m, false));
  EXPECT_EQ(left.value("meeting_id", std::int64_t{0}), m.meeting_id);
  EXPECT_EQ(left.value("order_id", std::int64_t{0}), m.order_id);
  EXPECT_NEAR(static_cast<double>(ts_of(left, "left_at")), static_cast<double>(before), 2000.0);
  EXPECT_EQ(c.error("leave", instance(m)), "not_joined");
  EXPECT_EQ(c.error("post", {{"meeting_id", m.meeting_id}, {"text", "x"}}), "not_joined");
  // Rejoining after a leave works.
  c.ok("join", instance(m));
  c.ok("post", {{"meeting_id", m.meeting_id}, {"text", "back"}});
}

TEST_F(AccessTest, AudienceAddedWhileRunningIsPickedUp) {
  const TestUser late = db().create_user("late");
  const TestMeeting m = create_meeting(false, {});
  start_chatd();
  TestClient c = login(late);
  EXPECT_EQ(c.error("join", instance(m)), "forbidden");
  db().add_audience(m.meeting_id, late.email);
  std::string last;
  EXPECT_TRUE(eventually(
      [&] {
        const json r = c.call("join", instance(m));
        last = r.dump();
        return error_code(r).empty();
      },
      Millis(6000), Millis(200)))
      << "audience change not picked up within 6 s: " << last;
}

}  // namespace
}  // namespace chat::test
