// Input line commands and the command line.
#include <gtest/gtest.h>

#include <variant>
#include <vector>

#include "chat/tui/commands.hpp"
#include "chat/tui/options.hpp"

namespace chat::tui {
namespace {

TEST(Commands, PlainTextIsPosted) {
  const auto c = parse_input("hello /world");
  EXPECT_EQ(c.kind, Command::Kind::post);
  EXPECT_EQ(c.arg, "hello /world");
  EXPECT_EQ(parse_input("  indented").arg, "  indented");  // not trimmed
}

TEST(Commands, SlashCommands) {
  EXPECT_EQ(parse_input("/leave").kind, Command::Kind::leave);
  EXPECT_EQ(parse_input("/quit").kind, Command::Kind::quit);
  EXPECT_EQ(parse_input("/quit now").kind, Command::Kind::quit);
  EXPECT_EQ(parse_input("/help").kind, Command::Kind::help);
  const auto u = parse_input("/frobnicate x");
  EXPECT_EQ(u.kind, Command::Kind::unknown);
  EXPECT_EQ(u.arg, "/frobnicate");
}

TEST(Commands, DoubleSlashPostsALiteralSlash) {
  const auto c = parse_input("//quit is a command");
  EXPECT_EQ(c.kind, Command::Kind::post);
  EXPECT_EQ(c.arg, "/quit is a command");
}

TEST(Commands, BlankInputDoesNothing) {
  EXPECT_EQ(parse_input("").kind, Command::Kind::none);
  EXPECT_EQ(parse_input(" \t\u3000").kind, Command::Kind::none);  // U+3000 is White_Space
}

TEST(Commands, HelpListsEveryCommand) {
  std::string all;
  for (const auto& l : help_lines()) all += l + "\n";
  for (const char* word : {"/leave", "/quit", "/help", "Tab", "Enter", "PgUp"})
    EXPECT_NE(all.find(word), std::string::npos) << word;
}

std::variant<Options, OptionsExit> parse(std::vector<const char*> args) {
  args.insert(args.begin(), "chat-tui");
  return parse_options(static_cast<int>(args.size()), args.data());
}

TEST(Options, RepeatableServersInOrder) {
  const auto r = parse({"--server", "10.0.0.1:7000", "--server", "[::1]:7001", "--user", "john",
                        "--password", "pw"});
  const auto* o = std::get_if<Options>(&r);
  ASSERT_NE(o, nullptr);
  ASSERT_EQ(o->servers.size(), 2u);
  EXPECT_EQ(o->servers[0].host, "10.0.0.1");
  EXPECT_EQ(o->servers[0].port, "7000");
  EXPECT_EQ(o->servers[1].host, "::1");
  EXPECT_EQ(o->servers[1].port, "7001");
  EXPECT_EQ(o->user, std::optional<std::string>("john"));
  EXPECT_EQ(o->password, std::optional<std::string>("pw"));
}

TEST(Options, DefaultsToLocalServerAndNoCredentials) {
  const auto r = parse({});
  const auto* o = std::get_if<Options>(&r);
  ASSERT_NE(o, nullptr);
  ASSERT_EQ(o->servers.size(), 1u);
  EXPECT_EQ(o->servers[0].text, kDefaultServer);
  EXPECT_FALSE(o->user.has_value());
  EXPECT_FALSE(o->password.has_value());
}

TEST(Options, HelpAndErrors) {
  const auto help = parse({"--help"});
  ASSERT_TRUE(std::holds_alternative<OptionsExit>(help));
  EXPECT_EQ(std::get<OptionsExit>(help).exit_code, 0);
  EXPECT_NE(std::get<OptionsExit>(help).text.find("--server"), std::string::npos);
  for (auto args : std::vector<std::vector<const char*>>{{"--server", "nohost"},
                                                         {"--server", "h:0"},
                                                         {"--server", "h:70000"},
                                                         {"--server", "h:7x"},
                                                         {"--bogus"},
                                                         {"--user"}}) {
    const auto r = parse(args);
    ASSERT_TRUE(std::holds_alternative<OptionsExit>(r)) << args[0];
    EXPECT_EQ(std::get<OptionsExit>(r).exit_code, 2);
  }
}

TEST(Options, ServerAddressParsing) {
  EXPECT_FALSE(parse_server_address(":7000").has_value());
  EXPECT_FALSE(parse_server_address("::1:7000").has_value());  // IPv6 needs brackets
  const auto a = parse_server_address("chat.example.org:65535");
  ASSERT_TRUE(a.has_value());
  EXPECT_EQ(a->host, "chat.example.org");
  EXPECT_EQ(a->port, "65535");
}

}  // namespace
}  // namespace chat::tui
