// ConnectionLimits (chatd --max-connections, --max-connections-per-address) and the
// LogThrottle behind its "one warning per burst" logging.
#include "net/connection_limits.hpp"

#include <gtest/gtest.h>

#include <boost/asio/ip/address.hpp>
#include <vector>

#include "util/log_throttle.hpp"

namespace chat::net {
namespace {

using namespace std::chrono_literals;
using Refusal = ConnectionLimits::Refusal;

TEST(ConnectionLimits, PerAddressCap) {
  ConnectionLimits limits({/*max_total=*/100, /*max_per_address=*/3});
  std::vector<ConnectionLimits::Slot> held;
  Refusal why{};
  for (int i = 0; i < 3; ++i) {
    auto slot = limits.try_acquire("10.0.0.1", why);
    ASSERT_TRUE(slot.has_value()) << i;
    EXPECT_EQ(slot->address(), "10.0.0.1");
    held.push_back(std::move(*slot));
  }
  EXPECT_FALSE(limits.try_acquire("10.0.0.1", why).has_value());
  EXPECT_EQ(why, Refusal::address_full);
  EXPECT_TRUE(limits.try_acquire("10.0.0.2", why).has_value()) << "other addresses unaffected";
  EXPECT_EQ(limits.count("10.0.0.1"), 3u);
  EXPECT_EQ(limits.count("10.0.0.2"), 0u) << "the temporary slot was released";
}

TEST(ConnectionLimits, NodeCapComesFirst) {
  ConnectionLimits limits({2, 2});
  Refusal why{};
  auto a = limits.try_acquire("a", why);
  auto b = limits.try_acquire("b", why);
  ASSERT_TRUE(a && b);
  EXPECT_FALSE(limits.try_acquire("c", why).has_value());
  EXPECT_EQ(why, Refusal::node_full);
  EXPECT_FALSE(limits.try_acquire("a", why).has_value());
  EXPECT_EQ(why, Refusal::node_full) << "both caps reached: the node cap is reported";
  EXPECT_EQ(limits.total(), 2u);
}

TEST(ConnectionLimits, SlotsReleaseOnDestructionMoveAndRelease) {
  ConnectionLimits limits({10, 10});
  Refusal why{};
  {
    auto s = limits.try_acquire("x", why);
    ASSERT_TRUE(s);
    EXPECT_EQ(limits.total(), 1u);
  }
  EXPECT_EQ(limits.total(), 0u);
  EXPECT_EQ(limits.addresses(), 0u) << "addresses without connections are forgotten";

  auto s1 = limits.try_acquire("x", why);
  auto s2 = limits.try_acquire("y", why);
  ASSERT_TRUE(s1 && s2);
  ConnectionLimits::Slot moved = std::move(*s1);  // the moved-from slot holds nothing
  s1.reset();
  EXPECT_EQ(limits.count("x"), 1u);
  moved = std::move(*s2);  // assigning releases what `moved` held
  EXPECT_EQ(limits.count("x"), 0u);
  EXPECT_EQ(limits.count("y"), 1u);
  moved.release();
  moved.release();  // idempotent
  EXPECT_EQ(limits.total(), 0u);
}

TEST(ConnectionLimits, SlotsMayOutliveTheLimits) {
  std::optional<ConnectionLimits::Slot> slot;
  {
    ConnectionLimits limits({1, 1});
    Refusal why{};
    slot = limits.try_acquire("z", why);
    ASSERT_TRUE(slot);
  }
  slot.reset();  // must not touch freed memory (ASan would tell)
}

TEST(ConnectionLimits, AddressKeyFoldsIpv4MappedIpv6) {
  using boost::asio::ip::make_address;
  EXPECT_EQ(ConnectionLimits::address_key(make_address("::ffff:192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(ConnectionLimits::address_key(make_address("192.0.2.7")), "192.0.2.7");
  EXPECT_EQ(ConnectionLimits::address_key(make_address("2001:db8::1")), "2001:db8::1");
}

TEST(LogThrottle, OneLinePerPeriodCountingTheRest) {
  using Clock = util::LogThrottle::Clock;
  const auto t0 = Clock::time_point{} + 1000h;
  util::LogThrottle log(10s);
  EXPECT_EQ(log.admit(t0), std::optional<std::uint64_t>(0)) << "the first of a burst is logged";
  for (int i = 1; i <= 500; ++i) EXPECT_FALSE(log.admit(t0 + i * 10ms).has_value());
  EXPECT_EQ(log.suppressed(), 500u);
  EXPECT_EQ(log.admit(t0 + 10s), std::optional<std::uint64_t>(500));
  EXPECT_EQ(log.suppressed(), 0u);
  EXPECT_FALSE(log.admit(t0 + 11s).has_value());
  EXPECT_EQ(log.admit(t0 + 1h), std::optional<std::uint64_t>(1));
}

}  // namespace
}  // namespace chat::net
