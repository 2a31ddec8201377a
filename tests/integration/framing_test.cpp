// The "Framing" section of PROTOCOL.md against a live chatd: line endings, blank lines, the
// 65 536-byte limit, unreadable frames, and hostile clients that must not hurt the server.
#include <cstring>
#include <random>
#include <thread>

#include "chatd_fixture.hpp"

namespace chat::test {
namespace {

using FramingTest = ChatdTest;

// Raw frames use ids from here on, so they never collide with TestClient's own ids.
constexpr std::int64_t kRawId = 1'000'000;

// A ping frame of exactly `total` bytes including the final newline (padded by an ignored field).
std::string ping_of_size(std::int64_t id, std::size_t total) {
  const std::string head = R"({"id":)" + std::to_string(id) + R"(,"op":"ping","pad":")";
  const std::string tail = "\"}\n";
  return head + std::string(total - head.size() - tail.size(), 'p') + tail;
}

void expect_null_error(TestClient& c, const std::string& code, const std::string& what) {
  const json r = c.wait_null_response();
  EXPECT_TRUE(r.at("id").is_null()) << what << ": " << r.dump();
  EXPECT_EQ(error_code(r), code) << what << ": " << r.dump();
}

TEST_F(FramingTest, UnreadableFramesGetBadRequestWithNullIdAndTheConnectionStays) {
  start_chatd();
  TestClient c = connect();
  const std::vector<std::pair<std::string, std::string>> garbage = {
      {"not json\n", "not JSON"},
      {"{\"id\":1,\"op\":\"ping\"\n", "truncated JSON"},
      {"[1,2,3]\n", "an array"},
      {"42\n", "a number"},
      {"\"ping\"\n", "a string"},
      {"null\n", "null"},
      {"{\"op\":\"ping\"}\n", "no id"},
      {"{\"id\":-1,\"op\":\"ping\"}\n", "negative id"},
      {"{\"id\":1.0,\"op\":\"ping\"}\n", "float id"},
      {"{\"id\":9007199254740992,\"op\":\"ping\"}\n", "id 2^53"},
      {"{\"id\":\"5\",\"op\":\"ping\"}\n", "string id"},
      {"{\"id\":5,\"op\":\"ping\",\"x\":\"\xff\"}\n", "invalid UTF-8 in a string"},
      {"\xc0\xaf{}\n", "overlong encoding"},
      {"{\"id\":5,\"op\":\"ping\",\"x\":\"\xed\xa0\x80\"}\n", "encoded surrogate"},
      {std::string(30000, '[') + "\n", "30 000 nested arrays"},
  };
  for (const auto& [bytes, what] : garbage) {
    c.send_raw(bytes);
    expect_null_error(c, "bad_request", what);
    EXPECT_FALSE(c.closed()) << "connection closed after " << what;
  }
  // Still fully usable.
  EXPECT_TRUE(c.ok("ping").contains("time"));
  // An unknown op with a valid id echoes the id.
  c.send_raw(R"({"id":)" + std::to_string(kRawId) +
             R"(,"op":"dance"})"
             "\n");
  const json r = c.wait_response(kRawId);
  EXPECT_EQ(error_code(r), "bad_request") << r.dump();
  // Unknown extra fields are ignored.
  c.send_raw(R"({"id":)" + std::to_string(kRawId + 1) +
             R"(,"op":"ping","extra":{"a":[1,2]}})"
             "\n");
  EXPECT_EQ(error_code(c.wait_response(kRawId + 1)), "");
}

TEST_F(FramingTest, BlankLinesAreIgnoredAndCrLfIsAccepted) {
  start_chatd();
  TestClient c = connect();
  c.send_raw("\n \r\n\t\t\n\xe3\x80\x80\n\xc2\xa0\r\n");  // blank, CRLF blank, U+3000, U+00A0
  c.send_raw(R"({"id":)" + std::to_string(kRawId) +
             R"(,"op":"ping"})"
             "\r\n");
  EXPECT_EQ(error_code(c.wait_response(kRawId)), "");
  EXPECT_THROW(c.wait_null_response(Millis(300)), ClientError)
      << "blank lines must not be answered";
  EXPECT_EQ(c.frames_received(), 1u) << "exactly one frame: the ping's response";
}

TEST_F(FramingTest, FramesSplitAcrossWritesAndManyFramesInOneWrite) {
  start_chatd();
  TestClient c = connect();
  const std::string frame = R"({"id":)" + std::to_string(kRawId) +
                            R"(,"op":"hello","client":"byte by byte"})"
                            "\n";
  for (const char ch : frame) {
    c.send_raw(std::string(1, ch));
    std::this_thread::sleep_for(Millis(1));
  }
  EXPECT_EQ(error_code(c.wait_response(kRawId)), "");
  std::string batch;
  for (int i = 1; i <= 200; ++i)
    batch += R"({"id":)" + std::to_string(kRawId + i) +
             R"(,"op":"ping"})"
             "\n";
  c.send_raw(batch);
  for (int i = 1; i <= 200; ++i) EXPECT_EQ(error_code(c.wait_response(kRawId + i)), "") << i;
}

TEST_F(FramingTest, FrameOfExactlyTheLimitIsAccepted) {
  start_chatd();
  TestClient c = connect();
  const std::string frame = ping_of_size(kRawId, 65536);
  ASSERT_EQ(frame.size(), 65536u);
  c.send_raw(frame);
  const json r = c.wait_response(kRawId);
  EXPECT_EQ(error_code(r), "") << r.dump().substr(0, 300);
  // And with CRLF: 65 536 bytes including "\r\n".
  std::string crlf = ping_of_size(kRawId + 1, 65535);
  crlf.insert(crlf.size() - 1, "\r");
  ASSERT_EQ(crlf.size(), 65536u);
  c.send_raw(crlf);
  EXPECT_EQ(error_code(c.wait_response(kRawId + 1)), "");
  EXPECT_FALSE(c.closed());
}

TEST_F(FramingTest, FrameOneByteOverTheLimitIsTooLargeAndCloses) {
  start_chatd();
  TestClient other = connect();
  TestClient c = connect();
  c.send_raw(ping_of_size(kRawId, 65537));
  expect_null_error(c, "too_large", "65 537-byte frame");
  EXPECT_TRUE(c.wait_closed()) << "the connection must be closed after too_large";
  EXPECT_TRUE(other.ok("ping").contains("time"));
}

TEST_F(FramingTest, SeventyThousandByteLineIsTooLargeAndCloses) {
  start_chatd();
  TestClient c = connect();
  c.ok("hello");
  c.send_raw(ping_of_size(kRawId, 70000));
  expect_null_error(c, "too_large", "70 000-byte line");
  EXPECT_TRUE(c.wait_closed()) << "the connection must be closed after too_large";
  // The server goes on serving new connections.
  TestClient fresh = connect();
  EXPECT_TRUE(fresh.ok("ping").contains("time"));
}

TEST_F(FramingTest, EndlessLineWithoutNewlineIsTooLarge) {
  start_chatd();
  TestClient c = connect();
  const std::string endless(5u << 20, 'a');
  c.blast(endless, Millis(10000));
  expect_null_error(c, "too_large", "5 MB without a newline");
  EXPECT_TRUE(c.wait_closed());
  EXPECT_TRUE(connect().ok("ping").contains("time"));
}

TEST_F(FramingTest, ClientVanishingMidFrameLeavesOthersServed) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  ChatdProcess& node = start_chatd();
  TestClient ca = login(a);
  ca.ok("join", instance(m));
  for (int i = 0; i < 5; ++i) {
    TestClient vandal = connect();
    vandal.send_raw(R"({"id":1,"op":"post","meeting_id":)" + std::to_string(m.meeting_id) +
                    R"(,"text":"hal)");
    vandal.close();
  }
  EXPECT_TRUE(ca.ok("ping").contains("time"));
  ca.ok("post", {{"meeting_id", m.meeting_id}, {"text", "still working"}});
  EXPECT_TRUE(connect().ok("hello").contains("proto"));
  EXPECT_TRUE(node.alive());
}

TEST_F(FramingTest, FiveMegabytesOfRandomBytesDoNotCrashTheServer) {
  const TestUser a = db().create_user();
  const TestMeeting m = create_meeting(true);
  ChatdProcess& node = start_chatd();
  TestClient ca = login(a);
  ca.ok("join", instance(m));
  std::mt19937_64 rng(0xC0FFEE);
  std::string noise(5u << 20, '\0');
  for (std::size_t i = 0; i + 8 <= noise.size(); i += 8) {
    const std::uint64_t v = rng();
    std::memcpy(&noise[i], &v, 8);
  }
  {
    TestClient vandal = connect();
    vandal.blast(noise, Millis(20000));
    vandal.drain_for(Millis(200));
    // The server may cut the vandal off at any point; whatever it answered must be error
    // frames about unreadable input, or rate_limited once the noise's lines (each costs a
    // token, README "Limits") outrun the connection's request rate.
    for (;;) {
      json r;
      try {
        r = vandal.wait_null_response(Millis(0));
      } catch (const ClientError&) {
        break;
      }
      const std::string code = error_code(r);
      EXPECT_TRUE(code == "bad_request" || code == "too_large" || code == "rate_limited")
          << r.dump();
    }
  }
  EXPECT_TRUE(node.alive()) << "chatd died from random input";
  EXPECT_TRUE(ca.ok("ping").contains("time"));
  ca.ok("post", {{"meeting_id", m.meeting_id}, {"text", "after the noise"}});
  TestClient fresh = connect();
  EXPECT_EQ(fresh.ok("hello").value("proto", 0), 1);
  // And the same noise split into many small writes from several connections at once.
  std::vector<TestClient> vandals;
  for (int i = 0; i < 4; ++i) vandals.push_back(connect());
  for (std::size_t off = 0; off < (1u << 20); off += 4096)
    for (auto& v : vandals) v.blast(std::string_view(noise).substr(off, 4096), Millis(2000));
  vandals.clear();
  EXPECT_TRUE(node.alive());
  EXPECT_TRUE(ca.ok("ping").contains("time"));
}

}  // namespace
}  // namespace chat::test
