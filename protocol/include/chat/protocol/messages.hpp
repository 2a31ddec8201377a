// Requests, result records and events of PROTOCOL.md as C++ types. Field names are the
// wire names; every time field is UnixMs (ms since the epoch, UTC) and is written on the
// wire as an RFC 3339 string by codec.hpp.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "chat/protocol/time.hpp"

namespace chat::protocol {

/// Protocol version answered by hello ("proto").
inline constexpr int kProtocolVersion = 1;
/// Largest post text in UTF-8 bytes.
inline constexpr std::size_t kMaxTextBytes = 4096;
/// Default and largest page size of messages / user_messages.
inline constexpr int kDefaultPageLimit = 100;
inline constexpr int kMaxPageLimit = 1000;

// ---- requests (client -> server) ------------------------------------------------------

/// A meeting instance as named by a request: order_id omitted means "the active one".
struct InstanceRef {
  std::int64_t meeting_id = 0;
  std::optional<std::int64_t> order_id;
};

/// Paging of messages / user_messages: at most one of after/before (exclusive message_ids).
struct Page {
  std::optional<std::string> after;
  std::optional<std::string> before;
  int limit = kDefaultPageLimit;
};

struct HelloRequest {
  std::optional<std::string> client;
};
struct PingRequest {};
struct LoginRequest {
  std::string user;
  std::string password;
};
struct ActiveMeetingsRequest {};
struct JoinRequest {
  InstanceRef instance;
};
struct LeaveRequest {
  InstanceRef instance;
};
struct ParticipantsRequest {
  InstanceRef instance;
};
struct PostRequest {
  InstanceRef instance;
  std::string text;
};
struct MessagesRequest {
  InstanceRef instance;
  Page page;
};
struct UserMessagesRequest {
  InstanceRef instance;
  std::int64_t user_id = 0;
  Page page;
};
struct JoinTimesRequest {};
struct NodesRequest {};

using RequestBody =
    std::variant<HelloRequest, PingRequest, LoginRequest, ActiveMeetingsRequest, JoinRequest,
                 LeaveRequest, ParticipantsRequest, PostRequest, MessagesRequest,
                 UserMessagesRequest, JoinTimesRequest, NodesRequest>;

/// A decoded client request: the echoed id (0 .. 2^53-1) and the op with its parameters.
struct Request {
  std::int64_t id = 0;
  RequestBody body;
};

// ---- records used in results and events -------------------------------------------------

/// A user as login and participants show it.
struct UserInfo {
  std::int64_t user_id = 0;
  std::string name;
  std::string email;
  std::optional<int> age;
  std::optional<std::string> gender;
};

/// One row of active_meetings.
struct MeetingSummary {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::string title;
  std::optional<std::string> description;
  bool is_public = false;
  UnixMs from = 0;
  UnixMs to = 0;
  std::int64_t participant_count = 0;
};

/// One row of participants.
struct Participant {
  UserInfo user;
  UnixMs joined_at = 0;
};

/// One chat message as messages / user_messages return it.
struct ChatMessage {
  std::string message_id;
  std::int64_t user_id = 0;
  std::string name;
  std::string text;
  UnixMs ts = 0;
};

/// One participant row of join_times.
struct JoinTime {
  std::int64_t user_id = 0;
  std::string name;
  UnixMs joined_at = 0;
};

/// One meeting of join_times.
struct MeetingJoinTimes {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::string title;
  std::vector<JoinTime> participants;
};

/// One live node of the nodes op; address is "host:port".
struct NodeInfo {
  std::string node;
  std::string address;
  std::int64_t clients = 0;
};

// ---- events (server -> client) ----------------------------------------------------------

struct MessageEvent {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  ChatMessage message;
};

struct JoinedEvent {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::int64_t user_id = 0;
  std::string name;
  UnixMs ts = 0;
};

/// Why a participant left: the "reason" field of the left event.
enum class LeaveReason { leave, timeout, meeting_ended };

struct LeftEvent {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::int64_t user_id = 0;
  std::string name;
  UnixMs ts = 0;
  LeaveReason reason = LeaveReason::leave;
};

struct MeetingStartedEvent {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  std::string title;
  UnixMs from = 0;
  UnixMs to = 0;
};

struct MeetingEndedEvent {
  std::int64_t meeting_id = 0;
  std::int64_t order_id = 0;
  UnixMs ts = 0;
};

using Event =
    std::variant<MessageEvent, JoinedEvent, LeftEvent, MeetingStartedEvent, MeetingEndedEvent>;

}  // namespace chat::protocol
