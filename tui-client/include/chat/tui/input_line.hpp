// The editable input line (and the login form's fields): text kept as code points so that
// cursor moves and deletions never cut a multibyte UTF-8 character.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

namespace chat::tui {

/// A single-line text editor with a cursor. Positions are code point indexes; the text is
/// handed out as UTF-8. Not tied to ncurses: the app maps keys to these calls.
class InputLine {
 public:
  /// Inserts one code point at the cursor and moves the cursor after it. Control characters
  /// (below U+0020, DEL, C1) are ignored: they are keys, not text.
  void insert(char32_t cp);

  /// Inserts UTF-8 text at the cursor (malformed bytes become U+FFFD, controls are dropped).
  void insert_utf8(std::string_view utf8);

  /// Deletes the character before the cursor: one code point plus any zero-width code points
  /// (combining marks) attached to it, so "e" + U+0301 goes in one key press. Returns false
  /// at the start of the line.
  bool backspace();

  /// Deletes the character under the cursor (with the zero-width code points that follow
  /// it). Returns false at the end of the line.
  bool erase_forward();

  /// Cursor one character left / right (skipping zero-width code points), to start / end.
  void move_left();
  void move_right();
  void move_home() noexcept { cursor_ = 0; }
  void move_end() noexcept { cursor_ = text_.size(); }

  /// Alt-B: cursor to the start of the word before it (words are letters, digits and '_'
  /// in any script; everything else separates them), as readline does.
  void move_word_left();
  /// Alt-F: cursor to the end of the word after it.
  void move_word_right();

  /// Ctrl-U: deletes everything before the cursor.
  void kill_to_start();

  /// Ctrl-K: deletes everything from the cursor to the end.
  void kill_to_end();

  /// Ctrl-W: deletes the word before the cursor and the spaces after it.
  void kill_word_before();

  /// Alt-D: deletes from the cursor to the end of the next word.
  void kill_word_after();

  /// Ctrl-Y: inserts the text removed by the last kill (Ctrl-U/K/W, Alt-D) at the cursor.
  void yank();

  /// The text removed by the last kill, as code points (empty if none).
  const std::u32string& kill_buffer() const noexcept { return killed_; }

  /// Replaces the code points [start, end) by text and puts the cursor after it (used by
  /// completion). Positions are clamped to the text.
  void replace(std::size_t start, std::size_t end, std::u32string_view text);

  /// Empties the line.
  void clear() noexcept {
    text_.clear();
    cursor_ = 0;
  }

  /// Replaces the text and puts the cursor at its end.
  void set_utf8(std::string_view utf8);

  /// The text as UTF-8.
  std::string utf8() const;

  /// The text as code points.
  const std::u32string& chars() const noexcept { return text_; }

  /// Cursor position in code points (0 .. chars().size()).
  std::size_t cursor() const noexcept { return cursor_; }

  /// True when the line holds no text.
  bool empty() const noexcept { return text_.empty(); }

  /// What a field `width` columns wide shows: the slice of the text that keeps the cursor
  /// visible (scrolled just enough to the right) and the cursor's column inside it. With
  /// mask set, every code point is shown as mask (a password field).
  struct View {
    std::u32string visible;
    int cursor_col = 0;
  };
  View view(int width, char32_t mask = 0) const;

 private:
  std::u32string text_;
  std::size_t cursor_ = 0;
  std::u32string killed_;
};

}  // namespace chat::tui
