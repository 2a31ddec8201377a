// Fault tests of the dump (issue "Dumper and backup jobs: every message and event in MySQL
// exactly once"; README "Dump"): chat-dumper processes move the outbox stream `chat:outbox`
// to MySQL through the consumer group `dumpers` while they are killed with SIGKILL, while
// MariaDB or Redis go away, and while several of them share the work. Every test runs chatd
// with --dump-interval-ms 0, so only the dumpers started here write to MySQL, and uses a
// private Redis, so the outbox holds this test's entries only (the shared one is read by every
// chatd of the other suites). The oracle: the messages and join/leave events chatd
// acknowledged to its clients, and the instance's own streams in Redis; MySQL must hold each
// of them exactly once, and the outbox must end empty with the instance's undumped counter 0.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <csignal>
#include <cstdio>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <sstream>
#include <thread>

#include "chat/protocol/time.hpp"
#include "chatd_fixture.hpp"
#include "chatd_process.hpp"
#include "dumper_process.hpp"
#include "mysql_fixture.hpp"
#include "private_mariadb.hpp"
#include "private_redis.hpp"
#include "redis_probe.hpp"
#include "test_client.hpp"

namespace chat::test {
namespace {

using Clock = std::chrono::steady_clock;
using namespace std::chrono_literals;

const std::string kOutbox = "chat:outbox";
const std::string kGroup = "dumpers";

/// A meeting instance of this test.
struct Instance {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 1;

  json params() const { return {{"meeting_id", meeting_id}, {"order_id", order_id}}; }
  std::string key(const std::string& suffix) const {
    return "chat:i:{" + std::to_string(meeting_id) + ":" + std::to_string(order_id) + "}:" + suffix;
  }
};

/// A Redis stream id "ms-seq" as the protocol's message_id (README: "%015llu-%010llu").
std::string message_id_of(const std::string& stream_id) {
  unsigned long long ms = 0, seq = 0;
  if (std::sscanf(stream_id.c_str(), "%llu-%llu", &ms, &seq) != 2)
    throw std::runtime_error("malformed stream id " + stream_id);
  char buf[40];
  std::snprintf(buf, sizeof buf, "%015llu-%010llu", ms, seq);
  return buf;
}

/// One event-log entry as the client saw it acknowledged (join -> 1, leave -> 2).
struct LoggedEvent {
  std::int64_t user_id = 0;
  int type = 0;
  UnixMs ts = 0;
  auto operator<=>(const LoggedEvent&) const = default;
};

std::string describe(const LoggedEvent& e) {
  return "(user " + std::to_string(e.user_id) + ", type " + std::to_string(e.type) + ", " +
         format_timestamp(e.ts) + ")";
}

/// A posted message as the client saw it acknowledged.
struct Posted {
  std::int64_t user_id = 0;
  std::string text;
  UnixMs ts = 0;
};

/// What chatd acknowledged to the clients of one test.
struct Acknowledged {
  std::map<std::string, Posted> messages;  // by message_id
  std::multiset<LoggedEvent> events;

  void merge(const Acknowledged& other) {
    for (const auto& [id, p] : other.messages) {
      EXPECT_TRUE(messages.emplace(id, p).second) << "message_id " << id << " acknowledged twice";
    }
    events.insert(other.events.begin(), other.events.end());
  }
};

/// One user chatting on its own connection in its own thread: join, post, leave and join
/// again every `leave_every` posts, until `posts` are acknowledged or `stop` is set. Store
/// outages are ridden out: `unavailable` answers are counted and retried, a dropped
/// connection is re-opened (login, join: already_joined or resumed). Only what chatd
/// acknowledged is recorded; answers that never came (connection lost mid-request) are not.
class Chatter {
 public:
  struct Options {
    int posts = 500;
    int leave_every = 100;
    Millis pause{0};  // between posts
  };

  Chatter(const ChatdProcess& node, TestUser user, Instance inst, Options options)
      : host_(node.host()),
        port_(node.port()),
        user_(std::move(user)),
        inst_(inst),
        options_(options) {}

  /// Runs the loop (call on a thread of its own).
  void run(const std::atomic<bool>& stop) {
    auto reconnect = [&] {
      client_.reset();
      client_.emplace(host_, port_);
      client_->login(user_.name, user_.password);
      joined_ = false;
    };
    int next_leave = options_.leave_every;
    int failures_in_a_row = 0;
    const auto deadline = Clock::now() + 60s;
    while (posted_ < options_.posts && !stop.load() && Clock::now() < deadline) {
      try {
        if (!client_ || client_->closed()) reconnect();
        if (!joined_) {
          const json r = client_->call("join", inst_.params());
          const std::string code = error_code(r);
          if (code.empty()) {
            joined_ = true;
            const json& res = r.at("result");
            if (!res.value("resumed", false))
              acked_.events.insert({user_.user_id, 1, ts_of_field(res, "joined_at")});
          } else if (code == "already_joined") {
            joined_ = true;  // a join applied while its answer was lost (outage)
          } else if (code == "unavailable") {
            ++unavailable_;
            std::this_thread::sleep_for(20ms);
            continue;
          } else {
            problem("join: " + r.dump());
            return;
          }
        }
        if (options_.leave_every > 0 && posted_ >= next_leave) {
          const json r = client_->call("leave", inst_.params());
          const std::string code = error_code(r);
          if (code.empty()) {
            acked_.events.insert({user_.user_id, 2, ts_of_field(r.at("result"), "left_at")});
            joined_ = false;
            next_leave += options_.leave_every;
          } else if (code == "not_joined") {
            joined_ = false;  // a leave applied while its answer was lost
            next_leave += options_.leave_every;
          } else if (code == "unavailable") {
            ++unavailable_;
            std::this_thread::sleep_for(20ms);
          } else {
            problem("leave: " + r.dump());
            return;
          }
          continue;
        }
        // Unique, with multi-byte UTF-8 (4-byte too) to check the text's way to MySQL.
        const std::string text =
            user_.name + " #" + std::to_string(posted_) + " gr\xC3\xBC\xC3\x9F \xF0\x9F\x98\x80";
        json params = inst_.params();
        params["text"] = text;
        const json r = client_->call("post", params);
        const std::string code = error_code(r);
        if (code.empty()) {
          const json& res = r.at("result");
          const std::string id = res.value("message_id", "");
          if (!acked_.messages.emplace(id, Posted{user_.user_id, text, ts_of_field(res, "ts")})
                   .second)
            problem("message_id " + id + " returned twice");
          ++posted_;
          posted_total_.store(posted_);
          failures_in_a_row = 0;
          if (options_.pause.count() > 0) std::this_thread::sleep_for(options_.pause);
        } else if (code == "unavailable") {
          ++unavailable_;
          std::this_thread::sleep_for(20ms);
        } else if (code == "not_joined") {
          joined_ = false;  // the seat went away (e.g. with Redis): join again
          if (++failures_in_a_row > 50) {
            problem("post keeps answering not_joined: " + r.dump());
            return;
          }
        } else {
          problem("post: " + r.dump());
          return;
        }
      } catch (const ClientError& e) {
        ++reconnects_;
        client_.reset();
        if (++failures_in_a_row > 100) {
          problem(std::string("connection keeps failing: ") + e.what());
          return;
        }
        std::this_thread::sleep_for(100ms);
      }
    }
  }

  const Acknowledged& acked() const { return acked_; }
  int posted() const { return posted_total_.load(); }
  int unavailable() const { return unavailable_; }
  int reconnects() const { return reconnects_; }
  const std::vector<std::string>& problems() const { return problems_; }
  const TestUser& user() const { return user_; }

 private:
  static UnixMs ts_of_field(const json& j, const char* key) {
    const auto t = protocol::parse_timestamp(j.value(key, ""));
    if (!t) throw ClientError(std::string("no valid '") + key + "' in " + j.dump());
    return *t;
  }
  void problem(std::string what) { problems_.push_back(user_.name + ": " + std::move(what)); }

  std::string host_;
  std::uint16_t port_;
  TestUser user_;
  Instance inst_;
  Options options_;
  std::optional<TestClient> client_;
  bool joined_ = false;
  int posted_ = 0;
  std::atomic<int> posted_total_{0};
  int unavailable_ = 0;
  int reconnects_ = 0;
  Acknowledged acked_;
  std::vector<std::string> problems_;
};

/// A set of chatters on their threads.
class Crowd {
 public:
  Crowd(const ChatdProcess& node, const std::vector<TestUser>& users, Instance inst,
        Chatter::Options options) {
    for (const auto& u : users)
      chatters_.push_back(std::make_unique<Chatter>(node, u, inst, options));
  }
  ~Crowd() { join(); }

  void start() {
    for (auto& c : chatters_) threads_.emplace_back([this, c = c.get()] { c->run(stop_); });
  }
  void stop() { stop_.store(true); }
  void join() {
    for (auto& t : threads_)
      if (t.joinable()) t.join();
  }
  int posted() const {
    int n = 0;
    for (const auto& c : chatters_) n += c->posted();
    return n;
  }
  /// Joins the threads; merges what they got acknowledged; fails on any problem they saw.
  Acknowledged finish() {
    join();
    Acknowledged all;
    for (const auto& c : chatters_) {
      for (const auto& p : c->problems()) ADD_FAILURE() << "chatter: " << p;
      all.merge(c->acked());
    }
    return all;
  }
  int unavailable() const {
    int n = 0;
    for (const auto& c : chatters_) n += c->unavailable();
    return n;
  }

 private:
  std::vector<std::unique_ptr<Chatter>> chatters_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
};

class DumpTest : public ::testing::Test {
 protected:
  void TearDown() override {
    dumpers_.clear();
    chatd_.reset();
    probe_.reset();
    db_.reset();
    redis_.reset();
    mariadb_.reset();
  }

  /// Private Redis (and, when asked, a private MariaDB) plus a chatd on them that does not
  /// dump itself.
  void start_services(bool private_mysql, const std::string& appendfsync = "everysec") {
    env_ = ServiceEnv::from_environment();
    if (private_mysql) {
      mariadb_ = std::make_unique<PrivateMariadb>(env_);
      env_ = mariadb_->env();
    }
    redis_ = std::make_unique<PrivateRedis>(PrivateRedisOptions{appendfsync});
    env_.redis_host = "127.0.0.1";
    env_.redis_port = redis_->port();
    env_.redis_password.clear();
    db_ = std::make_unique<MysqlFixture>(env_);
    ChatdOptions o;
    o.redis_port = redis_->port();
    o.mysql_port = env_.mysql_port;
    o.dump_interval_ms = 0;  // only the chat-dumper processes of the test move rows
    o.grace_ms = 60000;      // reconnecting chatters keep their seats
    o.idle_timeout_ms = 60000;
    o.log_level = "info";
    // The chatters post as fast as chatd answers (load, not abuse): no request rate limit.
    o.extra_args = {"--rate-limit", "0"};
    chatd_ = std::make_unique<ChatdProcess>(o);
    probe_ = std::make_unique<RedisProbe>("127.0.0.1", redis_->port());
  }

  /// A public meeting with instance 1 active for the next hour, visible through chatd.
  Instance active_meeting(const std::string& title) {
    Instance inst;
    inst.meeting_id = db_->create_meeting(title, true);
    const UnixMs now = now_ms();
    db_->add_instance(inst.meeting_id, inst.order_id, now - 60'000, now + 3'600'000);
    const TestUser watcher = db_->create_user("watch");
    TestClient c = chatd_->connect();
    c.login(watcher.name, watcher.password);
    json last;
    const bool seen = eventually(
        [&] {
          last = c.ok("active_meetings");
          for (const auto& m : last.at("meetings"))
            if (m.value("meeting_id", std::int64_t{0}) == inst.meeting_id) return true;
          return false;
        },
        8000ms);
    if (!seen)
      throw ClientError("meeting " + std::to_string(inst.meeting_id) +
                        " never showed up in active_meetings: " + last.dump());
    return inst;
  }

  std::vector<TestUser> users(int n, const std::string& hint) {
    std::vector<TestUser> out;
    for (int i = 0; i < n; ++i) out.push_back(db_->create_user(hint));
    return out;
  }

  DumperProcess* dumper(DumperOptions o) {
    o.redis_port = redis_->port();
    return dumpers_.emplace_back(std::make_unique<DumperProcess>(env_, std::move(o))).get();
  }

  /// The probe, reconnected when Redis restarted under it.
  RedisProbe& redis() {
    if (!probe_) probe_ = std::make_unique<RedisProbe>("127.0.0.1", redis_->port());
    return *probe_;
  }

  long long outbox_length() { return redis().integer({"XLEN", kOutbox}); }

  /// Entries read by some dumper and not acknowledged yet (0 when no group exists yet).
  long long outbox_pending() {
    try {
      const RedisValue v = redis().command({"XPENDING", kOutbox, kGroup});
      return v.elements.empty() ? 0 : v.elements[0].integer;
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).find("NOGROUP") != std::string::npos) return 0;
      throw;
    }
  }

  /// Outbox ids a consumer holds (read, not acknowledged).
  std::vector<std::string> held_by(const std::string& consumer) {
    std::vector<std::string> ids;
    try {
      const RedisValue v =
          redis().command({"XPENDING", kOutbox, kGroup, "-", "+", "1000", consumer});
      for (const auto& e : v.elements) ids.push_back(e.elements.at(0).str);
    } catch (const std::runtime_error& e) {
      if (std::string(e.what()).find("NOGROUP") == std::string::npos) throw;
    }
    return ids;
  }

  std::string outbox_report() {
    std::ostringstream out;
    out << "XLEN " << outbox_length() << ", pending " << outbox_pending() << "; consumers:";
    try {
      for (const auto& c : redis().command({"XINFO", "CONSUMERS", kOutbox, kGroup}).elements) {
        for (std::size_t i = 0; i + 1 < c.elements.size(); i += 2)
          out << " " << c.elements[i].str << "="
              << (c.elements[i + 1].type == RedisValue::Type::integer
                      ? std::to_string(c.elements[i + 1].integer)
                      : c.elements[i + 1].str);
        out << ";";
      }
    } catch (const std::runtime_error& e) {
      out << " (" << e.what() << ")";
    }
    return out.str();
  }

  /// Waits until the outbox is empty and nothing is pending.
  void expect_drained(Millis timeout) {
    const bool drained =
        eventually([&] { return outbox_length() == 0 && outbox_pending() == 0; }, timeout);
    EXPECT_TRUE(drained) << "outbox not drained within " << timeout.count()
                         << " ms: " << outbox_report();
  }

  /// The ids of an instance's Redis stream (empty when the key is gone).
  std::vector<std::string> stream_ids(const std::string& key) {
    std::vector<std::string> ids;
    for (const auto& e : redis().command({"XRANGE", key, "-", "+"}).elements)
      ids.push_back(e.elements.at(0).str);
    return ids;
  }

  /// MySQL holds each acknowledged message and event exactly once. exact: nothing else
  /// either (no outage could have applied a request whose answer was lost). With the
  /// instance's keys still in Redis, MySQL must also equal its streams entry for entry.
  void expect_exactly_once(const Instance& inst, const Acknowledged& acked, bool exact) {
    MysqlFixture reader(env_);  // a new connection: the test's one may predate a restart
    // Messages: the table's key makes duplicates impossible, so compare sets and texts.
    const auto rows = reader.messages(inst.meeting_id, inst.order_id);
    std::map<std::string, const MessageRow*> by_id;
    for (const auto& r : rows)
      EXPECT_TRUE(by_id.emplace(r.message_id, &r).second) << "duplicate message " << r.message_id;
    std::size_t missing = 0, wrong = 0;
    for (const auto& [id, p] : acked.messages) {
      const auto it = by_id.find(id);
      if (it == by_id.end()) {
        if (++missing <= 5) ADD_FAILURE() << "acknowledged message " << id << " not in MySQL";
        continue;
      }
      const MessageRow& r = *it->second;
      if (r.user_id != p.user_id || r.text != p.text || r.ts != p.ts) {
        if (++wrong <= 5)
          ADD_FAILURE() << "message " << id << " differs: MySQL (" << r.user_id << ", " << r.text
                        << ", " << r.ts << ") vs acknowledged (" << p.user_id << ", " << p.text
                        << ", " << p.ts << ")";
      }
    }
    EXPECT_EQ(missing, 0u) << "acknowledged messages missing from MySQL";
    EXPECT_EQ(wrong, 0u);
    if (exact) {
      EXPECT_EQ(rows.size(), acked.messages.size()) << "MySQL holds messages nobody acknowledged";
    } else {
      EXPECT_GE(rows.size(), acked.messages.size());
    }
    const auto redis_msgs = stream_ids(inst.key("msgs"));
    if (!redis_msgs.empty()) {
      std::set<std::string> redis_set;
      for (const auto& id : redis_msgs) redis_set.insert(message_id_of(id));
      std::set<std::string> mysql_set;
      for (const auto& r : rows) mysql_set.insert(r.message_id);
      EXPECT_EQ(mysql_set.size(), redis_set.size());
      EXPECT_TRUE(mysql_set == redis_set) << "MySQL's messages differ from the Redis stream";
    }
    // Events: compare the (user, type, ts) multisets, and the Redis ids.
    std::multiset<LoggedEvent> logged;
    for (const auto& e : reader.event_log(inst.meeting_id, inst.order_id))
      logged.insert({e.user_id, e.event_type, e.ts});
    if (exact) {
      if (logged != acked.events) {
        std::vector<LoggedEvent> extra, lost;
        std::set_difference(logged.begin(), logged.end(), acked.events.begin(), acked.events.end(),
                            std::back_inserter(extra));
        std::set_difference(acked.events.begin(), acked.events.end(), logged.begin(), logged.end(),
                            std::back_inserter(lost));
        std::string text;
        for (const auto& e : lost) text += "\n  missing " + describe(e);
        for (const auto& e : extra) text += "\n  extra   " + describe(e);
        ADD_FAILURE() << "event_log (" << logged.size() << " rows) differs from the "
                      << acked.events.size() << " acknowledged joins/leaves:" << text;
      }
    } else {
      EXPECT_TRUE(
          std::includes(logged.begin(), logged.end(), acked.events.begin(), acked.events.end()))
          << "acknowledged joins/leaves missing from event_log";
    }
    const auto ids = reader.query(
        "SELECT redis_id, COUNT(*) FROM event_log WHERE meeting_id = ? AND order_id = ? "
        "GROUP BY redis_id",
        {inst.meeting_id, inst.order_id});
    std::set<std::string> mysql_ev;
    for (const auto& r : ids) {
      EXPECT_EQ(r[1].value_or(""), "1") << "event " << r[0].value_or("") << " logged twice";
      mysql_ev.insert(r[0].value_or(""));
    }
    EXPECT_EQ(mysql_ev.size(), logged.size()) << "event_log rows share a redis_id";
    const auto redis_ev = stream_ids(inst.key("ev"));
    if (!redis_ev.empty()) {
      EXPECT_TRUE(mysql_ev == std::set<std::string>(redis_ev.begin(), redis_ev.end()))
          << "event_log's redis ids (" << mysql_ev.size()
          << ") differ from the Redis event stream (" << redis_ev.size() << ")";
    }
    // The outbox is empty and the instance owes nothing (the counter would keep an ended
    // instance's keys forever if an entry were counted down twice or never).
    EXPECT_EQ(outbox_length(), 0) << outbox_report();
    EXPECT_EQ(outbox_pending(), 0) << outbox_report();
    const auto undumped = redis().get(inst.key("undumped"));
    EXPECT_TRUE(!undumped || *undumped == "0") << "undumped = " << undumped.value_or("?");
  }

  ServiceEnv env_;
  std::unique_ptr<PrivateMariadb> mariadb_;
  std::unique_ptr<PrivateRedis> redis_;
  std::unique_ptr<MysqlFixture> db_;
  std::unique_ptr<RedisProbe> probe_;
  std::unique_ptr<ChatdProcess> chatd_;
  std::vector<std::unique_ptr<DumperProcess>> dumpers_;
};

// 1. SIGKILL in the middle of batches, restarts under the same name (own pending entries
// first) or a new one (XAUTOCLAIM after --claim-idle-ms): nothing lost, nothing twice.
TEST_F(DumpTest, KillNineMidBatchLosesAndDuplicatesNothing) {
  start_services(false);
  const Instance inst = active_meeting("kill9");
  const auto chatters = users(4, "k");
  // Paced a little, so that the posting lasts through several kills.
  Crowd crowd(*chatd_, chatters, inst, {750, 100, 1ms});
  crowd.start();
  // A backlog first, so that the first dumpers have many batches to be killed in.
  ASSERT_TRUE(eventually([&] { return crowd.posted() >= 800; }, 20000ms, 20ms))
      << "chatters too slow: " << crowd.posted();

  const unsigned seed = std::random_device{}();
  RecordProperty("seed", std::to_string(seed));
  std::mt19937 rng(seed);
  DumperOptions o;
  o.batch = 50;
  o.claim_idle_ms = 1000;
  o.interval_ms = 20;
  o.consumer = "k9-" + random_tag();
  int kills = 0, holding_kills = 0, committed_unacked = 0, renamed = 0;
  // SIGKILLs a dumper, if possible while it holds a batch (read, not yet acknowledged; waits
  // up to `within` for one). Returns the outbox ids it held when it died.
  auto kill_holding = [&](DumperProcess* d, Millis within) {
    eventually([&] { return !held_by(d->consumer()).empty(); }, within, 1ms);
    d->kill();
    ++kills;
    EXPECT_EQ(d->exit_status(), 128 + SIGKILL) << "the dumper was not running until killed";
    const auto held = held_by(d->consumer());
    if (!held.empty()) {
      ++holding_kills;
      // Killed between COMMIT and acknowledging? (Then the redo must change nothing.)
      const auto entry = redis().command({"XRANGE", kOutbox, held.back(), held.back()});
      if (!entry.elements.empty()) {
        const auto& f = entry.elements[0].elements.at(1).elements;
        for (std::size_t i = 0; i + 1 < f.size(); i += 2)
          if (f[i].str == "id" &&
              !MysqlFixture(env_)
                   .query("SELECT 1 FROM message WHERE meeting_id = ? AND "
                          "order_id = ? AND message_id = ?",
                          {inst.meeting_id, inst.order_id, message_id_of(f[i + 1].str)})
                   .empty())
            ++committed_unacked;
      }
    }
    return std::set<std::string>(held.begin(), held.end());
  };

  // Random kills while the chatters post.
  while (kills < 12 && (kills < 6 || crowd.posted() < 3000)) {
    if (kills > 0 && rng() % 2 == 0) {
      o.consumer = "k9-" + random_tag();  // the old name's entries must be claimed
      ++renamed;
    }
    DumperProcess* d = dumper(o);
    std::this_thread::sleep_for(Millis(50 + rng() % 400));
    kill_holding(d, 1000ms);
  }
  const int random_kills = kills, random_holding = holding_kills;
  Acknowledged acked = crowd.finish();
  ASSERT_EQ(acked.messages.size(), 3000u);
  EXPECT_EQ(acked.events.size(), 4u * (1 + 2 * 7)) << "joins + leave/join every 100 posts";

  // Then a fixed sequence on a fresh backlog, so both ways back are sure to be taken.
  {
    Crowd more(*chatd_, {chatters[0]}, inst, {600, 0, 0ms});
    more.start();
    acked.merge(more.finish());
  }
  o.batch = 20;
  o.consumer = "k9-same-" + random_tag();
  const auto held1 = kill_holding(dumper(o), 5000ms);
  ASSERT_FALSE(held1.empty()) << "no batch caught in flight: " << outbox_report();
  // (a) Same name again: it re-reads its own pending entries at once, long before any claim.
  const auto restarted = Clock::now();
  DumperProcess* same = dumper(o);
  EXPECT_TRUE(eventually(
      [&] {
        for (const auto& id : held_by(o.consumer))
          if (held1.count(id)) return false;
        return true;
      },
      800ms, 5ms))
      << "a dumper restarted under its name did not resume its own entries at once";
  const auto resumed_ms = ms_between(restarted, Clock::now());
  // (b) Killed after its COMMIT but before its acknowledgement: Redis holds the dumper's
  // writes (CLIENT PAUSE WRITE), so chat_ack waits while MySQL already has the rows; the
  // SIGKILL lands exactly in that window, and the entries stay pending.
  MysqlFixture reader(env_);
  auto in_mysql = [&](const std::string& outbox_id) {
    const auto entry = redis().command({"XRANGE", kOutbox, outbox_id, outbox_id});
    if (entry.elements.empty()) return false;
    std::map<std::string, std::string> f;
    const auto& kv = entry.elements[0].elements.at(1).elements;
    for (std::size_t i = 0; i + 1 < kv.size(); i += 2) f[kv[i].str] = kv[i + 1].str;
    if (f["k"] == "msg")
      return !reader
                  .query(
                      "SELECT 1 FROM message WHERE meeting_id = ? AND order_id = ? AND "
                      "message_id = ?",
                      {inst.meeting_id, inst.order_id, message_id_of(f["id"])})
                  .empty();
    return !reader
                .query(
                    "SELECT 1 FROM event_log WHERE meeting_id = ? AND order_id = ? AND "
                    "redis_id = ?",
                    {inst.meeting_id, inst.order_id, f["id"]})
                .empty();
  };
  std::set<std::string> held2;
  bool committed = false;
  for (int attempt = 0; attempt < 20 && held2.empty(); ++attempt) {
    eventually(
        [&] {
          for (const auto& id : held_by(o.consumer))
            if (!held1.count(id)) return true;
          return false;
        },
        2000ms, 1ms);
    redis().command({"CLIENT", "PAUSE", "5000", "WRITE"});
    for (const auto& id : held_by(o.consumer))
      if (!held1.count(id)) held2.insert(id);
    if (held2.empty()) {  // between two batches: try again
      redis().command({"CLIENT", "UNPAUSE"});
      continue;
    }
    committed =
        eventually([&] { return std::all_of(held2.begin(), held2.end(), in_mysql); }, 3000ms, 5ms);
    same->kill();
    redis().command({"CLIENT", "UNPAUSE"});
  }
  ASSERT_FALSE(held2.empty()) << "no batch caught in flight: " << outbox_report();
  ASSERT_TRUE(committed) << "the held batch never reached MySQL";
  {
    const auto ids = held_by(o.consumer);
    const std::set<std::string> still(ids.begin(), ids.end());
    EXPECT_TRUE(std::includes(still.begin(), still.end(), held2.begin(), held2.end()))
        << "entries acknowledged although the dumper died before chat_ack";
  }
  // (c) A new name: the dead consumer's entries come only through XAUTOCLAIM, once idle;
  // writing them again must change nothing.
  const auto killed = Clock::now();
  o.consumer = "k9-new-" + random_tag();
  DumperProcess* last = dumper(o);
  ASSERT_TRUE(last->wait_started());
  expect_drained(30000ms);
  const auto claimed_ms = ms_between(killed, Clock::now());
  EXPECT_GE(claimed_ms, 800) << "entries of a dead dumper were taken before --claim-idle-ms";
  EXPECT_EQ(last->stop(), 0);

  std::cout << "[ kill -9 ] " << random_kills << " random kills (" << random_holding
            << " holding a batch, " << committed_unacked << " after COMMIT before the ack), "
            << renamed << " random restarts under a new name; then " << held2.size()
            << " committed entries killed before their ack; own entries resumed in " << resumed_ms
            << " ms, dead consumer's claimed after " << claimed_ms << " ms; seed " << seed << "\n";
  EXPECT_GE(random_holding, 2) << "too few random kills hit a batch in flight";
  expect_exactly_once(inst, acked, true);
}

// 2. MariaDB goes away while the clients keep chatting: chatd keeps accepting posts (Redis
// only), the dumper postpones and catches up once MariaDB is back.
TEST_F(DumpTest, MariadbOutageIsRiddenOut) {
  start_services(true);
  const Instance inst = active_meeting("mysql-outage");
  Crowd crowd(*chatd_, users(3, "m"), inst, {100000, 150, 2ms});
  DumperOptions o;
  o.batch = 50;
  o.claim_idle_ms = 1000;
  o.interval_ms = 100;
  DumperProcess* d = dumper(o);
  crowd.start();
  ASSERT_TRUE(eventually([&] { return crowd.posted() >= 300; }, 10000ms, 10ms));

  mariadb_->stop();
  const int posted_at_stop = crowd.posted();
  EXPECT_TRUE(eventually([&] { return d->log().find("postponed") != std::string::npos; }, 10000ms))
      << "the dumper did not report the outage";
  std::this_thread::sleep_for(1500ms);
  const int during = crowd.posted() - posted_at_stop;
  EXPECT_GT(during, 100) << "chatd stopped accepting posts while MariaDB was down";
  EXPECT_GT(outbox_length(), 100) << "the outbox should fill while MySQL is down";
  EXPECT_TRUE(d->running()) << "the dumper must survive a MySQL outage";
  EXPECT_TRUE(chatd_->alive());

  mariadb_->start();
  std::this_thread::sleep_for(500ms);
  crowd.stop();
  const Acknowledged acked = crowd.finish();
  expect_drained(30000ms);
  EXPECT_TRUE(d->running());
  EXPECT_NE(d->log().find("reachable again"), std::string::npos) << "no recovery line";
  EXPECT_EQ(d->stop(), 0);
  std::cout << "[ MariaDB outage ] " << acked.messages.size() << " messages, "
            << acked.events.size() << " events acknowledged; " << during
            << " posts while MariaDB was down\n";
  expect_exactly_once(inst, acked, true);
}

// 3. Redis restarts (graceful SHUTDOWN, AOF everysec, same directory) in the middle:
// everything acknowledged before survives, the dumper resumes, every entry once.
TEST_F(DumpTest, RedisRestartLosesNothingAcknowledged) {
  start_services(false, "everysec");
  const Instance inst = active_meeting("redis-restart");
  Crowd crowd(*chatd_, users(3, "r"), inst, {100000, 150, 2ms});
  DumperOptions o;
  o.batch = 50;
  o.claim_idle_ms = 1000;
  o.interval_ms = 100;
  DumperProcess* d = dumper(o);
  crowd.start();
  ASSERT_TRUE(eventually([&] { return crowd.posted() >= 400; }, 10000ms, 10ms));

  probe_.reset();
  redis_->shutdown();
  const int posted_before = crowd.posted();
  std::this_thread::sleep_for(1000ms);
  EXPECT_TRUE(d->running()) << "the dumper must survive a Redis outage";
  redis_->start();
  ASSERT_TRUE(eventually([&] { return crowd.posted() > posted_before + 100; }, 20000ms))
      << "chatting did not resume after Redis came back";
  crowd.stop();
  const Acknowledged acked = crowd.finish();
  EXPECT_GT(crowd.unavailable(), 0) << "the outage was not noticed by the clients";
  expect_drained(30000ms);
  EXPECT_TRUE(d->running());
  EXPECT_EQ(d->stop(), 0);
  // Everything acknowledged is still in the instance's streams (nothing lost by the restart).
  std::set<std::string> in_redis;
  for (const auto& id : stream_ids(inst.key("msgs"))) in_redis.insert(message_id_of(id));
  std::size_t lost = 0;
  for (const auto& [id, p] : acked.messages) lost += in_redis.count(id) == 0;
  EXPECT_EQ(lost, 0u) << "acknowledged messages lost by the Redis restart";
  std::cout << "[ Redis restart ] " << acked.messages.size() << " messages acknowledged, "
            << in_redis.size() << " in Redis, " << crowd.unavailable() << " unavailable answers\n";
  // A request may have been applied while its answer was lost, so MySQL is compared with
  // the Redis streams exactly and with the acknowledgements as a subset.
  expect_exactly_once(inst, acked, false);
}

// 4. Three dumpers on one outbox: the work is shared and every entry written once.
TEST_F(DumpTest, ThreeDumpersShareTheWorkExactlyOnce) {
  start_services(false);
  const Instance inst = active_meeting("three");
  Crowd crowd(*chatd_, users(3, "s"), inst, {700, 100, 0ms});
  crowd.start();
  ASSERT_TRUE(eventually([&] { return crowd.posted() >= 600; }, 20000ms, 10ms));
  DumperOptions o;
  o.batch = 50;
  o.interval_ms = 20;  // default claim idle (30 s): no entry is ever handed out twice
  std::vector<DumperProcess*> ds;
  for (int i = 0; i < 3; ++i) ds.push_back(dumper(o));
  const Acknowledged acked = crowd.finish();
  ASSERT_EQ(acked.messages.size(), 2100u);
  expect_drained(30000ms);
  std::int64_t messages = 0, events = 0;
  std::string shares;
  for (DumperProcess* d : ds) {
    EXPECT_EQ(d->stop(), 0);
    const auto [m, e] = d->reported_rows();
    EXPECT_GT(m + e, 0) << "dumper " << d->consumer() << " got no work";
    messages += m;
    events += e;
    shares += " " + std::to_string(m) + "+" + std::to_string(e);
  }
  // Each entry was handed to one dumper only: the reported rows add up exactly.
  EXPECT_EQ(messages, static_cast<std::int64_t>(acked.messages.size()));
  EXPECT_EQ(events, static_cast<std::int64_t>(acked.events.size()));
  std::cout << "[ 3 dumpers ] messages+events per dumper:" << shares << "\n";
  expect_exactly_once(inst, acked, true);
}

// 5. An instance that ends is dumped completely, then its keys leave Redis (the state
// marker stays, with an expiry) and its history is served from MySQL, unchanged.
TEST_F(DumpTest, EndedInstanceLeavesRedisAndIsServedFromMysql) {
  start_services(false);
  const Instance inst = active_meeting("ends");
  const auto us = users(3, "e");
  const TestUser silent = db_->create_user("silent");
  Acknowledged acked;
  std::vector<TestClient> clients;
  for (const auto& u : us) {
    clients.push_back(chatd_->connect());
    clients.back().login(u.name, u.password);
    const json j = clients.back().ok("join", inst.params());
    acked.events.insert({u.user_id, 1, parse_timestamp(j.value("joined_at", "")).value_or(0)});
  }
  for (int i = 0; i < 150; ++i) {
    TestClient& c = clients[static_cast<std::size_t>(i) % clients.size()];
    const TestUser& u = us[static_cast<std::size_t>(i) % us.size()];
    json p = inst.params();
    p["text"] = "ending #" + std::to_string(i) + " \xE2\x82\xAC";
    const json r = c.ok("post", p);
    acked.messages.emplace(r.value("message_id", ""),
                           Posted{u.user_id, p["text"].get<std::string>(),
                                  parse_timestamp(r.value("ts", "")).value_or(0)});
  }
  const json l = clients[2].ok("leave", inst.params());
  acked.events.insert({us[2].user_id, 2, parse_timestamp(l.value("left_at", "")).value_or(0)});

  // The history as served while the instance is active (from Redis).
  TestClient& reader = clients[0];
  auto history = [&] {
    std::vector<json> out;
    auto q = [&](const std::string& op, json p) {
      p.update(inst.params());
      out.push_back(reader.ok(op, p).at("messages"));
    };
    q("messages", {{"limit", 1000}});
    q("messages", {{"limit", 7}});
    const std::string mid = out[0].at(70).at("message_id");
    q("messages", {{"after", mid}, {"limit", 20}});
    q("messages", {{"before", mid}, {"limit", 20}});
    for (const auto& u : us) {
      q("user_messages", {{"user_id", u.user_id}, {"limit", 1000}});
      q("user_messages", {{"user_id", u.user_id}, {"after", mid}, {"limit", 5}});
    }
    q("user_messages", {{"user_id", silent.user_id}});
    return out;
  };
  const auto before = history();
  ASSERT_EQ(before[0].size(), 150u);
  EXPECT_EQ(before.back().size(), 0u) << "user_messages of a user who posted nothing";

  // End it a moment from now (a schedule change chatd picks up within its poll interval).
  const UnixMs to = now_ms() + 1500;
  db_->set_instance_to(inst.meeting_id, inst.order_id, to);
  const json ended =
      reader.expect_event(event_of("meeting_ended", inst.meeting_id), "meeting_ended", 10000ms);
  const UnixMs end_ts = parse_timestamp(ended.value("ts", "")).value_or(0);
  EXPECT_EQ(end_ts, to);
  for (int i = 0; i < 2; ++i)
    acked.events.insert({us[static_cast<std::size_t>(i)].user_id, 2, end_ts});
  EXPECT_EQ(redis().get(inst.key("state")).value_or(""), "ended");
  EXPECT_EQ(history(), before) << "history of the ended instance, still from Redis";
  EXPECT_GT(redis().keys(inst.key("*")).size(), 1u) << "nothing dumped yet: the keys stay";

  DumperOptions o;
  o.once = true;
  o.batch = 40;
  DumperProcess* d = dumper(o);
  ASSERT_EQ(d->wait_exit(30000ms), 0) << d->log();
  EXPECT_NE(d->log().find("1 ended instances cleaned"), std::string::npos) << d->log();
  const auto [m, e] = d->reported_rows();
  EXPECT_EQ(m, 150);
  EXPECT_EQ(e, static_cast<std::int64_t>(acked.events.size()));

  // Only the state marker is left of the instance, with a 30-day expiry; the outbox is
  // empty. (Other instances may show up here: chatd reads the shared schedule, so meetings of
  // tests running in parallel start in this Redis too.)
  EXPECT_EQ(redis().keys(inst.key("*")), std::vector<std::string>{inst.key("state")});
  const long long ttl = redis().pttl(inst.key("state"));
  EXPECT_GT(ttl, 29LL * 24 * 3600 * 1000);
  EXPECT_LE(ttl, 30LL * 24 * 3600 * 1000);
  EXPECT_EQ(outbox_length(), 0);
  EXPECT_EQ(history(), before) << "history of the ended instance, from MySQL";
  expect_exactly_once(inst, acked, true);

  // A later run finds nothing to do and changes nothing.
  DumperProcess* again = dumper(o);
  ASSERT_EQ(again->wait_exit(30000ms), 0) << again->log();
  EXPECT_EQ(again->reported_rows(), std::make_pair(std::int64_t{0}, std::int64_t{0}));
  EXPECT_EQ(history(), before);
}

// 5c. The state marker of an ended instance expires after 30 days; its history is in MySQL
// and must stay readable as before (PROTOCOL.md: `messages` / `user_messages` with the
// explicit order_id of an ended instance return its history), empty pages included.
TEST_F(DumpTest, HistoryOfAnEndedInstanceOutlivesItsStateMarker) {
  start_services(false);
  const Instance inst = active_meeting("marker");
  const TestUser poster = db_->create_user("poster");
  const TestUser silent = db_->create_user("silent");
  TestClient c = chatd_->connect();
  c.login(poster.name, poster.password);
  c.ok("join", inst.params());
  std::string last_id;
  for (int i = 0; i < 5; ++i) {
    json p = inst.params();
    p["text"] = "kept #" + std::to_string(i);
    last_id = c.ok("post", p).value("message_id", "");
  }
  // The answer without its request id: the result, or the error code.
  auto query = [&](const std::string& op, json p) -> json {
    p.update(inst.params());
    const json r = c.call(op, p);
    return r.value("ok", false) ? r.at("result") : json(error_code(r));
  };
  db_->set_instance_to(inst.meeting_id, inst.order_id, now_ms() + 500);
  ASSERT_TRUE(eventually([&] { return redis().get(inst.key("state")) == "ended"; }, 10000ms));
  DumperOptions o;
  o.once = true;
  ASSERT_EQ(dumper(o)->wait_exit(30000ms), 0);
  ASSERT_EQ(redis().keys(inst.key("*")), std::vector<std::string>{inst.key("state")});
  const json all = query("messages", {{"limit", 100}});
  const json mine = query("user_messages", {{"user_id", poster.user_id}});
  const json none = query("user_messages", {{"user_id", silent.user_id}});
  const json after_last = query("messages", {{"after", last_id}});
  ASSERT_TRUE(all.is_object()) << all.dump();
  EXPECT_EQ(all.at("messages").size(), 5u);
  EXPECT_EQ(none, json({{"messages", json::array()}}));
  EXPECT_EQ(after_last, json({{"messages", json::array()}}));

  // 30 days later the marker is gone (its expiry, done here at once).
  ASSERT_EQ(redis().integer({"DEL", inst.key("state")}), 1);
  EXPECT_EQ(query("messages", {{"limit", 100}}), all);
  EXPECT_EQ(query("user_messages", {{"user_id", poster.user_id}}), mine);
  EXPECT_EQ(query("user_messages", {{"user_id", silent.user_id}}), none)
      << "an empty page of an ended instance's history";
  EXPECT_EQ(query("messages", {{"after", last_id}}), after_last)
      << "an empty page of an ended instance's history";
}

// 5b. Memory stays bounded across job runs too: a `chat-dumper --once` run (cron / systemd
// timer; by default a new consumer name "host-pid" each time) that ends with nothing pending
// must not leave its consumer in the group, or the group grows by one consumer per run
// forever (XINFO CONSUMERS, and the memory of each).
TEST_F(DumpTest, RepeatedOnceRunsLeaveNoConsumersBehind) {
  start_services(false);
  const Instance inst = active_meeting("cron");
  const TestUser u = db_->create_user("cron");
  TestClient c = chatd_->connect();
  c.login(u.name, u.password);
  c.ok("join", inst.params());
  DumperOptions o;
  o.once = true;
  o.default_consumer = true;
  constexpr int kRuns = 4;
  for (int i = 0; i < kRuns; ++i) {
    json p = inst.params();
    p["text"] = "cron run " + std::to_string(i);
    c.ok("post", p);
    DumperProcess* d = dumper(o);
    ASSERT_EQ(d->wait_exit(30000ms), 0) << d->log();
  }
  EXPECT_EQ(outbox_length(), 0);
  EXPECT_EQ(outbox_pending(), 0);
  const RedisValue groups = redis().command({"XINFO", "GROUPS", kOutbox});
  ASSERT_EQ(groups.elements.size(), 1u);
  long long consumers = -1;
  const auto& g = groups.elements[0].elements;
  for (std::size_t i = 0; i + 1 < g.size(); i += 2)
    if (g[i].str == "consumers") consumers = g[i + 1].integer;
  EXPECT_LE(consumers, 1) << kRuns << " --once runs left " << consumers
                          << " consumers in the group: " << outbox_report();
}

}  // namespace
}  // namespace chat::test
