// Key names and bindings: the canonical names the app produces and the config file uses.
#include "chat/tui/keys.hpp"

#include <gtest/gtest.h>

#include <algorithm>

namespace chat::tui {
namespace {

TEST(KeyNames, NormalizeAcceptsTheUsualSpellings) {
  EXPECT_EQ(normalize_key("C-o"), "C-o");
  EXPECT_EQ(normalize_key("ctrl-O"), "C-o");
  EXPECT_EQ(normalize_key("Ctrl+o"), "C-o");
  EXPECT_EQ(normalize_key("^O"), "C-o");
  EXPECT_EQ(normalize_key("alt-b"), "M-b");
  EXPECT_EQ(normalize_key("Meta-B"), "M-B");  // Alt-Shift-b keeps its case
  EXPECT_EQ(normalize_key("M-1"), "M-1");
  EXPECT_EQ(normalize_key("alt+left"), "M-Left");
  EXPECT_EQ(normalize_key("pageup"), "PgUp");
  EXPECT_EQ(normalize_key("NPage"), "PgDn");
  EXPECT_EQ(normalize_key("f6"), "F6");
  EXPECT_EQ(normalize_key("F12"), "F12");
  EXPECT_EQ(normalize_key("shift-tab"), "S-Tab");
  EXPECT_EQ(normalize_key("Return"), "Enter");
  EXPECT_EQ(normalize_key("escape"), "Esc");
  EXPECT_EQ(normalize_key("M--"), "M--");  // the key after the prefix may be '-'
}

TEST(KeyNames, NormalizeRejectsNonKeys) {
  for (const char* bad : {"", "C-", "F13", "F0", "C-1", "S-a", "Hyper-x", "xyz", "C-\xc3\xa9"})
    EXPECT_FALSE(normalize_key(bad).has_value()) << bad;
}

TEST(Actions, NamesRoundTripAndMeetingNumbers) {
  for (Action a : {Action::submit, Action::complete, Action::history_prev, Action::kill_to_end,
                   Action::scroll_top, Action::meeting_7, Action::focus_participants,
                   Action::participants_wider, Action::quit}) {
    EXPECT_EQ(parse_action(action_name(a)), a) << action_name(a);
    EXPECT_FALSE(action_help(a).empty());
  }
  EXPECT_EQ(parse_action("history_prev"), Action::history_prev);  // '_' works too
  EXPECT_FALSE(parse_action("frobnicate").has_value());
  EXPECT_EQ(meeting_number(Action::meeting_1), 1);
  EXPECT_EQ(meeting_number(Action::meeting_9), 9);
  EXPECT_EQ(meeting_number(Action::server_buffer), 0);
}

TEST(KeyMap, DefaultsCompleteOnTabAndMoveFocusElsewhere) {
  const KeyMap m = KeyMap::defaults();
  EXPECT_EQ(m.find("Tab"), Action::complete);
  EXPECT_EQ(m.find("S-Tab"), Action::complete_back);
  EXPECT_EQ(m.find("C-o"), Action::focus_next);
  EXPECT_EQ(m.find("F6"), Action::focus_next);
  EXPECT_EQ(m.find("M-Left"), Action::focus_prev);
  EXPECT_EQ(m.find("M-3"), Action::meeting_3);
  EXPECT_EQ(m.find("C-n"), Action::meeting_next);
  EXPECT_EQ(m.find("C-p"), Action::meeting_prev);
  EXPECT_EQ(m.find("PgUp"), Action::scroll_page_up);
  EXPECT_EQ(m.find("Home"), Action::scroll_top);
  EXPECT_EQ(m.find("C-a"), Action::cursor_start);
  EXPECT_EQ(m.find("C-k"), Action::kill_to_end);
  EXPECT_EQ(m.find("M-b"), Action::cursor_word_left);
  EXPECT_EQ(m.find("M-f"), Action::cursor_word_right);
  EXPECT_EQ(m.find("F1"), Action::help);
  EXPECT_EQ(m.find("x"), Action::none);
  // Every default key is in canonical form.
  for (const auto& [key, action] : m.bindings()) EXPECT_EQ(normalize_key(key), key);
}

TEST(KeyMap, BindOverridesAndNoneUnbinds) {
  KeyMap m = KeyMap::defaults();
  m.bind("C-t", Action::toggle_participants);
  EXPECT_EQ(m.find("C-t"), Action::toggle_participants);
  const auto keys = m.keys_for(Action::toggle_participants);
  EXPECT_NE(std::find(keys.begin(), keys.end(), "F8"), keys.end());
  EXPECT_NE(std::find(keys.begin(), keys.end(), "C-t"), keys.end());
  m.bind("Home", Action::cursor_start);  // readline habit
  EXPECT_EQ(m.find("Home"), Action::cursor_start);
  m.bind("F1", Action::none);
  EXPECT_EQ(m.find("F1"), Action::none);
  EXPECT_EQ(m.keys_for(Action::help), std::vector<std::string>{"M-h"});
}

}  // namespace
}  // namespace chat::tui
