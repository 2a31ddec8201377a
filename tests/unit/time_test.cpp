// format_timestamp / parse_timestamp: "Timestamps: RFC 3339 UTC with milliseconds" (PROTOCOL.md).
#include "chat/protocol/time.hpp"

#include <gtest/gtest.h>

#include <string>

namespace chat::protocol {
namespace {

struct Known {
  UnixMs ms;
  const char* text;
};

// Values cross-checked with Python's datetime (UTC).
constexpr Known kKnown[] = {
    {0, "1970-01-01T00:00:00.000Z"},
    {1, "1970-01-01T00:00:00.001Z"},
    {999, "1970-01-01T00:00:00.999Z"},
    {1795419188123, "2026-11-23T07:33:08.123Z"},  // the example of PROTOCOL.md
    {1709208000000, "2024-02-29T12:00:00.000Z"},  // leap day
    {951868799999, "2000-02-29T23:59:59.999Z"},   // leap day of a year divisible by 400
    {946684799999, "1999-12-31T23:59:59.999Z"},
    {2147483648000, "2038-01-19T03:14:08.000Z"},  // past the 32-bit time_t limit
    {253402300799999, "9999-12-31T23:59:59.999Z"},
    {-1, "1969-12-31T23:59:59.999Z"},  // before the epoch: floor, not truncation
};

TEST(FormatTimestamp, KnownValues) {
  for (const auto& k : kKnown) EXPECT_EQ(format_timestamp(k.ms), k.text) << k.ms;
}

TEST(ParseTimestamp, KnownValues) {
  for (const auto& k : kKnown)
    EXPECT_EQ(parse_timestamp(k.text), std::optional<UnixMs>(k.ms)) << k.text;
}

TEST(ParseTimestamp, RoundTripsEveryMillisecondOfASecondAndManyDays) {
  const UnixMs base = 1795419188000;
  for (UnixMs ms = base; ms < base + 1000; ++ms)
    ASSERT_EQ(parse_timestamp(format_timestamp(ms)), ms);
  // One instant per ~37 hours for 60 years: crosses every month, leap year and DST-free boundary.
  for (UnixMs ms = 0; ms < UnixMs{60} * 365 * 86'400'000; ms += 133'333'337)
    ASSERT_EQ(parse_timestamp(format_timestamp(ms)), ms) << format_timestamp(ms);
}

TEST(ParseTimestamp, AcceptedVariants) {
  EXPECT_EQ(parse_timestamp("2026-11-23T07:33:08Z"), std::optional<UnixMs>(1795419188000));
  EXPECT_EQ(parse_timestamp("2026-11-23T07:33:08.123+00:00"), std::optional<UnixMs>(1795419188123));
  EXPECT_EQ(parse_timestamp("2026-11-23T07:33:08+00:00"), std::optional<UnixMs>(1795419188000));
  EXPECT_EQ(parse_timestamp("2026-11-23T07:33:08.1Z"), std::optional<UnixMs>(1795419188100));
  EXPECT_EQ(parse_timestamp("2026-11-23T07:33:08.12Z"), std::optional<UnixMs>(1795419188120));
  // MySQL DATE_FORMAT(%f) gives microseconds: extra digits are truncated to ms.
  EXPECT_EQ(parse_timestamp("2026-11-23T07:33:08.123999Z"), std::optional<UnixMs>(1795419188123));
}

TEST(ParseTimestamp, RejectsGarbage) {
  for (const char* bad : {
           "", "garbage", "2026-11-23",
           "2026-11-23T07:33:08",            // no zone
           "2026-11-23T07:33:08.123",        // no zone
           "2026-11-23 07:33:08.123Z",       // space instead of T
           "2026-11-23T07:33:08.Z",          // empty fraction
           "2026-11-23T07:33:08.123Zjunk",   // trailing bytes
           "2026-11-23T07:33:08.123+01:00",  // not UTC
           "2026-11-23T07:33:08.123-00:00x",
           "2026-11-23T07:33:08,123Z",  // comma fraction
           "26-11-23T07:33:08.123Z",    // two-digit year
           "2026-11-23T7:33:08.123Z",   // one-digit hour
           "2026/11/23T07:33:08.123Z", "T07:33:08.123Z",
           "1795419188123",  // a number, not a timestamp
       }) {
    EXPECT_EQ(parse_timestamp(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(ParseTimestamp, RejectsOutOfRangeFields) {
  for (const char* bad : {
           "2026-13-01T00:00:00.000Z",  // month 13
           "2026-00-01T00:00:00.000Z",  // month 0
           "2026-11-00T00:00:00.000Z",  // day 0
           "2026-11-31T00:00:00.000Z",  // 30 days in November
           "2026-02-29T00:00:00.000Z",  // not a leap year
           "2100-02-29T00:00:00.000Z",  // divisible by 100, not by 400
           "1900-02-29T00:00:00.000Z", "2026-11-23T24:00:00.000Z", "2026-11-23T23:60:00.000Z",
           "2026-11-23T23:59:60.000Z",  // leap seconds are not produced by this protocol
       }) {
    EXPECT_EQ(parse_timestamp(bad), std::nullopt) << bad;
  }
  EXPECT_TRUE(parse_timestamp("2024-02-29T00:00:00.000Z").has_value());
  EXPECT_TRUE(parse_timestamp("2000-02-29T00:00:00.000Z").has_value());
}

TEST(ParseTimestamp, RejectsSignsAndSpacesInsideNumericFields) {
  // Each of these has exactly the right length and punctuation; only a digit is replaced by a
  // sign or a space, which a strict RFC 3339 reader must refuse.
  for (const char* bad : {
           "2026- 1-23T07:33:08.123Z",
           "2026-+1-23T07:33:08.123Z",
           "2026-11- 3T07:33:08.123Z",
           "2026-11-23T 7:33:08.123Z",
           "2026-11-23T07:-3:08.123Z",
           "2026-11-23T07:33:+8.123Z",
           " 2026-11-23T07:33:08.123Z",
           "+2026-11-23T07:33:08.123Z",
           "-001-11-23T07:33:08.123Z",
           "2026-11-23T07:33:08.-12Z",
       }) {
    EXPECT_EQ(parse_timestamp(bad), std::nullopt) << '"' << bad << '"';
  }
}

TEST(NowMs, IsCurrentWallClock) {
  const UnixMs a = now_ms();
  // 2025-01-01 .. 2100-01-01: guards against seconds or microseconds as the unit.
  EXPECT_GT(a, 1735689600000);
  EXPECT_LT(a, 4102444800000);
  EXPECT_LE(a, now_ms());
}

}  // namespace
}  // namespace chat::protocol
