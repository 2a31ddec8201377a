#!/usr/bin/env python3
"""Raw protocol client (shared/PROTOCOL.md) for backup_restore_test.sh.

Subcommands:
  converse  --port P --password PW --user-a A --user-b B --m1 ID --m2 ID --posts N --out FILE
      Two users join meeting m1 (order 1), post N messages in turn with a few leaves and
      re-joins, and talk briefly in m2 (order 1), where A leaves. Writes what was posted and
      the expected event-log counts to FILE (JSON).
  more      --port P --password PW --user-a A --user-b B --m1 ID --posts N --out FILE
      N more messages in m1 from users already joined, and A leaves and re-joins.
  snapshot  --port P --password PW --user A --m1 ID --m2 ID --user-ids ID,ID --out FILE
      Reads back, as user A: messages of both instances (paged backwards and forwards,
      with explicit order_id 1), user_messages of each user id (paged), participants
      (m1; the error code for the ended m2) and join_times. Writes canonical JSON.
  check-posted --snapshot FILE --posted FILE...
      Asserts that the snapshot's m1/m2 messages are exactly the posted ones, in order.

Exit status 0 on success; 1 with a message on stderr otherwise.
"""
import argparse
import json
import select
import socket
import sys
import time

# A message_id below every real one: stream id 0-0 written fixed-width.
ZERO_ID = "000000000000000-0000000000"


class Client:
    """One connection: requests answered in order; events kept apart."""

    def __init__(self, port, name):
        self.name = name
        self.sock = socket.create_connection(("127.0.0.1", port), timeout=15)
        self.buf = b""
        self.next_id = 1
        self.events = []

    def _lines(self, timeout):
        """Yields complete lines, waiting up to timeout s for more data."""
        deadline = time.monotonic() + timeout
        while True:
            while b"\n" in self.buf:
                line, self.buf = self.buf.split(b"\n", 1)
                if line.strip():
                    yield json.loads(line.decode("utf-8"))
            left = deadline - time.monotonic()
            if left <= 0:
                return
            ready, _, _ = select.select([self.sock], [], [], left)
            if not ready:
                return
            chunk = self.sock.recv(1 << 16)
            if not chunk:
                raise RuntimeError(f"{self.name}: server closed the connection")
            self.buf += chunk

    def drain(self):
        """Reads whatever events are waiting (keeps the server's outbound queue short)."""
        for frame in self._lines(0):
            self.events.append(frame)

    def call(self, op, **params):
        """Sends one request; returns its result, raises on an error response."""
        rid = self.next_id
        self.next_id += 1
        req = {"id": rid, "op": op}
        req.update(params)
        self.sock.sendall((json.dumps(req, ensure_ascii=False) + "\n").encode("utf-8"))
        for frame in self._lines(15):
            if frame.get("id") == rid:
                if frame.get("ok"):
                    return frame["result"]
                raise ProtocolError(op, frame.get("error", {}))
            self.events.append(frame)
        raise RuntimeError(f"{self.name}: no response to {op} (id {rid})")

    def close(self):
        self.sock.close()


class ProtocolError(Exception):
    def __init__(self, op, error):
        super().__init__(f"{op}: {error.get('code')}: {error.get('message')}")
        self.code = error.get("code")


def login(port, user, password):
    c = Client(port, user)
    c.call("hello", client="backup_restore_test")
    c.call("login", user=user, password=password)
    return c


def wait_active(client, meeting_ids, secs=20):
    deadline = time.monotonic() + secs
    while True:
        active = {m["meeting_id"] for m in client.call("active_meetings")["meetings"]}
        if set(meeting_ids) <= active:
            return
        if time.monotonic() > deadline:
            raise RuntimeError(f"meetings {meeting_ids} not active (active: {sorted(active)})")
        time.sleep(0.2)


def text_for(i, who):
    # Characters a dump/restore must carry intact: quotes, backslash, tab, newline,
    # 2-, 3- and 4-byte UTF-8, SQL-ish text.
    extras = ["plain", "quote ' and \" here", "back\\slash", "tab\there", "caf\u00e9 \u4e16\u754c",
              "emoji \U0001F600\U0001F680", "'); DROP TABLE message; --", "multi\nline"]
    return f"#{i} from {who}: {extras[i % len(extras)]}"


def post(client, meeting, text, posted):
    r = client.call("post", meeting_id=meeting, order_id=1, text=text)
    posted.append({"meeting_id": meeting, "message_id": r["message_id"], "text": text,
                   "user": client.name})


def converse(a):
    ca = login(a.port, a.user_a, a.password)
    cb = login(a.port, a.user_b, a.password)
    wait_active(ca, [a.m1, a.m2])
    posted = []
    events = {"m1_join": 0, "m1_leave": 0, "m2_join": 0, "m2_leave": 0}

    def join(c, m, key):
        c.call("join", meeting_id=m, order_id=1)
        events[key + "_join"] += 1

    def leave(c, m, key):
        c.call("leave", meeting_id=m, order_id=1)
        events[key + "_leave"] += 1

    join(ca, a.m1, "m1")
    join(cb, a.m1, "m1")
    for i in range(a.posts):
        # Mostly alternating, sometimes runs of one user.
        c = ca if (i % 5) in (0, 2, 3) else cb
        post(c, a.m1, text_for(i, c.name), posted)
        ca.drain()
        cb.drain()
        if i % 60 == 59:
            leave(ca, a.m1, "m1")
            join(ca, a.m1, "m1")
        if i % 90 == 89:
            leave(cb, a.m1, "m1")
            join(cb, a.m1, "m1")
    # m2: a short talk; A leaves, B stays until the meeting ends.
    join(ca, a.m2, "m2")
    for i in range(15):
        post(ca, a.m2, text_for(1000 + i, ca.name), posted)
    join(cb, a.m2, "m2")
    for i in range(10):
        c = ca if i % 2 else cb
        post(c, a.m2, text_for(2000 + i, c.name), posted)
    leave(ca, a.m2, "m2")
    ca.close()
    cb.close()
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"posted": posted, "events": events}, f, ensure_ascii=False, indent=1)


def more(a):
    ca = login(a.port, a.user_a, a.password)
    cb = login(a.port, a.user_b, a.password)
    posted = []
    for i in range(a.posts):
        c = cb if i % 2 else ca
        post(c, a.m1, text_for(5000 + i, c.name), posted)
        ca.drain()
        cb.drain()
    # Changes the join order: A is now after B.
    ca.call("leave", meeting_id=a.m1, order_id=1)
    ca.call("join", meeting_id=a.m1, order_id=1)
    ca.close()
    cb.close()
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump({"posted": posted, "events": {"m1_join": 1, "m1_leave": 1}}, f,
                  ensure_ascii=False, indent=1)


def page_backwards(c, op, limit, **params):
    """Every message, fetched newest page first with `before`, returned oldest first."""
    pages = []
    before = None
    while True:
        args = dict(params, limit=limit)
        if before is not None:
            args["before"] = before
        msgs = c.call(op, **args)["messages"]
        if not msgs:
            break
        pages.append(msgs)
        before = msgs[0]["message_id"]
        if len(pages) > 10000:
            raise RuntimeError("paging does not end")
    out = []
    for p in reversed(pages):
        out.extend(p)
    return out


def page_forwards(c, op, limit, **params):
    out = []
    after = ZERO_ID
    while True:
        msgs = c.call(op, after=after, limit=limit, **params)["messages"]
        if not msgs:
            return out
        out.extend(msgs)
        after = msgs[-1]["message_id"]
        if len(out) > 1000000:
            raise RuntimeError("paging does not end")


def snapshot(a):
    c = login(a.port, a.user, a.password)
    snap = {}
    for key, m in (("m1", a.m1), ("m2", a.m2)):
        inst = {}
        inst["messages"] = page_backwards(c, "messages", 37, meeting_id=m, order_id=1)
        forwards = page_forwards(c, "messages", 41, meeting_id=m, order_id=1)
        if forwards != inst["messages"]:
            raise RuntimeError(f"{key}: paging forwards and backwards disagree")
        inst["user_messages"] = {}
        for uid in a.user_ids:
            um = page_backwards(c, "user_messages", 23, meeting_id=m, order_id=1, user_id=uid)
            inst["user_messages"][str(uid)] = um
            if um != [x for x in inst["messages"] if x["user_id"] == uid]:
                raise RuntimeError(f"{key}: user_messages of {uid} differ from messages")
        try:
            inst["participants"] = c.call("participants", meeting_id=m, order_id=1)["participants"]
        except ProtocolError as e:
            inst["participants"] = {"error": e.code}
        snap[key] = inst
    snap["join_times"] = c.call("join_times")["meetings"]
    c.close()
    with open(a.out, "w", encoding="utf-8") as f:
        json.dump(snap, f, ensure_ascii=False, sort_keys=True, indent=1)
    counts = {k: len(snap[k]["messages"]) for k in ("m1", "m2")}
    print(f"snapshot: {counts['m1']} messages in m1, {counts['m2']} in m2, "
          f"{len(snap['m1']['participants'])} participants in m1")


def check_posted(a):
    with open(a.snapshot, encoding="utf-8") as f:
        snap = json.load(f)
    posted = []
    for p in a.posted:
        with open(p, encoding="utf-8") as f:
            posted.extend(json.load(f)["posted"])
    for key, m in (("m1", a.m1), ("m2", a.m2)):
        want = [(p["message_id"], p["text"]) for p in posted if p["meeting_id"] == m]
        got = [(x["message_id"], x["text"]) for x in snap[key]["messages"]]
        if got != want:
            raise RuntimeError(f"{key}: read back {len(got)} messages, posted {len(want)}; "
                               f"first difference at "
                               f"{next((i for i, (g, w) in enumerate(zip(got, want)) if g != w), min(len(got), len(want)))}")


def main():
    p = argparse.ArgumentParser()
    sub = p.add_subparsers(dest="cmd", required=True)
    for name in ("converse", "more"):
        s = sub.add_parser(name)
        s.add_argument("--port", type=int, required=True)
        s.add_argument("--password", required=True)
        s.add_argument("--user-a", required=True)
        s.add_argument("--user-b", required=True)
        s.add_argument("--m1", type=int, required=True)
        s.add_argument("--m2", type=int, default=0)
        s.add_argument("--posts", type=int, required=True)
        s.add_argument("--out", required=True)
    s = sub.add_parser("snapshot")
    s.add_argument("--port", type=int, required=True)
    s.add_argument("--password", required=True)
    s.add_argument("--user", required=True)
    s.add_argument("--m1", type=int, required=True)
    s.add_argument("--m2", type=int, required=True)
    s.add_argument("--user-ids", type=lambda v: [int(x) for x in v.split(",")], required=True)
    s.add_argument("--out", required=True)
    s = sub.add_parser("check-posted")
    s.add_argument("--snapshot", required=True)
    s.add_argument("--m1", type=int, required=True)
    s.add_argument("--m2", type=int, required=True)
    s.add_argument("--posted", nargs="+", required=True)
    a = p.parse_args()
    try:
        {"converse": converse, "more": more, "snapshot": snapshot,
         "check-posted": check_posted}[a.cmd](a)
    except Exception as e:  # one line for the test log
        print(f"chat_client {a.cmd}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
