// LoginThrottle: growing delays before `invalid_credentials` per user and per address
// (chatd --login-failure-delay-ms, --login-failure-max-delay-ms). Time is made up.
#include "service/login_throttle.hpp"

#include <gtest/gtest.h>
#include <sodium.h>

#include <string>

namespace chat::service {
namespace {

using namespace std::chrono_literals;
using Clock = LoginThrottle::Clock;
using std::chrono::milliseconds;

const Clock::time_point kT0 = Clock::time_point{} + 1000h;

class LoginThrottleTest : public ::testing::Test {
 protected:
  static void SetUpTestSuite() { ASSERT_GE(sodium_init(), 0); }

  static LoginThrottleOptions options() {
    LoginThrottleOptions o;  // defaults: 3 free, 15 min, 250 ms doubling to 8 s
    return o;
  }
};

TEST_F(LoginThrottleTest, ThreeFreeFailuresThenDoublingDelaysUpToTheCap) {
  LoginThrottle t(options());
  std::vector<long long> delays;
  for (int i = 0; i < 12; ++i)
    delays.push_back(t.record_failure("alice", "10.0.0.1", kT0 + i * 1s).count());
  const std::vector<long long> expected = {0,    0,    0,    250,  500,  1000,
                                           2000, 4000, 8000, 8000, 8000, 8000};
  EXPECT_EQ(delays, expected);
}

TEST_F(LoginThrottleTest, DelayForIsBaseTimesTwoToTheExcessCapped) {
  LoginThrottleOptions o = options();
  o.base_delay = 300ms;
  o.max_delay = 1000ms;
  LoginThrottle t(o);
  EXPECT_EQ(t.delay_for(1), 0ms);
  EXPECT_EQ(t.delay_for(3), 0ms);
  EXPECT_EQ(t.delay_for(4), 300ms);
  EXPECT_EQ(t.delay_for(5), 600ms);
  EXPECT_EQ(t.delay_for(6), 1000ms);
  EXPECT_EQ(t.delay_for(4000000000u), 1000ms) << "no overflow for huge counts";
}

TEST_F(LoginThrottleTest, ZeroBaseDelayTurnsItOff) {
  LoginThrottleOptions o = options();
  o.base_delay = 0ms;
  LoginThrottle t(o);
  for (int i = 0; i < 20; ++i) EXPECT_EQ(t.record_failure("bob", "10.0.0.1", kT0), 0ms);
}

TEST_F(LoginThrottleTest, UserKeyIsTheLowercasedLoginString) {
  LoginThrottle t(options());
  t.record_failure("Alice", "10.0.0.1", kT0);
  t.record_failure("ALICE", "10.0.0.2", kT0);
  t.record_failure("alice", "10.0.0.3", kT0);
  EXPECT_EQ(t.user_failures("aLiCe", kT0), 3u);
  // From a fourth address (which has no failures of its own) the user's count still counts.
  EXPECT_EQ(t.record_failure("alice", "10.0.0.4", kT0), 250ms);
  EXPECT_EQ(t.address_failures("10.0.0.4", kT0), 1u);
}

TEST_F(LoginThrottleTest, AddressKeyCountsAcrossUserNames) {
  // One address spraying many user names is delayed although no user has many failures.
  LoginThrottle t(options());
  for (int i = 0; i < 3; ++i)
    EXPECT_EQ(t.record_failure("user" + std::to_string(i), "10.0.0.9", kT0), 0ms);
  EXPECT_EQ(t.record_failure("user3", "10.0.0.9", kT0), 250ms);
  EXPECT_EQ(t.record_failure("user4", "10.0.0.9", kT0), 500ms);
  EXPECT_EQ(t.record_failure("user5", "10.0.0.10", kT0), 0ms) << "other addresses unaffected";
}

TEST_F(LoginThrottleTest, SuccessClearsTheUserNotTheAddress) {
  LoginThrottle t(options());
  for (int i = 0; i < 5; ++i) t.record_failure("carol", "10.0.0.1", kT0);
  t.record_success("CAROL");
  EXPECT_EQ(t.user_failures("carol", kT0), 0u);
  EXPECT_EQ(t.address_failures("10.0.0.1", kT0), 5u);
  // Carol from elsewhere starts afresh; from the same address the address count rules.
  EXPECT_EQ(t.record_failure("carol", "10.0.0.2", kT0), 0ms);
  EXPECT_EQ(t.record_failure("carol", "10.0.0.1", kT0), 1000ms) << "6th failure of the address";
}

TEST_F(LoginThrottleTest, FailuresExpireAWindowAfterTheLatest) {
  LoginThrottle t(options());
  for (int i = 0; i < 3; ++i) t.record_failure("dave", "10.0.0.1", kT0 + i * 5min);
  // The latest failure was at kT0 + 10 min: counted until kT0 + 25 min.
  EXPECT_EQ(t.user_failures("dave", kT0 + 24min), 3u);
  EXPECT_EQ(t.record_failure("dave", "10.0.0.1", kT0 + 24min), 250ms);
  // 15 minutes of quiet after that: forgotten.
  EXPECT_EQ(t.user_failures("dave", kT0 + 39min), 0u);
  EXPECT_EQ(t.record_failure("dave", "10.0.0.1", kT0 + 39min), 0ms);
  EXPECT_EQ(t.user_failures("dave", kT0 + 39min), 1u);
}

TEST_F(LoginThrottleTest, ExpiredKeysArePruned) {
  LoginThrottle t(options());
  for (int i = 0; i < 1000; ++i)
    t.record_failure("user" + std::to_string(i), "10.1." + std::to_string(i % 250) + ".1", kT0);
  EXPECT_EQ(t.tracked_users(), 1000u);
  EXPECT_EQ(t.tracked_addresses(), 250u);
  // One failure after the window: everything older is dropped on the way.
  t.record_failure("late", "10.9.9.9", kT0 + 16min);
  EXPECT_EQ(t.tracked_users(), 1u);
  EXPECT_EQ(t.tracked_addresses(), 1u);
}

TEST_F(LoginThrottleTest, KeyCountIsCappedDroppingTheLeastRecentlyFailed) {
  LoginThrottleOptions o = options();
  o.max_keys = 100;
  LoginThrottle t(o);
  // "victim" fails often and keeps failing; a spray of 10 000 other names and addresses
  // must neither grow the tables past the cap nor push out a key that is failing right now.
  auto now = kT0;
  for (int i = 0; i < 10000; ++i) {
    now += 1ms;
    t.record_failure("spray" + std::to_string(i),
                     "10.2." + std::to_string(i / 250) + "." + std::to_string(i % 250), now);
    if (i % 50 == 0) t.record_failure("victim", "10.3.0.1", now);
    ASSERT_LE(t.tracked_users(), 100u);
    ASSERT_LE(t.tracked_addresses(), 100u);
  }
  EXPECT_EQ(t.user_failures("victim", now), 200u);
  EXPECT_EQ(t.user_failures("spray0", now), 0u) << "the oldest went first";
  EXPECT_EQ(t.user_failures("spray9999", now), 1u);
}

TEST_F(LoginThrottleTest, HugeLoginStringsCostAFixedSizeKey) {
  LoginThrottle t(options());
  const std::string huge(60000, 'x');
  for (int i = 0; i < 4; ++i) t.record_failure(huge, "10.0.0.1", kT0);
  EXPECT_EQ(t.user_failures(huge, kT0), 4u);
  EXPECT_EQ(t.user_failures(huge.substr(1), kT0), 0u) << "distinct strings, distinct keys";
}

TEST_F(LoginThrottleTest, MaxBelowBaseIsRaisedToBase) {
  LoginThrottleOptions o = options();
  o.base_delay = 500ms;
  o.max_delay = 100ms;
  LoginThrottle t(o);
  EXPECT_EQ(t.delay_for(4), 500ms);
  EXPECT_EQ(t.delay_for(10), 500ms);
}

}  // namespace
}  // namespace chat::service
