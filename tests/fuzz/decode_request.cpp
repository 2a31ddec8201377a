// Fuzz target: what a hostile client can send chatd. The input is a byte stream; it is
// split into frames as chatd's read loop does (FrameSplitter with the 64 KiB limit, blank
// lines skipped) and every frame goes through decode_request.
//
// Checked for every frame:
//   - decode_request never throws (codec.hpp: "Never throws");
//   - a DecodeFailure has code bad_request, a non-empty UTF-8 message and an id that is
//     absent or in 0..2^53-1; the error frame chatd answers with (encode_error) is one line
//     and a client reads back the same id, code and message (decode_server_frame);
//   - a Request satisfies the field rules of PROTOCOL.md (id range, ids >= 1, post text
//     1..4096 bytes and not only whitespace, limit 1..1000, not both after and before, all
//     strings valid UTF-8), and encode_request gives one line that decodes to a request
//     which encodes to the very same bytes (a fixed point: nothing lost or invented).
#include <cstdint>
#include <exception>
#include <string>
#include <string_view>
#include <type_traits>
#include <variant>

#include "chat/protocol/codec.hpp"
#include "chat/protocol/frame.hpp"
#include "chat/protocol/text.hpp"
#include "fuzz_util.hpp"

namespace {

namespace proto = chat::protocol;

void check_instance(const proto::InstanceRef& ref) {
  CHAT_FUZZ_CHECK(ref.meeting_id >= 1);
  CHAT_FUZZ_CHECK(!ref.order_id || *ref.order_id >= 1);
}

void check_page(const proto::Page& page) {
  CHAT_FUZZ_CHECK(!(page.after && page.before));
  CHAT_FUZZ_CHECK(!page.after || proto::is_valid_utf8(*page.after));
  CHAT_FUZZ_CHECK(!page.before || proto::is_valid_utf8(*page.before));
  CHAT_FUZZ_CHECK(page.limit >= 1 && page.limit <= proto::kMaxPageLimit);
}

// The rules of PROTOCOL.md "Requests" that the decoder promises to have enforced.
void check_request_fields(const proto::Request& request) {
  CHAT_FUZZ_CHECK(request.id >= 0 && request.id <= proto::kMaxRequestId);
  std::visit(
      [](const auto& r) {
        using T = std::decay_t<decltype(r)>;
        if constexpr (std::is_same_v<T, proto::HelloRequest>) {
          CHAT_FUZZ_CHECK(!r.client || proto::is_valid_utf8(*r.client));
        } else if constexpr (std::is_same_v<T, proto::LoginRequest>) {
          CHAT_FUZZ_CHECK(proto::is_valid_utf8(r.user));
          CHAT_FUZZ_CHECK(proto::is_valid_utf8(r.password));
        } else if constexpr (std::is_same_v<T, proto::JoinRequest> ||
                             std::is_same_v<T, proto::LeaveRequest> ||
                             std::is_same_v<T, proto::ParticipantsRequest>) {
          check_instance(r.instance);
        } else if constexpr (std::is_same_v<T, proto::PostRequest>) {
          check_instance(r.instance);
          CHAT_FUZZ_CHECK(!r.text.empty() && r.text.size() <= proto::kMaxTextBytes);
          CHAT_FUZZ_CHECK(proto::is_valid_utf8(r.text));
          CHAT_FUZZ_CHECK(!proto::is_only_whitespace(r.text));
        } else if constexpr (std::is_same_v<T, proto::MessagesRequest>) {
          check_instance(r.instance);
          check_page(r.page);
        } else if constexpr (std::is_same_v<T, proto::UserMessagesRequest>) {
          check_instance(r.instance);
          CHAT_FUZZ_CHECK(r.user_id >= 1);
          check_page(r.page);
        }
      },
      request.body);
}

std::variant<proto::Request, proto::DecodeFailure> decode_no_throw(std::string_view frame) {
  try {
    return proto::decode_request(frame);
  } catch (const std::exception& e) {
    chat::fuzz::fail("decode_request threw", __FILE__, __LINE__, e.what());
  } catch (...) {
    chat::fuzz::fail("decode_request threw a non-std exception", __FILE__, __LINE__);
  }
}

void check_round_trip(const proto::Request& request) {
  const std::string wire = proto::encode_request(request);
  CHAT_FUZZ_CHECK(chat::fuzz::is_one_line(wire));
  CHAT_FUZZ_CHECK(proto::is_valid_utf8(wire));
  const std::string_view line(wire.data(), wire.size() - 1);
  CHAT_FUZZ_CHECK(!proto::is_blank_line(line));
  const auto again = decode_no_throw(line);
  if (const auto* failure = std::get_if<proto::DecodeFailure>(&again))
    chat::fuzz::fail("re-encoded request does not decode", __FILE__, __LINE__, failure->message);
  const auto& decoded = std::get<proto::Request>(again);
  CHAT_FUZZ_CHECK(decoded.id == request.id);
  CHAT_FUZZ_CHECK(decoded.body.index() == request.body.index());
  CHAT_FUZZ_CHECK(proto::op_name(decoded.body) == proto::op_name(request.body));
  CHAT_FUZZ_CHECK_MSG(proto::encode_request(decoded) == wire, wire);
}

// The answer chatd sends for a failure must read back the same on the client side.
void check_failure(const proto::DecodeFailure& failure) {
  CHAT_FUZZ_CHECK(failure.code == proto::ErrorCode::bad_request);
  CHAT_FUZZ_CHECK(!failure.message.empty());
  CHAT_FUZZ_CHECK(proto::is_valid_utf8(failure.message));
  CHAT_FUZZ_CHECK(!failure.id || (*failure.id >= 0 && *failure.id <= proto::kMaxRequestId));
  const std::string wire = proto::encode_error(failure.id, failure.code, failure.message);
  CHAT_FUZZ_CHECK(chat::fuzz::is_one_line(wire));
  std::optional<proto::ServerFrame> frame;
  try {
    frame = proto::decode_server_frame(std::string_view(wire.data(), wire.size() - 1));
  } catch (const std::exception& e) {
    chat::fuzz::fail("error frame does not decode", __FILE__, __LINE__, e.what());
  }
  CHAT_FUZZ_CHECK(frame && std::holds_alternative<proto::Response>(*frame));
  const auto& response = std::get<proto::Response>(*frame);
  CHAT_FUZZ_CHECK(!response.ok);
  CHAT_FUZZ_CHECK(response.code == failure.code);
  CHAT_FUZZ_CHECK(response.message == failure.message);
  CHAT_FUZZ_CHECK(response.id_null == !failure.id.has_value());
  CHAT_FUZZ_CHECK(response.id == failure.id.value_or(0));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  chat::fuzz::for_each_frame(chat::fuzz::as_text(data, size), proto::kMaxFrameBytes,
                             [](std::string_view frame) {
                               const auto decoded = decode_no_throw(frame);
                               if (const auto* request = std::get_if<proto::Request>(&decoded)) {
                                 check_request_fields(*request);
                                 check_round_trip(*request);
                               } else {
                                 check_failure(std::get<proto::DecodeFailure>(decoded));
                               }
                             });
  return 0;
}
