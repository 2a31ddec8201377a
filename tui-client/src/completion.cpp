#include "chat/tui/completion.hpp"

#include <algorithm>
#include <cwctype>

#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

std::u32string fold(std::u32string_view s) {
  std::u32string out(s);
  for (char32_t& c : out) c = static_cast<char32_t>(std::towlower(static_cast<wint_t>(c)));
  return out;
}

bool starts_with_ci(std::u32string_view text, std::u32string_view prefix) {
  return text.size() >= prefix.size() && fold(text.substr(0, prefix.size())) == fold(prefix);
}

bool less_ci(const std::string& a, const std::string& b) {
  const auto fa = fold(decode_utf8(a));
  const auto fb = fold(decode_utf8(b));
  return fa != fb ? fa < fb : a < b;
}

std::vector<std::string> matching(const std::vector<std::string>& pool, std::u32string_view prefix,
                                  const std::string& exclude) {
  std::vector<std::string> out;
  for (const auto& c : pool) {
    if (c.empty() || c == exclude) continue;
    if (!starts_with_ci(decode_utf8(c), prefix)) continue;
    if (std::find(out.begin(), out.end(), c) == out.end()) out.push_back(c);
  }
  std::stable_sort(out.begin(), out.end(), less_ci);
  return out;
}

}  // namespace

void Completer::reset() noexcept {
  active_ = false;
  candidates_.clear();
  suffixes_.clear();
  index_ = 0;
  inserted_ = 0;
}

bool Completer::complete(InputLine& line, const CompletionSources& src, bool backward) {
  if (active_ && !candidates_.empty()) {
    const std::size_t n = candidates_.size();
    index_ = backward ? (index_ + n - 1) % n : (index_ + 1) % n;
    const std::u32string text = decode_utf8(candidates_[index_] + suffixes_[index_]);
    line.replace(start_, start_ + inserted_, text);
    inserted_ = text.size();
    return true;
  }
  reset();
  const std::u32string& all = line.chars();
  const std::size_t cursor = line.cursor();
  const std::u32string_view before = std::u32string_view(all).substr(0, cursor);

  std::vector<std::string> found;
  std::string suffix = " ";
  std::size_t start = 0;
  static constexpr std::u32string_view kJoin = U"/join ";
  static constexpr std::u32string_view kMsgs = U"/msgs ";
  if (before.starts_with(kJoin)) {
    // Titles may contain spaces: the whole argument is the prefix.
    start = kJoin.size();
    found = matching(src.meetings, before.substr(start), {});
    suffix.clear();
  } else {
    const std::size_t space = before.find_last_of(U' ');
    start = space == std::u32string_view::npos ? 0 : space + 1;
    const std::u32string_view word = before.substr(start);
    if (start == 0 && word.starts_with(U'/')) {
      found = matching(src.commands, word, {});
    } else if (before.starts_with(kMsgs)) {
      found = matching(src.names, word, {});
    } else {
      found = matching(src.names, word, src.self);
      if (start == 0) suffix = ": ";
    }
  }
  if (found.empty()) return false;
  start_ = start;
  candidates_ = std::move(found);
  suffixes_.assign(candidates_.size(), suffix);
  index_ = backward ? candidates_.size() - 1 : 0;
  const std::u32string text = decode_utf8(candidates_[index_] + suffix);
  line.replace(start_, cursor, text);
  inserted_ = text.size();
  // A single match is final: the next Tab starts a new completion after it.
  if (candidates_.size() == 1) {
    reset();
    return true;
  }
  active_ = true;
  return true;
}

}  // namespace chat::tui
