// chatctl's --from/--to parser (server/src/admin/time_arg.hpp): which texts are times, and
// which instants they name.
#include <gtest/gtest.h>

#include "admin/time_arg.hpp"
#include "chat/protocol/time.hpp"

namespace chat::admin {
namespace {

constexpr protocol::UnixMs kNow = 1'795'000'000'123;  // 2026-11-18T...

TEST(ChatctlTimeArg, RelativeFormsCountFromNow) {
  EXPECT_EQ(parse_time_arg("now", kNow), kNow);
  EXPECT_EQ(parse_time_arg("+2s", kNow), kNow + 2000);
  EXPECT_EQ(parse_time_arg("+250ms", kNow), kNow + 250);
  EXPECT_EQ(parse_time_arg("+90m", kNow), kNow + 90 * 60'000);
  EXPECT_EQ(parse_time_arg("+1h", kNow), kNow + 3'600'000);
  EXPECT_EQ(parse_time_arg("+2d", kNow), kNow + 2 * 86'400'000);
  EXPECT_EQ(parse_time_arg("-1h", kNow), kNow - 3'600'000);
}

TEST(ChatctlTimeArg, IsoUtcForms) {
  const auto expected = protocol::parse_timestamp("2026-11-23T07:33:08.123Z");
  ASSERT_TRUE(expected.has_value());
  EXPECT_EQ(parse_time_arg("2026-11-23T07:33:08.123Z", kNow), expected);
  EXPECT_EQ(parse_time_arg("2026-11-23 07:33:08.123", kNow), expected);
  EXPECT_EQ(parse_time_arg("2026-11-23T07:33:08.123+00:00", kNow), expected);
  EXPECT_EQ(parse_time_arg("2026-11-23T07:33:08.1Z", kNow), *expected - 23);
  EXPECT_EQ(parse_time_arg("2026-11-23T07:33Z", kNow), *expected - 8123);
  EXPECT_EQ(parse_time_arg("1970-01-01T00:00:00Z", kNow), 0);
}

TEST(ChatctlTimeArg, AnythingElseIsRefused) {
  for (const char* bad :
       {"", "+", "+2", "+2x", "+s", "2s", "tomorrow", "2026-13-01T00:00:00Z",
        "2026-02-30T00:00:00Z", "2026-11-23T24:00:00Z", "2026-11-23T07:33:08+01:00", "2026-11-23",
        "2026-11-23T07:33:08.Z", "2026-11-23T07:33:08Zjunk", "+99999999999999999999d", "+999999d"})
    EXPECT_FALSE(parse_time_arg(bad, kNow).has_value()) << "'" << bad << "'";
}

}  // namespace
}  // namespace chat::admin
