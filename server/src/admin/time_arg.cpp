#include "admin/time_arg.hpp"

#include <charconv>
#include <chrono>
#include <cstdint>
#include <string>

namespace chat::admin {
namespace {

// Reads exactly `digits` decimal digits at text[pos]; advances pos.
std::optional<int> fixed_digits(std::string_view text, std::size_t& pos, std::size_t digits) {
  if (pos + digits > text.size()) return std::nullopt;
  int value = 0;
  for (std::size_t i = 0; i < digits; ++i) {
    const char c = text[pos + i];
    if (c < '0' || c > '9') return std::nullopt;
    value = value * 10 + (c - '0');
  }
  pos += digits;
  return value;
}

bool expect(std::string_view text, std::size_t& pos, char c) {
  if (pos >= text.size() || text[pos] != c) return false;
  ++pos;
  return true;
}

std::optional<protocol::UnixMs> parse_relative(std::string_view text, protocol::UnixMs now) {
  const bool negative = text[0] == '-';
  std::int64_t amount = 0;
  const char* begin = text.data() + 1;
  const char* end = text.data() + text.size();
  const auto [ptr, ec] = std::from_chars(begin, end, amount);
  if (ec != std::errc() || ptr == begin) return std::nullopt;
  const std::string_view unit(ptr, static_cast<std::size_t>(end - ptr));
  std::int64_t scale = 0;
  if (unit == "ms")
    scale = 1;
  else if (unit == "s")
    scale = 1000;
  else if (unit == "m")
    scale = 60'000;
  else if (unit == "h")
    scale = 3'600'000;
  else if (unit == "d")
    scale = 86'400'000;
  else
    return std::nullopt;
  constexpr std::int64_t kLimit = std::int64_t{100} * 365 * 86'400'000;  // a century
  if (amount > kLimit / scale) return std::nullopt;
  const std::int64_t delta = amount * scale;
  return negative ? now - delta : now + delta;
}

std::optional<protocol::UnixMs> parse_absolute(std::string_view text) {
  std::size_t pos = 0;
  const auto year = fixed_digits(text, pos, 4);
  if (!year || !expect(text, pos, '-')) return std::nullopt;
  const auto month = fixed_digits(text, pos, 2);
  if (!month || !expect(text, pos, '-')) return std::nullopt;
  const auto day = fixed_digits(text, pos, 2);
  if (!day || pos >= text.size() || (text[pos] != 'T' && text[pos] != ' ')) return std::nullopt;
  ++pos;
  const auto hour = fixed_digits(text, pos, 2);
  if (!hour || !expect(text, pos, ':')) return std::nullopt;
  const auto minute = fixed_digits(text, pos, 2);
  if (!minute) return std::nullopt;
  int second = 0, millis = 0;
  if (pos < text.size() && text[pos] == ':') {
    ++pos;
    const auto s = fixed_digits(text, pos, 2);
    if (!s) return std::nullopt;
    second = *s;
    if (pos < text.size() && text[pos] == '.') {
      ++pos;
      // 1 to 3 fraction digits (ms is the schedule's precision, DATETIME(3)).
      std::size_t n = 0;
      while (pos < text.size() && n < 3 && text[pos] >= '0' && text[pos] <= '9') {
        millis = millis * 10 + (text[pos] - '0');
        ++pos;
        ++n;
      }
      if (n == 0) return std::nullopt;
      for (; n < 3; ++n) millis *= 10;
    }
  }
  const std::string_view zone = text.substr(pos);
  if (!(zone.empty() || zone == "Z" || zone == "z" || zone == "+00:00")) return std::nullopt;
  using namespace std::chrono;
  const year_month_day date{std::chrono::year(*year),
                            std::chrono::month(static_cast<unsigned>(*month)),
                            std::chrono::day(static_cast<unsigned>(*day))};
  if (!date.ok() || *hour > 23 || *minute > 59 || second > 59) return std::nullopt;
  const auto at =
      sys_days(date) + hours(*hour) + minutes(*minute) + seconds(second) + milliseconds(millis);
  return duration_cast<milliseconds>(at.time_since_epoch()).count();
}

}  // namespace

std::optional<protocol::UnixMs> parse_time_arg(std::string_view text, protocol::UnixMs now) {
  if (text == "now") return now;
  if (text.size() >= 2 && (text[0] == '+' || text[0] == '-')) return parse_relative(text, now);
  return parse_absolute(text);
}

}  // namespace chat::admin
