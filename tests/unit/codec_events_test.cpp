// encode_event / encode_ok / decode_server_frame and the JSON forms of result records
// (PROTOCOL.md "Requests" result shapes and "Events").
#include <gtest/gtest.h>

#include <cstdint>
#include <nlohmann/json.hpp>
#include <set>
#include <string>
#include <vector>

#include "chat/protocol/codec.hpp"

namespace chat::protocol {
namespace {

using nlohmann::json;

std::set<std::string> keys_of(const json& j) {
  std::set<std::string> keys;
  for (const auto& [k, v] : j.items()) keys.insert(k);
  return keys;
}

std::string strip(const std::string& line) {
  EXPECT_FALSE(line.empty());
  EXPECT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one frame, one line";
  return line.substr(0, line.size() - 1);
}

// Decodes an event frame; fails the test if it is not an event.
Event decode_event(const std::string& line) {
  const auto frame = decode_server_frame(strip(line));
  if (!frame || !std::holds_alternative<Event>(*frame)) {
    ADD_FAILURE() << "not an event: " << line;
    return Event{};
  }
  return std::get<Event>(*frame);
}

constexpr UnixMs kTs = 1795419188123;  // 2026-11-23T07:33:08.123Z

TEST(EncodeEvent, MessageRoundTripAndWireShape) {
  const MessageEvent ev{
      4, 2,
      ChatMessage{"0001795419188123-000001", 9, "j\u00f6hn", "hi \"there\"\n\U0001F600", kTs}};
  const std::string line = encode_event(ev);
  const json j = json::parse(line);
  EXPECT_EQ(keys_of(j), (std::set<std::string>{"event", "meeting_id", "order_id", "message_id",
                                               "user_id", "name", "text", "ts"}));
  EXPECT_EQ(j.at("event"), "message");
  EXPECT_EQ(j.at("ts"), "2026-11-23T07:33:08.123Z");
  EXPECT_TRUE(j.at("message_id").is_string());
  const auto back = std::get<MessageEvent>(decode_event(line));
  EXPECT_EQ(back.meeting_id, 4);
  EXPECT_EQ(back.order_id, 2);
  EXPECT_EQ(back.message.message_id, ev.message.message_id);
  EXPECT_EQ(back.message.user_id, 9);
  EXPECT_EQ(back.message.name, ev.message.name);
  EXPECT_EQ(back.message.text, ev.message.text);
  EXPECT_EQ(back.message.ts, kTs);
}

// The message event is written without nlohmann (the hot path of fan-out): its bytes must be
// exactly what nlohmann writes for the same object, for every kind of character, and invalid
// UTF-8 is still replaced (U+FFFD), never sent.
TEST(EncodeEvent, MessageBytesAreNlohmannsForEveryCharacter) {
  std::vector<std::string> texts = {"",           "plain",    "quote \" backslash \\ slash /",
                                    "\b\f\n\r\t", "del \x7f", "\u00e9\u65e5\U0001F600"};
  std::string controls;
  for (int c = 0; c < 0x20; ++c) controls.push_back(static_cast<char>(c));
  texts.push_back(controls);
  for (int c = 0x20; c < 0x80; ++c) texts.push_back(std::string(1, static_cast<char>(c)));
  for (const auto& text : texts) {
    for (const std::int64_t big : {std::int64_t{0}, std::int64_t{-7}, INT64_MAX, INT64_MIN}) {
      const MessageEvent ev{big, 3,
                            ChatMessage{"0001795419188123-000001", big, text + "!", text, kTs}};
      const json expected{{"event", "message"}, {"meeting_id", big},
                          {"order_id", 3},      {"message_id", ev.message.message_id},
                          {"user_id", big},     {"name", text + "!"},
                          {"text", text},       {"ts", "2026-11-23T07:33:08.123Z"}};
      EXPECT_EQ(encode_event(ev), expected.dump() + "\n") << json(text).dump();
    }
  }
  const std::string invalid =
      "a\xff\xfe"
      "b";
  const MessageEvent bad{1, 1, ChatMessage{"0001795419188123-000001", 2, "n", invalid, kTs}};
  const std::string line = encode_event(bad);
  EXPECT_TRUE(json::accept(line));
  EXPECT_EQ(json::parse(line).at("text"),
            "a\ufffd\ufffd"
            "b");
}

TEST(EncodeEvent, JoinedRoundTripAndWireShape) {
  const JoinedEvent ev{5, 1, 77, "hamid", kTs};
  const std::string line = encode_event(ev);
  const json j = json::parse(line);
  EXPECT_EQ(keys_of(j),
            (std::set<std::string>{"event", "meeting_id", "order_id", "user_id", "name", "ts"}));
  EXPECT_EQ(j.at("event"), "joined");
  const auto back = std::get<JoinedEvent>(decode_event(line));
  EXPECT_EQ(std::tie(back.meeting_id, back.order_id, back.user_id, back.name, back.ts),
            std::tie(ev.meeting_id, ev.order_id, ev.user_id, ev.name, ev.ts));
}

TEST(EncodeEvent, LeftRoundTripForEveryReason) {
  for (const auto& [reason, wire] :
       {std::pair{LeaveReason::leave, "leave"}, std::pair{LeaveReason::timeout, "timeout"},
        std::pair{LeaveReason::meeting_ended, "meeting_ended"}}) {
    EXPECT_EQ(to_string(reason), wire);
    const LeftEvent ev{6, 3, 78, "haled", kTs + 1, reason};
    const std::string line = encode_event(ev);
    const json j = json::parse(line);
    EXPECT_EQ(keys_of(j), (std::set<std::string>{"event", "meeting_id", "order_id", "user_id",
                                                 "name", "ts", "reason"}));
    EXPECT_EQ(j.at("event"), "left");
    EXPECT_EQ(j.at("reason"), wire);
    const auto back = std::get<LeftEvent>(decode_event(line));
    EXPECT_EQ(
        std::tie(back.meeting_id, back.order_id, back.user_id, back.name, back.ts, back.reason),
        std::tie(ev.meeting_id, ev.order_id, ev.user_id, ev.name, ev.ts, ev.reason));
  }
}

TEST(EncodeEvent, MeetingStartedRoundTripAndWireShape) {
  const MeetingStartedEvent ev{7, 4, "Seminar \u00e9", kTs, kTs + 3'600'000};
  const std::string line = encode_event(ev);
  const json j = json::parse(line);
  EXPECT_EQ(keys_of(j),
            (std::set<std::string>{"event", "meeting_id", "order_id", "title", "from", "to"}));
  EXPECT_EQ(j.at("event"), "meeting_started");
  EXPECT_EQ(j.at("to"), "2026-11-23T08:33:08.123Z");
  const auto back = std::get<MeetingStartedEvent>(decode_event(line));
  EXPECT_EQ(std::tie(back.meeting_id, back.order_id, back.title, back.from, back.to),
            std::tie(ev.meeting_id, ev.order_id, ev.title, ev.from, ev.to));
}

TEST(EncodeEvent, MeetingEndedRoundTripAndWireShape) {
  const MeetingEndedEvent ev{8, 5, kTs};
  const std::string line = encode_event(ev);
  const json j = json::parse(line);
  EXPECT_EQ(keys_of(j), (std::set<std::string>{"event", "meeting_id", "order_id", "ts"}));
  EXPECT_EQ(j.at("event"), "meeting_ended");
  const auto back = std::get<MeetingEndedEvent>(decode_event(line));
  EXPECT_EQ(std::tie(back.meeting_id, back.order_id, back.ts),
            std::tie(ev.meeting_id, ev.order_id, ev.ts));
}

TEST(EncodeEvent, EventsCarryNoId) {
  for (const Event& ev : std::vector<Event>{MessageEvent{}, JoinedEvent{}, LeftEvent{},
                                            MeetingStartedEvent{}, MeetingEndedEvent{}}) {
    const json j = json::parse(encode_event(ev));
    EXPECT_FALSE(j.contains("id")) << j.dump();
    EXPECT_FALSE(j.contains("ok")) << j.dump();
  }
}

TEST(EncodeEvent, LargeIdsSurvive) {
  constexpr std::int64_t big = std::numeric_limits<std::int64_t>::max();
  const auto back =
      std::get<JoinedEvent>(decode_event(encode_event(JoinedEvent{big, big, big, "x", kTs})));
  EXPECT_EQ(back.meeting_id, big);
  EXPECT_EQ(back.order_id, big);
  EXPECT_EQ(back.user_id, big);
}

TEST(EncodeOk, ShapeAndRoundTrip) {
  const json result{
      {"proto", 1}, {"server", "chatd"}, {"node", "node-1"}, {"time", "2026-11-23T07:33:08.123Z"}};
  const std::string line = encode_ok(42, result);
  const json j = json::parse(line);
  EXPECT_EQ(keys_of(j), (std::set<std::string>{"id", "ok", "result"}));
  EXPECT_EQ(j.at("ok"), true);
  const auto frame = decode_server_frame(strip(line));
  ASSERT_TRUE(frame.has_value());
  const auto& r = std::get<Response>(*frame);
  EXPECT_TRUE(r.ok);
  EXPECT_EQ(r.id, 42);
  EXPECT_FALSE(r.id_null);
  EXPECT_EQ(r.result, result);
}

TEST(EncodeOk, EmptyResultAndMaxId) {
  const auto frame = decode_server_frame(strip(encode_ok(kMaxRequestId, json::object())));
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(std::get<Response>(*frame).id, kMaxRequestId);
  EXPECT_EQ(std::get<Response>(*frame).result, json::object());
}

TEST(DecodeServerFrame, UnknownEventIsIgnoredForForwardCompatibility) {
  const auto with_instance =
      decode_server_frame(R"({"event":"typing","meeting_id":1,"order_id":1,"user_id":2})");
  EXPECT_FALSE(with_instance.has_value());
}

TEST(DecodeServerFrame, UnknownEventWithoutInstanceFieldsIsIgnoredToo) {
  // "unknown events are reported as nullopt so that newer servers stay compatible": a future
  // event need not be about a meeting instance at all.
  std::optional<ServerFrame> frame;
  EXPECT_NO_THROW(frame = decode_server_frame(R"({"event":"server_shutdown","in_ms":500})"));
  EXPECT_FALSE(frame.has_value());
}

TEST(DecodeServerFrame, MalformedFramesThrowProtocolError) {
  for (
      const char* bad : {
          "",
          "not json",
          "[]",
          "42",
          "null",
          R"({"ok":true,"result":{}})",                      // no id
          R"({"id":1,"result":{}})",                         // no ok
          R"({"id":"1","ok":true,"result":{}})",             // id not an integer
          R"({"id":1,"ok":true})",                           // ok without result
          R"({"id":1,"ok":false})",                          // error without error
          R"({"id":1,"ok":false,"error":{"message":"x"}})",  // error without code
          R"({"event":"joined","meeting_id":1,"order_id":1,"user_id":2,"name":"a"})",  // no ts
          R"({"event":"joined","meeting_id":1,"order_id":1,"user_id":2,"name":"a","ts":"yesterday"})",
          R"({"event":"left","meeting_id":1,"order_id":1,"user_id":2,"name":"a","ts":"2026-11-23T07:33:08.123Z","reason":"bored"})",
          R"({"event":"message","meeting_id":1,"order_id":1,"message_id":"m","user_id":2,"name":"a","ts":"2026-11-23T07:33:08.123Z"})",  // no text
          R"({"event":"meeting_ended","meeting_id":"1","order_id":1,"ts":"2026-11-23T07:33:08.123Z"})",
          R"({"event":5})",
      }) {
    SCOPED_TRACE(bad);
    try {
      (void)decode_server_frame(bad);
      ADD_FAILURE() << "no exception";
    } catch (const ProtocolError& e) {
      EXPECT_EQ(e.code(), ErrorCode::bad_request);
    } catch (const std::exception& e) {
      ADD_FAILURE() << "wrong exception type: " << e.what();
    }
  }
}

TEST(DecodeServerFrame, UnknownErrorCodeBecomesInternal) {
  const auto frame =
      decode_server_frame(R"({"id":3,"ok":false,"error":{"code":"teapot","message":"m"}})");
  ASSERT_TRUE(frame.has_value());
  EXPECT_EQ(std::get<Response>(*frame).code, ErrorCode::internal);
}

// ---- records ------------------------------------------------------------------------------------

template <class T>
T round_trip(const T& value, std::set<std::string> expected_keys) {
  const json j = value;
  EXPECT_EQ(keys_of(j), expected_keys) << j.dump();
  // Through text, as on the wire.
  return json::parse(j.dump()).get<T>();
}

TEST(Records, UserInfoWithAndWithoutOptionalFields) {
  const std::set<std::string> keys{"user_id", "name", "email", "age", "gender"};
  const UserInfo full{3, "john", "john@example.com", 42, "m"};
  const auto a = round_trip(full, keys);
  EXPECT_EQ(std::tie(a.user_id, a.name, a.email, a.age, a.gender),
            std::tie(full.user_id, full.name, full.email, full.age, full.gender));
  const UserInfo bare{4, "x", "x@y", std::nullopt, std::nullopt};
  const json j = bare;
  EXPECT_TRUE(j.at("age").is_null()) << "null, not omitted";
  EXPECT_TRUE(j.at("gender").is_null());
  const auto b = round_trip(bare, keys);
  EXPECT_EQ(b.age, std::nullopt);
  EXPECT_EQ(b.gender, std::nullopt);
}

TEST(Records, MeetingSummary) {
  const MeetingSummary m{1, 2, "DSA Course", std::nullopt, false, kTs, kTs + 60'000, 3};
  const json j = m;
  EXPECT_TRUE(j.at("description").is_null());
  EXPECT_EQ(j.at("from"), "2026-11-23T07:33:08.123Z");
  EXPECT_TRUE(j.at("is_public").is_boolean());
  const auto b = round_trip(m, {"meeting_id", "order_id", "title", "description", "is_public",
                                "from", "to", "participant_count"});
  EXPECT_EQ(std::tie(b.meeting_id, b.order_id, b.title, b.description, b.is_public, b.from, b.to,
                     b.participant_count),
            std::tie(m.meeting_id, m.order_id, m.title, m.description, m.is_public, m.from, m.to,
                     m.participant_count));
  const MeetingSummary d{1, 2, "t", "desc", true, kTs, kTs + 1, 0};
  EXPECT_EQ(round_trip(d, keys_of(json(d))).description, std::optional<std::string>("desc"));
}

TEST(Records, Participant) {
  const Participant p{UserInfo{5, "hamid", "hamid@x", std::nullopt, "f"}, kTs};
  const auto b = round_trip(p, {"user_id", "name", "email", "age", "gender", "joined_at"});
  EXPECT_EQ(b.user.user_id, 5);
  EXPECT_EQ(b.user.gender, std::optional<std::string>("f"));
  EXPECT_EQ(b.joined_at, kTs);
}

TEST(Records, ChatMessage) {
  const ChatMessage m{"id-1", 6, "haled", "text \u3000", kTs};
  const auto b = round_trip(m, {"message_id", "user_id", "name", "text", "ts"});
  EXPECT_EQ(std::tie(b.message_id, b.user_id, b.name, b.text, b.ts),
            std::tie(m.message_id, m.user_id, m.name, m.text, m.ts));
}

TEST(Records, JoinTimes) {
  const MeetingJoinTimes m{9, 1, "Seminar", {JoinTime{1, "a", kTs}, JoinTime{2, "b", kTs + 5}}};
  const auto b = round_trip(m, {"meeting_id", "order_id", "title", "participants"});
  ASSERT_EQ(b.participants.size(), 2u);
  EXPECT_EQ(b.participants[1].user_id, 2);
  EXPECT_EQ(b.participants[1].joined_at, kTs + 5);
  EXPECT_EQ(keys_of(json(m).at("participants").at(0)),
            (std::set<std::string>{"user_id", "name", "joined_at"}));
  const MeetingJoinTimes empty{9, 1, "Seminar", {}};
  EXPECT_TRUE(json(empty).at("participants").is_array());
}

TEST(Records, NodeInfo) {
  const NodeInfo n{"node-1", "127.0.0.1:17390", 12};
  const auto b = round_trip(n, {"node", "address", "clients"});
  EXPECT_EQ(std::tie(b.node, b.address, b.clients), std::tie(n.node, n.address, n.clients));
}

TEST(Records, BadTimestampInRecordIsRejected) {
  const json j{
      {"message_id", "m"}, {"user_id", 1}, {"name", "n"}, {"text", "t"}, {"ts", "2026-11-23"}};
  EXPECT_THROW((void)j.get<ChatMessage>(), ProtocolError);
}

}  // namespace
}  // namespace chat::protocol
