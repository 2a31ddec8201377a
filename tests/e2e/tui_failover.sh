#!/usr/bin/env bash
# chat-tui failover end to end: two chatd nodes (A and B) on one Redis + MariaDB; chat-tui in
# a detached 120x40 tmux session started with --server A --server B, logged in and in a fresh
# public meeting on node A; a second user (raw protocol over /dev/tcp) on node B. B posts
# message 1; node A is killed with SIGKILL; while chat-tui reconnects, B posts messages 2
# and 3. chat-tui must come back on node B by itself and show messages 1, 2 and 3 exactly
# once each and in order, its status line must name node B and say online, and its seat
# must have been kept (participants pane still lists the user, no "left" line, also once the
# 10 s grace period is over). Prints the time from the kill to the status line showing
# online on B.
#
# Usage: tui_failover.sh CHATD CHAT_TUI
# Env:   CHAT_REDIS_HOST, CHAT_REDIS_PORT, CHAT_MYSQL_HOST, CHAT_MYSQL_PORT, CHAT_MYSQL_USER,
#        CHAT_MYSQL_PASSWORD, CHAT_MYSQL_DATABASE (exported by scripts/test); optional
#        CHAT_REDIS_PASSWORD. Exit 0 on success, 1 with the screen and logs printed otherwise.
set -uo pipefail

CHATD=${1:?usage: tui_failover.sh CHATD CHAT_TUI}
TUI=${2:?usage: tui_failover.sh CHATD CHAT_TUI}

# UTF-8 everywhere: chat-tui, tmux and grep must agree on multibyte text.
export LC_ALL=C.UTF-8

die() { echo "tui_failover: $*" >&2; exit 1; }

for v in CHAT_REDIS_PORT CHAT_MYSQL_PORT CHAT_MYSQL_USER CHAT_MYSQL_PASSWORD CHAT_MYSQL_DATABASE; do
  [[ -n ${!v:-} ]] || die "$v is not set (run through scripts/test, which starts the services)"
done
CHAT_REDIS_HOST=${CHAT_REDIS_HOST:-127.0.0.1}
CHAT_MYSQL_HOST=${CHAT_MYSQL_HOST:-127.0.0.1}
for tool in tmux mariadb ss awk date; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $CHATD ]] || die "chatd not found: $CHATD"
[[ -x $TUI ]] || die "chat-tui not found: $TUI"

# ---- unique names ------------------------------------------------------------------------
SUFFIX=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 8)
UA="tfoa_$SUFFIX"     # chat-tui
UB="tfob_$SUFFIX"     # raw protocol client on node B
TITLE="tui fo $SUFFIX"   # short: the meetings pane shows it whole
NODE_A="tfo-a-$SUFFIX"
NODE_B="tfo-b-$SUFFIX"
MSG1="first before failover $SUFFIX"
MSG2="second during failover $SUFFIX"
MSG3=$(printf "third during failover \xe4\xb8\x96\xe7\x95\x8c $SUFFIX")
# Argon2id hash of "john-pw" (CONTEXT.md); both users get it.
HASH='$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q'
PASSWORD=john-pw
SEP=$(printf '\xe2\x94\x82')   # U+2502 between panes and after the chat author

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tui-failover.XXXXXX")
# chat-tui keeps its config (last server and user) under $XDG_CONFIG_HOME: a private one,
# so the test neither reads nor writes the user's.
export XDG_CONFIG_HOME="$WORK/xdg"
TMUX_SOCKET="tui-fo-$$-$SUFFIX"
tm() { tmux -u -L "$TMUX_SOCKET" -f /dev/null "$@"; }
PID_A=""
PID_B=""
MEETING_ID=""
RAW_OPEN=0

mysql_q() {
  mariadb --no-defaults --default-character-set=utf8mb4 -h"$CHAT_MYSQL_HOST" -P"$CHAT_MYSQL_PORT" \
    -u"$CHAT_MYSQL_USER" -p"$CHAT_MYSQL_PASSWORD" -N -B "$CHAT_MYSQL_DATABASE" "$@"
}

stop_chatd() {
  local pid=$1
  [[ -n $pid ]] || return 0
  if kill -0 "$pid" 2>/dev/null; then
    kill -TERM "$pid" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$pid" 2>/dev/null
  fi
  wait "$pid" 2>/dev/null
}

cleanup() {
  local rc=$?
  tm kill-server >/dev/null 2>&1
  if (( RAW_OPEN )); then exec 3>&-; fi
  stop_chatd "$PID_A"
  stop_chatd "$PID_B"
  # End the meeting so it does not linger in other tests' active_meetings.
  if [[ -n $MEETING_ID ]]; then
    mysql_q -e "UPDATE meeting_instance SET to_datetime = GREATEST(from_datetime + INTERVAL 1 SECOND, UTC_TIMESTAMP(3)) WHERE meeting_id = $MEETING_ID" >/dev/null 2>&1
  fi
  if (( rc == 0 )); then rm -rf "$WORK"; else echo "tui_failover: logs kept in $WORK" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

screen() { tm capture-pane -p -t tui 2>/dev/null; }

fail() {
  echo "FAIL: $*" >&2
  echo "----- chat-tui screen (120x40) -----" >&2
  screen >&2
  echo "----- chat-tui stderr -----" >&2
  cat "$WORK/tui.stderr" >&2 2>/dev/null
  for n in a b; do
    echo "----- chatd $n log (last 30 lines) -----" >&2
    tail -n 30 "$WORK/chatd-$n.log" >&2 2>/dev/null
  done
  exit 1
}

# Polls a command every 0.2 s until it succeeds or `secs` seconds pass.
wait_until() {
  local secs=$1; shift
  local tries=$(( secs * 5 ))
  for (( i = 0; i < tries; i++ )); do
    "$@" && return 0
    sleep 0.2
  done
  "$@"
}

now_ms() { echo $(( $(date +%s%N) / 1000000 )); }

# Columns of the screen: the panes are separated by U+2502; the participants pane is last,
# the meetings pane first. The status line is the second-to-last row.
meetings_column() { screen | awk -F"$SEP" '{print $1}'; }
participants_column() { screen | awk -F"$SEP" 'NF > 2 {print $NF}'; }
status_line() { screen | tail -n 2 | head -n 1; }
screen_has() { screen | grep -qF -- "$1"; }
participants_have() { participants_column | grep -qF -- " $1"; }
selected_is_ours() { meetings_column | grep '^>' | grep -qF -- "$TITLE"; }
meeting_listed() { meetings_column | grep -qF -- "$TITLE"; }
status_has() { status_line | grep -qF -- "$1"; }

# ---- data ----------------------------------------------------------------------------------
MEETING_ID=$(mysql_q <<SQL
INSERT INTO user (name, email, password_hash) VALUES
  ('$UA', '$UA@e2e.test', '$HASH'), ('$UB', '$UB@e2e.test', '$HASH');
INSERT INTO meeting (title, description, is_public) VALUES ('$TITLE', 'chat-tui failover', TRUE);
SET @mid = LAST_INSERT_ID();
INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime)
  VALUES (@mid, 1, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR);
SELECT @mid;
SQL
) || die "cannot create users and meeting in MariaDB on port $CHAT_MYSQL_PORT"
[[ $MEETING_ID =~ ^[0-9]+$ ]] || die "unexpected meeting id '$MEETING_ID'"

# ---- two chatd nodes -------------------------------------------------------------------------
free_port() {
  local p
  for _ in $(seq 100); do
    p=$(( 20000 + RANDOM % 20000 ))
    [[ $p == "${1:-}" ]] && continue
    if [[ -z $(ss -ltnH "sport = :$p") ]]; then echo "$p"; return 0; fi
  done
  return 1
}
PORT_A=$(free_port) || die "no free port found"
PORT_B=$(free_port "$PORT_A") || die "no free port found"
ADDR_A="127.0.0.1:$PORT_A"
ADDR_B="127.0.0.1:$PORT_B"

export CHATD_MYSQL_PASSWORD=$CHAT_MYSQL_PASSWORD
if [[ -n ${CHAT_REDIS_PASSWORD:-} ]]; then export CHATD_REDIS_PASSWORD=$CHAT_REDIS_PASSWORD; fi
start_chatd() {  # start_chatd PORT NODE LOG
  "$CHATD" --listen "127.0.0.1:$1" --node-id "$2" \
    --redis-host "$CHAT_REDIS_HOST" --redis-port "$CHAT_REDIS_PORT" \
    --mysql-host "$CHAT_MYSQL_HOST" --mysql-port "$CHAT_MYSQL_PORT" \
    --mysql-user "$CHAT_MYSQL_USER" --mysql-database "$CHAT_MYSQL_DATABASE" \
    --schedule-poll-ms 300 --grace-ms 10000 --heartbeat-ms 500 --log-level info \
    </dev/null >"$3" 2>&1 &
}
start_chatd "$PORT_A" "$NODE_A" "$WORK/chatd-a.log"
PID_A=$!
start_chatd "$PORT_B" "$NODE_B" "$WORK/chatd-b.log"
PID_B=$!
chatd_listening() {  # chatd_listening PID PORT LOG
  kill -0 "$1" 2>/dev/null || fail "chatd on port $2 exited during start-up"
  grep -qs "listening on 127.0.0.1:$2" "$3"
}
wait_until 30 chatd_listening "$PID_A" "$PORT_A" "$WORK/chatd-a.log" \
  || fail "chatd A did not report 'listening on $ADDR_A'"
wait_until 30 chatd_listening "$PID_B" "$PORT_B" "$WORK/chatd-b.log" \
  || fail "chatd B did not report 'listening on $ADDR_B'"

# ---- second user: raw protocol over /dev/tcp, on node B --------------------------------------
exec 3<>"/dev/tcp/127.0.0.1/$PORT_B" || fail "cannot connect to chatd B on port $PORT_B"
RAW_OPEN=1
NEXT_ID=1
RPC_REPLY=""
RAW_EVENTS="$WORK/raw_events.jsonl"
: >"$RAW_EVENTS"
# rpc '"op":"x",...': sends one request and reads frames until its response; RPC_REPLY
# holds that line, other frames (events) go to RAW_EVENTS. Succeeds on "ok":true.
rpc() {
  local id=$NEXT_ID line
  NEXT_ID=$(( NEXT_ID + 1 ))
  printf '{"id":%d,%s}\n' "$id" "$1" >&3
  local deadline=$(( SECONDS + 10 ))
  while (( SECONDS < deadline )); do
    IFS= read -r -t 10 -u 3 line || break
    if [[ $line =~ \"id\":[[:space:]]*$id[[:space:]]*[,}] ]]; then
      RPC_REPLY=$line
      [[ $line =~ \"ok\":[[:space:]]*true ]]
      return
    fi
    printf '%s\n' "$line" >>"$RAW_EVENTS"
  done
  RPC_REPLY="(no response to request $id)"
  return 1
}
rpc '"op":"hello","client":"tui_failover"' || fail "hello: $RPC_REPLY"
[[ $RPC_REPLY == *"\"node\":\"$NODE_B\""* ]] || fail "raw client is not on node B: $RPC_REPLY"
rpc "\"op\":\"login\",\"user\":\"$UB\",\"password\":\"$PASSWORD\"" || fail "login $UB: $RPC_REPLY"
meeting_active() {
  rpc '"op":"active_meetings"' && [[ $RPC_REPLY == *"\"title\":\"$TITLE\""* ]]
}
wait_until 15 meeting_active || fail "meeting '$TITLE' never became active: $RPC_REPLY"
both_nodes_live() {
  rpc '"op":"nodes"' && [[ $RPC_REPLY == *"\"$ADDR_A\""* && $RPC_REPLY == *"\"$ADDR_B\""* ]]
}
wait_until 10 both_nodes_live || fail "nodes does not list both nodes: $RPC_REPLY"
rpc "\"op\":\"join\",\"meeting_id\":$MEETING_ID" || fail "join as $UB: $RPC_REPLY"

# ---- chat-tui in tmux, on node A ----------------------------------------------------------------
tm new-session -d -s tui -x 120 -y 40 \
  "bash -c '\"\$0\" \"\$@\" 2>$WORK/tui.stderr; echo \"[chat-tui exited rc=\$?]\"; sleep 600' '$TUI' --server $ADDR_A --server $ADDR_B --user $UA --password $PASSWORD" \
  || fail "cannot start tmux"
wait_until 10 status_has "$UA @ $ADDR_A ($NODE_A) [online]" \
  || fail "chat-tui did not come online on node A ($ADDR_A)"
wait_until 10 meeting_listed || fail "meeting '$TITLE' not in the meetings pane"
for _ in $(seq 200); do
  selected_is_ours && break
  tm send-keys -t tui Down
  sleep 0.05
done
selected_is_ours || fail "could not select '$TITLE'"
tm send-keys -t tui Enter
wait_until 10 participants_have "$UA" || fail "joining did not list $UA in the participants pane"
wait_until 10 participants_have "$UB" || fail "$UB not in the participants pane"

# ---- message 1 before the failover ---------------------------------------------------------------
rpc "\"op\":\"post\",\"meeting_id\":$MEETING_ID,\"text\":\"$MSG1\"" || fail "post 1: $RPC_REPLY"
wait_until 10 screen_has "$UB $SEP $MSG1" || fail "message 1 (posted on node B) not shown"

# ---- kill -9 node A; messages 2 and 3 while chat-tui reconnects ----------------------------------
T_KILL=$(now_ms)
disown "$PID_A" 2>/dev/null   # no "Killed" job notice from bash in the test log
kill -KILL "$PID_A" || fail "cannot kill chatd A"
for _ in $(seq 200); do kill -0 "$PID_A" 2>/dev/null || break; sleep 0.01; done
PID_A=""
rpc "\"op\":\"post\",\"meeting_id\":$MEETING_ID,\"text\":\"$MSG2\"" || fail "post 2: $RPC_REPLY"
rpc "\"op\":\"post\",\"meeting_id\":$MEETING_ID,\"text\":\"$MSG3\"" || fail "post 3: $RPC_REPLY"
T_POSTED=$(now_ms)

# Time to the status line naming node B and online (polled every ~20 ms).
ONLINE_B="$UA @ $ADDR_B ($NODE_B) [online]"
T_ONLINE=""
SAW_RECONNECTING=0
for _ in $(seq 1500); do
  line=$(status_line)
  if [[ $line == *"$ONLINE_B"* ]]; then T_ONLINE=$(now_ms); break; fi
  [[ $line == *"[reconnecting in "* ]] && SAW_RECONNECTING=1
  sleep 0.02
done
[[ -n $T_ONLINE ]] || fail "status line never showed '$ONLINE_B' within 30 s"
FAILOVER_MS=$(( T_ONLINE - T_KILL ))

# ---- assertions on chat-tui's screen ---------------------------------------------------------------
wait_until 10 screen_has "$UB $SEP $MSG3" || fail "message 3 not shown after the failover"
screen >"$WORK/screen.txt"
for m in "$MSG1" "$MSG2" "$MSG3"; do
  n=$(grep -cF -- "$UB $SEP $m" "$WORK/screen.txt")
  [[ $n == 1 ]] || fail "message '$m' shown $n times, expected once"
done
L1=$(grep -nF -- "$MSG1" "$WORK/screen.txt" | cut -d: -f1)
L2=$(grep -nF -- "$MSG2" "$WORK/screen.txt" | cut -d: -f1)
L3=$(grep -nF -- "$MSG3" "$WORK/screen.txt" | cut -d: -f1)
(( L1 < L2 && L2 < L3 )) || fail "messages out of order (rows $L1, $L2, $L3)"
status_has "$ONLINE_B" || fail "status line no longer '$ONLINE_B'"
# (the notice may wrap after the node name)
grep -qF "connection to $ADDR_A ($NODE_A)" "$WORK/screen.txt" \
  || fail "no notice that the connection to node A was lost"
grep -qF "Back in $TITLE" "$WORK/screen.txt" || fail "seat not kept: no 'Back in $TITLE'"
grep -qF "Rejoined $TITLE" "$WORK/screen.txt" && fail "seat was lost (re-joined with a new seat)"
grep -qF "$UA left" "$WORK/screen.txt" && fail "a left line for $UA was shown"
wait_until 5 participants_have "$UA" || fail "$UA missing from the participants pane after failover"
participants_have "$UB" || fail "$UB missing from the participants pane after failover"

# ---- the seat outlives the grace period ------------------------------------------------------------
# The survivors time out the users of a dead node after the grace period (10 s) unless they
# came back; chat-tui did, so nothing must happen to its seat. The raw client must not see
# a left event for it either.
sleep 12
screen >"$WORK/screen-late.txt"
grep -qF "$UA left" "$WORK/screen-late.txt" && fail "$UA left after the grace period"
participants_have "$UA" || fail "$UA gone from the participants pane after the grace period"
status_has "$ONLINE_B" || fail "status line no longer '$ONLINE_B' after the grace period"
rpc '"op":"ping"' || fail "ping on B: $RPC_REPLY"
grep -F '"event":"left"' "$RAW_EVENTS" | grep -qF "\"name\":\"$UA\"" \
  && fail "$UB saw $UA leave: $(grep -F '"event":"left"' "$RAW_EVENTS")"
rpc "\"op\":\"participants\",\"meeting_id\":$MEETING_ID" || fail "participants: $RPC_REPLY"
[[ $RPC_REPLY == *"\"name\":\"$UA\""* ]] || fail "server does not list $UA as participant: $RPC_REPLY"

# ---- /quit exits 0 ----------------------------------------------------------------------------------
tm send-keys -t tui -l "/quit"
tm send-keys -t tui Enter
wait_until 5 screen_has "[chat-tui exited rc=0]" || fail "/quit did not exit cleanly"

POST_MS=$(( T_POSTED - T_KILL ))
if (( POST_MS < 140 )); then
  echo "tui_failover: messages 2 and 3 posted on B $POST_MS ms after the kill, before the first reconnect attempt (>= 140 ms): shown through the catch-up"
else
  echo "tui_failover: messages 2 and 3 posted on B $POST_MS ms after the kill"
fi
(( SAW_RECONNECTING )) && echo "tui_failover: the status line showed 'reconnecting in ...' meanwhile"
echo "tui_failover: failover time (kill -9 of node A -> status line '$ONLINE_B'): $FAILOVER_MS ms"
echo "tui_failover: OK (messages 1-3 once each and in order; seat kept past the grace period; A=$ADDR_A B=$ADDR_B)"
