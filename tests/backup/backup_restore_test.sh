#!/usr/bin/env bash
# Backup and restore of both stores with scripts/chat-backup, against a PRIVATE Redis (with a
# password) and a PRIVATE MariaDB started here with scripts/lib/common.sh in a temp run dir
# (nothing is shared with scripts/test's services), and chatd on them.
#
#  1. chatd (dump every 300 ms): two users talk in meeting m1 (a few hundred messages, leaves
#     and re-joins) and briefly in m2, which then ends; everything reaches MySQL and m2's keys
#     leave Redis (its history is then MySQL's).
#  2. chatd without dumping: more messages and a leave/join, so the outbox holds entries
#     MySQL lacks. Snapshot through the protocol; chat-backup runs against the live system.
#  3. chatd dumping again: the full MySQL content, and the same protocol snapshot.
#  4. Wipe (FLUSHALL, drop the database). Restore refusals: Redis running, non-empty Redis
#     dir, damaged backup, incomplete backup. Then restore --force --start-redis: Redis keys
#     and MySQL rows equal those at backup time; AOF was rebuilt (Redis restarted with the
#     RDB deleted still has everything).
#  5. chatd on the restored stores: the outbox entries are dumped (MySQL equals step 3's,
#     nothing lost or doubled) and messages (paged), user_messages, participants and
#     join_times read back identical to step 2.
#  6. Retention and half-written backups: a run killed during BGSAVE leaves no complete
#     backup; N+2 runs with --keep N leave exactly the newest N.
#
# Usage: backup_restore_test.sh CHATD        Needs redis-server, mariadb(d), python3.
# Exit 0 on success; 1 with the reason and logs otherwise (kept in the work dir).
set -uo pipefail
export LC_ALL=C.UTF-8

CHATD=${1:?usage: backup_restore_test.sh CHATD}
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
REPO="$(cd "$HERE/../.." && pwd)"
BACKUP="$REPO/scripts/chat-backup"
CLIENT="$HERE/chat_client.py"
# shellcheck source=scripts/lib/common.sh
. "$REPO/scripts/lib/common.sh"

[[ -x "$CHATD" ]] || die "chatd not found: $CHATD"
for tool in redis-server redis-cli mariadbd mariadb python3 ss setsid; do
  command -v "$tool" >/dev/null || die "$tool is not installed"
done

T_START=$SECONDS
SUFFIX="$(head -c 8 /dev/urandom | od -An -tx1 | tr -d ' \n' | head -c 8)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/chat-backup-test.XXXXXX")"
RUN="$WORK/run"
NODE_ID="bk-$SUFFIX"
UA="bka_$SUFFIX" UB="bkb_$SUFFIX"
# Argon2id hash of "john-pw" (CONTEXT.md); both users get it.
# shellcheck disable=SC2016 # a literal, not an expansion
HASH='$argon2id$v=19$m=65536,t=2,p=1$Wh7+aRgXjw1p25bQM61naA$zKhe1JfDVen9ZQo2NBX1wjhR2QgrAh6IXQ2dCrSNy2Q'
PASSWORD=john-pw
# Passwords with characters that need quoting, to prove none is mangled or leaked.
REDIS_PW="r3d \"pw\" \\ $SUFFIX"
export CHATD_MYSQL_PASSWORD="$CHAT_DB_PASSWORD"
CHATD_PID=""
BG_PID=""

cleanup() {
  local rc=$?
  [[ -n "$BG_PID" ]] && kill -KILL -- "-$BG_PID" 2>/dev/null
  stop_chatd
  redis_stop "$RUN" 2>/dev/null
  mysql_stop "$RUN" 2>/dev/null
  if ((rc == 0)); then
    rm -rf -- "$WORK"
  else
    rm -rf -- "$RUN/mysql/data" # 30+ MB; the logs stay
    echo "backup_restore_test: logs kept in $WORK" >&2
  fi
  exit "$rc"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

fail() {
  echo "FAIL: $*" >&2
  local f
  for f in "$WORK"/chatd-*.log; do
    echo "----- $(basename "$f") (last 15 lines) -----" >&2
    tail -n 15 "$f" >&2
  done
  exit 1
}
step() { printf '[backup_restore_test %3ds] %s\n' $((SECONDS - T_START)) "$*" >&2; }

# wait_until SECS CMD...: polls CMD every 0.2 s until it succeeds or SECS pass.
wait_until() {
  local secs=$1 i
  shift
  for ((i = 0; i < secs * 5; i++)); do
    "$@" && return 0
    sleep 0.2
  done
  "$@"
}

# ---- private services -------------------------------------------------------------------
step "starting a private Redis and MariaDB in $RUN"
redis_start "$RUN" $((20000 + RANDOM % 20000))
RPORT="$(redis_port "$RUN")"
mysql_start "$RUN" $((20000 + RANDOM % 20000))
MPORT="$(mysql_port "$RUN")"
mysql_load "$RUN" "$REPO/sql/schema.sql"

# The test's redis-cli calls (and common.sh's) authenticate through the environment.
export REDISCLI_AUTH="$REDIS_PW" CHATD_REDIS_PASSWORD="$REDIS_PW"
set_redis_password() {
  [[ "$(redis-cli -p "$RPORT" config set requirepass "$REDIS_PW" 2>/dev/null)" == OK ]] \
    || fail "cannot set the Redis password"
}
set_redis_password
rc() { redis-cli --no-auth-warning -p "$RPORT" "$@"; }
mq() { mysql_chat "$RUN" -N -B "$@" 2>/dev/null; }
backup() {
  "$BACKUP" "$@" --timeout-s 30 --redis-port "$RPORT" --mysql-port "$MPORT" --mysql-user "$CHAT_DB_USER" \
    --mysql-database "$CHAT_DB_NAME"
}

# ---- data -----------------------------------------------------------------------------------
read -r M1 M2 UA_ID UB_ID < <(mq <<SQL
INSERT INTO user (name, email, password_hash) VALUES
  ('$UA', '$UA@backup.test', '$HASH'), ('$UB', '$UB@backup.test', '$HASH');
INSERT INTO meeting (title, description, is_public) VALUES ('backup m1 $SUFFIX', 'stays active', TRUE);
SET @m1 = LAST_INSERT_ID();
INSERT INTO meeting (title, description, is_public) VALUES ('backup m2 $SUFFIX', 'ends', TRUE);
SET @m2 = LAST_INSERT_ID();
INSERT INTO meeting_instance VALUES
  (@m1, 1, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR),
  (@m2, 1, UTC_TIMESTAMP(3) - INTERVAL 1 MINUTE, UTC_TIMESTAMP(3) + INTERVAL 1 HOUR);
SELECT @m1, @m2, (SELECT user_id FROM user WHERE name = '$UA'), (SELECT user_id FROM user WHERE name = '$UB');
SQL
)
[[ "$M1" =~ ^[0-9]+$ && "$M2" =~ ^[0-9]+$ && "$UB_ID" =~ ^[0-9]+$ ]] || fail "cannot create users and meetings"

# ---- chatd ----------------------------------------------------------------------------------
CHATD_PORT="" CHATD_N=0
# start_chatd DUMP_MS: chatd on a free port with the same node id every time (so that it
# re-reads outbox entries it had read but not acknowledged before a restart).
start_chatd() {
  local p i
  CHATD_N=$((CHATD_N + 1))
  local epoch0
  epoch0="$(rc get chat:scheduler:epoch)"
  [[ "$epoch0" =~ ^[0-9]+$ ]] || epoch0=0
  CHATD_PORT=""
  for ((i = 0; i < 100; i++)); do
    p=$((20000 + RANDOM % 20000))
    if ! port_in_use "$p"; then CHATD_PORT=$p; break; fi
  done
  [[ -n "$CHATD_PORT" ]] || fail "no free port for chatd"
  "$CHATD" --listen "127.0.0.1:$CHATD_PORT" --node-id "$NODE_ID" \
    --redis-host 127.0.0.1 --redis-port "$RPORT" \
    --mysql-host 127.0.0.1 --mysql-port "$MPORT" --mysql-user "$CHAT_DB_USER" \
    --mysql-database "$CHAT_DB_NAME" --schedule-poll-ms 300 --dump-interval-ms "$1" \
    --grace-ms 600000 --heartbeat-ms 1000 --log-level info \
    </dev/null >"$WORK/chatd-$CHATD_N.log" 2>&1 &
  CHATD_PID=$!
  local log="$WORK/chatd-$CHATD_N.log"
  chatd_up() {
    kill -0 "$CHATD_PID" 2>/dev/null || fail "chatd exited during start-up"
    grep -qs "listening on 127.0.0.1:$CHATD_PORT" "$log"
  }
  wait_until 30 chatd_up || fail "chatd did not start"
  # Wait for it to hold the scheduler lease: taking it bumps chat:scheduler:epoch, which
  # must not happen between a Redis digest and a backup.
  lease_ours() {
    local e
    e="$(rc get chat:scheduler:epoch)"
    [[ "$e" =~ ^[0-9]+$ ]] && ((e > epoch0)) && [[ "$(rc get chat:scheduler:lease)" == "$NODE_ID:$e" ]]
  }
  wait_until 15 lease_ours || fail "chatd did not take the scheduler lease"
}
stop_chatd() {
  [[ -n "$CHATD_PID" ]] || return 0
  kill -TERM "$CHATD_PID" 2>/dev/null
  local i
  for ((i = 0; i < 100; i++)); do
    kill -0 "$CHATD_PID" 2>/dev/null || break
    sleep 0.1
  done
  kill -KILL "$CHATD_PID" 2>/dev/null
  wait "$CHATD_PID" 2>/dev/null
  CHATD_PID=""
}

client() { python3 "$CLIENT" "$@" --port "$CHATD_PORT" --password "$PASSWORD"; }
snapshot() { client snapshot --user "$UA" --m1 "$M1" --m2 "$M2" --user-ids "$UA_ID,$UB_ID" --out "$1" >&2; }
# json_sum FILE... KEY: sum of .events[KEY] over the files.
json_sum() {
  python3 -c 'import json,sys; print(sum(json.load(open(f))["events"].get(sys.argv[-1], 0) for f in sys.argv[1:-1]))' "$@"
}
json_posts() {
  python3 -c 'import json,sys; print(sum(len(json.load(open(f))["posted"]) for f in sys.argv[1:]))' "$@"
}

# mysql_rows [with_ids]: the chat content of MySQL, one sorted line per row (texts in hex).
# event_id is a surrogate key assigned at dump time, compared only when asked.
mysql_rows() {
  local eid=""
  [[ "${1:-}" == with_ids ]] && eid="event_id, "
  mq -e "SELECT 'user', user_id, name, email, password_hash FROM user ORDER BY user_id;
    SELECT 'meeting', meeting_id, title, is_public FROM meeting ORDER BY meeting_id;
    SELECT 'instance', meeting_id, order_id, from_datetime, to_datetime FROM meeting_instance ORDER BY 2, 3;
    SELECT 'message', meeting_id, order_id, message_id, user_id, name, HEX(text), ts FROM message
      ORDER BY meeting_id, order_id, message_id;
    SELECT 'event', ${eid}user_id, meeting_id, order_id, event_type, ts, redis_id FROM event_log
      ORDER BY meeting_id, order_id, redis_id;" || fail "cannot read MySQL"
}
count() { mq -e "SELECT COUNT(*) FROM $1" || echo "?"; }

# redis_digest: every key that is not volatile (node registry and lease expire within
# seconds) with its type, whether it expires, and a hash of its content in a canonical form
# (DUMP bytes are no good: a hash table's order may change when an RDB is loaded).
redis_digest() {
  local k type ttl
  rc --scan | grep -Ev '^chat:(node:|nodes$|scheduler:lease$)' | LC_ALL=C sort | while IFS= read -r k; do
    type="$(rc type "$k")"
    ttl="$(rc pttl "$k")"
    ((ttl > 0)) && ttl=expires
    printf '%s %s %s %s\n' "$k" "$type" "$ttl" "$(redis_content "$k" "$type" | sha256sum | cut -c1-16)"
  done
}
# redis_content KEY TYPE: the value, one element per line (quoted, escaped), sorted where the
# type has no order.
redis_content() {
  local k="$1"
  elements() { rc --no-raw "$@" | sed 's/^ *[0-9]*) //'; }
  case "$2" in
    string) elements get "$k" ;;
    hash) elements hgetall "$k" | paste - - | LC_ALL=C sort ;;
    set) elements smembers "$k" | LC_ALL=C sort ;;
    zset) elements zrange "$k" 0 -1 withscores ;;
    list) elements lrange "$k" 0 -1 ;;
    stream)
      rc --no-raw xrange "$k" - +
      rc --no-raw xinfo groups "$k"
      ;;
    *) echo "unexpected type $2" ;;
  esac
}

# dumped MSGS EVENTS: MySQL holds exactly MSGS messages and EVENTS events and the outbox is empty.
dumped() {
  [[ "$(count message)" == "$1" && "$(count event_log)" == "$2" && "$(rc xlen chat:outbox)" == 0 ]]
}

# ---- 1. conversation with the dump on ----------------------------------------------------------
step "chatd #1 (dump every 300 ms); conversation"
start_chatd 300
client converse --user-a "$UA" --user-b "$UB" --m1 "$M1" --m2 "$M2" --posts 300 --out "$WORK/posted1.json" \
  || fail "conversation failed"
# End m2 now: its remaining participant leaves (one more leave row), its keys leave Redis.
mq -e "UPDATE meeting_instance SET to_datetime = UTC_TIMESTAMP(3) WHERE meeting_id = $M2" || fail "cannot end m2"
MSGS1="$(json_posts "$WORK/posted1.json")"
EVENTS1=$(($(json_sum "$WORK/posted1.json" m1_join) + $(json_sum "$WORK/posted1.json" m1_leave) \
  + $(json_sum "$WORK/posted1.json" m2_join) + $(json_sum "$WORK/posted1.json" m2_leave) + 1))
wait_until 30 dumped "$MSGS1" "$EVENTS1" \
  || fail "dump incomplete: MySQL has $(count message)/$MSGS1 messages, $(count event_log)/$EVENTS1 events; outbox $(rc xlen chat:outbox)"
m2_gone() { [[ "$(rc exists "chat:i:{$M2:1}:msgs")" == 0 ]]; }
wait_until 15 m2_gone || fail "the ended m2 kept its Redis keys"
step "dumped: $MSGS1 messages, $EVENTS1 events; m2 ended and left Redis"

# ---- 2. undumped entries, snapshot, backup of the live system -------------------------------------
stop_chatd
step "chatd #2 (no dump); 20 more messages and a leave/join stay in the outbox"
start_chatd 0
client more --user-a "$UA" --user-b "$UB" --m1 "$M1" --posts 20 --out "$WORK/posted2.json" || fail "more failed"
MSGS=$((MSGS1 + 20))
EVENTS=$((EVENTS1 + 2))
OUTBOX="$(rc xlen chat:outbox)"
((OUTBOX >= 22)) || fail "expected >= 22 outbox entries, found $OUTBOX"
[[ "$(count message)" == "$MSGS1" ]] || fail "messages reached MySQL without a dumper"
snapshot "$WORK/snap-before.json" || fail "snapshot before the backup failed"
python3 "$CLIENT" check-posted --snapshot "$WORK/snap-before.json" --m1 "$M1" --m2 "$M2" \
  --posted "$WORK/posted1.json" "$WORK/posted2.json" || fail "read-back differs from what was posted"
redis_digest >"$WORK/redis-at-backup.txt"
mysql_rows with_ids >"$WORK/mysql-at-backup.txt"
(($(wc -l <"$WORK/redis-at-backup.txt") > 10)) || fail "suspiciously few Redis keys"

step "chat-backup (chatd running; outbox holds $OUTBOX entries)"
BK="$WORK/backups"
backup backup --dir "$BK" --keep 3 2>"$WORK/backup1.log" || fail "backup failed: $(cat "$WORK/backup1.log")"
cat "$WORK/backup1.log" >&2
(($(wc -l <"$WORK/backup1.log") == 1)) || fail "backup printed more than one line"
grep -q '^\[chat-backup\] backup ok: ' "$WORK/backup1.log" || fail "no outcome line"
mapfile -t STAMPS < <(find "$BK" -mindepth 1 -maxdepth 1 -type d -printf '%f\n')
((${#STAMPS[@]} == 1)) || fail "expected one backup dir, found: ${STAMPS[*]}"
SNAP="$BK/${STAMPS[0]}"
[[ "${STAMPS[0]}" =~ ^[0-9]{8}T[0-9]{6}\.[0-9]{3}Z$ ]] || fail "backup dir name ${STAMPS[0]}"
for f in redis.rdb mysql.sql.gz; do
  line="$(grep "^file=$f " "$SNAP/manifest.txt")" || fail "manifest lacks $f"
  [[ "$line" == "file=$f size=$(stat -c %s "$SNAP/$f") sha256=$(sha256sum "$SNAP/$f" | cut -d' ' -f1)" ]] \
    || fail "manifest line for $f is wrong: $line"
done
grep -q "^redis_lastsave=$(rc lastsave)\$" "$SNAP/manifest.txt" || fail "manifest LASTSAVE is not Redis's"
gzip -dc "$SNAP/mysql.sql.gz" >"$WORK/dump.sql" || fail "the dump does not gunzip"
grep -qF "CREATE TABLE \`event_log\`" "$WORK/dump.sql" || fail "dump lacks event_log"
[[ "$(stat -c %a "$SNAP")" == 700 ]] || fail "backup dir is not private"
redis_digest | cmp -s - "$WORK/redis-at-backup.txt" || fail "Redis changed during the backup (test assumption)"

# ---- 3. the full MySQL content after the outbox is dumped ------------------------------------------
stop_chatd
step "chatd #3 (dump on): the outbox reaches MySQL"
start_chatd 300
wait_until 30 dumped "$MSGS" "$EVENTS" || fail "dump incomplete: $(count message)/$MSGS messages, $(count event_log)/$EVENTS events"
mysql_rows >"$WORK/mysql-full.txt"
snapshot "$WORK/snap-before2.json" || fail "second snapshot failed"
cmp -s "$WORK/snap-before.json" "$WORK/snap-before2.json" || fail "reads changed when the outbox was dumped"
stop_chatd

# ---- 4. wipe, refusals, restore -----------------------------------------------------------------
step "wipe: FLUSHALL, drop the database"
[[ "$(rc flushall)" == OK && "$(rc dbsize)" == 0 ]] || fail "FLUSHALL failed"
mysql_reset_db "$RUN"
[[ "$(mq -e "SHOW TABLES" | wc -l)" == 0 ]] || fail "database not empty after the wipe"

restore() {
  "$BACKUP" restore "$@" --timeout-s 30 --redis-dir "$RUN/redis" --redis-port "$RPORT" --mysql-port "$MPORT" \
    --mysql-user "$CHAT_DB_USER" --mysql-database "$CHAT_DB_NAME"
}
# redis_files: the RDB (BGSAVE of the backup left one) and what restore would add.
redis_files() {
  sha256sum "$RUN/redis/dump.rdb" 2>/dev/null || echo "no dump.rdb"
  compgen -G "$RUN/redis/pre-restore-*" || true
}
# expect_refusal WHAT PATTERN ARGS...: restore must fail (exit 1) saying PATTERN, changing nothing.
expect_refusal() {
  local what="$1" pattern="$2" out before
  shift 2
  before="$(redis_files)"
  out="$(restore "$@" 2>&1)" && fail "restore $what was not refused"
  grep -q "$pattern" <<<"$out" || fail "restore $what: unexpected message: $out"
  [[ "$(mq -e "SHOW TABLES" | wc -l)" == 0 ]] || fail "restore $what changed MySQL"
  [[ "$(redis_files)" == "$before" ]] || fail "restore $what changed the Redis dir"
  echo "  refused ($what): $out" >&2
}
expect_refusal "while Redis runs" "stop the target Redis" --from "$SNAP" --force
redis_stop "$RUN"
[[ -d "$RUN/redis/appendonlydir" ]] || fail "no AOF dir in the wiped Redis dir (test assumption)"
expect_refusal "over a non-empty Redis dir" "is not empty" --from "$SNAP"
DAMAGED="$BK/20000101T000000.000Z"
cp -r "$SNAP" "$DAMAGED"
printf 'x' | dd of="$DAMAGED/mysql.sql.gz" bs=1 seek=100 conv=notrunc status=none
expect_refusal "of a damaged backup" "sha256" --from "$DAMAGED" --force
rm -rf "$DAMAGED"
mkdir "$BK/.tmp-20000101T000000.000Z"
expect_refusal "of a half-written backup" "not a complete backup" --from "$BK/.tmp-20000101T000000.000Z" --force
rm -rf "$BK/.tmp-20000101T000000.000Z"

step "restore --force --start-redis"
restore --from "$SNAP" --force --start-redis 2>"$WORK/restore.log" || fail "restore failed: $(cat "$WORK/restore.log")"
cat "$WORK/restore.log" >&2
grep -q '^\[chat-backup\] restore ok: ' "$WORK/restore.log" || fail "no restore outcome line"
ls -d "$RUN"/redis/pre-restore-*/appendonlydir >/dev/null 2>&1 || fail "the old AOF dir was not moved aside"
redis_running "$RUN" || fail "the restored Redis is not running as $RUN/redis/redis.pid says"
[[ "$(rc config get appendonly | sed -n 2p)" == yes ]] || fail "AOF not enabled after restore"
redis_digest | diff "$WORK/redis-at-backup.txt" - >&2 || fail "restored Redis differs from the backup"
mysql_rows with_ids | diff "$WORK/mysql-at-backup.txt" - >&2 || fail "restored MySQL differs from the backup"

step "Redis restarted from its rebuilt AOF alone (RDB deleted)"
redis_stop "$RUN"
ls "$RUN"/redis/appendonlydir/*.base.rdb >/dev/null 2>&1 || fail "no AOF base file after the restore"
rm -f "$RUN/redis/dump.rdb"
redis_start "$RUN" "$RPORT"
[[ "$(redis_port "$RUN")" == "$RPORT" ]] || fail "Redis came back on another port"
set_redis_password
redis_digest | diff "$WORK/redis-at-backup.txt" - >&2 || fail "Redis from the AOF differs from the backup"

# ---- 5. chatd on the restored stores -------------------------------------------------------------
step "chatd #4 (dump on) on the restored stores"
start_chatd 300
wait_until 30 dumped "$MSGS" "$EVENTS" \
  || fail "after restore: $(count message)/$MSGS messages, $(count event_log)/$EVENTS events in MySQL, outbox $(rc xlen chat:outbox)"
mysql_rows | diff "$WORK/mysql-full.txt" - >&2 || fail "MySQL after restore + dump differs"
snapshot "$WORK/snap-after.json" || fail "snapshot after restore failed"
diff "$WORK/snap-before.json" "$WORK/snap-after.json" >&2 || fail "reads after restore differ"

# Restoring over the now populated database is refused.
out="$("$BACKUP" restore --from "$SNAP" --redis-dir "$WORK/other-redis" --redis-port "$RPORT" \
  --mysql-port "$MPORT" 2>&1)" && fail "restore over a populated database was not refused"
grep -q "is not empty" <<<"$out" || fail "unexpected message: $out"
echo "  refused (over a populated database): $out" >&2
mysql_rows | diff "$WORK/mysql-full.txt" - >&2 || fail "a refused restore changed MySQL"
[[ ! -e "$WORK/other-redis" ]] || fail "a refused restore created the Redis dir"

# ---- 6. half-written backups and retention ---------------------------------------------------------
step "a backup killed during BGSAVE"
BK2="$WORK/backups2"
mkdir -p "$BK2/19991231T000000.000Z" # stamp-named but without manifest: never a backup
keys="$(rc dbsize)"
[[ "$(rc config set rdb-key-save-delay $((5000000 / keys)))" == OK ]] || fail "cannot slow BGSAVE down"
setsid "$BACKUP" backup --dir "$BK2" --keep 3 --redis-port "$RPORT" --mysql-port "$MPORT" \
  >"$WORK/killed.log" 2>&1 &
BG_PID=$!
saving() { compgen -G "$BK2/.tmp-*" >/dev/null && rc info persistence | grep -q '^rdb_bgsave_in_progress:1'; }
wait_until 10 saving || fail "the slow backup did not start saving"
# No command line of the backup's session may carry a password (checked in bash: a grep
# would carry it itself). Other processes on this machine are none of our business.
# The script forks redis-cli and sleep in turn, so a single look may find it between two
# children: look 20 times over 1 s and require a child in at least one look.
saw_child=0
for ((look = 0; look < 20; look++)); do
  mapfile -t ARGS < <(ps -o args= --sid "$BG_PID")
  ((${#ARGS[@]} >= 2)) && saw_child=1
  for args in "${ARGS[@]}"; do
    if [[ "$args" == *"$CHAT_DB_PASSWORD"* || "$args" == *"$REDIS_PW"* ]]; then
      fail "a password shows on a command line: $args"
    fi
  done
  sleep 0.05
done
((saw_child)) || fail "never saw a redis-cli/sleep child of chat-backup in session $BG_PID: ${ARGS[*]}"
kill -KILL -- "-$BG_PID"
wait "$BG_PID" 2>/dev/null
BG_PID=""
[[ "$(rc config set rdb-key-save-delay 0)" == OK ]] || fail "cannot reset rdb-key-save-delay"
compgen -G "$BK2/.tmp-*/" >/dev/null || fail "the killed run left no temp dir (test assumption)"
complete_list() { find "$BK2" -mindepth 2 -maxdepth 2 -name manifest.txt -printf '%h\n' | xargs -rn1 basename | LC_ALL=C sort; }
[[ -z "$(complete_list)" ]] || fail "a killed backup looks complete: $(complete_list)"

step "retention: 5 backups with --keep 3"
made=()
for i in 1 2 3 4 5; do
  backup backup --dir "$BK2" --keep 3 2>"$WORK/retention-$i.log" || fail "backup $i failed: $(cat "$WORK/retention-$i.log")"
  cat "$WORK/retention-$i.log" >&2
  made+=("$(sed -n 's|^\[chat-backup\] backup ok: .*/\([0-9T.Z]*\) (.*|\1|p' "$WORK/retention-$i.log")")
done
want="$(printf '%s\n' "${made[@]:2}")"
[[ "$(complete_list)" == "$want" ]] || fail "kept backups: $(complete_list | tr '\n' ' '); expected the newest 3: ${made[*]:2}"
[[ -z "$(compgen -G "$BK2/.tmp-*")" ]] || fail "the killed run's temp dir is still there"
[[ -d "$BK2/19991231T000000.000Z" ]] || fail "an incomplete stamp dir was deleted"
grep -q 'kept 3, deleted 1' "$WORK/retention-5.log" || fail "last run did not report 'kept 3, deleted 1'"
for s in "${made[@]:2}"; do
  while read -r name size sha; do
    [[ "$(stat -c %s "$BK2/$s/$name")" == "$size" && "$(sha256sum "$BK2/$s/$name" | cut -d' ' -f1)" == "$sha" ]] \
      || fail "$s/$name does not match its manifest"
  done < <(sed -n 's/^file=\([^ ]*\) size=\([0-9]*\) sha256=\([0-9a-f]*\)$/\1 \2 \3/p' "$BK2/$s/manifest.txt")
done

stop_chatd
step "PASS ($MSGS messages, $EVENTS events, $(wc -l <"$WORK/redis-at-backup.txt") Redis keys compared)"
