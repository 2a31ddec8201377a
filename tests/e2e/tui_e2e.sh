#!/usr/bin/env bash
# chat-tui end to end: chatd on a free port, chat-tui in a detached 120x40 tmux session
# logging in through its login form, selecting and joining a fresh public meeting and
# posting; a second user (raw protocol over /dev/tcp) joins and posts. The first client's
# screen (tmux capture-pane) must show both messages and both participants.
#
# Usage: tui_e2e.sh CHATD CHAT_TUI
# Env:   CHAT_REDIS_HOST, CHAT_REDIS_PORT, CHAT_MYSQL_HOST, CHAT_MYSQL_PORT, CHAT_MYSQL_USER,
#        CHAT_MYSQL_PASSWORD, CHAT_MYSQL_DATABASE (exported by scripts/test); optional
#        CHAT_REDIS_PASSWORD. Exit 0 on success, 1 with the screen and logs printed otherwise.
set -uo pipefail

CHATD=${1:?usage: tui_e2e.sh CHATD CHAT_TUI}
TUI=${2:?usage: tui_e2e.sh CHATD CHAT_TUI}

# UTF-8 everywhere: chat-tui, tmux and grep must agree on multibyte text.
export LC_ALL=C.UTF-8

die() { echo "tui_e2e: $*" >&2; exit 1; }

for v in CHAT_REDIS_PORT CHAT_MYSQL_PORT CHAT_MYSQL_USER CHAT_MYSQL_PASSWORD CHAT_MYSQL_DATABASE; do
  [[ -n ${!v:-} ]] || die "$v is not set (run through scripts/test, which starts the services)"
done
CHAT_REDIS_HOST=${CHAT_REDIS_HOST:-127.0.0.1}
CHAT_MYSQL_HOST=${CHAT_MYSQL_HOST:-127.0.0.1}
for tool in tmux mariadb ss awk; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $CHATD ]] || die "chatd not found: $CHATD"
[[ -x $TUI ]] || die "chat-tui not found: $TUI"

# ---- unique names ------------------------------------------------------------------------
SUFFIX=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 8)
UA="tuia_$SUFFIX"     # logs in through chat-tui
UB="tuib_$SUFFIX"     # raw protocol client
TITLE="tui e2e $SUFFIX"
MSG_A="from tui h\u00e9llo \u4e16\u754c $SUFFIX"
MSG_A=$(printf "$MSG_A")
MSG_B=$(printf "raw says \xf0\x9f\x98\x80 ok $SUFFIX")   # with a wide emoji
# Argon2id hash of "john-pw" (CONTEXT.md); both users get it.
HASH='$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q'
PASSWORD=john-pw

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tui-e2e.XXXXXX")
# chat-tui keeps its config (last server and user) under $XDG_CONFIG_HOME: a private one,
# so the test neither reads nor writes the user's.
export XDG_CONFIG_HOME="$WORK/xdg"
TMUX_SOCKET="tui-e2e-$$-$SUFFIX"
tm() { tmux -u -L "$TMUX_SOCKET" -f /dev/null "$@"; }
CHATD_PID=""
MEETING_ID=""
RAW_OPEN=0

mysql_q() {
  mariadb --no-defaults --default-character-set=utf8mb4 -h"$CHAT_MYSQL_HOST" -P"$CHAT_MYSQL_PORT" \
    -u"$CHAT_MYSQL_USER" -p"$CHAT_MYSQL_PASSWORD" -N -B "$CHAT_MYSQL_DATABASE" "$@"
}

cleanup() {
  local rc=$?
  tm kill-server >/dev/null 2>&1
  if (( RAW_OPEN )); then exec 3>&-; fi
  if [[ -n $CHATD_PID ]] && kill -0 "$CHATD_PID" 2>/dev/null; then
    kill -TERM "$CHATD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CHATD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHATD_PID" 2>/dev/null
    wait "$CHATD_PID" 2>/dev/null
  fi
  # End the meeting so it does not linger in other tests' active_meetings.
  if [[ -n $MEETING_ID ]]; then
    mysql_q -e "UPDATE meeting_instance SET to_datetime = GREATEST(from_datetime + INTERVAL 1 SECOND, UTC_TIMESTAMP(3)) WHERE meeting_id = $MEETING_ID" >/dev/null 2>&1
  fi
  if (( rc == 0 )); then rm -rf "$WORK"; else echo "tui_e2e: logs kept in $WORK" >&2; fi
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
  echo "----- chatd log (last 40 lines) -----" >&2
  tail -n 40 "$WORK/chatd.log" >&2 2>/dev/null
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

# Columns of the screen: the panes are separated by U+2502; the participants pane is last,
# the meetings pane first (chat rows contain U+2502 too, but only between those two).
meetings_column() { screen | awk -F'\xe2\x94\x82' '{print $1}'; }
participants_column() { screen | awk -F'\xe2\x94\x82' 'NF > 2 {print $NF}'; }
screen_has() { screen | grep -qF -- "$1"; }
participants_have() { participants_column | grep -qF -- " $1"; }
selected_is_ours() { meetings_column | grep '^>' | grep -qF -- "$TITLE"; }
meeting_listed() { meetings_column | grep -qF -- "$TITLE"; }

# ---- data ----------------------------------------------------------------------------------
MEETING_ID=$(mysql_q <<SQL
INSERT INTO user (name, email, password_hash) VALUES
  ('$UA', '$UA@e2e.test', '$HASH'), ('$UB', '$UB@e2e.test', '$HASH');
INSERT INTO meeting (title, description, is_public) VALUES ('$TITLE', 'chat-tui e2e', TRUE);
SET @mid = LAST_INSERT_ID();
INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime)
  VALUES (@mid, 1, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR);
SELECT @mid;
SQL
) || die "cannot create users and meeting in MariaDB on port $CHAT_MYSQL_PORT"
[[ $MEETING_ID =~ ^[0-9]+$ ]] || die "unexpected meeting id '$MEETING_ID'"

# ---- chatd ---------------------------------------------------------------------------------
PORT=""
for _ in $(seq 100); do
  p=$(( 20000 + RANDOM % 20000 ))
  if [[ -z $(ss -ltnH "sport = :$p") ]]; then PORT=$p; break; fi
done
[[ -n $PORT ]] || die "no free port found"

export CHATD_MYSQL_PASSWORD=$CHAT_MYSQL_PASSWORD
if [[ -n ${CHAT_REDIS_PASSWORD:-} ]]; then export CHATD_REDIS_PASSWORD=$CHAT_REDIS_PASSWORD; fi
"$CHATD" --listen "127.0.0.1:$PORT" --node-id "tui-e2e-$SUFFIX" \
  --redis-host "$CHAT_REDIS_HOST" --redis-port "$CHAT_REDIS_PORT" \
  --mysql-host "$CHAT_MYSQL_HOST" --mysql-port "$CHAT_MYSQL_PORT" \
  --mysql-user "$CHAT_MYSQL_USER" --mysql-database "$CHAT_MYSQL_DATABASE" \
  --schedule-poll-ms 500 --log-level info </dev/null >"$WORK/chatd.log" 2>&1 &
CHATD_PID=$!
chatd_listening() {
  kill -0 "$CHATD_PID" 2>/dev/null || fail "chatd exited during start-up"
  grep -qs "listening on 127.0.0.1:$PORT" "$WORK/chatd.log"
}
wait_until 30 chatd_listening || fail "chatd did not report 'listening on 127.0.0.1:$PORT'"

# ---- second user: raw protocol over /dev/tcp ------------------------------------------------
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect to chatd on port $PORT"
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
rpc '"op":"hello","client":"tui_e2e"' || fail "hello: $RPC_REPLY"
rpc "\"op\":\"login\",\"user\":\"$UB\",\"password\":\"$PASSWORD\"" || fail "login $UB: $RPC_REPLY"
meeting_active() {
  rpc '"op":"active_meetings"' && [[ $RPC_REPLY == *"\"title\":\"$TITLE\""* ]]
}
wait_until 15 meeting_active || fail "meeting '$TITLE' never became active: $RPC_REPLY"

# ---- chat-tui in tmux -------------------------------------------------------------------------
tm new-session -d -s tui -x 120 -y 40 \
  "bash -c '\"\$0\" \"\$@\" 2>$WORK/tui.stderr; echo \"[chat-tui exited rc=\$?]\"; sleep 600' '$TUI' --server 127.0.0.1:$PORT" \
  || fail "cannot start tmux"
wait_until 10 screen_has "Password:" || fail "no login form"
screen_has "127.0.0.1:$PORT" || fail "login form does not show the server"
tm send-keys -t tui -l "$UA"
tm send-keys -t tui Enter
tm send-keys -t tui -l "$PASSWORD"
wait_until 5 screen_has "Password: *******" || fail "password not masked"
screen_has "$PASSWORD" && fail "password shown in clear"
tm send-keys -t tui Enter
wait_until 10 screen_has "[online]" || fail "chat-tui did not log in"
screen_has "$UA @ 127.0.0.1:$PORT" || fail "status line lacks user and server"
# The login is remembered for next time, without the password.
CONFIG="$XDG_CONFIG_HOME/chat-tui/config"
config_saved() { grep -qxF "server = 127.0.0.1:$PORT" "$CONFIG" 2>/dev/null && grep -qxF "user = $UA" "$CONFIG"; }
wait_until 5 config_saved || fail "config $CONFIG lacks the server and user: $(cat "$CONFIG" 2>&1)"
grep -qF "$PASSWORD" "$CONFIG" && fail "the password was written to $CONFIG"
wait_until 10 meeting_listed || fail "meeting '$TITLE' not in the meetings pane"

# Move the selection down to our meeting (the list may hold other tests' meetings).
for _ in $(seq 200); do
  selected_is_ours && break
  tm send-keys -t tui Down
  sleep 0.05
done
selected_is_ours || fail "could not select '$TITLE'"
tm send-keys -t tui Enter
wait_until 10 participants_have "$UA" || fail "joining did not list $UA in the participants pane"
screen_has " $TITLE [not joined]" && fail "meeting shown as not joined"

# Second user joins and chat-tui posts, then the second user posts.
rpc "\"op\":\"join\",\"meeting_id\":$MEETING_ID" || fail "join as $UB: $RPC_REPLY"
tm send-keys -t tui -l "$MSG_A"
tm send-keys -t tui Enter
wait_until 10 screen_has "$MSG_A" || fail "own message not shown"
rpc "\"op\":\"post\",\"meeting_id\":$MEETING_ID,\"text\":\"$MSG_B\"" || fail "post as $UB: $RPC_REPLY"

# ---- assertions on the first client's screen ----------------------------------------------------
wait_until 10 screen_has "$UB $(printf '\xe2\x94\x82') $MSG_B" || fail "message of $UB not shown with its author"
screen_has "$UA $(printf '\xe2\x94\x82') $MSG_A" || fail "message of $UA not shown with its author"
wait_until 10 participants_have "$UB" || fail "$UB not in the participants pane"
participants_have "$UA" || fail "$UA not in the participants pane"
participants_column | grep -qF "Participants (2)" || fail "participants pane does not count 2"
screen_has "$UB joined" || fail "no joined line for $UB"

# The raw client also received chat-tui's message (the server fanned it out).
raw_got_message_a() {
  local line
  while IFS= read -r -t 0.2 -u 3 line; do printf '%s\n' "$line" >>"$RAW_EVENTS"; done
  grep -F '"event":"message"' "$RAW_EVENTS" | grep -qF -- "$MSG_A"
}
wait_until 5 raw_got_message_a || fail "$UB never received the message event of $UA"

# ---- /quit restores the terminal and exits 0 -------------------------------------------------------
tm send-keys -t tui -l "/quit"
tm send-keys -t tui Enter
wait_until 5 screen_has "[chat-tui exited rc=0]" || fail "/quit did not exit cleanly"

echo "tui_e2e: OK ($UA and $UB in '$TITLE' on chatd port $PORT)"
