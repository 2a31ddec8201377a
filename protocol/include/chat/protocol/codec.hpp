// The one place that turns protocol types into JSON Lines frames and back (PROTOCOL.md).
#pragma once

#include <cstdint>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <variant>

#include "chat/protocol/errors.hpp"
#include "chat/protocol/messages.hpp"

namespace chat::protocol {

/// Largest request id (2^53 - 1), so ids survive a round trip through a JavaScript client.
inline constexpr std::int64_t kMaxRequestId = (std::int64_t{1} << 53) - 1;

/// A client frame that cannot be served. id is the request's id when the frame carried a
/// valid one, nullopt otherwise (then the error frame says "id": null).
struct DecodeFailure {
  std::optional<std::int64_t> id;
  ErrorCode code = ErrorCode::bad_request;
  std::string message;
};

/// Decodes one client frame (without its line terminator). Never throws: malformed
/// UTF-8/JSON, a non-object, a bad id, an unknown op, or a missing/ill-typed field give a
/// DecodeFailure with code bad_request. Blank lines must be skipped before (is_blank_line).
std::variant<Request, DecodeFailure> decode_request(std::string_view line);

/// The op name of a request body, e.g. "join".
std::string_view op_name(const RequestBody& body) noexcept;

/// A client frame for the request, '\n' included.
std::string encode_request(const Request& request);

/// A success response frame {"id","ok":true,"result"}, '\n' included.
std::string encode_ok(std::int64_t id, const nlohmann::json& result);

/// An error response frame, '\n' included; id nullopt is written as null.
std::string encode_error(std::optional<std::int64_t> id, ErrorCode code, std::string_view message);

/// An event frame {"event": name, ...fields}, '\n' included.
std::string encode_event(const Event& event);

/// The wire name of a leave reason ("leave", "timeout", "meeting_ended").
std::string_view to_string(LeaveReason reason) noexcept;

/// A decoded server response. On ok, result holds the result object; otherwise code and
/// message hold the error.
struct Response {
  std::int64_t id = 0;
  bool ok = false;
  nlohmann::json result;
  ErrorCode code = ErrorCode::internal;
  std::string message;
  bool id_null = false;  // the server answered "id": null (frame it could not read)
};

using ServerFrame = std::variant<Response, Event>;

/// Decodes one server frame for a client. Throws ProtocolError(bad_request) on a frame that
/// is not a response or a known event; unknown events are reported as nullopt so that
/// newer servers stay compatible.
std::optional<ServerFrame> decode_server_frame(std::string_view line);

// JSON forms of the records (to_json writes wire form; from_json throws
// nlohmann::json::exception or ProtocolError on bad input).
void to_json(nlohmann::json& j, const UserInfo& v);
void from_json(const nlohmann::json& j, UserInfo& v);
void to_json(nlohmann::json& j, const MeetingSummary& v);
void from_json(const nlohmann::json& j, MeetingSummary& v);
void to_json(nlohmann::json& j, const Participant& v);
void from_json(const nlohmann::json& j, Participant& v);
void to_json(nlohmann::json& j, const ChatMessage& v);
void from_json(const nlohmann::json& j, ChatMessage& v);
void to_json(nlohmann::json& j, const JoinTime& v);
void from_json(const nlohmann::json& j, JoinTime& v);
void to_json(nlohmann::json& j, const MeetingJoinTimes& v);
void from_json(const nlohmann::json& j, MeetingJoinTimes& v);
void to_json(nlohmann::json& j, const NodeInfo& v);
void from_json(const nlohmann::json& j, NodeInfo& v);

}  // namespace chat::protocol
