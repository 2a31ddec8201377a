#include "chat/protocol/codec.hpp"

#include <array>
#include <charconv>
#include <limits>

#include "chat/protocol/text.hpp"

namespace chat::protocol {
namespace {

using nlohmann::json;

[[noreturn]] void bad(const std::string& message) {
  throw ProtocolError(ErrorCode::bad_request, message);
}

// A JSON integer in [lo, hi], written without fraction or exponent (nlohmann keeps those
// as floats, so is_number_integer() rejects them).
std::optional<std::int64_t> as_integer(const json& v, std::int64_t lo, std::int64_t hi) {
  if (v.is_number_unsigned()) {
    const auto u = v.get<std::uint64_t>();
    if (u > static_cast<std::uint64_t>(std::numeric_limits<std::int64_t>::max())) return {};
    const auto i = static_cast<std::int64_t>(u);
    if (i < lo || i > hi) return {};
    return i;
  }
  if (v.is_number_integer()) {
    const auto i = v.get<std::int64_t>();
    if (i < lo || i > hi) return {};
    return i;
  }
  return {};
}

constexpr std::int64_t kMaxId = std::numeric_limits<std::int64_t>::max();

std::int64_t require_id(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) bad(std::string("missing field '") + key + "'");
  const auto v = as_integer(*it, 1, kMaxId);
  if (!v) bad(std::string("'") + key + "' must be an integer from 1 to 2^63-1");
  return *v;
}

std::optional<std::int64_t> optional_id(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  const auto v = as_integer(*it, 1, kMaxId);
  if (!v) bad(std::string("'") + key + "' must be an integer from 1 to 2^63-1");
  return v;
}

std::string require_string(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) bad(std::string("missing field '") + key + "'");
  if (!it->is_string()) bad(std::string("'") + key + "' must be a string");
  return it->get<std::string>();
}

std::optional<std::string> optional_string(const json& obj, const char* key) {
  const auto it = obj.find(key);
  if (it == obj.end()) return std::nullopt;
  if (!it->is_string()) bad(std::string("'") + key + "' must be a string");
  return it->get<std::string>();
}

InstanceRef read_instance(const json& obj) {
  return InstanceRef{require_id(obj, "meeting_id"), optional_id(obj, "order_id")};
}

Page read_page(const json& obj) {
  Page page;
  page.after = optional_string(obj, "after");
  page.before = optional_string(obj, "before");
  if (page.after && page.before) bad("'after' and 'before' cannot be combined");
  if (const auto it = obj.find("limit"); it != obj.end()) {
    const auto v = as_integer(*it, 1, kMaxPageLimit);
    if (!v) bad("'limit' must be an integer from 1 to 1000");
    page.limit = static_cast<int>(*v);
  }
  return page;
}

std::string read_text(const json& obj) {
  std::string text = require_string(obj, "text");
  if (text.empty()) bad("'text' is empty");
  if (text.size() > kMaxTextBytes) bad("'text' is longer than 4096 bytes");
  if (is_only_whitespace(text)) bad("'text' is only whitespace");
  return text;
}

// Op table: name -> decoder. Kept in one place so the op set is visible at a glance.
using Decoder = RequestBody (*)(const json&);
struct OpEntry {
  std::string_view name;
  Decoder decode;
};
const std::array<OpEntry, 12> kOps{{
    {"hello",
     [](const json& o) -> RequestBody { return HelloRequest{optional_string(o, "client")}; }},
    {"ping", [](const json&) -> RequestBody { return PingRequest{}; }},
    {"login",
     [](const json& o) -> RequestBody {
       return LoginRequest{require_string(o, "user"), require_string(o, "password")};
     }},
    {"active_meetings", [](const json&) -> RequestBody { return ActiveMeetingsRequest{}; }},
    {"join", [](const json& o) -> RequestBody { return JoinRequest{read_instance(o)}; }},
    {"leave", [](const json& o) -> RequestBody { return LeaveRequest{read_instance(o)}; }},
    {"participants",
     [](const json& o) -> RequestBody { return ParticipantsRequest{read_instance(o)}; }},
    {"post",
     [](const json& o) -> RequestBody {
       return PostRequest{read_instance(o), read_text(o)};
     }},
    {"messages",
     [](const json& o) -> RequestBody {
       return MessagesRequest{read_instance(o), read_page(o)};
     }},
    {"user_messages",
     [](const json& o) -> RequestBody {
       InstanceRef ref = read_instance(o);
       const auto user_id = require_id(o, "user_id");
       return UserMessagesRequest{ref, user_id, read_page(o)};
     }},
    {"join_times", [](const json&) -> RequestBody { return JoinTimesRequest{}; }},
    {"nodes", [](const json&) -> RequestBody { return NodesRequest{}; }},
}};

void put_instance(json& j, const InstanceRef& ref) {
  j["meeting_id"] = ref.meeting_id;
  if (ref.order_id) j["order_id"] = *ref.order_id;
}

void put_page(json& j, const Page& page) {
  if (page.after) j["after"] = *page.after;
  if (page.before) j["before"] = *page.before;
  if (page.limit != kDefaultPageLimit) j["limit"] = page.limit;
}

json params_of(const RequestBody& body) {
  json j = json::object();
  std::visit(
      [&](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, HelloRequest>) {
          if (r.client) j["client"] = *r.client;
        } else if constexpr (std::is_same_v<T, LoginRequest>) {
          j["user"] = r.user;
          j["password"] = r.password;
        } else if constexpr (std::is_same_v<T, JoinRequest> || std::is_same_v<T, LeaveRequest> ||
                             std::is_same_v<T, ParticipantsRequest>) {
          put_instance(j, r.instance);
        } else if constexpr (std::is_same_v<T, PostRequest>) {
          put_instance(j, r.instance);
          j["text"] = r.text;
        } else if constexpr (std::is_same_v<T, MessagesRequest>) {
          put_instance(j, r.instance);
          put_page(j, r.page);
        } else if constexpr (std::is_same_v<T, UserMessagesRequest>) {
          put_instance(j, r.instance);
          j["user_id"] = r.user_id;
          put_page(j, r.page);
        }
      },
      body);
  return j;
}

std::string line(const json& j) {
  // Invalid UTF-8 cannot reach a frame: replace it rather than throw mid-write.
  std::string out = j.dump(-1, ' ', false, json::error_handler_t::replace);
  out.push_back('\n');
  return out;
}

json optional_json(const auto& v) {
  return v ? json(*v) : json(nullptr);
}

UnixMs time_field(const json& j, const char* key) {
  const auto t = parse_timestamp(j.at(key).get<std::string>());
  if (!t) bad(std::string("'") + key + "' is not an RFC 3339 timestamp");
  return *t;
}

// An integer of a server frame or result record as T (PROTOCOL.md "Types": JSON integers,
// written without fraction or exponent). Not get<T>(): nlohmann converts booleans and
// floats too, and a float out of T's range (1e300) with a cast that is undefined behaviour
// (found by tests/fuzz/server_frame). Such a value is a malformed frame.
template <typename T>
T integer_of(const json& v, const char* key) {
  const auto i = as_integer(v, std::numeric_limits<T>::min(), std::numeric_limits<T>::max());
  if (!i) bad(std::string("'") + key + "' must be an integer");
  return static_cast<T>(*i);
}

std::int64_t int64_field(const json& j, const char* key) {
  return integer_of<std::int64_t>(j.at(key), key);
}

std::optional<LeaveReason> leave_reason_from(std::string_view s) {
  if (s == "leave") return LeaveReason::leave;
  if (s == "timeout") return LeaveReason::timeout;
  if (s == "meeting_ended") return LeaveReason::meeting_ended;
  return std::nullopt;
}

}  // namespace

std::variant<Request, DecodeFailure> decode_request(std::string_view text) {
  if (!is_valid_utf8(text))
    return DecodeFailure{std::nullopt, ErrorCode::bad_request, "frame is not valid UTF-8"};
  json obj = json::parse(text, nullptr, /*allow_exceptions=*/false);
  if (obj.is_discarded())
    return DecodeFailure{std::nullopt, ErrorCode::bad_request, "frame is not valid JSON"};
  if (!obj.is_object())
    return DecodeFailure{std::nullopt, ErrorCode::bad_request, "frame is not a JSON object"};
  const auto id_it = obj.find("id");
  const auto id = id_it == obj.end() ? std::nullopt : as_integer(*id_it, 0, kMaxRequestId);
  if (!id)
    return DecodeFailure{std::nullopt, ErrorCode::bad_request,
                         "'id' must be an integer from 0 to 2^53-1"};
  const auto op_it = obj.find("op");
  if (op_it == obj.end() || !op_it->is_string())
    return DecodeFailure{id, ErrorCode::bad_request, "'op' must be a string"};
  const auto& op = op_it->get_ref<const std::string&>();
  for (const auto& entry : kOps) {
    if (entry.name != op) continue;
    try {
      return Request{*id, entry.decode(obj)};
    } catch (const ProtocolError& e) {
      return DecodeFailure{id, e.code(), e.what()};
    }
  }
  return DecodeFailure{id, ErrorCode::bad_request, "unknown op '" + op + "'"};
}

std::string_view op_name(const RequestBody& body) noexcept {
  return kOps[body.index()].name;
}

std::string encode_request(const Request& request) {
  json j = params_of(request.body);
  j["id"] = request.id;
  j["op"] = op_name(request.body);
  return line(j);
}

std::string encode_ok(std::int64_t id, const json& result) {
  return line(json{{"id", id}, {"ok", true}, {"result", result}});
}

std::string encode_error(std::optional<std::int64_t> id, ErrorCode code, std::string_view message) {
  json j{{"id", optional_json(id)},
         {"ok", false},
         {"error", {{"code", to_string(code)}, {"message", message}}}};
  return line(j);
}

std::string_view to_string(LeaveReason reason) noexcept {
  switch (reason) {
    case LeaveReason::leave:
      return "leave";
    case LeaveReason::timeout:
      return "timeout";
    case LeaveReason::meeting_ended:
      return "meeting_ended";
  }
  return "leave";
}

namespace {

void append_int(std::string& out, std::int64_t v) {
  std::array<char, 24> buf;
  const auto r = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  out.append(buf.data(), r.ptr);
}

// A JSON string exactly as nlohmann's dump() writes valid UTF-8 (ensure_ascii off): '"', '\\'
// and control characters escaped, everything else as is. The caller checks the UTF-8.
void append_string(std::string& out, std::string_view s) {
  static constexpr char kHex[] = "0123456789abcdef";
  out.push_back('"');
  std::size_t plain = 0;  // start of the run of characters written as they are
  for (std::size_t i = 0; i < s.size(); ++i) {
    const auto c = static_cast<unsigned char>(s[i]);
    if (c >= 0x20 && c != '"' && c != '\\') continue;
    out.append(s.data() + plain, i - plain);
    plain = i + 1;
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\b':
        out += "\\b";
        break;
      case '\f':
        out += "\\f";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      case '\t':
        out += "\\t";
        break;
      default:
        out += "\\u00";
        out.push_back(kHex[c >> 4]);
        out.push_back(kHex[c & 0xf]);
    }
  }
  out.append(s.data() + plain, s.size() - plain);
  out.push_back('"');
}

// The message event, the one sent most (once per message, shared by every recipient),
// written directly: the same bytes as line(json{...}) (keys in std::map order), without
// building a tree first. nullopt when a string is not valid UTF-8: line() replaces that.
std::optional<std::string> encode_message_event(const MessageEvent& e) {
  const auto& m = e.message;
  if (!is_valid_utf8(m.name) || !is_valid_utf8(m.text) || !is_valid_utf8(m.message_id))
    return std::nullopt;
  std::string out;
  out.reserve(160 + m.name.size() + m.text.size());
  out += R"({"event":"message","meeting_id":)";
  append_int(out, e.meeting_id);
  out += R"(,"message_id":)";
  append_string(out, m.message_id);
  out += R"(,"name":)";
  append_string(out, m.name);
  out += R"(,"order_id":)";
  append_int(out, e.order_id);
  out += R"(,"text":)";
  append_string(out, m.text);
  out += R"(,"ts":)";
  append_string(out, format_timestamp(m.ts));
  out += R"(,"user_id":)";
  append_int(out, m.user_id);
  out += "}\n";
  return out;
}

}  // namespace

std::string encode_event(const Event& event) {
  if (const auto* message = std::get_if<MessageEvent>(&event))
    if (auto fast = encode_message_event(*message)) return std::move(*fast);
  json j;
  std::visit(
      [&](const auto& e) {
        using T = std::decay_t<decltype(e)>;
        if constexpr (std::is_same_v<T, MessageEvent>) {
          j = json{{"event", "message"},           {"meeting_id", e.meeting_id},
                   {"order_id", e.order_id},       {"message_id", e.message.message_id},
                   {"user_id", e.message.user_id}, {"name", e.message.name},
                   {"text", e.message.text},       {"ts", format_timestamp(e.message.ts)}};
        } else if constexpr (std::is_same_v<T, JoinedEvent>) {
          j = json{{"event", "joined"},      {"meeting_id", e.meeting_id},
                   {"order_id", e.order_id}, {"user_id", e.user_id},
                   {"name", e.name},         {"ts", format_timestamp(e.ts)}};
        } else if constexpr (std::is_same_v<T, LeftEvent>) {
          j = json{{"event", "left"},
                   {"meeting_id", e.meeting_id},
                   {"order_id", e.order_id},
                   {"user_id", e.user_id},
                   {"name", e.name},
                   {"ts", format_timestamp(e.ts)},
                   {"reason", to_string(e.reason)}};
        } else if constexpr (std::is_same_v<T, MeetingStartedEvent>) {
          j = json{{"event", "meeting_started"},       {"meeting_id", e.meeting_id},
                   {"order_id", e.order_id},           {"title", e.title},
                   {"from", format_timestamp(e.from)}, {"to", format_timestamp(e.to)}};
        } else if constexpr (std::is_same_v<T, MeetingEndedEvent>) {
          j = json{{"event", "meeting_ended"},
                   {"meeting_id", e.meeting_id},
                   {"order_id", e.order_id},
                   {"ts", format_timestamp(e.ts)}};
        }
      },
      event);
  return line(j);
}

std::optional<ServerFrame> decode_server_frame(std::string_view text) {
  json j = json::parse(text, nullptr, false);
  if (j.is_discarded() || !j.is_object()) bad("server frame is not a JSON object");
  try {
    if (const auto ev = j.find("event"); ev != j.end()) {
      const auto name = ev->get<std::string>();
      // Unknown events may lack the instance fields: ignore them before reading any.
      if (name != "message" && name != "joined" && name != "left" && name != "meeting_started" &&
          name != "meeting_ended")
        return std::nullopt;
      const auto mid = int64_field(j, "meeting_id");
      const auto oid = int64_field(j, "order_id");
      if (name == "message") {
        ChatMessage m;
        from_json(j, m);
        return ServerFrame{MessageEvent{mid, oid, std::move(m)}};
      }
      if (name == "joined")
        return ServerFrame{JoinedEvent{mid, oid, int64_field(j, "user_id"),
                                       j.at("name").get<std::string>(), time_field(j, "ts")}};
      if (name == "left") {
        const auto reason = leave_reason_from(j.at("reason").get<std::string>());
        if (!reason) bad("unknown leave reason");
        return ServerFrame{LeftEvent{mid, oid, int64_field(j, "user_id"),
                                     j.at("name").get<std::string>(), time_field(j, "ts"),
                                     *reason}};
      }
      if (name == "meeting_started")
        return ServerFrame{MeetingStartedEvent{mid, oid, j.at("title").get<std::string>(),
                                               time_field(j, "from"), time_field(j, "to")}};
      if (name == "meeting_ended")
        return ServerFrame{MeetingEndedEvent{mid, oid, time_field(j, "ts")}};
      return std::nullopt;
    }
    Response r;
    const auto& id = j.at("id");
    r.id_null = id.is_null();
    r.id = r.id_null ? 0 : integer_of<std::int64_t>(id, "id");
    r.ok = j.at("ok").get<bool>();
    if (r.ok) {
      // Moved, not copied: copying a json value recurses once per nesting level, so a
      // deeply nested result ("[[[[...", 100000 levels) overflowed the client's stack
      // (found by tests/fuzz/server_frame).
      r.result = std::move(j.at("result"));
    } else {
      const auto& err = j.at("error");
      r.code =
          error_code_from_string(err.at("code").get<std::string>()).value_or(ErrorCode::internal);
      r.message = err.value("message", "");
    }
    return ServerFrame{std::move(r)};
  } catch (const json::exception& e) {
    bad(std::string("malformed server frame: ") + e.what());
  }
}

void to_json(json& j, const UserInfo& v) {
  j = json{{"user_id", v.user_id},
           {"name", v.name},
           {"email", v.email},
           {"age", optional_json(v.age)},
           {"gender", optional_json(v.gender)}};
}
void from_json(const json& j, UserInfo& v) {
  v.user_id = int64_field(j, "user_id");
  v.name = j.at("name").get<std::string>();
  v.email = j.at("email").get<std::string>();
  v.age = j.contains("age") && !j["age"].is_null()
              ? std::optional<int>(integer_of<int>(j["age"], "age"))
              : std::nullopt;
  v.gender = j.contains("gender") && !j["gender"].is_null()
                 ? std::optional<std::string>(j["gender"].get<std::string>())
                 : std::nullopt;
}

void to_json(json& j, const MeetingSummary& v) {
  j = json{{"meeting_id", v.meeting_id},
           {"order_id", v.order_id},
           {"title", v.title},
           {"description", optional_json(v.description)},
           {"is_public", v.is_public},
           {"from", format_timestamp(v.from)},
           {"to", format_timestamp(v.to)},
           {"participant_count", v.participant_count}};
}
void from_json(const json& j, MeetingSummary& v) {
  v.meeting_id = int64_field(j, "meeting_id");
  v.order_id = int64_field(j, "order_id");
  v.title = j.at("title").get<std::string>();
  v.description = j.contains("description") && !j["description"].is_null()
                      ? std::optional<std::string>(j["description"].get<std::string>())
                      : std::nullopt;
  v.is_public = j.at("is_public").get<bool>();
  v.from = time_field(j, "from");
  v.to = time_field(j, "to");
  v.participant_count = int64_field(j, "participant_count");
}

void to_json(json& j, const Participant& v) {
  to_json(j, v.user);
  j["joined_at"] = format_timestamp(v.joined_at);
}
void from_json(const json& j, Participant& v) {
  from_json(j, v.user);
  v.joined_at = time_field(j, "joined_at");
}

void to_json(json& j, const ChatMessage& v) {
  j = json{{"message_id", v.message_id},
           {"user_id", v.user_id},
           {"name", v.name},
           {"text", v.text},
           {"ts", format_timestamp(v.ts)}};
}
void from_json(const json& j, ChatMessage& v) {
  v.message_id = j.at("message_id").get<std::string>();
  v.user_id = int64_field(j, "user_id");
  v.name = j.at("name").get<std::string>();
  v.text = j.at("text").get<std::string>();
  v.ts = time_field(j, "ts");
}

void to_json(json& j, const JoinTime& v) {
  j = json{{"user_id", v.user_id}, {"name", v.name}, {"joined_at", format_timestamp(v.joined_at)}};
}
void from_json(const json& j, JoinTime& v) {
  v.user_id = int64_field(j, "user_id");
  v.name = j.at("name").get<std::string>();
  v.joined_at = time_field(j, "joined_at");
}

void to_json(json& j, const MeetingJoinTimes& v) {
  j = json{{"meeting_id", v.meeting_id},
           {"order_id", v.order_id},
           {"title", v.title},
           {"participants", v.participants}};
}
void from_json(const json& j, MeetingJoinTimes& v) {
  v.meeting_id = int64_field(j, "meeting_id");
  v.order_id = int64_field(j, "order_id");
  v.title = j.at("title").get<std::string>();
  v.participants = j.at("participants").get<std::vector<JoinTime>>();
}

void to_json(json& j, const NodeInfo& v) {
  j = json{{"node", v.node}, {"address", v.address}, {"clients", v.clients}};
}
void from_json(const json& j, NodeInfo& v) {
  v.node = j.at("node").get<std::string>();
  v.address = j.at("address").get<std::string>();
  v.clients = int64_field(j, "clients");
}

}  // namespace chat::protocol
