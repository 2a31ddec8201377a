// chat-bench keeps working: a short fan-out and a history run against a real chatd on the
// CHAT_* services. The figures are not judged (timing belongs in scripts/bench); what must
// hold is what the benchmark promises to measure: every post delivered to every participant
// exactly once, in one order, and the history reads answered.
#include <gtest/gtest.h>

#include <chrono>
#include <fstream>
#include <nlohmann/json.hpp>

#include "chat/protocol/time.hpp"
#include "chatd_process.hpp"
#include "mysql_fixture.hpp"
#include "service_env.hpp"
#include "subprocess.hpp"

#ifndef CHAT_BENCH_PATH
#define CHAT_BENCH_PATH ""
#endif

namespace chat::test {
namespace {

using nlohmann::json;

class ChatBenchSmoke : public ::testing::Test {
 protected:
  void SetUp() override {
    db_ = std::make_unique<MysqlFixture>(ServiceEnv::from_environment());
    // Users "<tag>_b1" .. "<tag>_b12": chat-bench names them PREFIX<n>.
    for (int i = 0; i < 12; ++i) db_->create_user("b", 30, "x", "bench-pw");
    meeting_ = db_->create_meeting("bench room", /*is_public=*/true);
    const auto now = protocol::now_ms();
    db_->add_instance(meeting_, 1, now - 60'000, now + 3'600'000);
    ChatdOptions o;
    o.extra_args = {"--rate-limit", "0"};
    chatd_ = std::make_unique<ChatdProcess>(o);
  }

  // Runs chat-bench with `args` and returns its JSON result; fails the test on a non-zero exit.
  json bench(std::vector<std::string> args) {
    const auto out = scratch_dir() / ("chat-bench-" + random_tag() + ".json");
    std::vector<std::string> argv = {
        CHAT_BENCH_PATH,          "--server", chatd_->address(), "--user-prefix", db_->tag() + "_b",
        "--first-user",           "1",        "--password",      "bench-pw",      "--first-meeting",
        std::to_string(meeting_), "--json",   out.string()};
    argv.insert(argv.end(), args.begin(), args.end());
    Subprocess p(argv, {}, scratch_dir() / "chat-bench.log");
    const auto status = p.wait_exit(std::chrono::seconds(60));
    EXPECT_EQ(status, 0) << "chat-bench failed; log:\n" << tail_lines(p.log(), 20);
    std::ifstream in(out);
    json j;
    if (in) in >> j;
    return j;
  }

  std::unique_ptr<MysqlFixture> db_;
  std::int64_t meeting_ = 0;
  std::unique_ptr<ChatdProcess> chatd_;
};

TEST_F(ChatBenchSmoke, FanOutDeliversEveryPostToEveryParticipantOnceInOneOrder) {
  const json r = bench({"--clients", "12", "--rooms", "1", "--warmup", "0.3", "--duration", "1",
                        "--window", "2", "--server-pid", std::to_string(chatd_->pid())});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["failures"], 0) << r.dump();
  EXPECT_GT(r["posts_total"].get<std::int64_t>(), 12);
  EXPECT_GT(r["deliveries_per_s"].get<double>(), 0);
  EXPECT_EQ(r["lost"], 0);
  EXPECT_EQ(r["duplicated"], 0);
  EXPECT_EQ(r["unknown"], 0);
  EXPECT_EQ(r["same_order_in_every_room"], true);
  EXPECT_GT(r["latency_us"]["samples"].get<std::int64_t>(), 0);
  EXPECT_GT(r["server_rss_kib"].get<std::int64_t>(), 0) << "reads chatd's /proc entry";
}

TEST_F(ChatBenchSmoke, HistoryReadsAreAnswered) {
  const json r = bench({"--scenario", "history", "--history", "300", "--history-reads", "20"});
  ASSERT_TRUE(r.is_object());
  EXPECT_EQ(r["reads"], 20);
  EXPECT_EQ(r["errors"], 0);
}

}  // namespace
}  // namespace chat::test
