#!/usr/bin/env python3
"""Writes the seed corpus of tests/fuzz (corpus/<target>/<name>), deterministically.

Run from anywhere: python3 tests/fuzz/make_corpus.py. Existing seed files are rewritten;
nothing else in corpus/ is touched. Seeds are valid frames of every op and event of
shared/PROTOCOL.md plus edge cases (empty, CRLF, huge numbers, nested JSON, bad UTF-8,
lines at and over the 64 KiB limit). The fuzzers grow their own corpus in build/fuzz.
"""
import json
import os

HERE = os.path.dirname(os.path.abspath(__file__))
LIMIT = 65536  # kMaxFrameBytes, newline included


def write(target, name, data):
    d = os.path.join(HERE, "corpus", target)
    os.makedirs(d, exist_ok=True)
    if isinstance(data, str):
        data = data.encode("utf-8")
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def line(obj):
    return json.dumps(obj, separators=(",", ":"), ensure_ascii=False) + "\n"


# ---- decode_request ---------------------------------------------------------------------
REQ = {
    "hello": {"id": 1, "op": "hello", "client": "chat-tui/0.1"},
    "hello_bare": {"id": 2, "op": "hello"},
    "ping": {"id": 3, "op": "ping"},
    "login": {"id": 4, "op": "login", "user": "alice@example.com", "password": "pw"},
    "active_meetings": {"id": 5, "op": "active_meetings"},
    "join": {"id": 6, "op": "join", "meeting_id": 1},
    "join_order": {"id": 7, "op": "join", "meeting_id": 1, "order_id": 2},
    "leave": {"id": 8, "op": "leave", "meeting_id": 1, "order_id": 2},
    "participants": {"id": 9, "op": "participants", "meeting_id": 3},
    "post": {"id": 10, "op": "post", "meeting_id": 1, "text": "h\u00e9llo \u4e16\u754c \U0001F600"},
    "messages": {"id": 11, "op": "messages", "meeting_id": 1, "order_id": 1, "limit": 50},
    "messages_after": {"id": 12, "op": "messages", "meeting_id": 1, "after": "1700000000000-0"},
    "messages_before": {"id": 13, "op": "messages", "meeting_id": 1, "before": "17-3", "limit": 1000},
    "user_messages": {"id": 14, "op": "user_messages", "meeting_id": 1, "user_id": 7, "limit": 1},
    "join_times": {"id": 15, "op": "join_times"},
    "nodes": {"id": 16, "op": "nodes"},
    "extra_fields": {"id": 17, "op": "ping", "x": [1, {"y": None}], "z": True},
}
for name, obj in REQ.items():
    write("decode_request", "op_" + name, line(obj))
write("decode_request", "all_ops_stream", "".join(line(o) for o in REQ.values()))
write("decode_request", "crlf_stream", "".join(line(o)[:-1] + "\r\n" for o in REQ.values()))

edge = {
    "empty": b"",
    "newline": b"\n",
    "crlf_only": b"\r\n\r\n",
    "blank_unicode_ws": " \t\u00a0\u2028\u3000\n".encode(),
    "no_terminator": b'{"id":1,"op":"ping"}',
    "cr_inside": b'{"id":1,"op":"ping"}\r\r\n',
    "id_zero": b'{"id":0,"op":"ping"}\n',
    "id_max": b'{"id":9007199254740991,"op":"ping"}\n',
    "id_over_max": b'{"id":9007199254740992,"op":"ping"}\n',
    "id_negative": b'{"id":-1,"op":"ping"}\n',
    "id_minus_zero": b'{"id":-0,"op":"ping"}\n',
    "id_float": b'{"id":1.0,"op":"ping"}\n',
    "id_exponent": b'{"id":1e3,"op":"ping"}\n',
    "id_string": b'{"id":"1","op":"ping"}\n',
    "id_null": b'{"id":null,"op":"ping"}\n',
    "id_huge": b'{"id":123456789012345678901234567890,"op":"ping"}\n',
    "id_u64_max": b'{"id":18446744073709551615,"op":"ping"}\n',
    "id_missing": b'{"op":"ping"}\n',
    "meeting_i64_max": b'{"id":1,"op":"join","meeting_id":9223372036854775807}\n',
    "meeting_i64_over": b'{"id":1,"op":"join","meeting_id":9223372036854775808}\n',
    "meeting_zero": b'{"id":1,"op":"join","meeting_id":0}\n',
    "meeting_float": b'{"id":1,"op":"join","meeting_id":1.5}\n',
    "meeting_huge_float": b'{"id":1,"op":"join","meeting_id":1e308}\n',
    "meeting_overflow_float": b'{"id":1,"op":"join","meeting_id":1e999}\n',
    "order_bool": b'{"id":1,"op":"join","meeting_id":1,"order_id":true}\n',
    "limit_zero": b'{"id":1,"op":"messages","meeting_id":1,"limit":0}\n',
    "limit_over": b'{"id":1,"op":"messages","meeting_id":1,"limit":1001}\n',
    "after_and_before": b'{"id":1,"op":"messages","meeting_id":1,"after":"a","before":"b"}\n',
    "user_messages_no_user": b'{"id":1,"op":"user_messages","meeting_id":1}\n',
    "post_empty": b'{"id":1,"op":"post","meeting_id":1,"text":""}\n',
    "post_ws": '{"id":1,"op":"post","meeting_id":1,"text":" \\t\u3000\\u2028"}\n'.encode(),
    "post_nul": b'{"id":1,"op":"post","meeting_id":1,"text":"a\\u0000b"}\n',
    "post_4096": line({"id": 1, "op": "post", "meeting_id": 1, "text": "x" * 4096}).encode(),
    "post_4097": line({"id": 1, "op": "post", "meeting_id": 1, "text": "x" * 4097}).encode(),
    "post_4096_multibyte": line({"id": 1, "op": "post", "meeting_id": 1,
                                 "text": "\u00e9" * 2048}).encode(),
    "post_escaped_surrogates": b'{"id":1,"op":"post","meeting_id":1,"text":"\\ud83d\\ude00"}\n',
    "post_lone_surrogate": b'{"id":1,"op":"post","meeting_id":1,"text":"\\ud800"}\n',
    "bad_utf8_ff": b'{"id":1,"op":"post","meeting_id":1,"text":"\xff"}\n',
    "bad_utf8_overlong": b'{"id":1,"op":"post","meeting_id":1,"text":"\xc0\xaf"}\n',
    "bad_utf8_surrogate": b'{"id":1,"op":"post","meeting_id":1,"text":"\xed\xa0\x80"}\n',
    "bad_utf8_truncated": b'{"id":1,"op":"ping","x":"\xe4\xb8"}\n',
    "bad_utf8_above_max": b'{"id":1,"op":"ping","x":"\xf4\x90\x80\x80"}\n',
    "bom": b'\xef\xbb\xbf{"id":1,"op":"ping"}\n',
    "not_json": b"hello there\n",
    "json_array": b'[{"id":1,"op":"ping"}]\n',
    "json_string": b'"ping"\n',
    "json_number": b"42\n",
    "trailing_garbage": b'{"id":1,"op":"ping"} x\n',
    "two_objects": b'{"id":1,"op":"ping"}{"id":2,"op":"ping"}\n',
    "duplicate_keys": b'{"id":1,"op":"ping","id":2,"op":"nodes"}\n',
    "unknown_op": b'{"id":1,"op":"shutdown"}\n',
    "op_not_string": b'{"id":1,"op":["ping"]}\n',
    "op_case": b'{"id":1,"op":"PING"}\n',
    "raw_control_char": b'{"id":1,"op":"hello","client":"a\tb"}\n',
    "nested_10000": ('{"id":1,"op":"ping","x":' + "[" * 10000 + "]" * 10000 + "}\n").encode(),
    "nested_objects": ('{"id":1,"op":"ping","x":' + '{"a":' * 2000 + "1" + "}" * 2000 + "}\n").encode(),
    "unclosed_nesting": ('{"id":1,"op":"ping","x":' + "[" * 5000 + "\n").encode(),
}
# Lines at the 64 KiB limit: 65535 bytes + '\n' is the largest frame; one byte more is too_large.
pad = LIMIT - 1 - len('{"id":1,"op":"hello","client":""}')
edge["frame_at_limit"] = ('{"id":1,"op":"hello","client":"' + "a" * pad + '"}\n').encode()
edge["frame_over_limit"] = ('{"id":1,"op":"hello","client":"' + "a" * (pad + 1) + '"}\n').encode()
edge["frame_at_limit_crlf"] = ('{"id":1,"op":"hello","client":"' + "a" * (pad - 1) + '"}\r\n').encode()
edge["overlong_then_ping"] = b"x" * 70000 + b'\n{"id":1,"op":"ping"}\n'
for name, data in edge.items():
    write("decode_request", name, data)

# ---- server_frame -----------------------------------------------------------------------
user = {"user_id": 7, "name": "alice", "email": "alice@example.com", "age": 31, "gender": "f"}
user_nulls = {"user_id": 8, "name": "bob", "email": "bob@example.com", "age": None, "gender": None}
msg = {"message_id": "1700000000000-0", "user_id": 7, "name": "alice", "text": "hi",
       "ts": "2026-11-23T07:33:08.123Z"}
SRV = {
    "hello": {"id": 1, "ok": True, "result": {"proto": 1, "server": "chatd/0.1", "node": "n1",
                                                "time": "2026-11-23T07:33:08.123Z"}},
    "ping": {"id": 2, "ok": True, "result": {"time": "2026-11-23T07:33:08.123Z"}},
    "login": {"id": 3, "ok": True, "result": {"user": user}},
    "login_nulls": {"id": 3, "ok": True, "result": {"user": user_nulls}},
    "active_meetings": {"id": 4, "ok": True, "result": {"meetings": [
        {"meeting_id": 1, "order_id": 2, "title": "standup", "description": None,
         "is_public": True, "from": "2026-11-23T07:00:00.000Z", "to": "2026-11-23T08:00:00.000Z",
         "participant_count": 3},
        {"meeting_id": 2, "order_id": 1, "title": "retro", "description": "weekly",
         "is_public": False, "from": "2026-11-23T07:30:00Z", "to": "2026-11-23T09:00:00+00:00",
         "participant_count": 0}]}},
    "join": {"id": 5, "ok": True, "result": {"meeting_id": 1, "order_id": 2,
                                               "joined_at": "2026-11-23T07:33:08.123Z"}},
    "join_resumed": {"id": 5, "ok": True, "result": {"meeting_id": 1, "order_id": 2,
                                                       "joined_at": "2026-11-23T07:33:08.123Z",
                                                       "resumed": True}},
    "leave": {"id": 6, "ok": True, "result": {"meeting_id": 1, "order_id": 2,
                                                "left_at": "2026-11-23T07:40:00.000Z"}},
    "participants": {"id": 7, "ok": True, "result": {"participants": [
        dict(user, joined_at="2026-11-23T07:33:08.123Z"),
        dict(user_nulls, joined_at="2026-11-23T07:34:00.000Z")]}},
    "post": {"id": 8, "ok": True, "result": {"message_id": "1700000000000-0",
                                               "ts": "2026-11-23T07:33:08.123Z"}},
    "messages": {"id": 9, "ok": True, "result": {"messages": [msg, dict(msg, text="\u4e16\u754c")]}},
    "messages_empty": {"id": 10, "ok": True, "result": {"messages": []}},
    "join_times": {"id": 11, "ok": True, "result": {"meetings": [
        {"meeting_id": 1, "order_id": 2, "title": "standup", "participants": [
            {"user_id": 7, "name": "alice", "joined_at": "2026-11-23T07:33:08.123Z"}]}]}},
    "nodes": {"id": 12, "ok": True, "result": {"nodes": [
        {"node": "n1", "address": "127.0.0.1:17390", "clients": 4},
        {"node": "n2", "address": "[::1]:17391", "clients": 0}]}},
    "error_null_id": {"id": None, "ok": False, "error": {"code": "bad_request", "message": "x"}},
    "error_unknown_code": {"id": 1, "ok": False, "error": {"code": "teapot", "message": "x"}},
    "error_no_message": {"id": 1, "ok": False, "error": {"code": "forbidden"}},
    "ev_message": dict({"event": "message", "meeting_id": 1, "order_id": 2}, **msg),
    "ev_joined": {"event": "joined", "meeting_id": 1, "order_id": 2, "user_id": 7,
                  "name": "alice", "ts": "2026-11-23T07:33:08.123Z"},
    "ev_left_leave": {"event": "left", "meeting_id": 1, "order_id": 2, "user_id": 7,
                      "name": "alice", "ts": "2026-11-23T07:33:08.123Z", "reason": "leave"},
    "ev_left_timeout": {"event": "left", "meeting_id": 1, "order_id": 2, "user_id": 7,
                        "name": "alice", "ts": "2026-11-23T07:33:08Z", "reason": "timeout"},
    "ev_left_ended": {"event": "left", "meeting_id": 1, "order_id": 2, "user_id": 7,
                      "name": "alice", "ts": "2026-11-23T08:00:00.000+00:00",
                      "reason": "meeting_ended"},
    "ev_left_bad_reason": {"event": "left", "meeting_id": 1, "order_id": 2, "user_id": 7,
                           "name": "alice", "ts": "2026-11-23T07:33:08.123Z", "reason": "kick"},
    "ev_meeting_started": {"event": "meeting_started", "meeting_id": 1, "order_id": 2,
                           "title": "standup", "from": "2026-11-23T07:00:00.000Z",
                           "to": "2026-11-23T08:00:00.000Z"},
    "ev_meeting_ended": {"event": "meeting_ended", "meeting_id": 1, "order_id": 2,
                         "ts": "2026-11-23T08:00:00.000Z"},
    "ev_unknown": {"event": "typing", "user_id": 7},
}
for code in ["bad_request", "unauthenticated", "invalid_credentials", "forbidden", "not_found",
             "meeting_inactive", "already_joined", "not_joined", "too_large", "rate_limited",
             "unavailable", "internal"]:
    SRV["error_" + code] = {"id": 20, "ok": False, "error": {"code": code, "message": code}}
for name, obj in SRV.items():
    write("server_frame", name, line(obj))
write("server_frame", "all_stream", "".join(line(o) for o in SRV.values()))
write("server_frame", "crlf_stream", "".join(line(o)[:-1] + "\r\n" for o in SRV.values()))
sedge = {
    "empty": b"",
    "blank": b" \r\n\n",
    "not_object": b"[1,2]\n",
    "ok_without_result": b'{"id":1,"ok":true}\n',
    "ok_not_bool": b'{"id":1,"ok":1,"result":{}}\n',
    "id_float": b'{"id":1.5,"ok":true,"result":{}}\n',
    "id_huge_float": b'{"id":1e300,"ok":true,"result":{}}\n',
    "id_bool": b'{"id":true,"ok":true,"result":{}}\n',
    "id_u64": b'{"id":18446744073709551615,"ok":true,"result":{}}\n',
    "id_huge_int": b'{"id":123456789012345678901234567890,"ok":true,"result":{}}\n',
    "error_not_object": b'{"id":1,"ok":false,"error":"boom"}\n',
    "error_message_not_string": b'{"id":1,"ok":false,"error":{"code":"internal","message":5}}\n',
    "event_not_string": b'{"event":5,"meeting_id":1,"order_id":1}\n',
    "event_float_ids": b'{"event":"meeting_ended","meeting_id":1e300,"order_id":-1e300,'
                       b'"ts":"2026-11-23T08:00:00.000Z"}\n',
    "event_bad_ts": b'{"event":"meeting_ended","meeting_id":1,"order_id":1,"ts":"yesterday"}\n',
    "event_ts_number": b'{"event":"meeting_ended","meeting_id":1,"order_id":1,"ts":17}\n',
    "event_missing_fields": b'{"event":"joined","meeting_id":1}\n',
    "login_age_float": b'{"id":3,"ok":true,"result":{"user":{"user_id":7,"name":"a","email":"e",'
                       b'"age":1e20,"gender":null}}}\n',
    "login_age_big_int": b'{"id":3,"ok":true,"result":{"user":{"user_id":7,"name":"a",'
                         b'"email":"e","age":4294967297,"gender":null}}}\n',
    "meetings_not_array": b'{"id":4,"ok":true,"result":{"meetings":{"a":1}}}\n',
    "result_nested_5000": ('{"id":1,"ok":true,"result":' + "[" * 5000 + "]" * 5000 + "}\n").encode(),
    "result_nested_objects": ('{"id":1,"ok":true,"result":{"meetings":' + '{"a":' * 2000 + "1"
                              + "}" * 2000 + "}}\n").encode(),
    "bad_utf8": b'{"id":1,"ok":false,"error":{"code":"internal","message":"\xff\xfe"}}\n',
    "big_message": line({"event": "message", "meeting_id": 1, "order_id": 2,
                         "message_id": "m", "user_id": 1, "name": "n", "text": "y" * 100000,
                         "ts": "2026-11-23T07:33:08.123Z"}).encode(),
}
for name, data in sedge.items():
    write("server_frame", name, data)

# ---- frame_splitter ---------------------------------------------------------------------
# Trailer: 3 PRNG seed bytes, then the limit byte (< 0xC0: 64 KiB; 0xC0 + k: k + 1 bytes).
def stream(data, seed=b"\x01\x02\x03", limit_byte=b"\x00"):
    if isinstance(data, str):
        data = data.encode("utf-8")
    return data + seed + limit_byte

requests = "".join(line(o) for o in list(REQ.values())[:6])
write("frame_splitter", "empty", b"")
write("frame_splitter", "requests", stream(requests))
write("frame_splitter", "requests_crlf", stream(requests.replace("\n", "\r\n"), b"\x07\x00\x09"))
write("frame_splitter", "newlines_only", stream("\n\r\n\n\r\r\n", b"\xff\xff\xff"))
write("frame_splitter", "small_limit_8", stream("1234567\n12345678\nabc\n", b"\x10\x20\x30", b"\xc7"))
write("frame_splitter", "small_limit_1", stream("\n\nx\n", b"\x00\x00\x01", b"\xc0"))
write("frame_splitter", "small_limit_crlf", stream("123456\r\n1234567\r\n", b"\x05\x04\x03", b"\xc7"))
write("frame_splitter", "tail_no_newline", stream("abc\ndef", b"\x09\x08\x07"))
body = "a" * (LIMIT - 1)
write("frame_splitter", "frame_at_limit", stream(body + "\n" + "ok\n"))
write("frame_splitter", "frame_over_limit", stream(body + "a\n" + "lost\n", b"\x11\x22\x33"))
write("frame_splitter", "crlf_over_limit", stream(body + "\r\n", b"\x44\x55\x66"))
write("frame_splitter", "tail_at_limit", stream("ok\n" + body, b"\x77\x66\x55"))
write("frame_splitter", "tail_over_limit", stream("ok\n" + body + "a", b"\x12\x34\x56"))

# ---- text ---------------------------------------------------------------------------------
T = {
    "empty": b"",
    "ascii": b"plain ascii\x00\x7f",
    "multibyte": "h\u00e9llo \u4e16\u754c \U0001F600 \U0010FFFF \uffff \ud7ff \ue000".encode(),
    "white_space_all": "\t\n\x0b\x0c\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006"
                       "\u2007\u2008\u2009\u200a\u2028\u2029\u202f\u205f\u3000".encode(),
    "not_white_space": "\u180e\u200b\ufeff\u2060\x1c".encode(),
    "overlong_2": b"\xc0\x80\xc1\xbf",
    "overlong_3": b"\xe0\x80\x80\xe0\x9f\xbf",
    "overlong_4": b"\xf0\x80\x80\x80\xf0\x8f\xbf\xbf",
    "surrogates": b"\xed\xa0\x80\xed\xbf\xbf",
    "above_max": b"\xf4\x90\x80\x80\xf5\x80\x80\x80",
    "truncated": b"\xe4\xb8",
    "lone_continuation": b"\x80\xbf",
    "bytes_f8_ff": b"\xf8\xfc\xfe\xff",
    "ws_then_bad": b" \xff",
}
for name, data in T.items():
    write("text", name, data)

# ---- timestamp ----------------------------------------------------------------------------
TS = {
    "ms": "2026-11-23T07:33:08.123Z",
    "no_fraction": "2026-11-23T07:33:08Z",
    "offset": "2026-11-23T07:33:08.123+00:00",
    "long_fraction": "2026-11-23T07:33:08.123456789Z",
    "one_digit": "2026-11-23T07:33:08.1Z",
    "empty_fraction": "2026-11-23T07:33:08.Z",
    "leap_day": "2024-02-29T23:59:59.999Z",
    "not_leap_day": "2023-02-29T00:00:00Z",
    "century_not_leap": "1900-02-29T00:00:00Z",
    "leap_400": "2000-02-29T00:00:00Z",
    "year_0": "0000-01-01T00:00:00.000Z",
    "year_9999": "9999-12-31T23:59:59.999Z",
    "leap_second": "2016-12-31T23:59:60Z",
    "hour_24": "2026-11-23T24:00:00Z",
    "month_13": "2026-13-01T00:00:00Z",
    "day_0": "2026-01-00T00:00:00Z",
    "other_offset": "2026-11-23T07:33:08+01:00",
    "lowercase": "2026-11-23t07:33:08z",
    "space": "2026-11-23 07:33:08Z",
    "signs": "2026-+1-23T07:33:08Z",
    "trailing": "2026-11-23T07:33:08ZZ",
    "empty": "",
}
for name, data in TS.items():
    write("timestamp", name, data)
write("timestamp", "binary_8", b"\xff\xff\xff\xff\xff\xff\xff\x7f")
