// The config file: parsing, rewriting in place, its path and the NO_COLOR convention.
#include "chat/tui/config.hpp"

#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>

namespace chat::tui {
namespace {

TEST(Config, DefaultsWithoutAFile) {
  const Config c = parse_config("");
  EXPECT_FALSE(c.server.has_value());
  EXPECT_FALSE(c.user.has_value());
  EXPECT_TRUE(c.bell);
  EXPECT_TRUE(c.mouse);
  EXPECT_EQ(c.colors, ColorMode::automatic);
  EXPECT_EQ(c.panes, PaneSettings{});
  EXPECT_EQ(c.theme256, Theme::defaults256());
  EXPECT_EQ(c.keys.find("Tab"), Action::complete);
  EXPECT_TRUE(c.warnings.empty());
}

TEST(Config, ParsesEverySetting) {
  const Config c = parse_config(
      "# comment\n"
      "  server = 10.0.0.5:7001  \n"
      "user=h\u00e9l\u00e8ne\n"
      "\n"
      "bell = off\n"
      "mouse = no\n"
      "colors = none\n"
      "meetings_pane = off\n"
      "participants_width = 30\n"
      "color.nicks = 1, 2, 200\n"
      "color.title = white, blue\n"
      "color.status = 231,17\n"
      "color.mention = 5\n"
      "key.Ctrl-T = toggle-participants\n"
      "key.Home = cursor_start\n"
      "key.F1 = none\n");
  EXPECT_TRUE(c.warnings.empty()) << c.warnings.front();
  EXPECT_EQ(c.server, "10.0.0.5:7001");
  EXPECT_EQ(c.user, "h\u00e9l\u00e8ne");
  EXPECT_FALSE(c.bell);
  EXPECT_FALSE(c.mouse);
  EXPECT_EQ(c.colors, ColorMode::none);
  EXPECT_FALSE(c.panes.show_meetings);
  EXPECT_EQ(c.panes.participants_width, 30);
  EXPECT_EQ(c.theme256.nicks, (std::vector<int>{1, 2, 200}));
  EXPECT_EQ(c.theme8.nicks, Theme::defaults8().nicks);  // 200 does not exist in 8 colours
  EXPECT_EQ(c.theme256.title, (ColorPair{7, 4}));
  EXPECT_EQ(c.theme8.title, (ColorPair{7, 4}));
  EXPECT_EQ(c.theme256.status, (ColorPair{231, 17}));
  EXPECT_EQ(c.theme8.status, Theme::defaults8().status);
  EXPECT_EQ(c.theme256.mention, 5);
  EXPECT_EQ(c.theme8.mention, 5);
  EXPECT_EQ(c.keys.find("C-t"), Action::toggle_participants);
  EXPECT_EQ(c.keys.find("Home"), Action::cursor_start);
  EXPECT_EQ(c.keys.find("F1"), Action::none);
}

TEST(Config, BadLinesAreReportedAndSkipped) {
  const Config c = parse_config(
      "password = secret\n"
      "bell = maybe\n"
      "colour_scheme = dark\n"
      "no equals sign\n"
      "key.Hyper-x = quit\n"
      "key.F5 = explode\n"
      "color.nicks = 1, banana\n"
      "meetings_width = -3\n"
      "user = ok\n");
  ASSERT_EQ(c.warnings.size(), 8u);
  EXPECT_NE(c.warnings[0].find("line 1"), std::string::npos);
  EXPECT_NE(c.warnings[0].find("never read"), std::string::npos);
  EXPECT_NE(c.warnings[2].find("colour_scheme"), std::string::npos);
  EXPECT_TRUE(c.bell);  // unchanged by the bad value
  EXPECT_EQ(c.user, "ok");
}

TEST(Config, UpdateRewritesInPlaceAndAppends) {
  const std::string before =
      "# my settings\n"
      "server = old:1\n"
      "# keep this comment\n"
      "bell = off\n";
  const std::string after = update_config_text(before, {{"server", "new:2"}, {"user", "john"}});
  EXPECT_EQ(after,
            "# my settings\n"
            "server = new:2\n"
            "# keep this comment\n"
            "bell = off\n"
            "user = john\n");
  const Config c = parse_config(after);
  EXPECT_EQ(c.server, "new:2");
  EXPECT_FALSE(c.bell);
  // A new file starts with a header comment.
  const std::string fresh = update_config_text("", {{"user", "x"}});
  EXPECT_EQ(fresh.front(), '#');
  EXPECT_EQ(parse_config(fresh).user, "x");
  EXPECT_TRUE(parse_config(fresh).warnings.empty());
}

TEST(Config, PathFollowsXdgThenHome) {
  EXPECT_EQ(config_path("/x/cfg", "/home/u"), std::filesystem::path("/x/cfg/chat-tui/config"));
  EXPECT_EQ(config_path(nullptr, "/home/u"),
            std::filesystem::path("/home/u/.config/chat-tui/config"));
  // The XDG spec ignores relative paths.
  EXPECT_EQ(config_path("rel", "/home/u"),
            std::filesystem::path("/home/u/.config/chat-tui/config"));
  EXPECT_FALSE(config_path(nullptr, nullptr).has_value());
  EXPECT_FALSE(config_path("", "").has_value());
}

TEST(Config, NoColorConvention) {
  EXPECT_FALSE(no_color_requested(nullptr));
  EXPECT_FALSE(no_color_requested(""));
  EXPECT_TRUE(no_color_requested("1"));
  EXPECT_TRUE(no_color_requested("0"));  // any non-empty value
}

TEST(Config, WriteCreatesTheDirectoryAndReadsBack) {
  const auto dir = std::filesystem::temp_directory_path() /
                   ("chat-tui-config-test-" + std::to_string(::getpid()));
  std::filesystem::remove_all(dir);
  const auto path = dir / "chat-tui" / "config";
  EXPECT_FALSE(read_text_file(path).has_value());
  EXPECT_FALSE(write_text_file(path, "user = a\n").has_value());
  EXPECT_EQ(read_text_file(path), "user = a\n");
  EXPECT_FALSE(write_text_file(path, "user = b\n").has_value());  // replaced atomically
  EXPECT_EQ(read_text_file(path), "user = b\n");
  // No temporary file is left behind.
  int files = 0;
  for ([[maybe_unused]] const auto& e : std::filesystem::directory_iterator(path.parent_path()))
    ++files;
  EXPECT_EQ(files, 1);
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace chat::tui
