// Fuzz target: parse_timestamp / format_timestamp (time.hpp), the RFC 3339 fields of every
// event and result a server sends ("ts", "from", "to", "joined_at").
//
// Checked:
//   - parse_timestamp agrees with an independent reference parser (fixed shape
//     "YYYY-MM-DDTHH:MM:SS", optional ".digits" of which the first three count, then "Z" or
//     "+00:00"; Gregorian calendar; days counted with the civil-from-days algorithm);
//   - a parsed value formats to the same date and time (and the same milliseconds) and
//     parses back to the same value;
//   - format_timestamp of any time in years 0000..9999 (taken from the first 8 input bytes)
//     has the documented shape and parses back to the same value.
#include <cstdint>
#include <cstring>
#include <optional>
#include <string>
#include <string_view>

#include "chat/protocol/time.hpp"
#include "fuzz_util.hpp"

namespace {

namespace proto = chat::protocol;

constexpr std::int64_t kMsPerDay = 86'400'000;

// Days from 1970-01-01 to y-m-d (proleptic Gregorian), written out independently of
// <chrono> (H. Hinnant's days_from_civil).
std::int64_t days_from_civil(std::int64_t y, unsigned m, unsigned d) {
  y -= m <= 2;
  const std::int64_t era = (y >= 0 ? y : y - 399) / 400;
  const auto yoe = static_cast<unsigned>(y - era * 400);
  const unsigned doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
  const unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
  return era * 146097 + static_cast<std::int64_t>(doe) - 719468;
}

bool is_leap(int y) {
  return y % 4 == 0 && (y % 100 != 0 || y % 400 == 0);
}

unsigned days_in_month(int y, int m) {
  static constexpr unsigned kDays[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
  return m == 2 && is_leap(y) ? 29 : kDays[m - 1];
}

std::optional<std::int64_t> reference_parse(std::string_view t) {
  const auto digits = [&](std::size_t at, std::size_t n) -> std::optional<int> {
    if (at + n > t.size()) return std::nullopt;
    int v = 0;
    for (std::size_t i = at; i < at + n; ++i) {
      if (t[i] < '0' || t[i] > '9') return std::nullopt;
      v = v * 10 + (t[i] - '0');
    }
    return v;
  };
  const auto sep = [&](std::size_t at, char c) { return at < t.size() && t[at] == c; };
  const auto y = digits(0, 4), mo = digits(5, 2), d = digits(8, 2), h = digits(11, 2),
             mi = digits(14, 2), s = digits(17, 2);
  if (!y || !mo || !d || !h || !mi || !s || !sep(4, '-') || !sep(7, '-') || !sep(10, 'T') ||
      !sep(13, ':') || !sep(16, ':'))
    return std::nullopt;
  std::size_t pos = 19;
  int ms = 0;
  if (sep(pos, '.')) {
    ++pos;
    int n = 0;
    while (pos < t.size() && t[pos] >= '0' && t[pos] <= '9') {
      if (n < 3) ms = ms * 10 + (t[pos] - '0');
      ++n;
      ++pos;
    }
    if (n == 0) return std::nullopt;
    for (int i = n; i < 3; ++i) ms *= 10;
  }
  const std::string_view zone = t.substr(pos);
  if (zone != "Z" && zone != "+00:00") return std::nullopt;
  if (*mo < 1 || *mo > 12 || *d < 1 || static_cast<unsigned>(*d) > days_in_month(*y, *mo) ||
      *h > 23 || *mi > 59 || *s > 59)
    return std::nullopt;
  return days_from_civil(*y, static_cast<unsigned>(*mo), static_cast<unsigned>(*d)) * kMsPerDay +
         ((*h * 60 + *mi) * 60 + *s) * std::int64_t{1000} + ms;
}

// "YYYY-MM-DDTHH:MM:SS.mmmZ" exactly.
bool has_format_shape(std::string_view t) {
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd.dddZ";
  if (t.size() != kShape.size()) return false;
  for (std::size_t i = 0; i < t.size(); ++i) {
    const bool digit = t[i] >= '0' && t[i] <= '9';
    if (kShape[i] == 'd' ? !digit : t[i] != kShape[i]) return false;
  }
  return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text = chat::fuzz::as_text(data, size);
  const auto parsed = proto::parse_timestamp(text);
  const auto want = reference_parse(text);
  CHAT_FUZZ_CHECK_MSG(parsed == want, text);
  if (parsed) {
    const std::string formatted = proto::format_timestamp(*parsed);
    CHAT_FUZZ_CHECK_MSG(has_format_shape(formatted), formatted);
    CHAT_FUZZ_CHECK(formatted.compare(0, 19, text.substr(0, 19)) == 0);
    CHAT_FUZZ_CHECK(proto::parse_timestamp(formatted) == parsed);
  }

  // Any instant of years 0000..9999 survives format -> parse.
  if (size >= 8) {
    std::uint64_t raw = 0;
    std::memcpy(&raw, data, sizeof raw);
    const std::int64_t lo = days_from_civil(0, 1, 1) * kMsPerDay;
    const std::int64_t hi = days_from_civil(10000, 1, 1) * kMsPerDay - 1;
    const auto ms = lo + static_cast<std::int64_t>(raw % static_cast<std::uint64_t>(hi - lo + 1));
    const std::string formatted = proto::format_timestamp(ms);
    CHAT_FUZZ_CHECK_MSG(has_format_shape(formatted), formatted);
    CHAT_FUZZ_CHECK_MSG(proto::parse_timestamp(formatted) == ms, formatted);
    CHAT_FUZZ_CHECK(reference_parse(formatted) == ms);
  }
  return 0;
}
