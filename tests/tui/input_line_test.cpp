// Input line editing with multibyte UTF-8 characters.
#include "chat/tui/input_line.hpp"

#include <gtest/gtest.h>

#include "chat/tui/login_form.hpp"
#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

TEST(InputLine, InsertsMultibyteCharactersAndReturnsUtf8) {
  InputLine line;
  line.insert(U'h');
  line.insert(U'\u00e9');      // 2 bytes
  line.insert(U'\u65e5');      // 3 bytes
  line.insert(U'\U0001F600');  // 4 bytes
  EXPECT_EQ(line.utf8(), "h\u00e9\u65e5\U0001F600");
  EXPECT_EQ(line.cursor(), 4u);
  EXPECT_EQ(line.chars().size(), 4u);
}

TEST(InputLine, BackspaceDeletesAWholeCharacter) {
  InputLine line;
  line.insert_utf8("a\u65e5\U0001F600");
  EXPECT_TRUE(line.backspace());
  EXPECT_EQ(line.utf8(), "a\u65e5");
  EXPECT_TRUE(line.backspace());
  EXPECT_EQ(line.utf8(), "a");
  EXPECT_TRUE(line.backspace());
  EXPECT_EQ(line.utf8(), "");
  EXPECT_FALSE(line.backspace());
}

TEST(InputLine, BackspaceTakesACombiningMarkWithItsBase) {
  InputLine line;
  line.insert_utf8("xe\u0301");
  EXPECT_TRUE(line.backspace());
  EXPECT_EQ(line.utf8(), "x");
}

TEST(InputLine, EditsInTheMiddle) {
  InputLine line;
  line.insert_utf8("\u65e5\u8a9e");
  line.move_left();
  line.insert(U'\u672c');
  EXPECT_EQ(line.utf8(), "\u65e5\u672c\u8a9e");
  EXPECT_EQ(line.cursor(), 2u);
  line.move_home();
  EXPECT_TRUE(line.erase_forward());
  EXPECT_EQ(line.utf8(), "\u672c\u8a9e");
  line.move_end();
  EXPECT_FALSE(line.erase_forward());
  line.move_right();  // at the end: stays
  EXPECT_EQ(line.cursor(), 2u);
}

TEST(InputLine, ControlCharactersAreNotInserted) {
  InputLine line;
  line.insert(U'\x1b');
  line.insert(U'\t');
  line.insert(U'\x7f');
  line.insert_utf8("a\nb");
  EXPECT_EQ(line.utf8(), "ab");
}

TEST(InputLine, KillCommands) {
  InputLine line;
  line.insert_utf8("hello w\u00f6rld  ");
  line.kill_word_before();
  EXPECT_EQ(line.utf8(), "hello ");
  line.insert_utf8("there");
  line.move_left();
  line.kill_to_start();
  EXPECT_EQ(line.utf8(), "e");
  EXPECT_EQ(line.cursor(), 0u);
}

TEST(InputLine, ReadlineWordMovesAcrossScripts) {
  InputLine line;
  line.insert_utf8("caf\u00e9 \u4e16\u754c, na\u0308ive-text");
  line.move_word_left();  // to "text"
  EXPECT_EQ(line.cursor(), 16u);
  line.move_word_left();  // to "naïve" (the combining diaeresis is part of the word)
  EXPECT_EQ(line.cursor(), 9u);
  line.move_word_left();  // to the CJK word
  EXPECT_EQ(line.cursor(), 5u);
  line.move_word_left();
  EXPECT_EQ(line.cursor(), 0u);
  line.move_word_left();  // stays at the start
  EXPECT_EQ(line.cursor(), 0u);
  line.move_word_right();  // after "café"
  EXPECT_EQ(line.cursor(), 4u);
  line.move_word_right();  // after "世界"
  EXPECT_EQ(line.cursor(), 7u);
  line.move_word_right();  // after "naïve"
  EXPECT_EQ(line.cursor(), 15u);
  line.move_word_right();
  line.move_word_right();
  EXPECT_EQ(line.cursor(), line.chars().size());
}

TEST(InputLine, KillToEndKillWordAfterAndYank) {
  InputLine line;
  line.insert_utf8("one t\u00fcwo three");
  line.move_home();
  line.move_word_right();  // after "one"
  line.kill_word_after();  // " tüwo"
  EXPECT_EQ(line.utf8(), "one three");
  EXPECT_EQ(encode_utf8(line.kill_buffer()), " t\u00fcwo");
  line.kill_to_end();
  EXPECT_EQ(line.utf8(), "one");
  EXPECT_EQ(encode_utf8(line.kill_buffer()), " three");
  line.move_home();
  line.yank();
  EXPECT_EQ(line.utf8(), " threeone");
  EXPECT_EQ(line.cursor(), 6u);
  line.move_end();
  line.kill_to_end();  // nothing to kill: the kill buffer stays
  EXPECT_EQ(encode_utf8(line.kill_buffer()), " three");
}

TEST(InputLine, ReplaceKeepsTheTextValid) {
  InputLine line;
  line.insert_utf8("hi ha");
  line.replace(3, 5, U"hamid: ");
  EXPECT_EQ(line.utf8(), "hi hamid: ");
  EXPECT_EQ(line.cursor(), 10u);
  line.replace(100, 200, U"\u00e9\x01");  // clamped; control characters dropped
  EXPECT_EQ(line.utf8(), "hi hamid: \u00e9");
}

TEST(InputLine, ViewScrollsToKeepTheCursorVisible) {
  InputLine line;
  line.insert_utf8("\u65e5\u672c\u8a9e\u30c6\u30ad\u30b9\u30c8");  // 14 columns
  const auto v = line.view(6);
  // Two wide chars (4 columns) plus the cursor cell fit; the view ends at the text end.
  EXPECT_EQ(encode_utf8(v.visible), "\u30b9\u30c8");
  EXPECT_EQ(v.cursor_col, 4);
  line.move_home();
  const auto start = line.view(6);
  EXPECT_EQ(encode_utf8(start.visible), "\u65e5\u672c\u8a9e");
  EXPECT_EQ(start.cursor_col, 0);
}

TEST(InputLine, MaskedViewShowsOneMaskPerCharacter) {
  InputLine line;
  line.insert_utf8("p\u00e4ss\u65e5");
  const auto v = line.view(20, U'*');
  EXPECT_EQ(encode_utf8(v.visible), "*****");
  EXPECT_EQ(v.cursor_col, 5);
  EXPECT_EQ(line.utf8(), "p\u00e4ss\u65e5");  // the real text is untouched
}

TEST(LoginForm, EnterWalksTheFieldsAndSubmitsWithAUser) {
  LoginForm form;
  EXPECT_EQ(form.field(), LoginForm::Field::user);
  EXPECT_FALSE(form.enter());  // empty user: to the password
  EXPECT_EQ(form.field(), LoginForm::Field::password);
  EXPECT_FALSE(form.enter());  // still no user: back to the user field
  EXPECT_EQ(form.field(), LoginForm::Field::user);
  form.active().insert_utf8("j\u00f6hn");
  EXPECT_FALSE(form.enter());
  form.active().insert_utf8("pw");
  EXPECT_TRUE(form.enter());
  EXPECT_EQ(form.user().utf8(), "j\u00f6hn");
  EXPECT_EQ(form.password().utf8(), "pw");
  form.reset_password();
  EXPECT_TRUE(form.password().empty());
  EXPECT_EQ(form.field(), LoginForm::Field::password);
}

}  // namespace
}  // namespace chat::tui
