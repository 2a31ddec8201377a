// decode_request / encode_request: requests, ids, field types and limits of PROTOCOL.md.
#include <gtest/gtest.h>

#include <nlohmann/json.hpp>
#include <string>
#include <tuple>
#include <vector>

#include "chat/protocol/codec.hpp"

namespace chat::protocol {
namespace {

using nlohmann::json;

// ---- helpers ---------------------------------------------------------------------------------

// Decodes a line that must be a valid request; fails the test (and returns a default) otherwise.
Request decode_ok(std::string_view line) {
  auto decoded = decode_request(line);
  if (const auto* f = std::get_if<DecodeFailure>(&decoded)) {
    ADD_FAILURE() << "expected a request, got failure '" << f->message
                  << "' for: " << std::string(line.substr(0, 300));
    return Request{};
  }
  return std::get<Request>(std::move(decoded));
}

// Decodes a line that must fail; returns the failure (or a sentinel that fails the caller).
DecodeFailure decode_fail(std::string_view line) {
  auto decoded = decode_request(line);
  if (std::holds_alternative<Request>(decoded)) {
    ADD_FAILURE() << "expected a decode failure for: " << std::string(line.substr(0, 300));
    return DecodeFailure{std::int64_t{-999}, ErrorCode::internal, "unexpected success"};
  }
  return std::get<DecodeFailure>(std::move(decoded));
}

// The failure must be bad_request with the given id (nullopt = "id": null).
void expect_bad_request(std::string_view line, std::optional<std::int64_t> id) {
  const DecodeFailure f = decode_fail(line);
  EXPECT_EQ(f.code, ErrorCode::bad_request) << std::string(line.substr(0, 200));
  EXPECT_EQ(f.id, id) << std::string(line.substr(0, 200));
  EXPECT_FALSE(f.message.empty()) << "a failure carries a human message";
}

template <class T>
const T& body_as(const Request& r) {
  static const T empty{};
  const T* p = std::get_if<T>(&r.body);
  if (!p) {
    ADD_FAILURE() << "request body holds op '" << op_name(r.body) << "'";
    return empty;
  }
  return *p;
}

std::string frame(const json& j) {
  return j.dump();
}

// Field-wise views used to compare decoded requests with the originals.
auto view(const InstanceRef& v) {
  return std::tie(v.meeting_id, v.order_id);
}
auto view(const Page& v) {
  return std::tie(v.after, v.before, v.limit);
}

bool same_body(const RequestBody& a, const RequestBody& b) {
  if (a.index() != b.index()) return false;
  return std::visit(
      [&](const auto& x) -> bool {
        using T = std::decay_t<decltype(x)>;
        const T& y = std::get<T>(b);
        if constexpr (std::is_same_v<T, HelloRequest>) return x.client == y.client;
        if constexpr (std::is_same_v<T, LoginRequest>)
          return x.user == y.user && x.password == y.password;
        if constexpr (std::is_same_v<T, JoinRequest> || std::is_same_v<T, LeaveRequest> ||
                      std::is_same_v<T, ParticipantsRequest>)
          return view(x.instance) == view(y.instance);
        if constexpr (std::is_same_v<T, PostRequest>)
          return view(x.instance) == view(y.instance) && x.text == y.text;
        if constexpr (std::is_same_v<T, MessagesRequest>)
          return view(x.instance) == view(y.instance) && view(x.page) == view(y.page);
        if constexpr (std::is_same_v<T, UserMessagesRequest>)
          return view(x.instance) == view(y.instance) && x.user_id == y.user_id &&
                 view(x.page) == view(y.page);
        return true;  // ops without parameters
      },
      a);
}

constexpr std::int64_t kMaxInt64 = std::numeric_limits<std::int64_t>::max();

// ---- malformed frames ------------------------------------------------------------------------

TEST(DecodeRequest, BadJsonGivesNullId) {
  for (const char* line :
       {"", "{", "}", "not json", "{'id':1,'op':'ping'}", R"({"id":1,"op":"ping",})",
        R"({"id":1 "op":"ping"})", R"({"id":1,"op":"ping"}})",
        R"({"id":1,"op":"ping"} {"id":2,"op":"ping"})", R"({"id":01,"op":"ping"})",
        R"({"id":1,"op":"pi)", R"({"id":NaN,"op":"ping"})", "\x01",
        R"({"id":1,"op":"ping"} // comment)", R"({"id":+1,"op":"ping"})"}) {
    SCOPED_TRACE(line);
    expect_bad_request(line, std::nullopt);
  }
}

TEST(DecodeRequest, NotAnObjectGivesNullId) {
  for (const char* line :
       {"[]", R"([{"id":1,"op":"ping"}])", "42", "-1.5", R"("ping")", "null", "true", "false"}) {
    SCOPED_TRACE(line);
    expect_bad_request(line, std::nullopt);
  }
}

TEST(DecodeRequest, NonUtf8InsideStrings) {
  for (const std::string& bad :
       {std::string("\xff"), std::string("\xc3"), std::string("\xc0\xaf"),
        std::string("\xe0\x80\xaf"), std::string("\xed\xa0\x80"), std::string("\xed\xbf\xbf"),
        std::string("\xf4\x90\x80\x80"), std::string("caf\xe9")}) {
    const std::string line = R"({"id":5,"op":"login","user":")" + bad + R"(","password":"pw"})";
    SCOPED_TRACE(line);
    expect_bad_request(line, std::nullopt);
  }
}

TEST(DecodeRequest, NonUtf8OutsideStrings) {
  for (const std::string& line : {std::string("{\"id\":5,\"op\":\"ping\"}\xff"),
                                  std::string("\xef\xbb\xbf{\"id\":5,\"op\":\"ping\"}\xc0"),
                                  std::string("{\"id\":5,\xc0\x80\"op\":\"ping\"}"),
                                  std::string("\xed\xa0\x80{\"id\":5,\"op\":\"ping\"}"),
                                  std::string("{\"id\":5,\"op\":\"ping\"}\xf8\x88\x80\x80\x80")}) {
    SCOPED_TRACE(line);
    expect_bad_request(line, std::nullopt);
  }
}

TEST(DecodeRequest, NonUtf8InAKeyAndInAnIgnoredField) {
  expect_bad_request("{\"id\":5,\"op\":\"ping\",\"\xff\":1}", std::nullopt);
  expect_bad_request("{\"id\":5,\"op\":\"ping\",\"extra\":\"\xed\xb0\x80\"}", std::nullopt);
}

TEST(DecodeRequest, EscapedLoneSurrogateIsRejected) {
  expect_bad_request(R"({"id":5,"op":"login","user":"\ud800","password":"pw"})", std::nullopt);
  expect_bad_request(R"({"id":5,"op":"login","user":"\udc00x","password":"pw"})", std::nullopt);
}

TEST(DecodeRequest, EscapedSurrogatePairIsFine) {
  const Request r = decode_ok(R"({"id":5,"op":"login","user":"a\ud83d\ude00","password":"pw"})");
  EXPECT_EQ(body_as<LoginRequest>(r).user, "a\U0001F600");
}

TEST(DecodeRequest, DeeplyNestedArraysDoNotCrash) {
  expect_bad_request(std::string(30000, '['), std::nullopt);
  expect_bad_request(std::string(30000, '[') + std::string(30000, ']'), std::nullopt);
  expect_bad_request(std::string(100000, '{'), std::nullopt);
}

TEST(DecodeRequest, DeeplyNestedIgnoredFieldDoesNotCrash) {
  const std::string deep = std::string(30000, '[') + std::string(30000, ']');
  const Request r = decode_ok(R"({"id":3,"op":"ping","extra":)" + deep + "}");
  EXPECT_EQ(r.id, 3);
  std::string objects;
  for (int i = 0; i < 20000; ++i) objects += R"({"a":)";
  objects += "1" + std::string(20000, '}');
  EXPECT_EQ(decode_ok(R"({"id":4,"op":"ping","extra":)" + objects + "}").id, 4);
}

TEST(DecodeRequest, DeeplyNestedWithValidIdButUnclosedIsNullId) {
  expect_bad_request(R"({"id":3,"op":"ping","x":)" + std::string(30000, '['), std::nullopt);
}

// ---- ids ----------------------------------------------------------------------------------------

TEST(DecodeRequest, ValidIds) {
  EXPECT_EQ(decode_ok(R"({"id":0,"op":"ping"})").id, 0);
  EXPECT_EQ(decode_ok(R"({"id":1,"op":"ping"})").id, 1);
  EXPECT_EQ(decode_ok(R"({"op":"ping","id":42})").id, 42) << "field order does not matter";
  EXPECT_EQ(decode_ok(R"({"id":9007199254740991,"op":"ping"})").id, kMaxRequestId);
  EXPECT_EQ(kMaxRequestId, 9007199254740991);
}

TEST(DecodeRequest, InvalidIdsGiveNullId) {
  for (const char* id : {"-1",
                         "-9007199254740991",
                         "9007199254740992",
                         "9223372036854775807",
                         "9223372036854775808",
                         "18446744073709551615",
                         "18446744073709551616",
                         "1e400",
                         "1.0",
                         "1.5",
                         "1e3",
                         "1E0",
                         "0.0",
                         "-0.0",
                         R"("1")",
                         R"("abc")",
                         "true",
                         "false",
                         "null",
                         "[]",
                         "[1]",
                         "{}"}) {
    SCOPED_TRACE(id);
    expect_bad_request(std::string(R"({"op":"ping","id":)") + id + "}", std::nullopt);
  }
}

TEST(DecodeRequest, MissingIdGivesNullIdEvenWithValidOp) {
  expect_bad_request(R"({"op":"ping"})", std::nullopt);
  expect_bad_request(R"({"op":"hello","client":"x"})", std::nullopt);
  expect_bad_request(R"({})", std::nullopt);
}

TEST(DecodeRequest, UnknownOpEchoesId) {
  expect_bad_request(R"({"id":7,"op":"dance"})", 7);
  expect_bad_request(R"({"id":8,"op":"PING"})", 8);
  expect_bad_request(R"({"id":9,"op":""})", 9);
  expect_bad_request(R"({"id":10,"op":"ping "})", 10);
  expect_bad_request(R"({"id":11,"op":"rate_limited"})", 11);
}

TEST(DecodeRequest, MissingOrIllTypedOpEchoesId) {
  expect_bad_request(R"({"id":7})", 7);
  expect_bad_request(R"({"id":7,"op":null})", 7);
  expect_bad_request(R"({"id":7,"op":1})", 7);
  expect_bad_request(R"({"id":7,"op":["ping"]})", 7);
  expect_bad_request(R"({"id":7,"op":{"name":"ping"}})", 7);
}

TEST(DecodeRequest, UnknownExtraFieldsAreIgnored) {
  const Request r =
      decode_ok(R"({"id":1,"op":"join","meeting_id":4,"x":[1,{"y":null}],"z":"\u3000"})");
  EXPECT_EQ(body_as<JoinRequest>(r).instance.meeting_id, 4);
  EXPECT_EQ(body_as<JoinRequest>(r).instance.order_id, std::nullopt);
  // An ignored field with a "wrong" type is still ignored.
  EXPECT_EQ(decode_ok(R"({"id":2,"op":"ping","meeting_id":"nope","text":5})").id, 2);
}

// ---- every field of every op with wrong types ---------------------------------------------------

struct FieldCase {
  const char* op;
  json valid;                    // a valid parameter set (id and op added)
  const char* field;             // field to break
  std::vector<json> bad_values;  // each must give bad_request with the id echoed
  bool required;                 // removing the field must give bad_request as well
};

// Ill-typed values for integer id fields (meeting_id, order_id, user_id).
std::vector<json> bad_ids() {
  return {json("1"),
          json(1.5),
          json(1.0),
          json(0),
          json(-1),
          json(-9223372036854775807LL - 1),
          json::parse("9223372036854775808"),
          json::parse("18446744073709551616"),
          json::parse("1e3"),
          json(nullptr),
          json(true),
          json::array({1}),
          json::object()};
}
std::vector<json> bad_strings() {
  return {json(1), json(1.5), json(true), json(nullptr), json::array({"x"}), json::object()};
}
std::vector<json> bad_limits() {
  return {json("5"),   json(0),       json(1001), json(-1),           json(1.5),
          json(100.0), json(nullptr), json(true), json::parse("1e2"), json::array({5})};
}

std::vector<FieldCase> field_cases() {
  const json inst = {{"meeting_id", 3}, {"order_id", 2}};
  auto with = [](json j, const json& extra) {
    j.update(extra);
    return j;
  };
  std::vector<FieldCase> cases = {
      {"hello", {{"client", "tui"}}, "client", bad_strings(), false},
      {"login", {{"user", "u"}, {"password", "p"}}, "user", bad_strings(), true},
      {"login", {{"user", "u"}, {"password", "p"}}, "password", bad_strings(), true},
  };
  for (const char* op : {"join", "leave", "participants"}) {
    cases.push_back({op, inst, "meeting_id", bad_ids(), true});
    cases.push_back({op, inst, "order_id", bad_ids(), false});
  }
  const json post = with(inst, {{"text", "hi"}});
  cases.push_back({"post", post, "meeting_id", bad_ids(), true});
  cases.push_back({"post", post, "order_id", bad_ids(), false});
  cases.push_back({"post", post, "text", bad_strings(), true});
  const json msgs = with(inst, {{"after", "m1"}, {"limit", 5}});
  const json msgs_before = with(inst, {{"before", "m1"}});
  const json umsgs = with(msgs, {{"user_id", 9}});
  for (const auto& [op, base, base_before] :
       {std::tuple{"messages", msgs, msgs_before},
        std::tuple{"user_messages", umsgs, with(msgs_before, {{"user_id", 9}})}}) {
    cases.push_back({op, base, "meeting_id", bad_ids(), true});
    cases.push_back({op, base, "order_id", bad_ids(), false});
    cases.push_back({op, base, "after", bad_strings(), false});
    cases.push_back({op, base_before, "before", bad_strings(), false});
    cases.push_back({op, base, "limit", bad_limits(), false});
  }
  cases.push_back({"user_messages", umsgs, "user_id", bad_ids(), true});
  return cases;
}

TEST(DecodeRequest, EveryFieldOfEveryOpRejectsWrongTypes) {
  std::int64_t id = 100;
  for (const auto& c : field_cases()) {
    json base = c.valid;
    base["op"] = c.op;
    base["id"] = ++id;
    {
      SCOPED_TRACE(std::string("valid ") + base.dump());
      (void)decode_ok(frame(base));
    }
    for (const auto& v : c.bad_values) {
      json j = base;
      j["id"] = ++id;
      j[c.field] = v;
      SCOPED_TRACE(j.dump());
      expect_bad_request(frame(j), id);
    }
    if (c.required) {
      json j = base;
      j["id"] = ++id;
      j.erase(c.field);
      SCOPED_TRACE(std::string("missing: ") + j.dump());
      expect_bad_request(frame(j), id);
    } else {
      json j = base;
      j["id"] = ++id;
      j.erase(c.field);
      SCOPED_TRACE(std::string("optional omitted: ") + j.dump());
      (void)decode_ok(frame(j));
    }
  }
}

// ---- integer ranges -----------------------------------------------------------------------------

TEST(DecodeRequest, MeetingIdRange) {
  EXPECT_EQ(
      body_as<JoinRequest>(decode_ok(R"({"id":1,"op":"join","meeting_id":1})")).instance.meeting_id,
      1);
  EXPECT_EQ(
      body_as<JoinRequest>(decode_ok(R"({"id":1,"op":"join","meeting_id":9223372036854775807})"))
          .instance.meeting_id,
      kMaxInt64);
  expect_bad_request(R"({"id":2,"op":"join","meeting_id":0})", 2);
  expect_bad_request(R"({"id":3,"op":"join","meeting_id":-4})", 3);
  expect_bad_request(R"({"id":4,"op":"join","meeting_id":9223372036854775808})", 4);
  expect_bad_request(R"({"id":5,"op":"join","meeting_id":1.5})", 5);
  expect_bad_request(R"({"id":6,"op":"join","meeting_id":2.0})", 6);
  expect_bad_request(R"({"id":7,"op":"join","meeting_id":2e0})", 7);
}

TEST(DecodeRequest, OrderIdRange) {
  const auto r =
      decode_ok(R"({"id":1,"op":"leave","meeting_id":5,"order_id":9223372036854775807})");
  EXPECT_EQ(body_as<LeaveRequest>(r).instance.order_id, std::optional<std::int64_t>(kMaxInt64));
  expect_bad_request(R"({"id":2,"op":"leave","meeting_id":5,"order_id":0})", 2);
  expect_bad_request(R"({"id":3,"op":"leave","meeting_id":5,"order_id":-1})", 3);
  expect_bad_request(R"({"id":4,"op":"leave","meeting_id":5,"order_id":9223372036854775808})", 4);
}

// ---- text
// -----------------------------------------------------------------------------------------

std::string post_line(std::int64_t id, const std::string& text) {
  return frame(json{{"id", id}, {"op", "post"}, {"meeting_id", 1}, {"text", text}});
}

TEST(DecodeRequest, PostTextEmptyOrOnlyWhitespaceIsBad) {
  for (const std::string& text :
       {std::string(""), std::string(" "), std::string("\t\n"), std::string("\u3000"),
        std::string("\u00a0"), std::string("\u3000\u00a0 \u2003\r\n\u2028"),
        std::string(4096, ' ')}) {
    SCOPED_TRACE(json(text).dump());
    expect_bad_request(post_line(11, text), 11);
  }
  // The same written with JSON escapes: the rule applies to the decoded text.
  expect_bad_request(R"({"id":12,"op":"post","meeting_id":1,"text":"\u3000\u00a0"})", 12);
}

TEST(DecodeRequest, PostTextWithSurroundingWhitespaceIsKeptVerbatim) {
  const std::string text = "\u3000 hi \u00a0";
  EXPECT_EQ(body_as<PostRequest>(decode_ok(post_line(1, text))).text, text);
  EXPECT_EQ(body_as<PostRequest>(decode_ok(post_line(1, "\u200b"))).text, "\u200b")
      << "zero width space is not White_Space";
}

TEST(DecodeRequest, PostTextLimitIsInUtf8Bytes) {
  const std::string ascii_4096(4096, 'a');
  EXPECT_EQ(body_as<PostRequest>(decode_ok(post_line(1, ascii_4096))).text, ascii_4096);
  expect_bad_request(post_line(2, ascii_4096 + "a"), 2);

  std::string euro_4096;  // 1365 three-byte characters + 1 byte = 4096 bytes, 1366 characters
  for (int i = 0; i < 1365; ++i) euro_4096 += "\u20ac";
  euro_4096 += "!";
  ASSERT_EQ(euro_4096.size(), 4096u);
  EXPECT_EQ(body_as<PostRequest>(decode_ok(post_line(3, euro_4096))).text, euro_4096);

  std::string e_4097 = std::string(4095, 'a') + "\u00e9";  // 4097 bytes, 4096 characters
  ASSERT_EQ(e_4097.size(), 4097u);
  expect_bad_request(post_line(4, e_4097), 4);

  std::string emoji_4096;  // 1024 four-byte characters
  for (int i = 0; i < 1024; ++i) emoji_4096 += "\U0001F600";
  EXPECT_EQ(body_as<PostRequest>(decode_ok(post_line(5, emoji_4096))).text.size(), 4096u);
  expect_bad_request(post_line(6, emoji_4096 + "x"), 6);
}

TEST(DecodeRequest, PostTextLimitCountsDecodedNotEscapedBytes) {
  // 2048 quotes: 4096 bytes escaped on the wire, 2048 bytes of text.
  const std::string quotes(2048, '"');
  EXPECT_EQ(body_as<PostRequest>(decode_ok(post_line(1, quotes))).text, quotes);
  // 4096 "\u0041" escapes: 24 576 bytes on the wire, 4096 bytes of text.
  std::string escaped = R"({"id":2,"op":"post","meeting_id":1,"text":")";
  for (int i = 0; i < 4096; ++i) escaped += "\\u0041";
  EXPECT_EQ(body_as<PostRequest>(decode_ok(escaped + "\"}")).text, std::string(4096, 'A'));
  // 4097 escaped characters are too many.
  std::string too_many = R"({"id":3,"op":"post","meeting_id":1,"text":")";
  for (int i = 0; i < 4097; ++i) too_many += "\\u0041";
  expect_bad_request(too_many + "\"}", 3);
}

// ---- paging -------------------------------------------------------------------------------------

std::string messages_line(std::int64_t id, const json& extra) {
  json j{{"id", id}, {"op", "messages"}, {"meeting_id", 1}};
  j.update(extra);
  return frame(j);
}

TEST(DecodeRequest, LimitRangeAndDefault) {
  EXPECT_EQ(body_as<MessagesRequest>(decode_ok(messages_line(1, json::object()))).page.limit, 100);
  EXPECT_EQ(body_as<MessagesRequest>(decode_ok(messages_line(1, {{"limit", 1}}))).page.limit, 1);
  EXPECT_EQ(body_as<MessagesRequest>(decode_ok(messages_line(1, {{"limit", 1000}}))).page.limit,
            1000);
  EXPECT_EQ(body_as<MessagesRequest>(decode_ok(messages_line(1, {{"limit", 100}}))).page.limit,
            100);
  expect_bad_request(messages_line(2, {{"limit", 0}}), 2);
  expect_bad_request(messages_line(3, {{"limit", 1001}}), 3);
  expect_bad_request(messages_line(4, {{"limit", "5"}}), 4);
  expect_bad_request(messages_line(5, {{"limit", 5.0}}), 5);
}

TEST(DecodeRequest, AfterOrBeforeButNotBoth) {
  const auto after = body_as<MessagesRequest>(decode_ok(messages_line(1, {{"after", "m-1"}}))).page;
  EXPECT_EQ(after.after, std::optional<std::string>("m-1"));
  EXPECT_EQ(after.before, std::nullopt);
  const auto before =
      body_as<MessagesRequest>(decode_ok(messages_line(1, {{"before", "m-2"}}))).page;
  EXPECT_EQ(before.before, std::optional<std::string>("m-2"));
  EXPECT_EQ(before.after, std::nullopt);
  expect_bad_request(messages_line(6, {{"after", "a"}, {"before", "b"}}), 6);
  expect_bad_request(frame(json{{"id", 7},
                                {"op", "user_messages"},
                                {"meeting_id", 1},
                                {"user_id", 2},
                                {"after", "a"},
                                {"before", "b"}}),
                     7);
}

TEST(DecodeRequest, UserMessagesUserId) {
  const auto r = decode_ok(R"({"id":1,"op":"user_messages","meeting_id":2,"user_id":3,"limit":7})");
  const auto& b = body_as<UserMessagesRequest>(r);
  EXPECT_EQ(b.user_id, 3);
  EXPECT_EQ(b.instance.meeting_id, 2);
  EXPECT_EQ(b.page.limit, 7);
  expect_bad_request(R"({"id":2,"op":"user_messages","meeting_id":2})", 2);
  expect_bad_request(R"({"id":3,"op":"user_messages","meeting_id":2,"user_id":0})", 3);
}

// ---- round trips
// ----------------------------------------------------------------------------------

std::vector<Request> every_op() {
  const InstanceRef active{11, std::nullopt};
  const InstanceRef explicit_order{12, 34};
  const InstanceRef huge{kMaxInt64, kMaxInt64};
  return {
      {0, HelloRequest{}},
      {1, HelloRequest{"chat-tui/0.1 \u00e9"}},
      {2, PingRequest{}},
      {3, LoginRequest{"John.Doe@Example.COM", "p\"w\\ \u3000 \n"}},
      {4, ActiveMeetingsRequest{}},
      {5, JoinRequest{active}},
      {6, JoinRequest{explicit_order}},
      {7, LeaveRequest{active}},
      {8, LeaveRequest{huge}},
      {9, ParticipantsRequest{explicit_order}},
      {10, PostRequest{active, "hello \U0001F600 \"quoted\"\n second line"}},
      {11, PostRequest{explicit_order, std::string(4096, 'x')}},
      {12, MessagesRequest{active, Page{}}},
      {13, MessagesRequest{explicit_order, Page{"0000000000001-0000", std::nullopt, 1}}},
      {14, MessagesRequest{explicit_order, Page{std::nullopt, "zz", 1000}}},
      {15, UserMessagesRequest{active, 77, Page{}}},
      {16, UserMessagesRequest{huge, kMaxInt64, Page{std::nullopt, "b", 3}}},
      {17, JoinTimesRequest{}},
      {kMaxRequestId, NodesRequest{}},
  };
}

TEST(EncodeRequest, RoundTripEveryOp) {
  for (const Request& original : every_op()) {
    const std::string line = encode_request(original);
    SCOPED_TRACE(line);
    ASSERT_FALSE(line.empty());
    EXPECT_EQ(line.back(), '\n');
    EXPECT_EQ(line.find('\n'), line.size() - 1) << "exactly one line";
    const Request decoded = decode_ok(std::string_view(line).substr(0, line.size() - 1));
    EXPECT_EQ(decoded.id, original.id);
    EXPECT_TRUE(same_body(decoded.body, original.body));
    EXPECT_EQ(encode_request(decoded), line) << "encoding is deterministic";
  }
}

TEST(EncodeRequest, WireNamesOfOps) {
  const std::vector<std::string> expected = {
      "hello",         "hello",         "ping",       "login",    "active_meetings",
      "join",          "join",          "leave",      "leave",    "participants",
      "post",          "post",          "messages",   "messages", "messages",
      "user_messages", "user_messages", "join_times", "nodes"};
  const auto ops = every_op();
  ASSERT_EQ(ops.size(), expected.size());
  for (std::size_t i = 0; i < ops.size(); ++i) {
    EXPECT_EQ(op_name(ops[i].body), expected[i]);
    const json j = json::parse(encode_request(ops[i]));
    EXPECT_EQ(j.at("op"), expected[i]);
    EXPECT_EQ(j.at("id").get<std::int64_t>(), ops[i].id);
  }
}

TEST(EncodeRequest, OmittedOptionalsAreNotWritten) {
  const json join = json::parse(encode_request({1, JoinRequest{{5, std::nullopt}}}));
  EXPECT_FALSE(join.contains("order_id"));
  const json hello = json::parse(encode_request({1, HelloRequest{}}));
  EXPECT_FALSE(hello.contains("client"));
  const json msgs = json::parse(encode_request({1, MessagesRequest{{5, 6}, Page{}}}));
  EXPECT_FALSE(msgs.contains("after"));
  EXPECT_FALSE(msgs.contains("before"));
  EXPECT_EQ(msgs.value("limit", 100), 100);
  EXPECT_EQ(msgs.at("order_id"), 6);
}

TEST(EncodeRequest, CrLfTerminatedLineDecodesTheSame) {
  // A client may end lines with \r\n; FrameSplitter strips it, so the decoder sees the same text.
  const std::string line = encode_request({9, PingRequest{}});
  EXPECT_EQ(decode_ok(std::string_view(line).substr(0, line.size() - 1)).id, 9);
}

}  // namespace
}  // namespace chat::protocol
