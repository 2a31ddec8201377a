#include "chat/tui/input_line.hpp"

#include <algorithm>
#include <cwctype>

#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

bool is_control(char32_t cp) {
  return cp < 0x20 || (cp >= 0x7F && cp < 0xA0);
}

bool is_zero_width(char32_t cp) {
  return codepoint_width(cp) == 0;
}

// Word characters for Alt-B/F/D: letters and digits of every script (iswalnum in the UTF-8
// locale chat-tui runs in), '_' and combining marks.
bool is_word_char(char32_t cp) {
  // Combining marks belong to the letter before them ("naïve" written with U+0308).
  return cp == U'_' || std::iswalnum(static_cast<wint_t>(cp)) != 0 ||
         (cp != 0 && is_zero_width(cp));
}

}  // namespace

void InputLine::insert(char32_t cp) {
  if (is_control(cp) || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF)) return;
  text_.insert(text_.begin() + static_cast<std::ptrdiff_t>(cursor_), cp);
  ++cursor_;
}

void InputLine::insert_utf8(std::string_view utf8) {
  for (char32_t cp : decode_utf8(utf8)) insert(cp);
}

bool InputLine::backspace() {
  if (cursor_ == 0) return false;
  std::size_t start = cursor_ - 1;
  // A combining mark belongs to the character before it: delete back to the base.
  while (start > 0 && is_zero_width(text_[start])) --start;
  text_.erase(start, cursor_ - start);
  cursor_ = start;
  return true;
}

bool InputLine::erase_forward() {
  if (cursor_ >= text_.size()) return false;
  std::size_t end = cursor_ + 1;
  while (end < text_.size() && is_zero_width(text_[end])) ++end;
  text_.erase(cursor_, end - cursor_);
  return true;
}

void InputLine::move_left() {
  if (cursor_ == 0) return;
  --cursor_;
  while (cursor_ > 0 && is_zero_width(text_[cursor_])) --cursor_;
}

void InputLine::move_right() {
  if (cursor_ >= text_.size()) return;
  ++cursor_;
  while (cursor_ < text_.size() && is_zero_width(text_[cursor_])) ++cursor_;
}

void InputLine::move_word_left() {
  while (cursor_ > 0 && !is_word_char(text_[cursor_ - 1])) --cursor_;
  while (cursor_ > 0 && is_word_char(text_[cursor_ - 1])) --cursor_;
}

void InputLine::move_word_right() {
  while (cursor_ < text_.size() && !is_word_char(text_[cursor_])) ++cursor_;
  while (cursor_ < text_.size() && is_word_char(text_[cursor_])) ++cursor_;
  // A combining mark after the word's last letter belongs to it.
  while (cursor_ < text_.size() && is_zero_width(text_[cursor_])) ++cursor_;
}

void InputLine::kill_to_start() {
  if (cursor_ == 0) return;
  killed_ = text_.substr(0, cursor_);
  text_.erase(0, cursor_);
  cursor_ = 0;
}

void InputLine::kill_to_end() {
  if (cursor_ >= text_.size()) return;
  killed_ = text_.substr(cursor_);
  text_.erase(cursor_);
}

void InputLine::kill_word_before() {
  std::size_t start = cursor_;
  while (start > 0 && text_[start - 1] == U' ') --start;
  while (start > 0 && text_[start - 1] != U' ') --start;
  if (start == cursor_) return;
  killed_ = text_.substr(start, cursor_ - start);
  text_.erase(start, cursor_ - start);
  cursor_ = start;
}

void InputLine::kill_word_after() {
  std::size_t end = cursor_;
  while (end < text_.size() && !is_word_char(text_[end])) ++end;
  while (end < text_.size() && (is_word_char(text_[end]) || is_zero_width(text_[end]))) ++end;
  if (end == cursor_) return;
  killed_ = text_.substr(cursor_, end - cursor_);
  text_.erase(cursor_, end - cursor_);
}

void InputLine::yank() {
  text_.insert(cursor_, killed_);
  cursor_ += killed_.size();
}

void InputLine::replace(std::size_t start, std::size_t end, std::u32string_view text) {
  start = std::min(start, text_.size());
  end = std::clamp(end, start, text_.size());
  std::u32string clean;
  for (char32_t cp : text)
    if (!is_control(cp) && cp <= 0x10FFFF && !(cp >= 0xD800 && cp <= 0xDFFF)) clean.push_back(cp);
  text_.replace(start, end - start, clean);
  cursor_ = start + clean.size();
}

void InputLine::set_utf8(std::string_view utf8) {
  clear();
  insert_utf8(utf8);
}

std::string InputLine::utf8() const {
  return encode_utf8(text_);
}

InputLine::View InputLine::view(int width, char32_t mask) const {
  View v;
  if (width <= 0) return v;
  const auto width_of = [&](char32_t cp) {
    return mask != 0 ? codepoint_width(mask) : codepoint_width(cp);
  };
  // The cursor needs one free cell after the text before it; scroll right until it fits.
  std::size_t start = 0;
  int before = 0;
  for (std::size_t i = 0; i < cursor_; ++i) before += width_of(text_[i]);
  while (start < cursor_ && before + 1 > width) {
    before -= width_of(text_[start]);
    ++start;
    while (start < cursor_ && is_zero_width(text_[start])) ++start;
  }
  int used = 0;
  for (std::size_t i = start; i < text_.size(); ++i) {
    const int w = width_of(text_[i]);
    if (used + w > width) break;
    v.visible.push_back(mask != 0 ? mask : text_[i]);
    used += w;
  }
  v.cursor_col = before;
  return v;
}

}  // namespace chat::tui
