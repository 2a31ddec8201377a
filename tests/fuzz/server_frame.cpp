// Fuzz target: what a hostile (or broken) server can send chat-tui and the test client. The
// input is a byte stream split as chat-tui does (FrameSplitter with a 16 MiB limit, blank
// lines skipped); every frame goes through decode_server_frame, and the result records
// of a successful response are read as chat-tui reads them (from_json of UserInfo,
// MeetingSummary, Participant, ChatMessage, MeetingJoinTimes, NodeInfo).
//
// Checked for every frame:
//   - decode_server_frame returns or throws ProtocolError(bad_request), nothing else
//     (codec.hpp); no sanitizer report on the way (e.g. out-of-range number conversions);
//   - an accepted frame had JSON integers for id / meeting_id / order_id / user_id, equal
//     to the decoded values (PROTOCOL.md "Types");
//   - the record readers throw only nlohmann::json::exception or ProtocolError;
//   - an event re-encodes (encode_event) to one line that decodes to an event which encodes
//     to the very same bytes; a response re-encodes (encode_ok / encode_error) to one line
//     that decodes to the same id, ok, result or code and message;
//   - a record that was read re-encodes (to_json) to JSON that reads back to the same JSON,
//     and each integer in it was that same JSON integer in the frame (no float, boolean or
//     truncated value accepted).
#include <algorithm>
#include <cstdint>
#include <exception>
#include <optional>
#include <string>
#include <string_view>
#include <type_traits>
#include <utility>
#include <variant>
#include <vector>

#include "chat/protocol/codec.hpp"
#include "chat/protocol/frame.hpp"
#include "fuzz_util.hpp"

namespace {

namespace proto = chat::protocol;
using nlohmann::json;

/// chat-tui's limit for server frames (tui-client/src/app.hpp kMaxServerFrameBytes).
constexpr std::size_t kMaxServerFrameBytes = 16 * 1024 * 1024;

// decode_server_frame with its documented outcomes; any other exception is a finding.
// nullopt when the frame was rejected with ProtocolError(bad_request).
std::optional<std::optional<proto::ServerFrame>> decode(std::string_view line) {
  try {
    return proto::decode_server_frame(line);
  } catch (const proto::ProtocolError& e) {
    CHAT_FUZZ_CHECK(e.code() == proto::ErrorCode::bad_request);
    CHAT_FUZZ_CHECK(std::string_view(e.what()).size() > 0);
    return std::nullopt;
  } catch (const std::exception& e) {
    chat::fuzz::fail("decode_server_frame threw an undocumented exception", __FILE__, __LINE__,
                     e.what());
  } catch (...) {
    chat::fuzz::fail("decode_server_frame threw a non-std exception", __FILE__, __LINE__);
  }
}

// Decodes a frame this library encoded itself: must succeed.
proto::ServerFrame decode_own(const std::string& wire) {
  CHAT_FUZZ_CHECK_MSG(chat::fuzz::is_one_line(wire), wire);
  auto frame = decode(std::string_view(wire.data(), wire.size() - 1));
  CHAT_FUZZ_CHECK_MSG(frame.has_value() && frame->has_value(), wire);
  return std::move(**frame);  // a copy of a deep result would recurse
}

// Nesting depth of a JSON value, computed without recursion (the input may nest 100000
// levels; 1 for a scalar).
std::size_t nesting_depth(const json& root) {
  std::size_t deepest = 0;
  std::vector<std::pair<const json*, std::size_t>> todo{{&root, 1}};
  while (!todo.empty()) {
    const auto [value, depth] = todo.back();
    todo.pop_back();
    deepest = std::max(deepest, depth);
    if (value->is_structured())
      for (const auto& child : *value) todo.emplace_back(&child, depth + 1);
  }
  return deepest;
}

// Copying, comparing and dumping a json value recurse once per level. decode_server_frame
// must cope with any depth (a hostile server picks it); the round-trip checks below, which
// use those operations on server-side encoders, are skipped beyond this depth.
constexpr std::size_t kMaxRoundTripDepth = 256;

void check_event(const proto::Event& event) {
  const std::string wire = proto::encode_event(event);
  const auto again = decode_own(wire);
  CHAT_FUZZ_CHECK(std::holds_alternative<proto::Event>(again));
  const auto& decoded = std::get<proto::Event>(again);
  CHAT_FUZZ_CHECK(decoded.index() == event.index());
  CHAT_FUZZ_CHECK_MSG(proto::encode_event(decoded) == wire, wire);
}

// Every integer that to_json wrote for a record must have been that same JSON integer in
// the server's frame (PROTOCOL.md "Types"): nothing converted from a float or boolean,
// nothing truncated. Walks `written` (our own, a few levels deep), not the raw input.
void check_integers_came_from_integers(const json& raw, const json& written) {
  if (written.is_array()) {
    CHAT_FUZZ_CHECK(raw.is_array() && raw.size() == written.size());
    for (std::size_t i = 0; i < written.size(); ++i)
      check_integers_came_from_integers(raw[i], written[i]);
  } else if (written.is_object()) {
    CHAT_FUZZ_CHECK(raw.is_object());
    for (const auto& [key, value] : written.items()) {
      if (!value.is_number_integer() && !value.is_structured()) continue;
      const auto it = raw.find(key);
      CHAT_FUZZ_CHECK_MSG(it != raw.end(), key);
      if (value.is_structured())
        check_integers_came_from_integers(*it, value);
      else
        CHAT_FUZZ_CHECK_MSG(it->is_number_integer() && *it == value, key);
    }
  }
}

// Reads result[key] as a T the way chat-tui does; when that works, to_json of the record
// must read back to the same record (compared as JSON).
template <typename T>
void check_record(const json& result, const char* key) {
  try {
    const T record = result.at(key).get<T>();
    const json written = record;
    check_integers_came_from_integers(result.at(key), written);
    const T reread = written.get<T>();
    CHAT_FUZZ_CHECK_MSG(json(reread) == written, written.dump());
  } catch (const json::exception&) {
    // documented: ill-typed or missing fields
  } catch (const proto::ProtocolError& e) {
    CHAT_FUZZ_CHECK(e.code() == proto::ErrorCode::bad_request);
  } catch (const std::exception& e) {
    chat::fuzz::fail("record reader threw an undocumented exception", __FILE__, __LINE__, e.what());
  }
}

void check_response(const proto::Response& response) {
  if (response.ok) {
    if (nesting_depth(response.result) > kMaxRoundTripDepth) return;
    const auto again = decode_own(proto::encode_ok(response.id, response.result));
    CHAT_FUZZ_CHECK(std::holds_alternative<proto::Response>(again));
    const auto& decoded = std::get<proto::Response>(again);
    CHAT_FUZZ_CHECK(decoded.ok);
    CHAT_FUZZ_CHECK(decoded.id == response.id);
    CHAT_FUZZ_CHECK(!decoded.id_null);
    CHAT_FUZZ_CHECK(decoded.result == response.result);
    // The result shapes of PROTOCOL.md "Requests", as chat-tui reads them.
    check_record<proto::UserInfo>(response.result, "user");
    check_record<std::vector<proto::MeetingSummary>>(response.result, "meetings");
    check_record<std::vector<proto::MeetingJoinTimes>>(response.result, "meetings");
    check_record<std::vector<proto::Participant>>(response.result, "participants");
    check_record<std::vector<proto::ChatMessage>>(response.result, "messages");
    check_record<std::vector<proto::NodeInfo>>(response.result, "nodes");
  } else {
    const std::optional<std::int64_t> id =
        response.id_null ? std::nullopt : std::optional<std::int64_t>(response.id);
    const auto again = decode_own(proto::encode_error(id, response.code, response.message));
    CHAT_FUZZ_CHECK(std::holds_alternative<proto::Response>(again));
    const auto& decoded = std::get<proto::Response>(again);
    CHAT_FUZZ_CHECK(!decoded.ok);
    CHAT_FUZZ_CHECK(decoded.id_null == response.id_null);
    CHAT_FUZZ_CHECK(decoded.id == response.id);
    CHAT_FUZZ_CHECK(decoded.code == response.code);
    CHAT_FUZZ_CHECK(decoded.message == response.message);
  }
}

// PROTOCOL.md "Types": ids are JSON integers (no fraction or exponent). A frame the decoder
// accepted must have had integers there, equal to the decoded values: a float or boolean
// silently converted (or 1e300 cast out of range) is a finding.
void check_integer(const json& raw, const char* key, std::int64_t decoded) {
  const auto it = raw.find(key);
  CHAT_FUZZ_CHECK_MSG(it != raw.end(), key);
  CHAT_FUZZ_CHECK_MSG(it->is_number_integer(), key);
  if (it->is_number_unsigned())
    CHAT_FUZZ_CHECK_MSG(it->get<std::uint64_t>() == static_cast<std::uint64_t>(decoded), key);
  else
    CHAT_FUZZ_CHECK_MSG(it->get<std::int64_t>() == decoded, key);
}

void check_types(std::string_view line, const proto::ServerFrame& frame) {
  const json raw = json::parse(line, nullptr, /*allow_exceptions=*/false);
  CHAT_FUZZ_CHECK(raw.is_object());
  if (const auto* response = std::get_if<proto::Response>(&frame)) {
    if (!response->id_null) check_integer(raw, "id", response->id);
    return;
  }
  std::visit(
      [&](const auto& event) {
        check_integer(raw, "meeting_id", event.meeting_id);
        check_integer(raw, "order_id", event.order_id);
        using T = std::decay_t<decltype(event)>;
        if constexpr (std::is_same_v<T, proto::MessageEvent>)
          check_integer(raw, "user_id", event.message.user_id);
        else if constexpr (std::is_same_v<T, proto::JoinedEvent> ||
                           std::is_same_v<T, proto::LeftEvent>)
          check_integer(raw, "user_id", event.user_id);
      },
      std::get<proto::Event>(frame));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chat::fuzz::for_each_frame(chat::fuzz::as_text(data, size), kMaxServerFrameBytes,
                             [](std::string_view line) {
                               const auto frame = decode(line);
                               if (!frame || !*frame) return;  // rejected, or unknown event
                               check_types(line, **frame);
                               if (const auto* event = std::get_if<proto::Event>(&**frame))
                                 check_event(*event);
                               else
                                 check_response(std::get<proto::Response>(**frame));
                             });
  return 0;
}
