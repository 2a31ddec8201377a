// store::RedisConnection against the test Redis: commands issued in one turn of the event
// loop are written together straight to the socket; what the socket does not take waits for
// writability. Both paths must deliver every command once, in order, with its own reply.
#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "service_env.hpp"
#include "store/redis_client.hpp"

namespace {

using boost::asio::awaitable;
using chat::store::RedisConnection;
using chat::store::RedisReply;

class RedisConnectionTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto env = chat::test::ServiceEnv::from_environment();
    chat::store::RedisOptions options;
    options.host = env.redis_host;
    options.port = env.redis_port;
    options.password = env.redis_password;
    options.name = "test";
    redis_ = std::make_shared<RedisConnection>(io_, options);
    redis_->start();
    prefix_ = "test:redisconn:" + chat::test::random_tag() + ":";
  }
  void TearDown() override { redis_->stop(); }

  // Runs `body` on the io_context until it finishes (at most 30 s) and rethrows its error.
  template <class Body>
  void run(Body body) {
    std::exception_ptr failure;
    bool done = false;
    boost::asio::co_spawn(io_, body(), [&](std::exception_ptr e) {
      failure = e;
      done = true;
      io_.stop();  // the connection's own timers would keep run_for() going
    });
    io_.run_for(std::chrono::seconds(30));
    ASSERT_TRUE(done) << "the commands did not finish within 30 s";
    if (failure) std::rethrow_exception(failure);
  }

  // Waits until the connection is up (at most 5 s).
  awaitable<void> connected() {
    boost::asio::steady_timer timer(io_);
    for (int i = 0; i < 500 && !redis_->connected(); ++i) {
      timer.expires_after(std::chrono::milliseconds(10));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
    if (!redis_->connected()) throw std::runtime_error("Redis did not connect in 5 s");
  }

  // Issues one command and stores its reply; counts the completed commands.
  awaitable<void> exec_into(std::vector<std::string> args, RedisReply& out, int& completed) {
    out = co_await redis_->exec(args);
    ++completed;
  }

  // Waits until `completed` reaches `n`.
  awaitable<void> wait_for(const int& completed, int n) {
    boost::asio::steady_timer timer(io_);
    while (completed < n) {
      timer.expires_after(std::chrono::milliseconds(5));
      co_await timer.async_wait(boost::asio::use_awaitable);
    }
  }

  boost::asio::io_context io_;
  std::shared_ptr<RedisConnection> redis_;
  std::string prefix_;
};

// One value per key, distinct in its first and last bytes, so a reply given to the wrong
// command or a value cut short shows.
std::string value_of(int i, std::size_t bytes) {
  std::string v(bytes, static_cast<char>('a' + i % 26));
  v.front() = static_cast<char>('A' + i % 26);
  v.back() = static_cast<char>('0' + i % 10);
  return v;
}

TEST_F(RedisConnectionTest, ManySmallCommandsInOneTurnGetTheirOwnRepliesInOrder) {
  run([&]() -> awaitable<void> {
    co_await connected();
    constexpr int kCommands = 2000;
    std::vector<RedisReply> replies(kCommands);
    int completed = 0;
    // All issued before any reply can arrive: hiredis buffers them, one write sends them.
    for (int i = 0; i < kCommands; ++i) {
      std::vector<std::string> args{"INCRBY", prefix_ + "counter", std::to_string(i)};
      boost::asio::co_spawn(io_, exec_into(std::move(args), replies[i], completed),
                            boost::asio::detached);
    }
    co_await wait_for(completed, kCommands);
    long long expected = 0;
    for (int i = 0; i < kCommands; ++i) {
      expected += i;
      EXPECT_EQ(replies[i].type, RedisReply::Type::integer) << i;
      EXPECT_EQ(replies[i].integer, expected) << "command " << i << " got another's reply";
    }
    std::vector<std::string> del{"DEL", prefix_ + "counter"};
    co_await redis_->exec(del);
  });
}

TEST_F(RedisConnectionTest, MoreThanTheSocketTakesAtOnceIsWrittenWholeAfterItDrains) {
  run([&]() -> awaitable<void> {
    co_await connected();
    // 48 x 512 KiB = 24 MiB issued in one turn: more than loopback socket buffers hold, so
    // the write stops short and the rest waits for the socket.
    constexpr int kKeys = 48;
    constexpr std::size_t kBytes = 512 * 1024;
    std::vector<RedisReply> set_replies(kKeys);
    int completed = 0;
    for (int i = 0; i < kKeys; ++i) {
      std::vector<std::string> args{"SET", prefix_ + std::to_string(i), value_of(i, kBytes), "EX",
                                    "60"};
      boost::asio::co_spawn(io_, exec_into(std::move(args), set_replies[i], completed),
                            boost::asio::detached);
    }
    co_await wait_for(completed, kKeys);
    for (int i = 0; i < kKeys; ++i) {
      EXPECT_EQ(set_replies[i].type, RedisReply::Type::status) << i;
      EXPECT_EQ(set_replies[i].str, "OK") << i;
    }
    // Read back: every value whole and under its own key.
    for (int i = 0; i < kKeys; ++i) {
      std::vector<std::string> get{"GET", prefix_ + std::to_string(i)};
      const auto got = co_await redis_->exec(get);
      EXPECT_EQ(got.str.size(), kBytes) << i;
      EXPECT_TRUE(got.str == value_of(i, kBytes)) << "key " << i << " holds another value";
    }
    // The connection goes on working after the long write.
    std::vector<std::string> ping{"PING"};
    const auto pong = co_await redis_->exec(ping);
    EXPECT_EQ(pong.str, "PONG");
    std::vector<std::string> del{"DEL"};
    for (int i = 0; i < kKeys; ++i) del.push_back(prefix_ + std::to_string(i));
    const auto deleted = co_await redis_->exec(del);
    EXPECT_EQ(deleted.integer, kKeys);
  });
}

}  // namespace
