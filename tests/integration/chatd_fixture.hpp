// Base fixture of the integration tests: a MySQL fixture for this test's own data, chatd
// nodes started on demand, and helpers for the common steps (PROTOCOL.md is the oracle).
#pragma once

#include <gtest/gtest.h>

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "chat/protocol/time.hpp"
#include "chatd_process.hpp"
#include "mysql_fixture.hpp"
#include "test_client.hpp"

namespace chat::test {

using protocol::format_timestamp;
using protocol::now_ms;
using protocol::parse_timestamp;

/// A meeting with one instance, as created by the fixture.
struct TestMeeting {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::string title;  // as stored (tag-prefixed)
  bool is_public = false;
  UnixMs from = 0;
  UnixMs to = 0;
};

/// Milliseconds between two steady-clock points.
inline long long ms_between(std::chrono::steady_clock::time_point a,
                            std::chrono::steady_clock::time_point b) {
  return std::chrono::duration_cast<std::chrono::milliseconds>(b - a).count();
}

/// Polls `cond` every `step` until it is true or `timeout` passes; returns its last value.
bool eventually(const std::function<bool()>& cond, Millis timeout = kDefaultWait,
                Millis step = Millis(100));

/// {"meeting_id": m, "order_id": o} for a created meeting (order_id only when with_order).
json instance(const TestMeeting& m, bool with_order = true);

/// Parses an RFC 3339 field of a frame; fails the test (returns 0) if it is not one.
UnixMs ts_of(const json& j, const char* key);

class ChatdTest : public ::testing::Test {
 protected:
  void SetUp() override;
  void TearDown() override;

  /// This test's MySQL fixture (created in SetUp; all names carry its random tag).
  MysqlFixture& db() { return *db_; }

  /// Starts a chatd node and waits until every meeting created so far through
  /// active_meeting() is visible through it (chatd may load the schedule after listening).
  ChatdProcess& start_chatd(ChatdOptions options = {});

  /// Starts n nodes at the same moment (in parallel threads), then waits until every meeting
  /// created so far is visible through each of them. Returns the new nodes.
  std::vector<ChatdProcess*> start_chatd_nodes_together(int n, ChatdOptions options = {});

  /// The first node started.
  ChatdProcess& chatd();

  /// A new connection to `node` (default: the first node).
  TestClient connect(ChatdProcess* node = nullptr);

  /// A connection logged in as `user` (hello + login must succeed).
  TestClient login(const TestUser& user, ChatdProcess* node = nullptr);

  /// Creates a meeting with one instance [now + from_offset, now + to_offset) and, for a
  /// private meeting, audience rows for `audience` emails. Default: active for the next hour.
  TestMeeting create_meeting(bool is_public, const std::vector<std::string>& audience = {},
                             Millis from_offset = Millis(-60'000),
                             Millis to_offset = Millis(3'600'000),
                             const std::string& title = "meeting");

  /// Like create_meeting with absolute times (ms since epoch), e.g. for two meetings with the
  /// same `from`. description nullopt writes NULL.
  TestMeeting add_meeting(bool is_public, const std::vector<std::string>& audience, UnixMs from,
                          UnixMs to, const std::string& title = "meeting",
                          std::optional<std::string> description = std::string("test meeting"));

  /// Waits until instance (meeting_id, order_id) shows in active_meetings on `node`
  /// (default first node), bounded by timeout. Fails the test when it does not.
  void await_active(std::int64_t meeting_id, std::int64_t order_id, Millis timeout = Millis(8000),
                    ChatdProcess* node = nullptr);

  /// The probe user: in every private audience the fixture creates, used to wait for meetings.
  const TestUser& probe() const { return *probe_; }

 private:
  std::unique_ptr<MysqlFixture> db_;  // destroyed after the nodes (declared first)
  std::vector<std::unique_ptr<ChatdProcess>> nodes_;
  std::optional<TestUser> probe_;
  std::vector<TestMeeting> pending_;  // created and expected active, not yet awaited
};

}  // namespace chat::test
