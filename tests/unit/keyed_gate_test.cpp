// KeyedGate: one holder per key, waiters first come first served, other keys unaffected
// (ChatService's one-Argon2id-verification-per-address lane). Driven by an io_context that
// runs until idle; timers are only the gate's own wake-ups, nothing sleeps.
#include "service/keyed_gate.hpp"

#include <gtest/gtest.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <optional>
#include <string>
#include <vector>

namespace chat::service {
namespace {

using boost::asio::awaitable;

// Enters `key`, logs "<name>+", yields `hops` times to the io_context (other coroutines run
// meanwhile), logs "<name>-" and leaves.
awaitable<void> visit(KeyedGate& gate, std::string key, std::string name, int hops,
                      std::vector<std::string>& log) {
  auto entering = gate.enter(key);
  const auto pass = co_await std::move(entering);
  log.push_back(name + "+");
  for (int i = 0; i < hops; ++i) {
    auto hop =
        boost::asio::post(co_await boost::asio::this_coro::executor, boost::asio::use_awaitable);
    co_await std::move(hop);
  }
  log.push_back(name + "-");
}

TEST(KeyedGate, OneHolderPerKeyInArrivalOrderOtherKeysPassFreely) {
  boost::asio::io_context io;
  KeyedGate gate(io.get_executor());
  std::vector<std::string> log;
  boost::asio::co_spawn(io, visit(gate, "10.0.0.1", "a1", 5, log), boost::asio::detached);
  boost::asio::co_spawn(io, visit(gate, "10.0.0.1", "a2", 1, log), boost::asio::detached);
  boost::asio::co_spawn(io, visit(gate, "10.0.0.1", "a3", 1, log), boost::asio::detached);
  boost::asio::co_spawn(io, visit(gate, "10.0.0.2", "b1", 1, log), boost::asio::detached);
  io.run();
  // b1 runs while a1 holds 10.0.0.1; a2 and a3 follow a1 one at a time, in order.
  const auto at = [&](const std::string& e) {
    return std::find(log.begin(), log.end(), e) - log.begin();
  };
  ASSERT_EQ(log.size(), 8u);
  EXPECT_LT(at("b1-"), at("a1-")) << "another key is not held up";
  EXPECT_LT(at("a1-"), at("a2+"));
  EXPECT_LT(at("a2-"), at("a3+"));
  EXPECT_EQ(gate.held_keys(), 0u) << "free keys are forgotten";
}

TEST(KeyedGate, WaitersAreCountedAndAPassMayOutliveTheGate) {
  boost::asio::io_context io;
  std::optional<KeyedGate> gate(std::in_place, io.get_executor());
  std::vector<std::string> log;
  boost::asio::co_spawn(io, visit(*gate, "k", "x", 3, log), boost::asio::detached);
  boost::asio::co_spawn(io, visit(*gate, "k", "y", 0, log), boost::asio::detached);
  io.run_one();  // x enters
  io.run_one();  // y starts waiting
  EXPECT_EQ(gate->held_keys(), 1u);
  EXPECT_EQ(gate->waiting("k"), 1u);
  gate.reset();  // x's pass and y's wait outlive the gate: y is let go, nothing dangles
  io.run();      // returns: nobody is left waiting
  EXPECT_EQ(log.size(), 4u);
  EXPECT_EQ(log.front(), "x+");
}

}  // namespace
}  // namespace chat::service
