// The user interface without a terminal: keys, mouse and commands drive a real
// ProtocolSession (its requests are answered by a small fake server here), and the composed
// frames are read back as text, as the e2e tests read tmux's screen.
#include "chat/tui/ui.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <map>
#include <string>
#include <vector>

#include "chat/protocol/codec.hpp"
#include "chat/tui/utf8.hpp"

namespace chat::tui {
namespace {

using nlohmann::json;

constexpr protocol::UnixMs kNow = 1'795'000'000'000;
const std::string kSep = "\u2502";

json user_json(std::int64_t id, const std::string& name) {
  return {{"user_id", id},
          {"name", name},
          {"email", name + "@example.org"},
          {"age", nullptr},
          {"gender", nullptr}};
}

json meeting_json(std::int64_t mid, const std::string& title, bool pub, const char* desc) {
  return {{"meeting_id", mid},
          {"order_id", 1},
          {"title", title},
          {"description", desc == nullptr ? json(nullptr) : json(desc)},
          {"is_public", pub},
          {"from", protocol::format_timestamp(kNow - 600'000)},
          {"to", protocol::format_timestamp(kNow + 42 * 60'000 + 30'000)},
          {"participant_count", 2}};
}

std::string strip(std::string frame) {
  if (!frame.empty() && frame.back() == '\n') frame.pop_back();
  return frame;
}

// A client (state + session + ui) talking to a fake server that answers every request.
class UiTest : public ::testing::Test {
 protected:
  void SetUp() override {
    ui.set_size(40, 120);
    session.set_credentials("john", "pw");
    session.on_connected("127.0.0.1:7000", kNow);
    serve();
  }

  void reply(std::int64_t id, const json& result) {
    session.handle_line(strip(protocol::encode_ok(id, result)), kNow);
  }
  void event(const protocol::Event& e) {
    session.handle_line(strip(protocol::encode_event(e)), kNow);
  }

  // Answers every queued request (and those its answers cause), recording them.
  void serve() {
    for (int round = 0; round < 10; ++round) {
      const auto frames = session.take_outbox();
      if (frames.empty()) return;
      for (const auto& f : frames) {
        auto decoded = protocol::decode_request(strip(f));
        auto* r = std::get_if<protocol::Request>(&decoded);
        ASSERT_NE(r, nullptr) << f;
        requests.push_back(*r);
        answer(*r);
      }
    }
  }

  void answer(const protocol::Request& r) {
    std::visit(
        [&](const auto& b) {
          using T = std::decay_t<decltype(b)>;
          if constexpr (std::is_same_v<T, protocol::HelloRequest>) {
            reply(r.id, {{"proto", 1}, {"server", "chatd"}, {"node", "n1"}, {"time", "x"}});
          } else if constexpr (std::is_same_v<T, protocol::LoginRequest>) {
            reply(r.id, {{"user", user_json(1, "john")}});
          } else if constexpr (std::is_same_v<T, protocol::ActiveMeetingsRequest>) {
            reply(r.id, {{"meetings", meetings}});
          } else if constexpr (std::is_same_v<T, protocol::NodesRequest>) {
            reply(r.id, {{"nodes", json::array()}});
          } else if constexpr (std::is_same_v<T, protocol::JoinRequest>) {
            reply(r.id, {{"meeting_id", b.instance.meeting_id},
                         {"order_id", 1},
                         {"joined_at", protocol::format_timestamp(kNow)}});
          } else if constexpr (std::is_same_v<T, protocol::ParticipantsRequest>) {
            json list = json::array();
            for (const auto& [id, name] : people) {
              json p = user_json(id, name);
              p["joined_at"] = protocol::format_timestamp(kNow - 60'000 * id);
              list.push_back(p);
            }
            reply(r.id, {{"participants", list}});
          } else if constexpr (std::is_same_v<T, protocol::MessagesRequest>) {
            reply(r.id, {{"messages", history[b.instance.meeting_id]}});
          } else if constexpr (std::is_same_v<T, protocol::UserMessagesRequest>) {
            reply(r.id, {{"messages", json::array()}});
          } else if constexpr (std::is_same_v<T, protocol::JoinTimesRequest>) {
            reply(r.id, {{"meetings", json::array()}});
          } else if constexpr (std::is_same_v<T, protocol::PingRequest>) {
            reply(r.id, {{"time", "x"}});
          } else if constexpr (std::is_same_v<T, protocol::PostRequest>) {
            reply(r.id, {{"message_id", "9999"}, {"ts", protocol::format_timestamp(kNow)}});
          } else if constexpr (std::is_same_v<T, protocol::LeaveRequest>) {
            reply(r.id, {{"meeting_id", b.instance.meeting_id},
                         {"order_id", 1},
                         {"left_at", protocol::format_timestamp(kNow)}});
          }
        },
        r.body);
  }

  template <typename T>
  std::vector<T> sent_of() const {
    std::vector<T> out;
    for (const auto& r : requests)
      if (const auto* b = std::get_if<T>(&r.body)) out.push_back(*b);
    return out;
  }

  void key(const std::string& name) {
    ui.on_key(KeyEvent::named(name), kNow);
    serve();
  }
  void type(const std::string& text) {
    for (char32_t cp : decode_utf8(text)) ui.on_key(KeyEvent::character(cp), kNow);
    serve();
  }
  std::vector<std::string> screen() { return render_text(ui.view(kNow), ui.rows(), ui.cols()); }
  std::string screen_all() {
    std::string all;
    for (const auto& l : screen()) all += l + "\n";
    return all;
  }
  bool on_screen(const std::string& text) { return screen_all().find(text) != std::string::npos; }

  static json message_json(const std::string& id, std::int64_t user, const std::string& name,
                           const std::string& text) {
    return {{"message_id", id},
            {"user_id", user},
            {"name", name},
            {"text", text},
            {"ts", protocol::format_timestamp(kNow - 1000)}};
  }

  // Opens meeting 10 ("Seminar") with some history, via the meetings pane.
  void open_seminar() {
    key("Enter");  // focus starts on the meetings pane, the first row selected
    ASSERT_EQ(state.current(), (MeetingKey{10, 1}));
  }

  json meetings = json::array({meeting_json(10, "Seminar", true, "weekly seminar on chat systems"),
                               meeting_json(20, "DSA", false, nullptr),
                               meeting_json(30, "Standup", true, nullptr)});
  std::map<std::int64_t, std::string> people{{1, "john"}, {2, "hamid"}, {3, "haled"}};
  std::map<std::int64_t, json> history{
      {10, json::array({message_json("0001", 2, "hamid", "old one"),
                        message_json("0002", 3, "haled", "old two")})},
      {20, json::array()},
      {30, json::array()}};
  std::vector<protocol::Request> requests;
  ClientState state;
  ProtocolSession session{state};
  Config config;
  Ui ui{state, session, config};
};

TEST_F(UiTest, LoggedInScreenAt120x40) {
  const auto s = screen();
  ASSERT_EQ(s.size(), 40u);
  for (const auto& row : s) EXPECT_EQ(display_width_utf8(row), 120) << row;
  EXPECT_NE(s[0].find("chat-tui"), std::string::npos);
  EXPECT_NE(s[1].find("Meetings (3)"), std::string::npos);
  EXPECT_NE(s[1].find("Participants (0)"), std::string::npos);
  EXPECT_EQ(s[2].substr(0, 4), ">1# ");  // selected, Alt-1, public, not joined
  EXPECT_NE(s[2].find("Seminar"), std::string::npos);
  EXPECT_NE(s[2].find("42m"), std::string::npos);  // time left
  EXPECT_EQ(s[3].substr(0, 4), " 2! ");
  EXPECT_NE(s[38].find("john @ 127.0.0.1:7000 (n1) [online]"), std::string::npos);
  EXPECT_NE(s[38].find("ms"), std::string::npos);          // latency
  EXPECT_NE(s[39].find("Enter open"), std::string::npos);  // hint of the meetings focus
  EXPECT_EQ(ui.focus(), Focus::meetings);
}

TEST_F(UiTest, OpeningAMeetingShowsTitleHistoryAndParticipants) {
  open_seminar();
  EXPECT_EQ(ui.focus(), Focus::input);
  const auto s = screen();
  EXPECT_NE(s[0].find("Seminar \u2014 weekly seminar on chat systems"), std::string::npos);
  EXPECT_NE(s[0].find("public"), std::string::npos);
  EXPECT_NE(s[0].find("42m left"), std::string::npos);
  EXPECT_NE(screen_all().find("hamid " + kSep + " old one"), std::string::npos);
  EXPECT_NE(screen_all().find("haled " + kSep + " old two"), std::string::npos);
  EXPECT_NE(s[1].find("Participants (3)"), std::string::npos);
  // Participants with their join times.
  const std::string joined = format_hhmm(kNow - 120'000);
  bool found = false;
  for (const auto& row : s)
    if (row.find(" hamid") != std::string::npos && row.find(joined) != std::string::npos)
      found = true;
  EXPECT_TRUE(found);
  EXPECT_EQ(s[2].substr(0, 4), ">1#*");  // joined now
  const auto v = ui.view(kNow);
  EXPECT_TRUE(v.cursor_visible);
  EXPECT_EQ(v.cursor_y, 39);
  EXPECT_EQ(v.cursor_x, 2);
}

TEST_F(UiTest, EveryRowFitsAt60x20AndTheLayoutHolds) {
  open_seminar();
  event(protocol::MessageEvent{
      10,
      1,
      {"0003", 2, "hamid",
       "\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754c\U0001F600"
       "\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754c end",
       kNow}});
  ui.set_size(20, 60);
  const auto s = screen();
  ASSERT_EQ(s.size(), 20u);
  for (const auto& row : s) EXPECT_EQ(display_width_utf8(row), 60) << row;
  const Layout l = ui.layout();
  ASSERT_TRUE(l.show_meetings);
  ASSERT_TRUE(l.show_participants);
  // The separators stand in their columns on every pane row, whatever the wide text does.
  for (int y = l.chat.y; y < l.chat.y + l.chat.height; ++y) {
    const std::u32string row = decode_utf8(s[static_cast<std::size_t>(y)]);
    int col = 0;
    std::vector<int> seps;
    for (char32_t cp : row) {
      if (cp == U'\u2502') seps.push_back(col);
      col += codepoint_width(cp);
    }
    EXPECT_NE(std::find(seps.begin(), seps.end(), l.left_separator_x), seps.end()) << y;
    EXPECT_NE(std::find(seps.begin(), seps.end(), l.right_separator_x), seps.end()) << y;
  }
  EXPECT_NE(s[18].find("[online]"), std::string::npos);
  EXPECT_EQ(s[19].substr(0, 2), "> ");
  // The wide message is wrapped over several rows and nothing of it is lost.
  std::string text;
  for (int y = l.chat.y; y < l.chat.y + l.chat.height; ++y) {
    const std::string& row = s[static_cast<std::size_t>(y)];
    const auto a = row.find(kSep + " ", row.find(kSep) + 1);  // after the name column
    if (a == std::string::npos) continue;
    std::string piece = row.substr(a + kSep.size() + 1);
    piece = piece.substr(0, piece.rfind(kSep));
    while (!piece.empty() && piece.back() == ' ') piece.pop_back();
    if (piece.find("\u4f60") != std::string::npos || piece.find("end") != std::string::npos)
      text += piece;
  }
  // (A space at a row break is dropped, so compare without spaces.)
  std::erase(text, ' ');
  EXPECT_EQ(text,
            "\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754c\U0001F600"
            "\u4f60\u597d\u4e16\u754c\u4f60\u597d\u4e16\u754cend");
}

TEST_F(UiTest, TabCompletesAParticipantInsteadOfMovingFocus) {
  open_seminar();
  type("hal");
  key("Tab");
  EXPECT_EQ(ui.input().utf8(), "haled: ");
  EXPECT_EQ(ui.focus(), Focus::input);
  type("hi");
  key("Enter");
  const auto posts = sent_of<protocol::PostRequest>();
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_EQ(posts[0].text, "haled: hi");
  EXPECT_TRUE(ui.input().empty());
  // Up brings the line back (history).
  key("Up");
  EXPECT_EQ(ui.input().utf8(), "haled: hi");
  key("Down");
  EXPECT_TRUE(ui.input().empty());
  // Two matches: Tab cycles and the status bar lists them.
  type("ha");
  key("Tab");
  EXPECT_EQ(ui.input().utf8(), "haled: ");
  EXPECT_NE(screen()[38].find("Tab: haled hamid"), std::string::npos);
  key("Tab");
  EXPECT_EQ(ui.input().utf8(), "hamid: ");
}

TEST_F(UiTest, ReadlineKeysEditTheInputLine) {
  open_seminar();
  type("one two three");
  key("C-a");
  type(">");
  key("C-e");
  key("M-b");
  key("C-k");
  EXPECT_EQ(ui.input().utf8(), ">one two ");
  key("C-w");
  EXPECT_EQ(ui.input().utf8(), ">one ");
  key("C-y");
  EXPECT_EQ(ui.input().utf8(), ">one two ");
  key("C-a");
  key("M-f");
  key("M-d");
  EXPECT_EQ(ui.input().utf8(), ">one ");
  key("C-e");
  key("C-u");
  EXPECT_TRUE(ui.input().empty());
}

TEST_F(UiTest, ScrollbackWithPageKeysHomeAndEnd) {
  json many = json::array();
  for (int i = 1; i <= 80; ++i) {
    char id[8];
    std::snprintf(id, sizeof id, "%04d", i);
    many.push_back(message_json(id, 2, "hamid", "line " + std::to_string(i)));
  }
  history[10] = many;
  open_seminar();
  EXPECT_TRUE(on_screen("line 80"));
  EXPECT_FALSE(on_screen(" line 1 "));
  key("PgUp");
  EXPECT_FALSE(on_screen("line 80"));
  EXPECT_TRUE(on_screen("-MORE-"));
  key("Home");
  EXPECT_TRUE(on_screen(kSep + " line 1 "));
  EXPECT_TRUE(on_screen("You joined Seminar"));
  key("PgDn");
  EXPECT_FALSE(on_screen(kSep + " line 1 "));
  key("End");
  EXPECT_TRUE(on_screen("line 80"));
  EXPECT_FALSE(on_screen("-MORE-"));
  // In the chat pane, Up/Down scroll by one row.
  key("F3");
  EXPECT_EQ(ui.focus(), Focus::chat);
  key("Up");
  EXPECT_FALSE(on_screen("line 80"));
  key("Down");
  EXPECT_TRUE(on_screen("line 80"));
}

TEST_F(UiTest, UnreadCountMentionMarkerAndBell) {
  open_seminar();
  key("M-3");  // Standup: joined and shown
  ASSERT_EQ(state.current(), (MeetingKey{30, 1}));
  event(protocol::MessageEvent{10, 1, {"0003", 2, "hamid", "news", kNow}});
  event(protocol::MessageEvent{10, 1, {"0004", 2, "hamid", "more news", kNow}});
  auto s = screen();
  EXPECT_NE(s[2].find("Seminar"), std::string::npos);
  EXPECT_NE(s[2].find("(2)"), std::string::npos);
  EXPECT_FALSE(ui.take_bell());
  event(protocol::MessageEvent{10, 1, {"0005", 3, "haled", "john, look", kNow}});
  EXPECT_NE(screen()[2].find("(3@)"), std::string::npos);
  EXPECT_TRUE(ui.take_bell());
  EXPECT_FALSE(ui.take_bell());
  // Ctrl-P goes back to the seminar: counts gone, the marker above the first unread.
  key("C-p");
  ASSERT_EQ(state.current(), (MeetingKey{10, 1}));
  s = screen();
  EXPECT_EQ(s[2].find("(3"), std::string::npos);
  int marker = -1;
  int news = -1;
  for (int y = 0; y < static_cast<int>(s.size()); ++y) {
    if (s[static_cast<std::size_t>(y)].find("new messages") != std::string::npos) marker = y;
    if (s[static_cast<std::size_t>(y)].find(kSep + " news") != std::string::npos) news = y;
  }
  ASSERT_GE(marker, 0);
  EXPECT_EQ(news, marker + 1);
  EXPECT_TRUE(on_screen(kSep + " old two"));
}

TEST_F(UiTest, BellCanBeTurnedOff) {
  Config quiet;
  quiet.bell = false;
  Ui q{state, session, quiet};
  open_seminar();
  state.set_current(std::nullopt);
  event(protocol::MessageEvent{10, 1, {"0007", 2, "hamid", "john!", kNow}});
  EXPECT_FALSE(q.take_bell());
}

TEST_F(UiTest, MeetingKeysAndCommands) {
  key("M-2");
  ASSERT_EQ(sent_of<protocol::JoinRequest>().size(), 1u);
  EXPECT_EQ(sent_of<protocol::JoinRequest>()[0].instance.meeting_id, 20);
  EXPECT_TRUE(on_screen("DSA"));
  EXPECT_TRUE(screen()[0].find("private") != std::string::npos);
  type("/join semi");
  key("Enter");
  EXPECT_EQ(state.current(), (MeetingKey{10, 1}));
  EXPECT_EQ(sent_of<protocol::JoinRequest>().size(), 2u);
  type("/join nothing-like-it");
  key("Enter");
  EXPECT_NE(state.status().last_error.find("no active meeting"), std::string::npos);
  EXPECT_EQ(ui.input().utf8(), "/join nothing-like-it");  // kept for correction
  key("C-u");
  type("/who");
  key("Enter");
  EXPECT_EQ(sent_of<protocol::ParticipantsRequest>().size(), 3u);  // 2 joins + /who
  EXPECT_TRUE(on_screen("Participants of Seminar (3):"));
  type("/msgs hami");
  key("Enter");
  ASSERT_EQ(sent_of<protocol::UserMessagesRequest>().size(), 1u);
  EXPECT_EQ(sent_of<protocol::UserMessagesRequest>()[0].user_id, 2);
  EXPECT_TRUE(on_screen("Messages of hamid in Seminar (0):"));
  type("/jointimes");
  key("Enter");
  EXPECT_EQ(sent_of<protocol::JoinTimesRequest>().size(), 1u);
  type("/meetings");
  key("Enter");
  EXPECT_TRUE(on_screen("Active meetings (3):"));
  type("/bogus");
  key("Enter");
  EXPECT_NE(state.status().last_error.find("unknown command /bogus"), std::string::npos);
  key("M-0");
  EXPECT_FALSE(state.current().has_value());
  key("C-n");  // first joined meeting in pane order
  EXPECT_EQ(state.current(), (MeetingKey{10, 1}));
  key("C-n");
  EXPECT_EQ(state.current(), (MeetingKey{20, 1}));
  key("C-n");
  EXPECT_EQ(state.current(), (MeetingKey{10, 1}));  // wraps
  type("/quit");
  key("Enter");
  EXPECT_TRUE(ui.take_quit());
}

TEST_F(UiTest, PanesHideResizeAndFocus) {
  open_seminar();
  EXPECT_TRUE(ui.layout().show_participants);
  key("F8");
  EXPECT_FALSE(ui.layout().show_participants);
  EXPECT_FALSE(on_screen("Participants ("));
  EXPECT_TRUE(ui.take_panes_changed());
  // Focus cycling skips the hidden pane.
  key("C-o");
  EXPECT_EQ(ui.focus(), Focus::meetings);
  key("C-o");
  EXPECT_EQ(ui.focus(), Focus::chat);
  key("C-o");
  EXPECT_EQ(ui.focus(), Focus::input);
  key("M-Left");
  EXPECT_EQ(ui.focus(), Focus::chat);
  key("F8");
  key("F4");
  EXPECT_EQ(ui.focus(), Focus::participants);
  key("Down");
  EXPECT_EQ(ui.participant_selected(), 1u);
  key("Enter");  // that participant's messages
  ASSERT_EQ(sent_of<protocol::UserMessagesRequest>().size(), 1u);
  EXPECT_EQ(sent_of<protocol::UserMessagesRequest>()[0].user_id, 2);
  type("x");  // typing goes back to the input line
  EXPECT_EQ(ui.focus(), Focus::input);
  const int before = ui.layout().meetings.width;
  key("F10");
  EXPECT_EQ(ui.layout().meetings.width, before + kPaneResizeStep);
  key("F9");
  key("F9");
  EXPECT_EQ(ui.layout().meetings.width, before - kPaneResizeStep);
  key("F7");
  EXPECT_FALSE(ui.layout().show_meetings);
  EXPECT_EQ(ui.layout().chat.x, 0);
}

TEST_F(UiTest, HelpOverlayListsKeysAndClosesWithEsc) {
  key("F1");
  EXPECT_TRUE(ui.help_visible());
  auto v = ui.view(kNow);
  EXPECT_TRUE(v.overlay);
  EXPECT_EQ(v.panes.back().name, "help");
  EXPECT_FALSE(v.cursor_visible);
  EXPECT_TRUE(on_screen("chat-tui keys and commands"));
  EXPECT_TRUE(on_screen("/jointimes"));
  key("PgDn");
  EXPECT_TRUE(ui.help_visible());
  EXPECT_TRUE(on_screen("Meetings pane:"));
  key("Esc");
  EXPECT_FALSE(ui.help_visible());
  EXPECT_TRUE(ui.take_full_redraw());  // what was under it is painted again
  type("/help");
  key("Enter");
  EXPECT_TRUE(ui.help_visible());
}

TEST_F(UiTest, MouseOpensMeetingsFocusesPanesAndScrolls) {
  const Layout l = ui.layout();
  ui.on_mouse(MouseEvent{MouseEvent::Kind::press, l.meetings.y + 3, 2}, kNow);  // third row
  serve();
  EXPECT_EQ(state.current(), (MeetingKey{30, 1}));
  ui.on_mouse(MouseEvent{MouseEvent::Kind::press, l.chat.y + 2, l.chat.x + 5}, kNow);
  EXPECT_EQ(ui.focus(), Focus::chat);
  ui.on_mouse(MouseEvent{MouseEvent::Kind::press, l.participants.y + 2, l.participants.x + 1},
              kNow);
  EXPECT_EQ(ui.focus(), Focus::participants);
  EXPECT_EQ(ui.participant_selected(), 1u);
  ui.on_mouse(MouseEvent{MouseEvent::Kind::wheel_up, l.chat.y + 2, l.chat.x + 5}, kNow);
  EXPECT_EQ(state.current_buffer().scroll, Ui::kWheelRows);
  ui.on_mouse(MouseEvent{MouseEvent::Kind::press, l.input.y, 5}, kNow);
  EXPECT_EQ(ui.focus(), Focus::input);
}

TEST_F(UiTest, OnlyTheChangedPaneDiffersBetweenFrames) {
  open_seminar();
  const ScreenView a = ui.view(kNow);
  const ScreenView same = ui.view(kNow);
  ASSERT_EQ(a.panes.size(), same.panes.size());
  for (std::size_t i = 0; i < a.panes.size(); ++i) EXPECT_EQ(a.panes[i], same.panes[i]);
  event(protocol::MessageEvent{10, 1, {"0003", 2, "hamid", "fresh", kNow}});
  const ScreenView b = ui.view(kNow);
  ASSERT_EQ(a.panes.size(), b.panes.size());
  std::vector<std::string> changed;
  for (std::size_t i = 0; i < a.panes.size(); ++i)
    if (!(a.panes[i] == b.panes[i])) changed.push_back(a.panes[i].name);
  EXPECT_EQ(changed, std::vector<std::string>{"chat"});
  for (const auto& p : b.panes) {
    ASSERT_EQ(static_cast<int>(p.rows.size()), p.rect.height) << p.name;
    for (const auto& row : p.rows) EXPECT_EQ(display_width_utf8(row_text(row)), p.rect.width);
  }
}

TEST_F(UiTest, AnySizeComposesRowsThatFit) {
  open_seminar();
  event(protocol::MessageEvent{10, 1, {"0003", 2, "hamid", "\u4f60\u597d\U0001F600 wide", kNow}});
  for (bool help : {false, true}) {
    if (help != ui.help_visible()) key("F1");
    for (int rows : {1, 2, 3, 5, 12, 20, 41}) {
      for (int cols : {1, 2, 10, 23, 49, 50, 60, 61, 97, 200}) {
        ui.set_size(rows, cols);
        const ScreenView v = ui.view(kNow);
        for (const auto& p : v.panes) {
          EXPECT_LE(p.rect.y + p.rect.height, rows) << p.name << " " << rows << "x" << cols;
          EXPECT_LE(p.rect.x + p.rect.width, cols) << p.name << " " << rows << "x" << cols;
          ASSERT_EQ(static_cast<int>(p.rows.size()), p.rect.height) << p.name;
          for (const auto& r : p.rows)
            EXPECT_EQ(display_width_utf8(row_text(r)), p.rect.width)
                << p.name << " " << rows << "x" << cols;
        }
        EXPECT_EQ(render_text(v, rows, cols).size(), static_cast<std::size_t>(rows));
      }
    }
  }
}

TEST(UiLogin, FormMasksThePasswordAndSubmits) {
  ClientState state;
  ProtocolSession session{state};
  Config config;
  Ui ui{state, session, config};
  ui.set_size(24, 80);
  session.on_connected("127.0.0.1:7000", kNow);
  (void)session.take_outbox();
  for (char32_t c : std::u32string(U"john")) ui.on_key(KeyEvent::character(c), kNow);
  ui.on_key(KeyEvent::named("Enter"), kNow);
  for (char32_t c : std::u32string(U"s\u00e9cret")) ui.on_key(KeyEvent::character(c), kNow);
  const auto rows = render_text(ui.view(kNow), 24, 80);
  std::string all;
  for (const auto& r : rows) all += r + "\n";
  EXPECT_NE(all.find("Password: ******"), std::string::npos);
  EXPECT_EQ(all.find("s\u00e9cret"), std::string::npos);
  EXPECT_NE(all.find("Server:   127.0.0.1:7000"), std::string::npos);
  // The form survives any terminal size.
  for (int r : {1, 3, 8, 24}) {
    for (int c : {1, 15, 30, 80}) {
      ui.set_size(r, c);
      for (const auto& p : ui.view(kNow).panes)
        for (const auto& row : p.rows) EXPECT_EQ(display_width_utf8(row_text(row)), p.rect.width);
    }
  }
  ui.set_size(24, 80);
  ui.on_key(KeyEvent::named("Enter"), kNow);
  const auto frames = session.take_outbox();
  ASSERT_EQ(frames.size(), 1u);
  auto decoded = protocol::decode_request(strip(frames[0]));
  const auto& login = std::get<protocol::LoginRequest>(std::get<protocol::Request>(decoded).body);
  EXPECT_EQ(login.user, "john");
  EXPECT_EQ(login.password, "s\u00e9cret");
}

TEST(UiLogin, RenderTextPlacesWideCharacters) {
  ScreenView v;
  PaneView p{"x", Rect{0, 1, 1, 5}, {}};
  p.rows.push_back(StyledRow{{Span{"\u4f60a\u597d", Role::normal, 0, 0}}});
  v.panes.push_back(p);
  const auto rows = render_text(v, 1, 7);
  EXPECT_EQ(rows[0], " \u4f60a\u597d ");
  EXPECT_EQ(display_width_utf8(rows[0]), 7);
}

}  // namespace
}  // namespace chat::tui
