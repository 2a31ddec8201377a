// Input history (Up/Down) and Tab completion of names, commands and meeting titles.
#include <gtest/gtest.h>

#include "chat/tui/completion.hpp"
#include "chat/tui/input_history.hpp"

namespace chat::tui {
namespace {

TEST(InputHistory, UpAndDownWalkTheEntriesAndKeepTheDraft) {
  InputHistory h;
  h.add("first");
  h.add("second");
  h.add("second");  // repeat of the newest: once
  h.add("   ");     // blank: not kept
  EXPECT_EQ(h.entries().size(), 2u);
  EXPECT_EQ(h.previous("draft \u4e16"), "second");
  EXPECT_TRUE(h.browsing());
  EXPECT_EQ(h.previous("ignored"), "first");
  EXPECT_FALSE(h.previous("ignored").has_value());  // at the oldest
  EXPECT_EQ(h.next(), "second");
  EXPECT_EQ(h.next(), "draft \u4e16");  // back to what was being typed
  EXPECT_FALSE(h.browsing());
  EXPECT_FALSE(h.next().has_value());
}

TEST(InputHistory, IsBounded) {
  InputHistory h(3);
  for (int i = 0; i < 5; ++i) h.add("line " + std::to_string(i));
  ASSERT_EQ(h.entries().size(), 3u);
  EXPECT_EQ(h.entries().front(), "line 2");
  InputHistory empty;
  EXPECT_FALSE(empty.previous("x").has_value());
}

CompletionSources sources() {
  CompletionSources s;
  s.commands = {"/join", "/jointimes", "/leave", "/msgs", "/who"};
  s.names = {"hamid", "haled", "john", "\u00c9lodie", "\u738b\u5c0f\u660e"};
  s.meetings = {"DSA Course", "Daily standup", "Seminar"};
  s.self = "john";
  return s;
}

TEST(Completer, NameAtLineStartGetsAColonAndCyclesOnRepeatedTab) {
  InputLine line;
  line.set_utf8("ha");
  Completer c;
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "haled: ");  // alphabetical: haled before hamid
  EXPECT_TRUE(c.active());
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "hamid: ");
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "haled: ");  // wraps
  ASSERT_TRUE(c.complete(line, sources(), true));
  EXPECT_EQ(line.utf8(), "hamid: ");  // Shift-Tab goes back
  EXPECT_EQ(line.cursor(), line.chars().size());
}

TEST(Completer, InTheMiddleOfTextAndIgnoringCase) {
  InputLine line;
  line.set_utf8("thanks HAM and more");
  line.move_home();
  for (int i = 0; i < 10; ++i) line.move_right();  // after "thanks HAM"
  Completer c;
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "thanks hamid  and more");
  EXPECT_FALSE(c.active());  // a single match ends the completion
  EXPECT_EQ(line.cursor(), 13u);
}

TEST(Completer, MultibyteNamesAndOwnNameLeftOut) {
  InputLine line;
  line.set_utf8("\u00e9l");  // lower-case é matches É
  Completer c;
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "\u00c9lodie: ");
  line.set_utf8("hi \u738b");
  c.reset();
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "hi \u738b\u5c0f\u660e ");
  line.set_utf8("jo");
  c.reset();
  EXPECT_FALSE(c.complete(line, sources()));  // only ourselves: nothing to complete
  EXPECT_EQ(line.utf8(), "jo");
}

TEST(Completer, CommandsMeetingTitlesAndMsgsNames) {
  InputLine line;
  Completer c;
  line.set_utf8("/l");
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "/leave ");
  c.reset();
  line.set_utf8("/join da");
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "/join Daily standup");
  c.reset();
  line.set_utf8("/join D");
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "/join Daily standup");  // "daily" < "dsa" ignoring case
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "/join DSA Course");
  c.reset();
  line.set_utf8("/msgs jo");
  ASSERT_TRUE(c.complete(line, sources()));
  EXPECT_EQ(line.utf8(), "/msgs john ");  // our own messages can be listed
  c.reset();
  line.set_utf8("zz");
  EXPECT_FALSE(c.complete(line, sources()));
}

}  // namespace
}  // namespace chat::tui
