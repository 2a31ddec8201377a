#!/usr/bin/env bash
# chat-tui's screen, end to end: chatd on a free port; chat-tui A (user UA, 256 colours) in a
# detached 120x40 tmux window; chat-tui C (user UC, NO_COLOR) in a second window; user UB
# speaks the raw protocol over /dev/tcp. Every check reads tmux's captured screen:
#   - history appears on join (45 messages posted before A joins);
#   - scrollback: PgUp, Home, End;
#   - Tab completes a participant name in the input line;
#   - live messages of other clients (C's chat-tui, B's raw connection) appear;
#   - the unread count of a meeting not on screen rises, a mention marks it (3@) and rings
#     the bell; opening it shows the "new messages" marker above the first unread message;
#   - a message of wide characters (CJK, emoji) wraps inside the chat pane with nothing
#     lost, and the pane separators stay in their columns;
#   - resizing to 60x20 and back keeps the layout (title, panes, status, input);
#   - /who, /msgs, /jointimes, the help overlay, F8 (hide a pane) and a mouse click work;
#   - 256 colours are used on a 256-colour terminal and none at all with NO_COLOR;
#   - the config file keeps the server and user, never the password.
# With TUI_E2E_CAPTURE_DIR set, the 120x40 and 60x20 screens are copied there.
#
# Usage: tui_screen_e2e.sh CHATD CHAT_TUI
# Env:   CHAT_REDIS_HOST, CHAT_REDIS_PORT, CHAT_MYSQL_HOST, CHAT_MYSQL_PORT, CHAT_MYSQL_USER,
#        CHAT_MYSQL_PASSWORD, CHAT_MYSQL_DATABASE (exported by scripts/test); optional
#        CHAT_REDIS_PASSWORD. Exit 0 on success, 1 with the screen and logs printed otherwise.
set -uo pipefail

CHATD=${1:?usage: tui_screen_e2e.sh CHATD CHAT_TUI}
TUI=${2:?usage: tui_screen_e2e.sh CHATD CHAT_TUI}

# UTF-8 everywhere: chat-tui, tmux, grep and wc -L must agree on multibyte text.
export LC_ALL=C.UTF-8

die() { echo "tui_screen_e2e: $*" >&2; exit 1; }

for v in CHAT_REDIS_PORT CHAT_MYSQL_PORT CHAT_MYSQL_USER CHAT_MYSQL_PASSWORD CHAT_MYSQL_DATABASE; do
  [[ -n ${!v:-} ]] || die "$v is not set (run through scripts/test, which starts the services)"
done
CHAT_REDIS_HOST=${CHAT_REDIS_HOST:-127.0.0.1}
CHAT_MYSQL_HOST=${CHAT_MYSQL_HOST:-127.0.0.1}
for tool in tmux mariadb ss awk wc; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $CHATD ]] || die "chatd not found: $CHATD"
[[ -x $TUI ]] || die "chat-tui not found: $TUI"
infocmp tmux-256color >/dev/null 2>&1 || die "terminfo entry tmux-256color is missing (ncurses-term)"

# ---- unique names ------------------------------------------------------------------------
SUFFIX=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 8)
UA="scra_$SUFFIX"     # chat-tui A: every screen check
UB="scrb_$SUFFIX"     # raw protocol client
UC="scrc_$SUFFIX"     # chat-tui C: a second real client, without colours
M1="scroll $SUFFIX"   # public, with a description; holds the history
M1_DESC="scrollback and wrapping"
M2="side $SUFFIX"     # private (audience UA and UB): the meeting not on screen
# Argon2id hash of "john-pw" (CONTEXT.md); all users get it.
HASH='$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q'
PASSWORD=john-pw
SEP=$(printf '\xe2\x94\x82')   # U+2502 between panes and after the chat author
CJK=$(printf '\xe4\xb8\x96\xe7\x95\x8c')   # 世界
EMOJI=$(printf '\xf0\x9f\x98\x80')         # 😀
WIDE="wrap$SUFFIX"
for _ in $(seq 30); do WIDE+=$CJK; done
WIDE+="$EMOJI${EMOJI}end$SUFFIX"   # 120 + 4 columns of wide characters, no spaces

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tui-screen-e2e.XXXXXX")
# chat-tui keeps its config (last server and user) under $XDG_CONFIG_HOME: private ones, so
# the test neither reads nor writes the user's.
TMUX_SOCKET="tui-scr-$$-$SUFFIX"
tm() { tmux -u -L "$TMUX_SOCKET" -f /dev/null "$@"; }
CHATD_PID=""
MEETING_IDS=()
RAW_OPEN=0
T0=$SECONDS

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
  # End the meetings so they do not linger in other tests' active_meetings.
  for id in "${MEETING_IDS[@]}"; do
    mysql_q -e "UPDATE meeting_instance SET to_datetime = GREATEST(from_datetime + INTERVAL 1 SECOND, UTC_TIMESTAMP(3)) WHERE meeting_id = $id" >/dev/null 2>&1
  done
  if (( rc == 0 )); then rm -rf "$WORK"; else echo "tui_screen_e2e: logs kept in $WORK" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

screen() { tm capture-pane -p -t "scr:${1:-a}" 2>/dev/null; }

fail() {
  echo "FAIL: $*" >&2
  for w in a c; do
    echo "----- chat-tui $w screen -----" >&2
    screen "$w" >&2
  done
  echo "----- chat-tui stderr -----" >&2
  cat "$WORK"/tui-*.stderr >&2 2>/dev/null
  echo "----- chatd log (last 30 lines) -----" >&2
  tail -n 30 "$WORK/chatd.log" >&2 2>/dev/null
  exit 1
}

# Polls a command every 0.1 s until it succeeds or `secs` seconds pass.
wait_until() {
  local secs=$1; shift
  local tries=$(( secs * 10 ))
  for (( i = 0; i < tries; i++ )); do
    "$@" && return 0
    sleep 0.1
  done
  "$@"
}

screen_has() { screen "${2:-a}" | grep -qF -- "$1"; }
screen_lacks() { ! screen "${2:-a}" | grep -qF -- "$1"; }
row() { screen "${2:-a}" | sed -n "${1}p"; }   # 1-based screen row
row_has() { row "$1" "${3:-a}" | grep -qF -- "$2"; }
title_has() { row_has 1 "$1"; }
status_has() { screen | tail -n 2 | head -n 1 | grep -qF -- "$1"; }
input_is() { [[ $(screen | tail -n 1 | sed 's/ *$//') == "$1" ]]; }
meetings_column() { screen | awk -F"$SEP" 'NF > 1 {print $1}'; }
meeting_row() { meetings_column | grep -F -- "$1" | head -n 1; }
participants_column() { screen | awk -F"$SEP" 'NF > 2 {print $NF}'; }
chat_line() { screen "${3:-a}" | grep -qF -- "$1 $SEP $2"; }   # "author │ text"
bell_flag() { tm display-message -p -t scr:a '#{window_bell_flag}'; }
# Sends the keys of a text literally, then Enter.
enter_line() { tm send-keys -t "scr:${2:-a}" -l "$1"; tm send-keys -t "scr:${2:-a}" Enter; }
# A mouse press (X10 encoding, as the terminal would send it) at 0-based row y, column x.
click() {
  local y=$1 x=$2 seq
  seq=$(printf '\033[M%b%b%b' '\x20' "\\x$(printf %x $((33 + x)))" "\\x$(printf %x $((33 + y)))")
  tm send-keys -t scr:a -l "$seq"
}

# The widths of the screen's rows must not exceed the terminal, and the two pane separators
# must stand in the same display column on every pane row (rows 2 .. rows-2): a wide
# character that overflowed would push them right.
check_layout() {
  local cols=$1 rows=$2 s n=0 first="" last="" line pre w
  s=$(screen)
  [[ $(printf '%s\n' "$s" | wc -l) -eq $rows ]] || { echo "not $rows rows"; return 1; }
  while IFS= read -r line; do
    n=$((n + 1))
    w=$(printf '%s' "$line" | wc -L)
    (( w <= cols )) || { echo "row $n is $w columns wide"; return 1; }
    (( n >= 2 && n <= rows - 2 )) || continue
    pre=${line%%"$SEP"*}
    [[ $pre != "$line" ]] || { echo "row $n has no separator: $line"; return 1; }
    w=$(printf '%s' "$pre" | wc -L)
    [[ -z $first ]] && first=$w
    (( w == first )) || { echo "row $n: left separator at $w, not $first"; return 1; }
    pre=${line%"$SEP"*}
    w=$(printf '%s' "$pre" | wc -L)
    [[ -z $last ]] && last=$w
    (( w == last )) || { echo "row $n: right separator at $w, not $last"; return 1; }
  done <<<"$s"
  (( last > first )) || { echo "only one separator"; return 1; }
  return 0
}

# Reassembles the wide message from the chat pane: the text column ($3 between the
# separators) of the rows from "wrap<suffix>" to "end<suffix>", spaces removed. Prints it
# and the number of rows it took.
wide_message() {
  screen | awk -F"$SEP" -v start="wrap$SUFFIX" -v stop="end$SUFFIX" '
    NF >= 4 && index($3, start) { on = 1 }
    on { t = $3; gsub(/ /, "", t); out = out t; rows++ }
    on && index($3, stop) { print out; print rows; exit }'
}
wide_ok() {
  local got
  got=$(wide_message)
  [[ $(head -n 1 <<<"$got") == "$WIDE" ]] && (( $(tail -n 1 <<<"$got") >= 2 ))
}

# ---- data ----------------------------------------------------------------------------------
IDS=$(mysql_q <<SQL
INSERT INTO user (name, email, password_hash) VALUES
  ('$UA', '$UA@e2e.test', '$HASH'), ('$UB', '$UB@e2e.test', '$HASH'), ('$UC', '$UC@e2e.test', '$HASH');
INSERT INTO meeting (title, description, is_public) VALUES ('$M1', '$M1_DESC', TRUE);
SET @m1 = LAST_INSERT_ID();
INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime)
  VALUES (@m1, 1, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR);
INSERT INTO meeting (title, description, is_public) VALUES ('$M2', NULL, FALSE);
SET @m2 = LAST_INSERT_ID();
INSERT INTO audience (meeting_id, email) VALUES (@m2, '$UA@e2e.test'), (@m2, '$UB@e2e.test');
INSERT INTO meeting_instance (meeting_id, order_id, from_datetime, to_datetime)
  VALUES (@m2, 1, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 2 HOUR);
SELECT @m1, @m2;
SQL
) || die "cannot create users and meetings in MariaDB on port $CHAT_MYSQL_PORT"
read -r M1_ID M2_ID <<<"$IDS"
[[ $M1_ID =~ ^[0-9]+$ && $M2_ID =~ ^[0-9]+$ ]] || die "unexpected meeting ids '$IDS'"
MEETING_IDS=("$M1_ID" "$M2_ID")

# ---- chatd ---------------------------------------------------------------------------------
PORT=""
for _ in $(seq 100); do
  p=$(( 20000 + RANDOM % 20000 ))
  if [[ -z $(ss -ltnH "sport = :$p") ]]; then PORT=$p; break; fi
done
[[ -n $PORT ]] || die "no free port found"

export CHATD_MYSQL_PASSWORD=$CHAT_MYSQL_PASSWORD
if [[ -n ${CHAT_REDIS_PASSWORD:-} ]]; then export CHATD_REDIS_PASSWORD=$CHAT_REDIS_PASSWORD; fi
"$CHATD" --listen "127.0.0.1:$PORT" --node-id "tui-scr-$SUFFIX" \
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

# ---- user B: raw protocol over /dev/tcp -----------------------------------------------------
exec 3<>"/dev/tcp/127.0.0.1/$PORT" || fail "cannot connect to chatd on port $PORT"
RAW_OPEN=1
NEXT_ID=1
RPC_REPLY=""
# rpc '"op":"x",...': sends one request and reads frames until its response (events are
# skipped). Succeeds on "ok":true.
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
  done
  RPC_REPLY="(no response to request $id)"
  return 1
}
post_b() { rpc "\"op\":\"post\",\"meeting_id\":$1,\"text\":\"$2\"" || fail "post as $UB: $RPC_REPLY"; }
rpc '"op":"hello","client":"tui_screen_e2e"' || fail "hello: $RPC_REPLY"
rpc "\"op\":\"login\",\"user\":\"$UB\",\"password\":\"$PASSWORD\"" || fail "login $UB: $RPC_REPLY"
both_active() {
  rpc '"op":"active_meetings"' && [[ $RPC_REPLY == *"\"title\":\"$M1\""* && $RPC_REPLY == *"\"title\":\"$M2\""* ]]
}
wait_until 15 both_active || fail "meetings never became active: $RPC_REPLY"
rpc "\"op\":\"join\",\"meeting_id\":$M1_ID" || fail "join $M1 as $UB: $RPC_REPLY"
rpc "\"op\":\"join\",\"meeting_id\":$M2_ID" || fail "join $M2 as $UB: $RPC_REPLY"
for i in $(seq -w 1 45); do post_b "$M1_ID" "hist $i $SUFFIX"; done

# ---- chat-tui A (256 colours) and C (NO_COLOR) in tmux -------------------------------------------
start_tui() {  # window user env...
  local win=$1 user=$2; shift 2
  local cmd="env XDG_CONFIG_HOME='$WORK/xdg-$win' TERM=tmux-256color $* '$TUI' --server 127.0.0.1:$PORT --user '$user' --password '$PASSWORD' 2>'$WORK/tui-$win.stderr'; echo \"[chat-tui exited rc=\$?]\"; sleep 600"
  if [[ $win == a ]]; then
    tm new-session -d -s scr -n a -x 120 -y 40 "$cmd" || fail "cannot start tmux"
  else
    tm new-window -d -t scr -n "$win" "$cmd" || fail "cannot open tmux window $win"
  fi
}
start_tui a "$UA"
wait_until 10 status_has "$UA @ 127.0.0.1:$PORT" || fail "chat-tui A did not start"
wait_until 10 status_has "[online]" || fail "chat-tui A did not log in"
start_tui c "$UC" NO_COLOR=1

# History appears on join.
enter_line "/join $M1"
wait_until 10 chat_line "$UB" "hist 45 $SUFFIX" || fail "history not shown after /join"
screen_lacks "hist 01 $SUFFIX" || fail "the whole history fits on one screen: scrollback is not tested"
title_has "$M1 — $M1_DESC" || fail "title bar lacks the meeting title and description"
title_has "public" || fail "title bar does not say public"
wait_until 5 eval 'participants_column | grep -qE "^ $UA +[0-9]{2}:[0-9]{2}"' \
  || fail "participants pane lacks $UA with a join time"
participants_column | grep -qE "^ $UB +[0-9]{2}:[0-9]{2}" || fail "participants pane lacks $UB with a join time"
echo "tui_screen_e2e: history on join ok ($((SECONDS - T0)) s)"

# Scrollback: PgUp leaves the newest lines, Home reaches the oldest, End comes back.
tm send-keys -t scr:a PPage
wait_until 5 screen_lacks "hist 45 $SUFFIX" || fail "PgUp did not scroll back"
status_has "-MORE-" || fail "status bar does not say -MORE- while scrolled back"
tm send-keys -t scr:a Home
wait_until 5 chat_line "$UB" "hist 01 $SUFFIX" || fail "Home did not reach the oldest message"
tm send-keys -t scr:a End
wait_until 5 chat_line "$UB" "hist 45 $SUFFIX" || fail "End did not come back to the newest message"
wait_until 5 eval '! status_has "-MORE-"' || fail "still -MORE- after End"
echo "tui_screen_e2e: scrollback ok"

# Tab completes a participant name (and does not move the focus).
tm send-keys -t scr:a -l "${UB:0:6}"
tm send-keys -t scr:a Tab
wait_until 5 input_is "> $UB:" || fail "Tab did not complete '${UB:0:6}' to '$UB: ' (input: $(screen | tail -n 1))"
enter_line "ping"
wait_until 5 chat_line "$UA" "$UB: ping" || fail "the completed line was not posted"
echo "tui_screen_e2e: Tab completion ok"

# Live messages of other clients: C (a second chat-tui) and B (raw protocol).
wait_until 10 eval 'screen c | grep -qF "[online]"' || fail "chat-tui C did not log in"
enter_line "/join $M1" c
wait_until 10 chat_line "$UB" "hist 45 $SUFFIX" c || fail "C did not get the history"
enter_line "from c $SUFFIX" c
wait_until 10 chat_line "$UC" "from c $SUFFIX" || fail "A did not show C's message"
post_b "$M1_ID" "raw live $SUFFIX"
wait_until 10 chat_line "$UB" "raw live $SUFFIX" || fail "A did not show B's live message"
wait_until 10 chat_line "$UB" "raw live $SUFFIX" c || fail "C did not show B's live message"
echo "tui_screen_e2e: live messages ok"

# Unread counts of a meeting not on screen, a mention, the bell, the marker.
enter_line "/join $M2"
wait_until 10 title_has "$M2" || fail "/join $M2 did not open it"
title_has "private" || fail "title bar does not say private"
meeting_row "$M2" | grep -qE '^.[1-9 ]!\*' || fail "$M2 row lacks the private and joined marks: $(meeting_row "$M2")"
tm send-keys -t scr:a C-p
wait_until 5 title_has "$M1" || fail "Ctrl-P did not switch back to $M1"
[[ $(bell_flag) == 0 ]] || fail "bell rang before any mention"
post_b "$M2_ID" "side one $SUFFIX"
wait_until 5 eval 'meeting_row "$M2" | grep -qF "(1)"' || fail "unread count of $M2 not 1: $(meeting_row "$M2")"
post_b "$M2_ID" "side two $SUFFIX"
wait_until 5 eval 'meeting_row "$M2" | grep -qF "(2)"' || fail "unread count of $M2 did not rise to 2: $(meeting_row "$M2")"
[[ $(bell_flag) == 0 ]] || fail "bell rang without a mention"
post_b "$M2_ID" "hey $UA, look"
wait_until 5 eval 'meeting_row "$M2" | grep -qF "(3@)"' || fail "mention not marked (3@): $(meeting_row "$M2")"
wait_until 5 eval '[[ $(bell_flag) == 1 ]]' || fail "no bell on the mention"
screen_lacks "side one $SUFFIX" || fail "a message of $M2 shows while $M1 is on screen"
# Alt-<row number> opens it: the counts go, the marker sits above the first unread message.
N=$(meeting_row "$M2" | cut -c2)
if [[ $N =~ ^[1-9]$ ]]; then
  tm send-keys -t scr:a "M-$N"
  wait_until 5 title_has "$M2" || fail "Alt-$N did not open $M2"
else
  # More than nine active meetings (other tests' leftovers): $M2 has no Alt key.
  echo "tui_screen_e2e: $M2 is below row 9, opened with /join instead of Alt-<n>"
  enter_line "/join $M2"
  wait_until 5 title_has "$M2" || fail "/join did not open $M2"
fi
meeting_row "$M2" | grep -qF "(3" && fail "unread count still shown after opening $M2"
screen | grep -A1 -F "new messages" | tail -n 1 | grep -qF "side one $SUFFIX" \
  || fail "the new-messages marker is not right above the first unread message"
echo "tui_screen_e2e: unread, mention, bell and marker ok"

# A message of wide characters wraps inside the chat pane.
tm send-keys -t scr:a C-n
wait_until 5 title_has "$M1" || fail "Ctrl-N did not switch to $M1"
post_b "$M1_ID" "$WIDE"
wait_until 10 wide_ok || fail "wide message not wrapped intact at 120x40: $(wide_message)"
MSG=$(check_layout 120 40) || fail "layout at 120x40: $MSG"
echo "tui_screen_e2e: wide characters wrap ok ($(wide_message | tail -n 1) rows)"

# Resize: 60x20 keeps title, panes, status and input, and the wide message still wraps.
[[ -n ${TUI_E2E_CAPTURE_DIR:-} ]] && mkdir -p "$TUI_E2E_CAPTURE_DIR" && screen >"$TUI_E2E_CAPTURE_DIR/screen-120x40.txt"
tm resize-window -t scr:a -x 60 -y 20 || fail "tmux cannot resize"
wait_until 5 eval '[[ $(screen | wc -l) -eq 20 ]] && row_has 2 Meetings' || fail "no 60x20 screen"
wait_until 5 eval 'MSG=$(check_layout 60 20)' || fail "layout at 60x20: $(check_layout 60 20)"
title_has "$M1" || fail "title bar lost at 60x20"
row_has 19 "[online]" || fail "status bar not on row 19 at 60x20"
row 20 | grep -q '^>' || fail "input line not on row 20 at 60x20"
row_has 2 "Meetings" || fail "meetings pane header missing at 60x20"
participants_column | grep -qF "(3)" || fail "participants pane missing at 60x20"
wait_until 5 wide_ok || fail "wide message not wrapped intact at 60x20: $(wide_message)"
[[ -n ${TUI_E2E_CAPTURE_DIR:-} ]] && screen >"$TUI_E2E_CAPTURE_DIR/screen-60x20.txt"
tm resize-window -t scr:a -x 120 -y 40
wait_until 5 eval '[[ $(screen | wc -l) -eq 40 ]] && row_has 39 "[online]"' || fail "no 120x40 screen after resizing back"
wait_until 5 eval 'MSG=$(check_layout 120 40)' || fail "layout after resizing back: $(check_layout 120 40)"
participants_column | grep -qE "^ $UA +[0-9]{2}:[0-9]{2}" || fail "participants pane not restored at 120x40"
wait_until 5 wide_ok || fail "wide message not rewrapped at 120x40"
echo "tui_screen_e2e: resize ok"

# Commands: /who, /msgs, /jointimes.
enter_line "/who"
wait_until 5 screen_has "Participants of $M1 (3):" || fail "/who did not list the participants"
enter_line "/msgs $UC"
wait_until 5 screen_has "Messages of $UC in" || fail "/msgs did not list $UC's messages"
# (The heading may wrap: the message is within the next two rows.)
screen | grep -F -A2 "Messages of $UC in" | grep -qF "from c $SUFFIX" || fail "/msgs lacks C's message"
enter_line "/jointimes"
wait_until 5 screen_has "Join times (" || fail "/jointimes did not answer"
screen_has "  $M2 (2 participants)" || fail "/jointimes lacks $M2"
echo "tui_screen_e2e: commands ok"

# Panes and keys: F8 hides the participants, F1 shows the help, a click opens a meeting.
tm send-keys -t scr:a F8
wait_until 5 eval '! participants_column | grep -qF "Participants ("' || fail "F8 did not hide the participants pane"
tm send-keys -t scr:a F8
wait_until 5 eval 'participants_column | grep -qF "Participants (3)"' || fail "F8 did not bring the participants pane back"
tm send-keys -t scr:a F1
wait_until 5 screen_has "chat-tui keys and commands" || fail "F1 did not show the help overlay"
screen_has "/jointimes" || fail "help overlay lacks the commands"
tm send-keys -t scr:a Escape
wait_until 5 eval '! screen_has "chat-tui keys and commands"' || fail "Esc did not close the help"
Y=$(screen | awk -F"$SEP" -v t="$M2" 'index($1, t) { print NR - 1; exit }')
[[ -n $Y ]] || fail "no $M2 row to click"
click "$Y" 5
wait_until 5 title_has "$M2" || fail "clicking the $M2 row did not open it"
echo "tui_screen_e2e: panes, help and mouse ok"

# Colours: 256 on A's terminal, none at all with NO_COLOR on C's.
tm capture-pane -e -p -t scr:a | grep -q $'\e\\[[0-9;]*38;5;' || fail "A does not use 256 colours"
tm capture-pane -e -p -t scr:c | grep -qE $'\e\\[([0-9;]*;)?(3[0-7]|4[0-7]|9[0-7]|10[0-7]|38|48)[;m]' \
  && fail "C uses colours despite NO_COLOR: $(tm capture-pane -e -p -t scr:c | grep -oE $'\e\\[[0-9;]*m' | sort -u | tr '\n' ' ')"
tm capture-pane -e -p -t scr:c | grep -q $'\e\\[[0-9;]*7m' || fail "C (NO_COLOR) lacks the reverse-video bars"
echo "tui_screen_e2e: colours ok"

# The config file: last server and user, never the password.
CONFIG="$WORK/xdg-a/chat-tui/config"
grep -qxF "server = 127.0.0.1:$PORT" "$CONFIG" || fail "config lacks the server: $(cat "$CONFIG" 2>&1)"
grep -qxF "user = $UA" "$CONFIG" || fail "config lacks the user"
grep -qF "$PASSWORD" "$CONFIG" && fail "the password was written to the config"

# /quit restores the terminal and exits 0.
enter_line "/quit"
enter_line "/quit" c
wait_until 5 screen_has "[chat-tui exited rc=0]" || fail "A: /quit did not exit cleanly"
wait_until 5 screen_has "[chat-tui exited rc=0]" c || fail "C: /quit did not exit cleanly"

echo "tui_screen_e2e: OK ($((SECONDS - T0)) s; $UA, $UB, $UC in '$M1' and '$M2' on chatd port $PORT)"
