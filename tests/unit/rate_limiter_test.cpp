// TokenBucket and RequestRateLimiter (chatd --rate-limit, --rate-burst): the per-connection
// request limit behind PROTOCOL.md's `rate_limited`. Time is made up, nothing sleeps.
#include "net/rate_limiter.hpp"

#include <gtest/gtest.h>

namespace chat::net {
namespace {

using namespace std::chrono_literals;
using Clock = TokenBucket::Clock;

const Clock::time_point kT0 = Clock::time_point{} + 1000h;

// How many of `n` takes at the same instant succeed.
int takes_at(TokenBucket& bucket, Clock::time_point t, int n) {
  int ok = 0;
  for (int i = 0; i < n; ++i) ok += bucket.take(t) ? 1 : 0;
  return ok;
}

TEST(TokenBucket, StartsFullAndAllowsExactlyTheBurstAtOnce) {
  TokenBucket bucket(10, 20, kT0);
  EXPECT_EQ(takes_at(bucket, kT0, 100), 20);
  EXPECT_FALSE(bucket.take(kT0));
}

TEST(TokenBucket, RefillsAtTheRate) {
  TokenBucket bucket(10, 20, kT0);
  ASSERT_EQ(takes_at(bucket, kT0, 20), 20);
  EXPECT_FALSE(bucket.take(kT0 + 99ms)) << "0.99 tokens after 99 ms at 10/s";
  EXPECT_TRUE(bucket.take(kT0 + 100ms));
  EXPECT_FALSE(bucket.take(kT0 + 100ms));
  // Half a second later: five more.
  EXPECT_EQ(takes_at(bucket, kT0 + 600ms, 100), 5);
}

TEST(TokenBucket, NeverHoldsMoreThanTheBurst) {
  TokenBucket bucket(10, 20, kT0);
  ASSERT_EQ(takes_at(bucket, kT0, 20), 20);
  // An hour of silence refills to the burst, not to 36 000.
  EXPECT_EQ(takes_at(bucket, kT0 + 1h, 1000), 20);
  EXPECT_DOUBLE_EQ(bucket.available(kT0 + 1h), 0.0);
  EXPECT_DOUBLE_EQ(bucket.available(kT0 + 2h), 20.0);
}

TEST(TokenBucket, SustainedRateIsTheConfiguredOne) {
  // One request every 10 ms for 10 s against 50/s, burst 5: about 50 * 10 + 5 get through.
  TokenBucket bucket(50, 5, kT0);
  int ok = 0;
  for (int i = 0; i < 1000; ++i) ok += bucket.take(kT0 + i * 10ms) ? 1 : 0;
  EXPECT_GE(ok, 500);
  EXPECT_LE(ok, 506);
}

TEST(TokenBucket, TimeGoingBackwardsAddsNothing) {
  TokenBucket bucket(10, 2, kT0);
  ASSERT_EQ(takes_at(bucket, kT0, 2), 2);
  EXPECT_FALSE(bucket.take(kT0 - 10s));
  EXPECT_FALSE(bucket.take(kT0));
  EXPECT_TRUE(bucket.take(kT0 + 100ms));
}

TEST(TokenBucket, RateZeroIsUnlimited) {
  TokenBucket bucket(0, 1, kT0);
  EXPECT_TRUE(bucket.unlimited());
  EXPECT_EQ(takes_at(bucket, kT0, 100000), 100000);
}

TEST(TokenBucket, BurstBelowOneIsOne) {
  TokenBucket bucket(1, 0, kT0);
  EXPECT_EQ(takes_at(bucket, kT0, 10), 1);
}

TEST(RequestRateLimiter, RejectsOverTheRateAndRecovers) {
  RequestRateLimiter limiter({/*per_second=*/10, /*burst=*/5, /*flood_factor=*/10}, kT0);
  using V = RequestRateLimiter::Verdict;
  for (int i = 0; i < 5; ++i) EXPECT_EQ(limiter.admit(kT0), V::allow) << i;
  EXPECT_EQ(limiter.admit(kT0), V::reject);
  EXPECT_EQ(limiter.admit(kT0), V::reject);
  EXPECT_EQ(limiter.admit(kT0 + 100ms), V::allow) << "a token came back";
  EXPECT_EQ(limiter.rejected_total(), 2u);
}

TEST(RequestRateLimiter, DisconnectsAfterFloodFactorTimesBurstRefusalsAtOnce) {
  RequestRateLimiter limiter({10, 5, 10}, kT0);
  using V = RequestRateLimiter::Verdict;
  for (int i = 0; i < 5; ++i) ASSERT_EQ(limiter.admit(kT0), V::allow);
  for (int i = 0; i < 50; ++i) ASSERT_EQ(limiter.admit(kT0), V::reject) << i;
  EXPECT_EQ(limiter.admit(kT0), V::disconnect) << "the 51st refusal (> 10 x 5)";
}

TEST(RequestRateLimiter, AFloodIsCaughtEvenWhenTokensTrickleBackInBetween) {
  // 100/s, burst 200: a client pipelining 3 000 frames that are served over 0.4 s sends at
  // 7 500/s. The odd frame is allowed as tokens come back, which must not reset the count.
  RequestRateLimiter limiter({100, 200, 10}, kT0);
  using V = RequestRateLimiter::Verdict;
  int allowed = 0, refused = 0;
  bool disconnected = false;
  for (int i = 0; i < 3000 && !disconnected; ++i) {
    switch (limiter.admit(kT0 + i * 400ms / 3000)) {
      case V::allow:
        ++allowed;
        break;
      case V::reject:
        ++refused;
        break;
      case V::disconnect:
        disconnected = true;
        break;
    }
  }
  EXPECT_TRUE(disconnected) << allowed << " allowed, " << refused << " refused";
  EXPECT_GT(allowed, 200) << "some frames were allowed in between";
  EXPECT_GE(refused, 2000);
  EXPECT_LE(refused, 2400);
}

TEST(RequestRateLimiter, ModeratelyOverTheRateIsRefusedButNeverDisconnected) {
  // Five times the rate for ten minutes: plenty of rate_limited, no disconnect.
  RequestRateLimiter limiter({10, 5, 10}, kT0);
  using V = RequestRateLimiter::Verdict;
  for (int i = 0; i < 50 * 600; ++i)
    ASSERT_NE(limiter.admit(kT0 + i * 20ms), V::disconnect) << "frame " << i;
  EXPECT_GT(limiter.rejected_total(), 20000u);
}

TEST(RequestRateLimiter, AClientThatBacksOffIsNeverDisconnected) {
  // Hitting the limit now and then, then pausing: no flood.
  RequestRateLimiter limiter({10, 5, 2}, kT0);
  using V = RequestRateLimiter::Verdict;
  auto t = kT0;
  for (int round = 0; round < 100; ++round) {
    for (int i = 0; i < 9; ++i) EXPECT_NE(limiter.admit(t), V::disconnect);
    t += 1s;
  }
  EXPECT_GT(limiter.rejected_total(), 0u);
}

TEST(RequestRateLimiter, UnlimitedNeverRejects) {
  RequestRateLimiter limiter({0, 1, 10}, kT0);
  for (int i = 0; i < 10000; ++i) ASSERT_EQ(limiter.admit(kT0), RequestRateLimiter::Verdict::allow);
}

}  // namespace
}  // namespace chat::net
