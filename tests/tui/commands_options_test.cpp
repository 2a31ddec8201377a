// Input line commands and the command line.
#include <gtest/gtest.h>

#include <algorithm>
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

TEST(Commands, NewCommandsAndTheirArguments) {
  const auto j = parse_input("/join   Daily standup  ");
  EXPECT_EQ(j.kind, Command::Kind::join);
  EXPECT_EQ(j.arg, "Daily standup");  // trimmed, inner spaces kept
  EXPECT_EQ(parse_input("/who").kind, Command::Kind::who);
  const auto m = parse_input("/msgs h\u00e9l\u00e8ne");
  EXPECT_EQ(m.kind, Command::Kind::msgs);
  EXPECT_EQ(m.arg, "h\u00e9l\u00e8ne");
  EXPECT_EQ(parse_input("/jointimes").kind, Command::Kind::jointimes);
  EXPECT_EQ(parse_input("/meetings").kind, Command::Kind::meetings);
  EXPECT_EQ(parse_input("/join").arg, "");
  EXPECT_EQ(parse_input("/Join x").kind, Command::Kind::unknown);  // case-sensitive
  const auto names = command_names();
  for (const char* c :
       {"/join", "/leave", "/who", "/msgs", "/jointimes", "/meetings", "/help", "/quit"})
    EXPECT_NE(std::find(names.begin(), names.end(), c), names.end()) << c;
}

TEST(Commands, HelpFollowsTheKeyMap) {
  KeyMap keys = KeyMap::defaults();
  keys.bind("C-t", Action::toggle_participants);
  std::string all;
  for (const auto& l : help_lines(keys)) all += l + "\n";
  for (const char* word : {"/join", "/who", "/msgs", "/jointimes", "/meetings", "C-t", "F8", "M-1",
                           "C-o", "C-n", "Home", "(3@)"})
    EXPECT_NE(all.find(word), std::string::npos) << word;
}

protocol::MeetingSummary meeting(std::int64_t id, std::string title) {
  protocol::MeetingSummary m;
  m.meeting_id = id;
  m.order_id = 1;
  m.title = std::move(title);
  return m;
}

TEST(Commands, ResolveMeetingByTitlePrefixIdOrRow) {
  const std::vector<protocol::MeetingSummary> list{
      meeting(12, "Seminar"), meeting(40, "DSA Course"), meeting(41, "DSA Lab"),
      meeting(7, "\u00c9t\u00e9")};
  EXPECT_EQ(std::get<std::size_t>(resolve_meeting(list, "seminar")), 0u);
  EXPECT_EQ(std::get<std::size_t>(resolve_meeting(list, "Sem")), 0u);
  EXPECT_EQ(std::get<std::size_t>(resolve_meeting(list, "dsa l")), 2u);
  EXPECT_EQ(std::get<std::size_t>(resolve_meeting(list, "#40")), 1u);
  EXPECT_EQ(std::get<std::size_t>(resolve_meeting(list, "\u00e9t")), 3u);
  EXPECT_EQ(std::get<std::size_t>(resolve_meeting(list, "2")), 1u);  // row number
  const auto ambiguous = std::get<std::string>(resolve_meeting(list, "DSA"));
  EXPECT_NE(ambiguous.find("DSA Course"), std::string::npos);
  EXPECT_NE(ambiguous.find("DSA Lab"), std::string::npos);
  EXPECT_TRUE(std::holds_alternative<std::string>(resolve_meeting(list, "#99")));
  EXPECT_TRUE(std::holds_alternative<std::string>(resolve_meeting(list, "9")));
  EXPECT_TRUE(std::holds_alternative<std::string>(resolve_meeting(list, "")));
}

TEST(Commands, ResolveUserAmongParticipantsAndAuthors) {
  ChatBuffer b;
  protocol::Participant p;
  p.user.user_id = 2;
  p.user.name = "hamid";
  b.participants.push_back(p);
  p.user.user_id = 3;
  p.user.name = "haled";
  b.participants.push_back(p);
  b.lines.push_back(ChatLine{ChatLine::Kind::message, 0, "john", "bye", "m1", 1});
  EXPECT_EQ(std::get<UserRef>(resolve_user(b, "HAMID")).user_id, 2);
  EXPECT_EQ(std::get<UserRef>(resolve_user(b, "hale")).name, "haled");
  EXPECT_EQ(std::get<UserRef>(resolve_user(b, "john")).user_id, 1);  // left, but spoke
  EXPECT_EQ(std::get<UserRef>(resolve_user(b, "#77")).user_id, 77);
  EXPECT_EQ(std::get<UserRef>(resolve_user(b, "#3")).name, "haled");
  EXPECT_TRUE(std::holds_alternative<std::string>(resolve_user(b, "ha")));  // two match
  EXPECT_TRUE(std::holds_alternative<std::string>(resolve_user(b, "nobody")));
  EXPECT_TRUE(std::holds_alternative<std::string>(resolve_user(b, "#x")));
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
  EXPECT_TRUE(o->servers_given);
  EXPECT_FALSE(o->config_file.has_value());
}

TEST(Options, ConfigFile) {
  const auto r = parse({"--config", "/tmp/x.conf"});
  const auto* o = std::get_if<Options>(&r);
  ASSERT_NE(o, nullptr);
  EXPECT_EQ(o->config_file, std::optional<std::string>("/tmp/x.conf"));
  EXPECT_FALSE(o->servers_given);  // the config's last server may be used
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
  const auto version = parse({"--version"});
  ASSERT_TRUE(std::holds_alternative<OptionsExit>(version));
  EXPECT_EQ(std::get<OptionsExit>(version).exit_code, 0);
  EXPECT_TRUE(std::get<OptionsExit>(version).text.starts_with("chat-tui 0."))
      << std::get<OptionsExit>(version).text;
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
