#include "chat/protocol/time.hpp"

#include <chrono>
#include <cstdio>

namespace chat::protocol {

std::string format_timestamp(UnixMs ms) {
  using namespace std::chrono;
  const sys_time<milliseconds> tp{milliseconds{ms}};
  const auto day = floor<days>(tp);
  const year_month_day ymd{day};
  const hh_mm_ss hms{tp - day};
  const int year = static_cast<int>(ymd.year());
  if (year < 0 || year > 9999) {  // never from the store; written as before, sign and all
    char buf[48];
    std::snprintf(buf, sizeof buf, "%04d-%02u-%02uT%02d:%02d:%02d.%03dZ", year,
                  static_cast<unsigned>(ymd.month()), static_cast<unsigned>(ymd.day()),
                  static_cast<int>(hms.hours().count()), static_cast<int>(hms.minutes().count()),
                  static_cast<int>(hms.seconds().count()),
                  static_cast<int>(hms.subseconds().count()));
    return buf;
  }
  // Digit by digit: this runs for every event and response, and snprintf showed in a busy
  // node's profile.
  std::string out = "0000-00-00T00:00:00.000Z";
  const auto put = [&out](std::size_t pos, int width, long long v) {
    for (int i = width - 1; i >= 0; --i, v /= 10)
      out[pos + static_cast<std::size_t>(i)] = static_cast<char>('0' + v % 10);
  };
  put(0, 4, year);
  put(5, 2, static_cast<unsigned>(ymd.month()));
  put(8, 2, static_cast<unsigned>(ymd.day()));
  put(11, 2, hms.hours().count());
  put(14, 2, hms.minutes().count());
  put(17, 2, hms.seconds().count());
  put(20, 3, hms.subseconds().count());
  return out;
}

std::optional<UnixMs> parse_timestamp(std::string_view text) {
  using namespace std::chrono;
  int y = 0, mo = 0, d = 0, h = 0, mi = 0, s = 0;
  // sscanf's %d skips spaces and takes signs ("2026- 1-23", "07:-3"): check the fixed
  // "YYYY-MM-DDTHH:MM:SS" shape digit by digit first.
  static constexpr std::string_view kShape = "dddd-dd-ddTdd:dd:dd";
  if (text.size() < kShape.size()) return std::nullopt;
  for (std::size_t i = 0; i < kShape.size(); ++i) {
    const bool digit = text[i] >= '0' && text[i] <= '9';
    if (kShape[i] == 'd' ? !digit : text[i] != kShape[i]) return std::nullopt;
  }
  const std::string str(text);
  int consumed = 0;
  if (std::sscanf(str.c_str(), "%4d-%2d-%2dT%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &s, &consumed) !=
          6 ||
      consumed != 19)
    return std::nullopt;
  std::string_view rest = text.substr(19);
  int frac_ms = 0;
  if (!rest.empty() && rest.front() == '.') {
    rest.remove_prefix(1);
    int digits = 0;
    while (!rest.empty() && rest.front() >= '0' && rest.front() <= '9') {
      if (digits < 3) frac_ms = frac_ms * 10 + (rest.front() - '0');
      ++digits;
      rest.remove_prefix(1);
    }
    if (digits == 0) return std::nullopt;
    for (int i = digits; i < 3; ++i) frac_ms *= 10;
  }
  if (rest != "Z" && rest != "+00:00") return std::nullopt;
  const year_month_day ymd{year{y}, month{static_cast<unsigned>(mo)},
                           day{static_cast<unsigned>(d)}};
  if (!ymd.ok() || h > 23 || mi > 59 || s > 59) return std::nullopt;
  const auto tp = sys_days{ymd} + hours{h} + minutes{mi} + seconds{s} + milliseconds{frac_ms};
  return tp.time_since_epoch().count();
}

UnixMs now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch()).count();
}

}  // namespace chat::protocol
