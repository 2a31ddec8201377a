#!/usr/bin/env bash
# chat-tui over TLS end to end: a throwaway CA and a server certificate for 127.0.0.1 (IP
# SAN) plus an unrelated CA, made with the openssl CLI; chatd serving TLS only
# (--tls-cert/--tls-key); chat-tui in detached tmux sessions. With --tls --ca-file <the CA>
# chat-tui must reach [online]; with --tls --ca-file <the other CA> it must not, and its
# screen must show the certificate verification error (no plaintext fallback).
#
# Usage: tui_tls_e2e.sh CHATD CHAT_TUI
# Env:   as tests/e2e/tui_e2e.sh (CHAT_REDIS_*, CHAT_MYSQL_*, exported by scripts/test).
#        Exit 0 on success, 1 with the screens and logs printed otherwise.
set -uo pipefail

CHATD=${1:?usage: tui_tls_e2e.sh CHATD CHAT_TUI}
TUI=${2:?usage: tui_tls_e2e.sh CHATD CHAT_TUI}

export LC_ALL=C.UTF-8

die() { echo "tui_tls_e2e: $*" >&2; exit 1; }

for v in CHAT_REDIS_PORT CHAT_MYSQL_PORT CHAT_MYSQL_USER CHAT_MYSQL_PASSWORD CHAT_MYSQL_DATABASE; do
  [[ -n ${!v:-} ]] || die "$v is not set (run through scripts/test, which starts the services)"
done
CHAT_REDIS_HOST=${CHAT_REDIS_HOST:-127.0.0.1}
CHAT_MYSQL_HOST=${CHAT_MYSQL_HOST:-127.0.0.1}
for tool in tmux mariadb ss openssl; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done
[[ -x $CHATD ]] || die "chatd not found: $CHATD"
[[ -x $TUI ]] || die "chat-tui not found: $TUI"

SUFFIX=$(head -c 16 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 8)
UA="tuitls_$SUFFIX"
# Argon2id hash of "john-pw" (CONTEXT.md).
HASH='$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q'
PASSWORD=john-pw

WORK=$(mktemp -d "${TMPDIR:-/tmp}/tui-tls-e2e.XXXXXX")
export XDG_CONFIG_HOME="$WORK/xdg"
TMUX_SOCKET="tui-tls-e2e-$$-$SUFFIX"
tm() { tmux -u -L "$TMUX_SOCKET" -f /dev/null "$@"; }
CHATD_PID=""

mysql_q() {
  mariadb --no-defaults --default-character-set=utf8mb4 -h"$CHAT_MYSQL_HOST" -P"$CHAT_MYSQL_PORT" \
    -u"$CHAT_MYSQL_USER" -p"$CHAT_MYSQL_PASSWORD" -N -B "$CHAT_MYSQL_DATABASE" "$@"
}

cleanup() {
  local rc=$?
  tm kill-server >/dev/null 2>&1
  if [[ -n $CHATD_PID ]] && kill -0 "$CHATD_PID" 2>/dev/null; then
    kill -TERM "$CHATD_PID" 2>/dev/null
    for _ in $(seq 50); do kill -0 "$CHATD_PID" 2>/dev/null || break; sleep 0.1; done
    kill -KILL "$CHATD_PID" 2>/dev/null
    wait "$CHATD_PID" 2>/dev/null
  fi
  if (( rc == 0 )); then rm -rf "$WORK"; else echo "tui_tls_e2e: logs kept in $WORK" >&2; fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

screen() { tm capture-pane -p -t "$1" 2>/dev/null; }
screen_has() { screen "$1" | grep -qF -- "$2"; }

fail() {
  echo "FAIL: $*" >&2
  for s in good bad; do
    echo "----- chat-tui screen '$s' -----" >&2
    screen "$s" >&2
    echo "----- chat-tui '$s' stderr -----" >&2
    cat "$WORK/$s.stderr" >&2 2>/dev/null
  done
  echo "----- chatd log (last 40 lines) -----" >&2
  tail -n 40 "$WORK/chatd.log" >&2 2>/dev/null
  exit 1
}

wait_until() {
  local secs=$1; shift
  local tries=$(( secs * 5 ))
  for (( i = 0; i < tries; i++ )); do
    "$@" && return 0
    sleep 0.2
  done
  "$@"
}

# ---- throwaway PKI ---------------------------------------------------------------------------
PKI="$WORK/pki"
mkdir -p "$PKI"
(
  cd "$PKI" || exit 1
  EC=(-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes)
  printf '%s\n' "subjectAltName=IP:127.0.0.1" "basicConstraints=CA:FALSE" \
    "keyUsage=digitalSignature,keyEncipherment" "extendedKeyUsage=serverAuth" >ext.cnf
  openssl req -x509 "${EC[@]}" -keyout ca.key -out ca.pem -days 2 -subj /CN=chat-e2e-ca &&
    openssl req -x509 "${EC[@]}" -keyout other-ca.key -out other-ca.pem -days 2 \
      -subj /CN=chat-e2e-other-ca &&
    openssl req "${EC[@]}" -keyout server.key -out server.csr -subj /CN=127.0.0.1 &&
    openssl x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial \
      -out server.pem -days 2 -extfile ext.cnf
) >"$WORK/openssl.log" 2>&1 || die "openssl failed: $(cat "$WORK/openssl.log")"

# ---- data ------------------------------------------------------------------------------------
mysql_q -e "INSERT INTO user (name, email, password_hash) VALUES ('$UA', '$UA@e2e.test', '$HASH')" \
  || die "cannot create user in MariaDB on port $CHAT_MYSQL_PORT"

# ---- chatd (TLS only) -----------------------------------------------------------------------
PORT=""
for _ in $(seq 100); do
  p=$(( 20000 + RANDOM % 20000 ))
  if [[ -z $(ss -ltnH "sport = :$p") ]]; then PORT=$p; break; fi
done
[[ -n $PORT ]] || die "no free port found"

export CHATD_MYSQL_PASSWORD=$CHAT_MYSQL_PASSWORD
if [[ -n ${CHAT_REDIS_PASSWORD:-} ]]; then export CHATD_REDIS_PASSWORD=$CHAT_REDIS_PASSWORD; fi
"$CHATD" --listen "127.0.0.1:$PORT" --node-id "tui-tls-e2e-$SUFFIX" \
  --redis-host "$CHAT_REDIS_HOST" --redis-port "$CHAT_REDIS_PORT" \
  --mysql-host "$CHAT_MYSQL_HOST" --mysql-port "$CHAT_MYSQL_PORT" \
  --mysql-user "$CHAT_MYSQL_USER" --mysql-database "$CHAT_MYSQL_DATABASE" \
  --tls-cert "$PKI/server.pem" --tls-key "$PKI/server.key" \
  --schedule-poll-ms 500 --log-level debug </dev/null >"$WORK/chatd.log" 2>&1 &
CHATD_PID=$!
chatd_listening() {
  kill -0 "$CHATD_PID" 2>/dev/null || fail "chatd exited during start-up"
  grep -qs "listening on 127.0.0.1:$PORT (TLS)" "$WORK/chatd.log"
}
wait_until 30 chatd_listening || fail "chatd did not report 'listening on 127.0.0.1:$PORT (TLS)'"

# start_tui NAME CA_FILE: chat-tui in tmux session NAME, logging in as UA over TLS.
start_tui() {
  tm new-session -d -s "$1" -x 120 -y 40 \
    "bash -c '\"\$0\" \"\$@\" 2>$WORK/$1.stderr; echo \"[chat-tui exited rc=\$?]\"; sleep 600' '$TUI' --server 127.0.0.1:$PORT --tls --ca-file '$2' --user '$UA' --password '$PASSWORD'" \
    || fail "cannot start tmux session $1"
}

# ---- the right CA: online ------------------------------------------------------------------------
start_tui good "$PKI/ca.pem"
wait_until 15 screen_has good "[online]" || fail "chat-tui with the right CA did not go online"
screen_has good "$UA @ 127.0.0.1:$PORT" || fail "status line lacks user and server"

# ---- the wrong CA: never online, the certificate error shown ---------------------------------------
start_tui bad "$PKI/other-ca.pem"
wait_until 15 screen_has bad "certificate verify failed" \
  || fail "chat-tui with the wrong CA does not show the certificate error"
screen_has bad "[online]" && fail "chat-tui with the wrong CA went online"
# It keeps retrying (and failing) rather than falling back to plaintext: chatd saw only
# failed handshakes from it, and no session of it ever logged in.
failed_handshakes() { (( $(grep -c "TLS handshake with 127.0.0.1 failed" "$WORK/chatd.log") >= 2 )); }
wait_until 15 failed_handshakes || fail "chatd did not see repeated failed handshakes"
screen_has bad "[online]" && fail "chat-tui with the wrong CA went online"

# The good client is still online, and /quit exits cleanly.
screen_has good "[online]" || fail "the good client went offline"
tm send-keys -t good -l "/quit"
tm send-keys -t good Enter
wait_until 5 screen_has good "[chat-tui exited rc=0]" || fail "/quit did not exit cleanly"

echo "tui_tls_e2e: OK ($UA over TLS on chatd port $PORT; wrong CA refused)"
