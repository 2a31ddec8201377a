#include "chatd_fixture.hpp"

#include <thread>

namespace chat::test {

bool eventually(const std::function<bool()>& cond, Millis timeout, Millis step) {
  const auto deadline = std::chrono::steady_clock::now() + timeout;
  for (;;) {
    if (cond()) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(step);
  }
}

UnixMs ts_of(const json& j, const char* key) {
  const auto it = j.find(key);
  if (it == j.end() || !it->is_string()) {
    ADD_FAILURE() << "'" << key << "' missing or not a string in " << j.dump();
    return 0;
  }
  const auto t = parse_timestamp(it->get<std::string>());
  if (!t) {
    ADD_FAILURE() << "'" << key << "' is not an RFC 3339 timestamp: " << j.dump();
    return 0;
  }
  // "RFC 3339 UTC with milliseconds": exactly the canonical form.
  EXPECT_EQ(it->get<std::string>(), format_timestamp(*t))
      << "'" << key << "' not in canonical form";
  return *t;
}

void ChatdTest::SetUp() {
  db_ = std::make_unique<MysqlFixture>(ServiceEnv::from_environment());
  probe_ = db_->create_user("probe");
}

void ChatdTest::TearDown() {
  // Nodes first (they may still write), then the data.
  nodes_.clear();
  db_.reset();
}

ChatdProcess& ChatdTest::start_chatd(ChatdOptions options) {
  nodes_.push_back(std::make_unique<ChatdProcess>(std::move(options)));
  ChatdProcess& node = *nodes_.back();
  const auto pending = std::exchange(pending_, {});
  for (const auto& m : pending) await_active(m.meeting_id, m.order_id, Millis(8000), &node);
  return node;
}

std::vector<ChatdProcess*> ChatdTest::start_chatd_nodes_together(int n, ChatdOptions options) {
  // Spawn all first, then wait: the processes start within a few ms of each other. (Spawning
  // stays on this thread: the children's death signal is tied to the forking thread.)
  options.wait_until_listening = false;
  std::vector<ChatdProcess*> started;
  for (int i = 0; i < n; ++i) {
    nodes_.push_back(std::make_unique<ChatdProcess>(options));
    started.push_back(nodes_.back().get());
  }
  for (ChatdProcess* node : started) node->wait_listening();
  const auto pending = std::exchange(pending_, {});
  std::string missing;
  for (ChatdProcess* node : started)
    for (const auto& m : pending) {
      try {
        await_active(m.meeting_id, m.order_id, Millis(8000), node);
      } catch (const ClientError& e) {
        missing += "\n  node " + node->node_id() + ": " + e.what();
      }
    }
  if (!missing.empty()) throw ClientError("meetings missing on some nodes:" + missing);
  return started;
}

ChatdProcess& ChatdTest::chatd() {
  if (nodes_.empty()) throw std::logic_error("no chatd started in this test");
  return *nodes_.front();
}

TestClient ChatdTest::connect(ChatdProcess* node) {
  return (node ? *node : chatd()).connect();
}

TestClient ChatdTest::login(const TestUser& user, ChatdProcess* node) {
  TestClient c = connect(node);
  const json u = c.login(user.name, user.password);
  EXPECT_EQ(u.value("user_id", std::int64_t{-1}), user.user_id) << u.dump();
  return c;
}

TestMeeting ChatdTest::create_meeting(bool is_public, const std::vector<std::string>& audience,
                                      Millis from_offset, Millis to_offset,
                                      const std::string& title) {
  const UnixMs now = now_ms();
  return add_meeting(is_public, audience, now + from_offset.count(), now + to_offset.count(),
                     title);
}

TestMeeting ChatdTest::add_meeting(bool is_public, const std::vector<std::string>& audience,
                                   UnixMs from, UnixMs to, const std::string& title,
                                   std::optional<std::string> description) {
  TestMeeting m;
  m.is_public = is_public;
  m.meeting_id = db_->create_meeting(title, is_public, std::move(description));
  m.title = db_->full_title(title);
  m.order_id = 1;
  m.from = from;
  m.to = to;
  if (!is_public) {
    for (const auto& email : audience) db_->add_audience(m.meeting_id, email);
    db_->add_audience(m.meeting_id, probe_->email);
  }
  db_->add_instance(m.meeting_id, m.order_id, m.from, m.to);
  const UnixMs now = now_ms();
  if (m.from <= now && now + 2000 < m.to) {
    if (nodes_.empty())
      pending_.push_back(m);
    else
      await_active(m.meeting_id, m.order_id);
  }
  return m;
}

void ChatdTest::await_active(std::int64_t meeting_id, std::int64_t order_id, Millis timeout,
                             ChatdProcess* node) {
  TestClient c = connect(node);
  c.login(probe_->name, probe_->password);
  const bool seen = eventually(
      [&] {
        const json r = c.ok("active_meetings");
        for (const auto& m : r.at("meetings"))
          if (m.value("meeting_id", std::int64_t{0}) == meeting_id &&
              m.value("order_id", std::int64_t{0}) == order_id)
            return true;
        return false;
      },
      timeout, Millis(100));
  // Thrown, not asserted: the calling test must stop here (gtest reports the exception).
  if (!seen)
    throw ClientError("meeting " + std::to_string(meeting_id) + "/" + std::to_string(order_id) +
                      " never showed up in active_meetings within " +
                      std::to_string(timeout.count()) + " ms");
}

json instance(const TestMeeting& m, bool with_order) {
  json j{{"meeting_id", m.meeting_id}};
  if (with_order) j["order_id"] = m.order_id;
  return j;
}

}  // namespace chat::test
