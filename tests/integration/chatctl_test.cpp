// chatctl (server/src/admin/) against the real services and a running chatd: what it writes
// is what the protocol then shows (PROTOCOL.md is the oracle), without restarting the node.
#include <stdlib.h>

#include <filesystem>
#include <fstream>

#include "chatd_fixture.hpp"
#include "metrics_scrape.hpp"
#include "run_command.hpp"

namespace chat::test {
namespace {

namespace fs = std::filesystem;

std::string chatctl_binary() {
  if (const char* p = std::getenv("CHATCTL_BINARY")) return p;
  return CHAT_CHATCTL_PATH;
}

class ChatctlTest : public ChatdTest {
 protected:
  void SetUp() override {
    ChatdTest::SetUp();
    env_ = ServiceEnv::from_environment();
    tag_ = random_tag();
  }

  void TearDown() override {
    ChatdTest::TearDown();
    // chatctl's rows are not the fixture's: remove them (meeting rows cascade).
    MysqlFixture cleanup(env_);
    for (const auto id : meetings_) cleanup.exec("DELETE FROM meeting WHERE meeting_id = ?", {id});
    cleanup.exec("DELETE FROM user WHERE name LIKE ?", {"ctl" + tag_ + "%"});
  }

  /// The store flags of the test services (password in the environment, as documented).
  std::vector<std::string> store_flags(
      std::optional<std::uint16_t> mysql_port = std::nullopt) const {
    return {"--mysql-host",     env_.mysql_host,
            "--mysql-port",     std::to_string(mysql_port.value_or(env_.mysql_port)),
            "--mysql-user",     env_.mysql_user,
            "--mysql-database", env_.mysql_database,
            "--redis-host",     env_.redis_host,
            "--redis-port",     std::to_string(env_.redis_port)};
  }

  /// Runs chatctl with `args` plus the store flags.
  CommandResult ctl(std::vector<std::string> args, const std::string& stdin_text = "",
                    std::vector<std::pair<std::string, std::string>> extra_env = {}) {
    std::vector<std::string> argv{chatctl_binary()};
    argv.insert(argv.end(), args.begin(), args.end());
    for (auto& f : store_flags()) argv.push_back(std::move(f));
    extra_env.emplace_back("CHATD_MYSQL_PASSWORD", env_.mysql_password);
    if (!env_.redis_password.empty())
      extra_env.emplace_back("CHATD_REDIS_PASSWORD", env_.redis_password);
    return run_command(argv, extra_env, stdin_text);
  }

  /// ctl() with --json that must succeed; returns the parsed output.
  json ctl_json(std::vector<std::string> args, const std::string& stdin_text = "",
                std::vector<std::pair<std::string, std::string>> extra_env = {}) {
    args.push_back("--json");
    const auto r = ctl(args, stdin_text, std::move(extra_env));
    EXPECT_EQ(r.exit_status, 0) << "chatctl " << args[0] << " " << args[1] << "\nstderr: " << r.err;
    const json j = json::parse(r.out, nullptr, false);
    EXPECT_FALSE(j.is_discarded()) << "not JSON: " << r.out;
    return j;
  }

  /// A user made with chatctl user add (password over stdin).
  TestUser add_user(const std::string& hint, const std::string& password) {
    TestUser u;
    u.name = "ctl" + tag_ + hint;
    u.email = u.name + "@Example.Test";
    u.password = password;
    const json j = ctl_json(
        {"user", "add", "--name", u.name, "--email", u.email, "--age", "41", "--password-stdin"},
        password + "\n");
    u.user_id = j.value("user_id", std::int64_t{0});
    EXPECT_GT(u.user_id, 0) << j.dump();
    EXPECT_EQ(j.value("email", ""), "ctl" + tag_ + hint + "@example.test") << "stored lower case";
    EXPECT_EQ(j.value("age", 0), 41);
    return u;
  }

  std::int64_t add_meeting(const std::string& title, bool is_public) {
    const json j = ctl_json({"meeting", "add", "--title", tag_ + " " + title, "--description",
                             "made by chatctl", is_public ? "--public" : "--private"});
    const auto id = j.value("meeting_id", std::int64_t{0});
    EXPECT_GT(id, 0) << j.dump();
    EXPECT_EQ(j.value("is_public", !is_public), is_public);
    meetings_.push_back(id);
    return id;
  }

  ServiceEnv env_;
  std::string tag_;
  std::vector<std::int64_t> meetings_;
};

bool lists_meeting(const json& active, std::int64_t meeting_id) {
  for (const auto& m : active.value("meetings", json::array()))
    if (m.value("meeting_id", std::int64_t{0}) == meeting_id) return true;
  return false;
}

// The scenario: everything is created with chatctl while a node runs, and the node
// picks it up within its schedule poll; the audience decides who may join; disable stops
// logins; cancel ends the running instance.
TEST_F(ChatctlTest, ScheduleMadeWithChatctlIsLiveOnARunningNode) {
  // Started before any of the data exists: no restart needed. Its metrics endpoint must
  // show the join and the message of the user chatctl made (the operator's check).
  ChatdOptions with_metrics;
  with_metrics.extra_args = {"--metrics-listen", "127.0.0.1:0"};
  ChatdProcess& node = start_chatd(with_metrics);
  const std::uint16_t metrics = metrics_port(node);
  ASSERT_NE(metrics, 0) << "no metrics line in the log";
  const TestUser alice = add_user("alice", "alice pw ünïcode");
  // The outsider's password comes from CHAT_USER_PASSWORD.
  TestUser bob;
  bob.name = "ctl" + tag_ + "bob";
  bob.password = "bob-pw";
  const auto bob_json =
      ctl_json({"user", "add", "--name", bob.name, "--email", bob.name + "@example.test"}, "",
               {{"CHAT_USER_PASSWORD", bob.password}});
  bob.user_id = bob_json.value("user_id", std::int64_t{0});

  const auto meeting_id = add_meeting("private", false);
  const json aud = ctl_json(
      {"audience", "add", "--meeting", std::to_string(meeting_id), "--email", alice.email});
  EXPECT_EQ(aud["added"], json::array({"ctl" + tag_ + "alice@example.test"})) << aud.dump();
  const json listed = ctl_json({"audience", "list", "--meeting", std::to_string(meeting_id)});
  EXPECT_EQ(listed["emails"].size(), 1U) << listed.dump();

  const auto before = now_ms();
  const json inst = ctl_json(
      {"instance", "add", "--meeting", std::to_string(meeting_id), "--from", "+2s", "--to", "+1h"});
  EXPECT_EQ(inst.value("order_id", 0), 1) << "first instance of the meeting: order 1";
  const auto from = parse_timestamp(inst.value("from", ""));
  ASSERT_TRUE(from.has_value()) << inst.dump();
  EXPECT_GE(*from, before + 2000);
  EXPECT_LE(*from, now_ms() + 2000);
  EXPECT_EQ(inst.value("state", ""), "scheduled");

  TestClient a = login(alice, &node);
  // Not active yet, then active within the 2 s plus the node's poll (300 ms) and slack.
  EXPECT_FALSE(lists_meeting(a.ok("active_meetings"), meeting_id));
  EXPECT_TRUE(eventually([&] { return lists_meeting(a.ok("active_meetings"), meeting_id); },
                         Millis(8000), Millis(200)))
      << "the instance added by chatctl became active on the running node";
  const json joined = a.ok("join", {{"meeting_id", meeting_id}});
  EXPECT_EQ(joined.value("order_id", 0), 1);
  const json posted = a.ok("post", {{"meeting_id", meeting_id}, {"text", "hello from chatctl"}});
  a.expect_event(
      [&](const json& e) {
        return e.value("event", "") == "message" && e.value("text", "") == "hello from chatctl" &&
               e.value("message_id", "") == posted.value("message_id", "?");
      },
      "alice's own message event");

  TestClient b = login(bob, &node);
  EXPECT_EQ(b.error("join", {{"meeting_id", meeting_id}}), "forbidden")
      << "bob is not in the audience";

  const auto scraped = scrape_metrics(metrics);
  EXPECT_EQ(value_of(scraped, "chat_requests_total", {{"op", "join"}}), 2);
  EXPECT_EQ(value_of(scraped, "chat_request_errors_total", {{"op", "join"}, {"code", "forbidden"}}),
            1);
  EXPECT_EQ(value_of(scraped, "chat_messages_in_total"), 1) << "alice's message";
  EXPECT_EQ(value_of(scraped, "chat_messages_out_total"), 1) << "to alice, the one participant";
  EXPECT_GE(value_of(scraped, "chat_logins_total", {{"result", "ok"}}).value_or(0), 2);

  // Live state as chatctl sees it.
  EXPECT_TRUE(eventually([&] {
    const json s = ctl_json({"status"});
    for (const auto& m : s.value("meetings", json::array()))
      if (m.value("meeting_id", std::int64_t{0}) == meeting_id)
        return m.value("participant_count", -1) == 1 && m.value("order_id", 0) == 1;
    return false;
  })) << "status lists the instance with alice as its one participant";
  const json nodes = ctl_json({"nodes"});
  bool seen = false;
  for (const auto& n : nodes.value("nodes", json::array()))
    if (n.value("node", "") == node.node_id()) seen = n.value("address", "") == node.address();
  EXPECT_TRUE(seen) << nodes.dump();
  const json dump = ctl_json({"dump-status"});
  EXPECT_TRUE(dump.contains("outbox_entries") && dump["outbox_entries"].is_number_integer())
      << dump.dump();
  EXPECT_TRUE(dump.contains("oldest_age_ms")) << dump.dump();

  // Disable: a new login is refused exactly like a wrong password; enable lets it in again.
  const json off = ctl_json({"user", "disable", "--user", alice.name});
  EXPECT_TRUE(off.value("disabled", false)) << off.dump();
  TestClient again = connect(&node);
  EXPECT_EQ(again.error("login", {{"user", alice.name}, {"password", alice.password}}),
            "invalid_credentials");
  const json users = ctl_json({"user", "list"});
  bool listed_disabled = false;
  for (const auto& u : users.value("users", json::array()))
    if (u.value("user_id", std::int64_t{0}) == alice.user_id)
      listed_disabled = u.value("disabled", false);
  EXPECT_TRUE(listed_disabled);
  ctl_json({"user", "enable", "--user", alice.email});
  TestClient third = connect(&node);
  EXPECT_EQ(third.login(alice.name, alice.password).value("user_id", std::int64_t{0}),
            alice.user_id);
  // passwd: the old password stops working, the new one works.
  ctl_json({"user", "passwd", "--user", alice.name, "--password-stdin"}, "new-pw\n");
  TestClient fourth = connect(&node);
  EXPECT_EQ(fourth.error("login", {{"user", alice.name}, {"password", alice.password}}),
            "invalid_credentials");
  TestClient fifth = connect(&node);
  EXPECT_EQ(fifth.login(alice.name, "new-pw").value("user_id", std::int64_t{0}), alice.user_id);

  // Cancel of the running instance: its end moves to now and the node ends it.
  const json cancelled =
      ctl_json({"instance", "cancel", "--meeting", std::to_string(meeting_id), "--order", "1"});
  EXPECT_EQ(cancelled.value("action", ""), "ended") << cancelled.dump();
  a.expect_event(event_of("meeting_ended", meeting_id, 1), "meeting_ended after cancel",
                 Millis(5000));
  EXPECT_FALSE(lists_meeting(a.ok("active_meetings"), meeting_id));
}

TEST_F(ChatctlTest, CancelOfAnInstanceNotStartedDeletesIt) {
  const auto meeting_id = add_meeting("public", true);
  const auto m = std::to_string(meeting_id);
  ctl_json({"instance", "add", "--meeting", m, "--from", "+1h", "--to", "+2h"});
  // The next one gets order 2; an overlapping one is refused.
  const json second = ctl_json({"instance", "add", "--meeting", m, "--from", "+3h", "--to", "+4h"});
  EXPECT_EQ(second.value("order_id", 0), 2);
  const auto overlap = ctl({"instance", "add", "--meeting", m, "--from", "+90m", "--to", "+150m"});
  EXPECT_EQ(overlap.exit_status, 1);
  EXPECT_NE(overlap.err.find("overlaps instance 1"), std::string::npos) << overlap.err;

  const json cancelled = ctl_json({"instance", "cancel", "--meeting", m, "--order", "1"});
  EXPECT_EQ(cancelled.value("action", ""), "deleted") << cancelled.dump();
  const json list = ctl_json({"instance", "list", "--meeting", m});
  ASSERT_EQ(list["instances"].size(), 1U) << list.dump();
  EXPECT_EQ(list["instances"][0].value("order_id", 0), 2);
  const auto again = ctl({"instance", "cancel", "--meeting", m, "--order", "1"});
  EXPECT_EQ(again.exit_status, 1);
  EXPECT_NE(again.err.find("no instance 1"), std::string::npos) << again.err;
}

TEST_F(ChatctlTest, BadInputIsAClearErrorWithANonZeroStatus) {
  const TestUser u = add_user("dup", "pw");
  auto expect_failure = [&](std::vector<std::string> args, int status, const std::string& text,
                            const std::string& stdin_text = "") {
    const auto r = ctl(args, stdin_text);
    EXPECT_EQ(r.exit_status, status) << "chatctl " << args[0] << " ...\nstderr: " << r.err;
    EXPECT_NE(r.err.find(text), std::string::npos) << "stderr: " << r.err;
    EXPECT_TRUE(r.out.empty()) << "nothing on stdout for a failure: " << r.out;
  };
  // Operations refused by the data: 1.
  expect_failure({"user", "add", "--name", u.name + "x", "--email", u.email, "--password-stdin"}, 1,
                 "a user with email", "pw\n");
  expect_failure(
      {"user", "add", "--name", u.name, "--email", "other" + u.email, "--password-stdin"}, 1,
      "a user named", "pw\n");
  expect_failure({"audience", "add", "--meeting", "2000000000", "--email", "x@example.test"}, 1,
                 "no meeting with id 2000000000");
  expect_failure({"instance", "add", "--meeting", "2000000000", "--from", "+1s", "--to", "+1h"}, 1,
                 "no meeting with id 2000000000");
  expect_failure({"user", "disable", "--user", "nobody-" + tag_}, 1, "no user");
  // Usage errors: 2.
  const auto meeting = std::to_string(add_meeting("bad input", true));
  expect_failure({"instance", "add", "--meeting", meeting, "--from", "tomorrow", "--to", "+1h"}, 2,
                 "--from: not a time: 'tomorrow'");
  expect_failure(
      {"instance", "add", "--meeting", meeting, "--from", "2026-13-01T00:00:00Z", "--to", "+1h"}, 2,
      "not a time");
  expect_failure({"instance", "add", "--meeting", meeting, "--from", "+2h", "--to", "+1h"}, 2,
                 "--from must be before --to");
  expect_failure({"instance", "add", "--meeting", meeting, "--from", "+1h"}, 2, "--to is required");
  expect_failure({"user", "add", "--name", "x" + tag_, "--password-stdin"}, 2,
                 "--email is required", "pw\n");
  expect_failure(
      {"user", "add", "--name", "x" + tag_, "--email", "not-an-email", "--password-stdin"}, 2,
      "not an email address", "pw\n");
  expect_failure({"user", "add", "--name", "x" + tag_, "--email", "x@example.test"}, 2,
                 "a password is required");
  expect_failure({"meeting", "add", "--title", "t"}, 2, "exactly one of --public and --private");
  expect_failure({"meeting", "add", "--title", "t", "--public", "--from", "+1h"}, 2,
                 "takes no --from");
  expect_failure({"meeting", "frobnicate"}, 2, "unknown command 'meeting frobnicate'");
  expect_failure({"audience", "add", "--meeting", "abc", "--email", "x@example.test"}, 2,
                 "meeting");
  // Nothing was written by the refused commands.
  const json users = ctl_json({"user", "list"});
  int mine = 0;
  for (const auto& row : users.value("users", json::array()))
    if (row.value("name", "").find(tag_) != std::string::npos) ++mine;
  EXPECT_EQ(mine, 1) << "only the first user was added";
}

TEST_F(ChatctlTest, UnreachableStoresFailWithStatusOne) {
  std::vector<std::string> argv{chatctl_binary(), "user", "list"};
  for (auto& f : store_flags(unused_tcp_port())) argv.push_back(std::move(f));
  const auto r = run_command(argv, {{"CHATD_MYSQL_PASSWORD", env_.mysql_password}});
  EXPECT_EQ(r.exit_status, 1) << r.err;
  EXPECT_NE(r.err.find("unavailable"), std::string::npos) << r.err;

  std::vector<std::string> nodes{chatctl_binary(), "nodes", "--redis-port",
                                 std::to_string(unused_tcp_port())};
  const auto n = run_command(nodes);
  EXPECT_EQ(n.exit_status, 1) << n.err;
  EXPECT_NE(n.err.find("Redis"), std::string::npos) << n.err;
}

TEST_F(ChatctlTest, ConfigFileVersionAndHelp) {
  const auto version = run_command({chatctl_binary(), "--version"});
  EXPECT_EQ(version.exit_status, 0);
  EXPECT_EQ(version.out.rfind("chatctl ", 0), 0U) << version.out;
  const auto help = run_command({chatctl_binary(), "--help"});
  EXPECT_EQ(help.exit_status, 0);
  EXPECT_NE(help.out.find("instance cancel"), std::string::npos) << help.out;

  // The store coordinates only in the shared tables of the TOML file.
  const fs::path file = scratch_dir() / ("chatctl-" + tag_ + ".toml");
  std::ofstream(file) << "[mysql]\nhost = \"" << env_.mysql_host << "\"\nport = " << env_.mysql_port
                      << "\nuser = \"" << env_.mysql_user << "\"\ndatabase = \""
                      << env_.mysql_database << "\"\npassword = \"" << env_.mysql_password
                      << "\"\n[chatd]\nlisten = \"0.0.0.0:1\"\n";
  const auto r =
      run_command({chatctl_binary(), "--config", file.string(), "meeting", "list", "--json"});
  EXPECT_EQ(r.exit_status, 0) << r.err;
  EXPECT_TRUE(json::parse(r.out, nullptr, false).contains("meetings")) << r.out;
  const auto none = run_command({chatctl_binary()});
  EXPECT_EQ(none.exit_status, 2);
  EXPECT_NE(none.err.find("no command given"), std::string::npos) << none.err;
}

}  // namespace
}  // namespace chat::test
