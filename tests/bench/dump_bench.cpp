// chat-dump-bench: how fast chat-dumper moves a full outbox to MySQL, and what Redis memory
// does on the way (issue "Dumper and backup jobs: every message and event in MySQL exactly
// once"). For each --batch value: a fresh meeting instance on a private Redis (AOF everysec)
// served by one chatd (--dump-interval-ms 0), --users participants joined through chatd, then
// --messages posts written straight into Redis with pipelined FCALL chat_post (the function
// chatd itself calls, loaded by chatd); `chat-dumper --once --batch B` moves them to the CHAT_*
// MySQL; then the instance ends, a second --once run moves the end's leave events and the
// instance's keys leave Redis. Prints used_memory at each step and rows/s. The rows it wrote
// are deleted from MySQL at the end. Needs the CHAT_* variables (notes/CONTEXT.md).
#include <hiredis/hiredis.h>

#include <chrono>
#include <cstdio>
#include <iostream>
#include <memory>
#include <regex>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "chat/protocol/time.hpp"
#include "chatd_process.hpp"
#include "dumper_process.hpp"
#include "mysql_fixture.hpp"
#include "private_redis.hpp"
#include "redis_probe.hpp"
#include "test_client.hpp"

namespace {

using namespace chat::test;
using Clock = std::chrono::steady_clock;

struct Settings {
  long messages = 100000;
  int users = 10;
  std::size_t text_bytes = 100;
  std::vector<std::size_t> batches{500, 2000};
  long pipeline = 1000;  // FCALLs per round trip while filling
};

/// One measured run (one batch size).
struct Row {
  std::size_t batch = 0;
  long messages = 0;
  double fill_s = 0;
  long long mem_before = 0, mem_filled = 0, mem_dumped = 0, mem_cleaned = 0;
  long long outbox_filled = 0;
  double dump_wall_s = 0;      // process start to exit
  double dump_reported_s = 0;  // the dumper's own "took N ms"
  long long rows_moved = 0;    // messages + events of the dump run
  long long rows_in_mysql = 0;
  std::size_t keys_left = 0;  // keys of the instance after the end (state only)
  long long dataset_before = 0, dataset_cleaned = 0;  // used_memory_dataset (keys only)
  long long dbsize_before = 0, dbsize_cleaned = 0;
  long long outbox_bytes_cleaned = 0;  // MEMORY USAGE of the (empty) outbox stream
};

double seconds_since(Clock::time_point t0) {
  return std::chrono::duration<double>(Clock::now() - t0).count();
}

void usage() {
  std::cout << "usage: chat-dump-bench [--messages N] [--users N] [--text-bytes N] "
               "[--batches B1,B2,...] [--pipeline N]\n"
               "Needs CHAT_REDIS_HOST, CHAT_MYSQL_* (a private Redis is started; MySQL is the "
               "CHAT_* one).\n";
}

Settings parse(int argc, char** argv) {
  Settings s;
  for (int i = 1; i < argc; ++i) {
    const std::string a = argv[i];
    auto value = [&]() -> std::string {
      if (i + 1 >= argc) throw std::invalid_argument(a + " needs a value");
      return argv[++i];
    };
    if (a == "--messages") {
      s.messages = std::stol(value());
    } else if (a == "--users") {
      s.users = std::stoi(value());
    } else if (a == "--text-bytes") {
      s.text_bytes = std::stoul(value());
    } else if (a == "--pipeline") {
      s.pipeline = std::stol(value());
    } else if (a == "--batches") {
      s.batches.clear();
      std::stringstream in(value());
      for (std::string b; std::getline(in, b, ',');) s.batches.push_back(std::stoul(b));
    } else if (a == "--help" || a == "-h") {
      usage();
      std::exit(0);
    } else {
      throw std::invalid_argument("unknown argument " + a);
    }
  }
  if (s.messages <= 0 || s.users <= 0 || s.text_bytes == 0 || s.batches.empty() || s.pipeline <= 0)
    throw std::invalid_argument("all numbers must be positive");
  return s;
}

/// A number field of INFO memory ("used_memory", "used_memory_dataset", ...).
long long info_memory(RedisProbe& redis, const std::string& field) {
  const std::string info = redis.command({"INFO", "memory"}).str;
  const auto at = info.find("\n" + field + ":");
  if (at == std::string::npos) throw std::runtime_error("INFO memory without " + field);
  return std::stoll(info.substr(at + field.size() + 2));
}

long long used_memory(RedisProbe& redis) {
  return info_memory(redis, "used_memory");
}

/// The instance key layout of server/src/store/redis_store.hpp.
std::string key(std::int64_t m, std::int64_t o, const std::string& suffix) {
  return "chat:i:{" + std::to_string(m) + ":" + std::to_string(o) + "}:" + suffix;
}

/// Pipelined FCALL chat_post (arguments as RedisStore::post sends them). Returns how many
/// were answered "ok".
long fill(std::uint16_t port, std::int64_t m, std::int64_t o, const std::vector<TestUser>& users,
          const Settings& s) {
  timeval tv{10, 0};
  std::unique_ptr<redisContext, void (*)(redisContext*)> ctx(
      redisConnectWithTimeout("127.0.0.1", port, tv), redisFree);
  if (!ctx || ctx->err) throw std::runtime_error("cannot connect to the private Redis");
  redisSetTimeout(ctx.get(), tv);
  const std::string inst = std::to_string(m) + ":" + std::to_string(o);
  long ok = 0;
  for (long done = 0; done < s.messages;) {
    const long n = std::min(s.pipeline, s.messages - done);
    for (long i = 0; i < n; ++i) {
      const TestUser& u = users[static_cast<std::size_t>(done + i) % users.size()];
      std::string text = "bench message " + std::to_string(done + i) + " ";
      text.resize(s.text_bytes, 'x');
      const std::vector<std::string> args = {"FCALL",
                                             "chat_post",
                                             "7",
                                             key(m, o, "state"),
                                             key(m, o, "p"),
                                             key(m, o, "msgs"),
                                             key(m, o, "um:" + std::to_string(u.user_id)),
                                             "chat:outbox",
                                             key(m, o, "undumped"),
                                             key(m, o, "posters"),
                                             inst,
                                             std::to_string(m),
                                             std::to_string(o),
                                             std::to_string(u.user_id),
                                             u.name,
                                             text,
                                             "chat:bus"};
      std::vector<const char*> argv;
      std::vector<size_t> lens;
      for (const auto& a : args) {
        argv.push_back(a.data());
        lens.push_back(a.size());
      }
      redisAppendCommandArgv(ctx.get(), static_cast<int>(argv.size()), argv.data(), lens.data());
    }
    for (long i = 0; i < n; ++i) {
      void* raw = nullptr;
      if (redisGetReply(ctx.get(), &raw) != REDIS_OK) throw std::runtime_error(ctx->errstr);
      std::unique_ptr<redisReply, void (*)(void*)> r(static_cast<redisReply*>(raw),
                                                     freeReplyObject);
      if (r->type == REDIS_REPLY_ARRAY && r->elements >= 1 &&
          std::string(r->element[0]->str, r->element[0]->len) == "ok")
        ++ok;
      else if (r->type == REDIS_REPLY_ERROR)
        throw std::runtime_error("chat_post: " + std::string(r->str, r->len));
    }
    done += n;
  }
  return ok;
}

/// Runs chat-dumper --once; returns (wall seconds, its reported seconds, rows moved).
std::tuple<double, double, long long> dump_once(const ServiceEnv& env, std::uint16_t redis_port,
                                                std::size_t batch) {
  DumperOptions o;
  o.once = true;
  o.batch = batch;
  o.redis_port = redis_port;
  const auto t0 = Clock::now();
  DumperProcess d(env, o);
  const auto status = d.wait_exit(std::chrono::minutes(10));
  const double wall = seconds_since(t0);
  if (status.value_or(-1) != 0)
    throw std::runtime_error("chat-dumper --once failed:\n" + tail_lines(d.log(), 10));
  std::smatch took;
  const std::string log = d.log();
  const double reported =
      std::regex_search(log, took, std::regex(R"(took (\d+) ms)")) ? std::stod(took[1]) / 1000 : 0;
  const auto [m, e] = d.reported_rows();
  return {wall, reported, m + e};
}

Row run_one(const ServiceEnv& env, PrivateRedis& redis_server, ChatdProcess& chatd,
            MysqlFixture& db, const Settings& s, std::size_t batch) {
  Row row;
  row.batch = batch;
  RedisProbe redis("127.0.0.1", redis_server.port(), "", std::chrono::seconds(30));
  const std::int64_t m = db.create_meeting("dump bench", true);
  const std::int64_t o = 1;
  const auto now = chat::protocol::now_ms();
  db.add_instance(m, o, now - 60'000, now + 3'600'000);
  std::vector<TestUser> users;
  for (int i = 0; i < s.users; ++i) users.push_back(db.create_user("bench"));
  // Join through chatd (the instance must be active there first); the connections close
  // afterwards, the seats stay (long grace), so chatd fans the posts out to nobody.
  {
    TestClient c = chatd.connect();
    c.login(users[0].name, users[0].password);
    const auto deadline = Clock::now() + std::chrono::seconds(10);
    for (;;) {
      const json r = c.call("join", {{"meeting_id", m}, {"order_id", o}});
      if (error_code(r).empty()) break;
      if (Clock::now() > deadline) throw std::runtime_error("instance never active: " + r.dump());
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
  }
  for (std::size_t i = 1; i < users.size(); ++i) {
    TestClient c = chatd.connect();
    c.login(users[i].name, users[i].password);
    c.ok("join", {{"meeting_id", m}, {"order_id", o}});
  }
  // Let the dump group exist and the joins be dumped, so "before" is a steady state.
  dump_once(env, redis_server.port(), batch);
  row.mem_before = used_memory(redis);
  row.dataset_before = info_memory(redis, "used_memory_dataset");
  row.dbsize_before = redis.integer({"DBSIZE"});

  const auto t0 = Clock::now();
  row.messages = fill(redis_server.port(), m, o, users, s);
  row.fill_s = seconds_since(t0);
  if (row.messages != s.messages)
    throw std::runtime_error("only " + std::to_string(row.messages) + " posts were accepted");
  row.mem_filled = used_memory(redis);
  row.outbox_filled = redis.integer({"XLEN", "chat:outbox"});

  std::tie(row.dump_wall_s, row.dump_reported_s, row.rows_moved) =
      dump_once(env, redis_server.port(), batch);
  row.mem_dumped = used_memory(redis);
  if (redis.integer({"XLEN", "chat:outbox"}) != 0)
    throw std::runtime_error("outbox not empty after the dump");

  // End the instance; the end's leave events go through one more run, then the keys go.
  db.set_instance_to(m, o, chat::protocol::now_ms());
  const auto deadline = Clock::now() + std::chrono::seconds(10);
  while (redis.get(key(m, o, "state")).value_or("") != "ended") {
    if (Clock::now() > deadline) throw std::runtime_error("instance did not end");
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  dump_once(env, redis_server.port(), batch);
  row.keys_left = redis.keys(key(m, o, "*")).size();
  row.mem_cleaned = used_memory(redis);
  row.dataset_cleaned = info_memory(redis, "used_memory_dataset");
  row.dbsize_cleaned = redis.integer({"DBSIZE"});
  row.outbox_bytes_cleaned = redis.integer({"MEMORY", "USAGE", "chat:outbox"});
  row.rows_in_mysql = std::stoll(
      db.query("SELECT COUNT(*) FROM message WHERE meeting_id = ? AND order_id = ?", {m, o})
          .at(0)
          .at(0)
          .value_or("0"));
  // The bench's rows would only pile up in the shared database.
  db.exec("DELETE FROM message WHERE meeting_id = ? AND order_id = ?", {m, o});
  db.exec("DELETE FROM event_log WHERE meeting_id = ? AND order_id = ?", {m, o});
  return row;
}

std::string mib(long long bytes) {
  char buf[32];
  std::snprintf(buf, sizeof buf, "%.1f", static_cast<double>(bytes) / (1024.0 * 1024.0));
  return buf;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Settings s = parse(argc, argv);
    ServiceEnv env = ServiceEnv::from_environment();
    PrivateRedis redis_server(PrivateRedisOptions{"everysec"});
    env.redis_host = "127.0.0.1";
    env.redis_port = redis_server.port();
    env.redis_password.clear();
    MysqlFixture db(env);
    ChatdOptions co;
    co.redis_port = redis_server.port();
    co.dump_interval_ms = 0;
    co.grace_ms = 3'600'000;
    co.idle_timeout_ms = 600'000;
    co.heartbeat_ms = 1000;
    co.log_level = "warn";
    ChatdProcess chatd(co);

    std::vector<Row> rows;
    for (const std::size_t b : s.batches) {
      std::cerr << "batch " << b << ": filling " << s.messages << " messages...\n";
      rows.push_back(run_one(env, redis_server, chatd, db, s, b));
    }
    chatd.stop();
    std::cout.flush();
    std::cerr.flush();

    std::printf(
        "chat-dump-bench: %ld messages of %zu bytes by %d users per run; Redis 7 private "
        "(AOF everysec), MySQL %s:%u\n",
        s.messages, s.text_bytes, s.users, env.mysql_host.c_str(), env.mysql_port);
    std::printf("%6s | %7s %8s | %8s %8s %8s %8s | %8s %7s %8s %8s %8s | %8s %4s\n", "batch",
                "fill s", "posts/s", "mem0 MiB", "full MiB", "dump MiB", "end MiB", "rows",
                "wall s", "rows/s", "run s", "rows/s", "MySQL", "keys");
    for (const Row& r : rows) {
      std::printf(
          "%6zu | %7.2f %8.0f | %8s %8s %8s %8s | %8lld %7.2f %8.0f %8.2f %8.0f | %8lld %4zu\n",
          r.batch, r.fill_s, static_cast<double>(r.messages) / r.fill_s, mib(r.mem_before).c_str(),
          mib(r.mem_filled).c_str(), mib(r.mem_dumped).c_str(), mib(r.mem_cleaned).c_str(),
          r.rows_moved, r.dump_wall_s, static_cast<double>(r.rows_moved) / r.dump_wall_s,
          r.dump_reported_s,
          r.dump_reported_s > 0 ? static_cast<double>(r.rows_moved) / r.dump_reported_s : 0.0,
          r.rows_in_mysql, r.keys_left);
    }
    std::printf(
        "(wall: chat-dumper --once from start to exit; run: its own \"took\"; mem0: "
        "before filling; full: after; dump: after the dump; end: after the end and "
        "cleanup; keys: the instance's keys left, 1 = the state marker)\n");
    for (const Row& r : rows)
      std::printf(
          "batch %zu: %.0f bytes of Redis per message while active (streams + outbox), "
          "%.0f after the dump (outbox trimmed); after the end %+lld bytes vs. before "
          "(keys alone: %+lld bytes, %lld -> %lld keys; the empty outbox: %lld bytes)\n",
          r.batch, static_cast<double>(r.mem_filled - r.mem_before) / r.messages,
          static_cast<double>(r.mem_dumped - r.mem_before) / r.messages,
          r.mem_cleaned - r.mem_before, r.dataset_cleaned - r.dataset_before, r.dbsize_before,
          r.dbsize_cleaned, r.outbox_bytes_cleaned);
    // A run that lost or kept something is a failure (the smoke test relies on it).
    for (const Row& r : rows)
      if (r.rows_in_mysql != r.messages || r.keys_left != 1) {
        std::fprintf(stderr, "FAILED: batch %zu: %lld of %ld messages in MySQL, %zu keys left\n",
                     r.batch, r.rows_in_mysql, r.messages, r.keys_left);
        return 1;
      }
    return 0;
  } catch (const std::exception& e) {
    std::cerr << "chat-dump-bench: " << e.what() << "\n";
    return 1;
  }
}
