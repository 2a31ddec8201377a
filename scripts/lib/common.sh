# shellcheck shell=bash
# Shared helpers for scripts/test, scripts/demo and scripts/services. Source it; do not run it.
#
# It implements the local-services contract of the project (see README.md, "Ports"):
# a project-local Redis 7 and MariaDB 10.11 per run dir, on loopback and non-default ports,
# started without systemd, found again and reused on the next run, and stopped by pid.
#
# Layout of a run dir (RUN, e.g. <repo>/.run/test):
#   RUN/env                  KEY=VALUE lines (CHAT_REDIS_PORT=16391, ...): source with `set -a`
#   RUN/.lock                flock(1) lock: one script at a time works on a run dir
#   RUN/redis/{redis.pid,port,redis.log,appendonlydir/}
#   RUN/mysql/{my.cnf,mysqld.pid,port,mysqld.err,stdout.log,data/,tmp/}
#
# Functions take the run dir as their first argument and keep no state in globals beyond
# the read-only constants below, so one script can drive several run dirs.

# Guard against double sourcing.
if [[ -n "${CHAT_COMMON_SH_LOADED:-}" ]]; then
  return 0
fi
CHAT_COMMON_SH_LOADED=1

# Repository root: two levels above this file (scripts/lib/common.sh).
CHAT_REPO_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
readonly CHAT_REPO_ROOT

# The MariaDB account of the contract (CONTEXT.md / README.md): loopback only.
readonly CHAT_DB_NAME=chat
readonly CHAT_DB_USER=chat
readonly CHAT_DB_PASSWORD=chat-dev-password
readonly CHAT_HOST=127.0.0.1

# Run dirs and preferred ports of the two profiles (README.md, "Ports"). A port held by a
# foreign process is skipped for the next free one; the one in use is recorded in RUN/env.
# shellcheck disable=SC2034 # used by the scripts that source this file
readonly CHAT_TEST_RUN="$CHAT_REPO_ROOT/.run/test" \
  CHAT_TEST_REDIS_PORT=16391 \
  CHAT_TEST_MYSQL_PORT=13391 \
  CHAT_DEMO_RUN="$CHAT_REPO_ROOT/.run/demo" \
  CHAT_DEMO_REDIS_PORT=16390 \
  CHAT_DEMO_MYSQL_PORT=13390
# shellcheck disable=SC2034 # used by scripts/demo
readonly CHAT_DEMO_NODE_PORTS=(17390 17391)

# How many ports above the preferred one we try when it is held by a foreign process.
readonly CHAT_PORT_TRIES=50

# Debian packages the project needs to build, test and run the demo, and to build the .deb
# (scripts/package: cpack runs dpkg-shlibdeps, from dpkg-dev, on what `file` calls ELF).
readonly CHAT_PACKAGES=(
  libhiredis-dev default-libmysqlclient-dev nlohmann-json3-dev libboost-dev
  libboost-program-options-dev libncurses-dev libsodium-dev libspdlog-dev libtomlplusplus-dev
  prometheus-cpp-dev libssl-dev openssl
  googletest libgtest-dev libgmock-dev
  redis-server redis-tools mariadb-server mariadb-client
  cmake ninja-build g++ pkg-config tmux iproute2 util-linux python3
  dpkg-dev file
)

# ---------------------------------------------------------------------------------------
# Messages

# log MSG...: progress line on stderr, prefixed with the script name.
log() { printf '[%s] %s\n' "${0##*/}" "$*" >&2; }

# die MSG...: error line on stderr, then exit 1.
die() {
  printf '[%s] ERROR: %s\n' "${0##*/}" "$*" >&2
  exit 1
}

# ---------------------------------------------------------------------------------------
# Packages

# ensure_packages: install (apt-get) the packages of CHAT_PACKAGES that are missing.
# Runs `apt-get update` once, and only when something is missing; does nothing otherwise.
# Uses sudo -n when not root. Exits via die when apt-get fails.
ensure_packages() {
  local missing=() pkg installed
  # One dpkg-query for all: "name<TAB>status" per known package (unknown ones are absent).
  installed="$(dpkg-query -W -f='${Package}\t${Status}\n' "${CHAT_PACKAGES[@]}" 2>/dev/null || true)"
  for pkg in "${CHAT_PACKAGES[@]}"; do
    grep -qxF "$pkg"$'\t'"install ok installed" <<<"$installed" || missing+=("$pkg")
  done
  ((${#missing[@]} == 0)) && return 0

  local sudo=()
  if ((EUID != 0)); then
    command -v sudo >/dev/null 2>&1 || die "missing packages (${missing[*]}) and not root; install them with apt-get"
    sudo=(sudo -n)
  fi
  log "installing missing packages: ${missing[*]}"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get update -q >&2 9>&- \
    || die "apt-get update failed"
  "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends \
    "${missing[@]}" >&2 9>&- || die "apt-get install failed for: ${missing[*]}"
}

# ---------------------------------------------------------------------------------------
# Processes and ports

# pid_alive PID: true when PID runs and is not a zombie. (PID 1 of a container need not
# reap orphans, and `kill -0` is true for a zombie, so a dead server would look alive.)
pid_alive() {
  local pid="$1" state
  [[ "$pid" =~ ^[0-9]+$ ]] || return 1
  kill -0 "$pid" 2>/dev/null || return 1
  # /proc/PID/stat: "pid (comm) S ..."; comm may contain spaces, so cut after the last ')'.
  state="$(sed -n 's/^.*) \([A-Za-z]\).*$/\1/p' "/proc/$pid/stat" 2>/dev/null || true)"
  [[ -n "$state" && "$state" != Z && "$state" != X ]]
}

# pid_is PID NAME [DIR]: true when PID is alive, its command name (/proc/PID/comm) is NAME
# and, when DIR is given, its working directory is DIR. Guards against a recycled pid in a
# stale pid file: Redis chdirs to its --dir, mariadbd to its datadir, and chatd nodes are
# started in the run dir. (comm, not cmdline: Redis rewrites its cmdline to "name addr".)
pid_is() {
  local pid="$1" name="$2" dir="${3:-}" comm cwd
  pid_alive "$pid" || return 1
  comm="$(cat "/proc/$pid/comm" 2>/dev/null || true)"
  [[ "$comm" == "${name:0:15}" ]] || return 1
  [[ -z "$dir" ]] && return 0
  cwd="$(readlink "/proc/$pid/cwd" 2>/dev/null || true)"
  [[ "$cwd" == "$(realpath -m "$dir")" ]]
}

# read_pid FILE: print the pid stored in FILE (empty when missing or malformed).
read_pid() {
  local pid=""
  [[ -r "$1" ]] && read -r pid <"$1" 2>/dev/null
  [[ "$pid" =~ ^[0-9]+$ ]] && printf '%s\n' "$pid"
  return 0
}

# port_in_use PORT: true when something listens on TCP PORT (any address).
port_in_use() {
  local port="$1"
  if command -v ss >/dev/null 2>&1; then
    [[ -n "$(ss -ltnH "sport = :$port" 2>/dev/null)" ]]
  else
    (exec 3<>"/dev/tcp/$CHAT_HOST/$port") 2>/dev/null
  fi
}

# free_port_from PORT: print the first port >= PORT nobody listens on (CHAT_PORT_TRIES
# tries); returns 1 when none is free.
free_port_from() {
  local port="$1" i
  for ((i = 0; i < CHAT_PORT_TRIES; i++)); do
    if ! port_in_use "$((port + i))"; then
      printf '%s\n' "$((port + i))"
      return 0
    fi
  done
  return 1
}

# stop_pid PID NAME DIR [TIMEOUT_S]: SIGTERM PID if it is a NAME process working in DIR
# (see pid_is), wait (bounded, default 30 s) for it to exit, SIGKILL after that. Reaps it
# when it is our child.
stop_pid() {
  local pid="$1" name="$2" dir="$3" timeout="${4:-30}" i
  pid_is "$pid" "$name" "$dir" || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 20; i++)); do
    pid_alive "$pid" || break
    sleep 0.05
  done
  if pid_alive "$pid"; then
    log "$name (pid $pid) did not stop within ${timeout}s; killing it"
    kill -KILL "$pid" 2>/dev/null || true
    for ((i = 0; i < 100; i++)); do
      pid_alive "$pid" || break
      sleep 0.05
    done
  fi
  wait "$pid" 2>/dev/null || true
}

# no_job_control: die in a shell with job control (set -m), where `setsid cmd &` would fork
# and $! would not be the server's pid. Scripts run without it.
no_job_control() {
  [[ $- != *m* ]] || die "start servers from a script, not from an interactive shell (set +m)"
}

# run_lock RUN [TIMEOUT_S]: take the run dir's lock on fd 9 (released when the script
# exits or closes fd 9). Waits up to TIMEOUT_S (default 600) for another script holding it.
# Servers are started with fd 9 closed, so they never hold the lock.
run_lock() {
  local run="$1" timeout="${2:-600}"
  mkdir -p "$run"
  exec 9>"$run/.lock"
  if ! flock -n 9; then
    log "another script is using $run; waiting for it (up to ${timeout}s)"
    flock -w "$timeout" 9 || die "timed out waiting for the lock on $run/.lock"
  fi
}

# run_unlock: release the lock taken by run_lock.
run_unlock() { exec 9>&-; }

# ---------------------------------------------------------------------------------------
# Redis

# redis_pid_of_port PORT: the process_id the Redis server on PORT reports (empty if none).
redis_pid_of_port() {
  redis-cli -h "$CHAT_HOST" -p "$1" info server 2>/dev/null \
    | tr -d '\r' | sed -n 's/^process_id:\([0-9]*\)$/\1/p'
}

# redis_running RUN: true when the Redis of RUN is alive AND is the server answering on
# its recorded port. Prints nothing.
redis_running() {
  local dir="$1/redis" pid port
  pid="$(read_pid "$dir/redis.pid")"
  port="$(read_pid "$dir/port")"
  [[ -n "$pid" && -n "$port" ]] || return 1
  pid_is "$pid" redis-server "$dir" || return 1
  [[ "$(redis_pid_of_port "$port")" == "$pid" ]]
}

# redis_port RUN: print the recorded Redis port of RUN.
redis_port() { read_pid "$1/redis/port"; }

# redis_start RUN PREFERRED_PORT: start the Redis of RUN unless it already runs (then it
# is reused). Port: PREFERRED_PORT or, if a foreign process holds it, the next free one;
# recorded in RUN/redis/port. AOF persistence (everysec), no RDB snapshots, loopback only.
# Dies with the log's tail when the server does not become ready within 15 s.
redis_start() {
  local run="$1" preferred="$2" dir="$1/redis" port pid i
  mkdir -p "$dir"
  no_job_control
  if redis_running "$run"; then
    log "Redis: reusing the running server (pid $(read_pid "$dir/redis.pid"), port $(redis_port "$run"))"
    return 0
  fi
  # A stale server of ours (pid alive but not answering on its port) is stopped first.
  pid="$(read_pid "$dir/redis.pid")"
  [[ -n "$pid" ]] && stop_pid "$pid" redis-server "$dir" 10
  rm -f "$dir/redis.pid"

  port="$(free_port_from "$preferred")" || die "no free port for Redis from $preferred"
  [[ "$port" == "$preferred" ]] || log "Redis: port $preferred is taken; using $port"
  # setsid: own session, so a Ctrl-C in the terminal (e.g. in the demo client) does not
  # reach the server. Foreground mode + `&`: $! is the server's pid (see LOCAL-SERVICES.md
  # on why --daemonize yes hides bind failures).
  setsid redis-server --port "$port" --bind "$CHAT_HOST" --dir "$dir" \
    --appendonly yes --appendfsync everysec --save '' \
    --daemonize no --pidfile "$dir/redis.pid" --logfile "$dir/redis.log" \
    </dev/null >/dev/null 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$dir/redis.pid"
  printf '%s\n' "$port" >"$dir/port"

  for ((i = 0; i < 300; i++)); do # 300 x 50 ms = 15 s
    if ! pid_alive "$pid"; then
      tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
      rm -f "$dir/redis.pid"
      die "Redis exited during start-up (port $port); log: $dir/redis.log"
    fi
    # PONG, not the exit code: redis-cli exits 0 on LOADING/ERR replies.
    if [[ "$(redis-cli -h "$CHAT_HOST" -p "$port" ping 2>/dev/null)" == PONG ]] \
      && [[ "$(redis_pid_of_port "$port")" == "$pid" ]]; then
      log "Redis: started (pid $pid, port $port)"
      return 0
    fi
    sleep 0.05
  done
  tail -n 20 "$dir/redis.log" >&2 2>/dev/null || true
  stop_pid "$pid" redis-server "" 5
  die "Redis did not become ready within 15s (port $port); log: $dir/redis.log"
}

# redis_stop RUN: stop the Redis of RUN (SIGTERM: Redis fsyncs the AOF and exits).
redis_stop() {
  local dir="$1/redis" pid
  pid="$(read_pid "$dir/redis.pid")"
  if [[ -n "$pid" ]] && pid_is "$pid" redis-server "$dir"; then
    stop_pid "$pid" redis-server "$dir" 30
    log "Redis: stopped (pid $pid)"
  fi
  rm -f "$dir/redis.pid"
}

# redis_flush RUN: delete every key of the Redis of RUN (it must be running).
redis_flush() {
  local out
  out="$(redis-cli -h "$CHAT_HOST" -p "$(redis_port "$1")" flushall 2>&1)"
  [[ "$out" == OK ]] || die "Redis FLUSHALL failed: $out"
}

# ---------------------------------------------------------------------------------------
# MariaDB

# mysql_cnf RUN: path of the generated server/client option file of RUN.
mysql_cnf() { printf '%s\n' "$1/mysql/my.cnf"; }

# mysql_socket RUN: Unix socket path of RUN's server. sun_path holds 107 bytes, so a deep
# checkout uses a short path under /tmp instead.
mysql_socket() {
  local sock="$1/mysql/mysqld.sock"
  if ((${#sock} > 100)); then
    sock="${TMPDIR:-/tmp}/chat-mysqld-$(printf '%s' "$1" | md5sum | cut -c1-12).sock"
  fi
  printf '%s\n' "$sock"
}

# mysql_port RUN: print the recorded MariaDB port of RUN.
mysql_port() { read_pid "$1/mysql/port"; }

# mysql_root RUN ARGS...: run the mariadb client as root over RUN's socket
# (passwordless root: --auth-root-authentication-method=normal, a throwaway instance).
mysql_root() {
  local run="$1"
  shift
  mariadb --defaults-file="$(mysql_cnf "$run")" --default-character-set=utf8mb4 -uroot "$@"
}

# mysql_chat RUN ARGS...: run the mariadb client as the `chat` user over TCP on database
# `chat`, exactly as the servers and tests connect.
mysql_chat() {
  local run="$1"
  shift
  mariadb --no-defaults --default-character-set=utf8mb4 -h"$CHAT_HOST" -P"$(mysql_port "$run")" \
    -u"$CHAT_DB_USER" -p"$CHAT_DB_PASSWORD" "$@" "$CHAT_DB_NAME"
}

# mysql_running RUN: true when RUN's mariadbd is alive AND it is the server answering on
# the recorded TCP port (its @@datadir is ours).
mysql_running() {
  local dir="$1/mysql" pid port answer
  pid="$(read_pid "$dir/mysqld.pid")"
  port="$(read_pid "$dir/port")"
  [[ -n "$pid" && -n "$port" ]] || return 1
  pid_is "$pid" mariadbd "$dir/data" || return 1
  answer="$(mariadb --no-defaults -h"$CHAT_HOST" -P"$port" -uroot -N -B \
    -e 'SELECT @@datadir' 2>/dev/null || true)"
  [[ -n "$answer" && "$(realpath -m "$answer")" == "$(realpath -m "$dir/data")" ]]
}

# mysql_write_cnf RUN PORT: (re)write RUN/mysql/my.cnf for PORT (absolute paths; read with
# --defaults-file first, which keeps /etc/mysql out).
mysql_write_cnf() {
  local run="$1" port="$2" dir="$1/mysql" user_line=""
  ((EUID == 0)) && user_line="user=root" # mariadbd refuses to run as root without it
  cat >"$dir/my.cnf" <<EOF
# Generated by scripts/lib/common.sh for $run; rewritten on every start.
[mysqld]
$user_line
datadir=$dir/data
tmpdir=$dir/tmp
socket=$(mysql_socket "$run")
pid-file=$dir/mysqld.pid
log-error=$dir/mysqld.err
port=$port
bind-address=$CHAT_HOST
skip-name-resolve
character-set-server=utf8mb4
collation-server=utf8mb4_unicode_ci
innodb_buffer_pool_size=64M
innodb_log_file_size=16M
innodb_flush_log_at_trx_commit=2
[client]
default-character-set=utf8mb4
socket=$(mysql_socket "$run")
EOF
}

# mysql_start RUN PREFERRED_PORT: start RUN's MariaDB unless it already runs (reused then);
# initialise the datadir on first use. Port chosen as for redis_start, recorded in
# RUN/mysql/port. Then creates database `chat` and user `chat` (idempotent).
# Dies with the error log's tail when the server is not ready within 60 s.
mysql_start() {
  local run="$1" preferred="$2" dir="$1/mysql" port pid i
  mkdir -p "$dir/tmp"
  no_job_control
  if mysql_running "$run"; then
    log "MariaDB: reusing the running server (pid $(read_pid "$dir/mysqld.pid"), port $(mysql_port "$run"))"
    mysql_create_account "$run"
    return 0
  fi
  pid="$(read_pid "$dir/mysqld.pid")"
  [[ -n "$pid" ]] && stop_pid "$pid" mariadbd "$dir/data" 30
  rm -f "$dir/mysqld.pid"

  port="$(free_port_from "$preferred")" || die "no free port for MariaDB from $preferred"
  [[ "$port" == "$preferred" ]] || log "MariaDB: port $preferred is taken; using $port"
  mysql_write_cnf "$run" "$port"
  printf '%s\n' "$port" >"$dir/port"

  if [[ ! -d "$dir/data/mysql" ]]; then
    log "MariaDB: initialising the data directory $dir/data"
    rm -rf "$dir/data"
    mariadb-install-db --defaults-file="$dir/my.cnf" --auth-root-authentication-method=normal \
      --skip-test-db >"$dir/install.log" 2>&1 9>&- \
      || {
        tail -n 20 "$dir/install.log" >&2
        die "mariadb-install-db failed; log: $dir/install.log"
      }
  fi

  setsid mariadbd --defaults-file="$dir/my.cnf" </dev/null >>"$dir/stdout.log" 2>&1 9>&- &
  pid=$!
  printf '%s\n' "$pid" >"$dir/mysqld.pid"

  for ((i = 0; i < 1200; i++)); do # 1200 x 50 ms = 60 s (crash recovery can take a while)
    if ! pid_alive "$pid"; then
      tail -n 20 "$dir/mysqld.err" >&2 2>/dev/null || true
      rm -f "$dir/mysqld.pid"
      die "MariaDB exited during start-up (port $port); log: $dir/mysqld.err"
    fi
    # The socket is ours alone, so a ping through it cannot be answered by another server.
    if mariadb-admin --defaults-file="$dir/my.cnf" -uroot ping >/dev/null 2>&1 \
      && mysql_running "$run"; then
      log "MariaDB: started (pid $pid, port $port)"
      mysql_create_account "$run"
      return 0
    fi
    sleep 0.05
  done
  tail -n 20 "$dir/mysqld.err" >&2 2>/dev/null || true
  stop_pid "$pid" mariadbd "" 10
  die "MariaDB did not become ready within 60s (port $port); log: $dir/mysqld.err"
}

# mysql_create_account RUN: create database `chat` and user `chat` (password of the
# contract) at 127.0.0.1 and localhost, with all privileges on `chat`. Idempotent.
mysql_create_account() {
  local u
  local sql="CREATE DATABASE IF NOT EXISTS \`$CHAT_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;"
  for u in "'$CHAT_DB_USER'@'127.0.0.1'" "'$CHAT_DB_USER'@'localhost'"; do
    sql+="CREATE USER IF NOT EXISTS $u IDENTIFIED BY '$CHAT_DB_PASSWORD';"
    sql+="ALTER USER $u IDENTIFIED BY '$CHAT_DB_PASSWORD';"
    sql+="GRANT ALL PRIVILEGES ON \`$CHAT_DB_NAME\`.* TO $u;"
  done
  mysql_root "$1" -e "$sql" || die "could not create database/user $CHAT_DB_NAME"
}

# mysql_reset_db RUN: drop and recreate database `chat` (empty; grants stay).
mysql_reset_db() {
  mysql_root "$1" -e "DROP DATABASE IF EXISTS \`$CHAT_DB_NAME\`;
    CREATE DATABASE \`$CHAT_DB_NAME\` CHARACTER SET utf8mb4 COLLATE utf8mb4_unicode_ci;" \
    || die "could not reset database $CHAT_DB_NAME"
}

# mysql_db_is_new RUN: true when database `chat` has no `user` table yet (schema never loaded).
mysql_db_is_new() {
  local n
  n="$(mysql_root "$1" -N -B -e "SELECT COUNT(*) FROM information_schema.tables
        WHERE table_schema = '$CHAT_DB_NAME' AND table_name = 'user'")" \
    || die "could not query MariaDB"
  [[ "$n" == 0 ]]
}

# mysql_load RUN FILE: run the SQL of FILE as user `chat` on database `chat`.
mysql_load() {
  local run="$1" file="$2"
  [[ -r "$file" ]] || die "cannot read $file"
  mysql_chat "$run" <"$file" || die "loading $file failed"
  log "MariaDB: loaded ${file#"$CHAT_REPO_ROOT"/}"
}

# mysql_stop RUN: stop RUN's mariadbd (SIGTERM + wait: a clean shutdown).
mysql_stop() {
  local dir="$1/mysql" pid
  pid="$(read_pid "$dir/mysqld.pid")"
  if [[ -n "$pid" ]] && pid_is "$pid" mariadbd "$dir/data"; then
    stop_pid "$pid" mariadbd "$dir/data" 60
    log "MariaDB: stopped (pid $pid)"
  fi
  rm -f "$dir/mysqld.pid"
}

# ---------------------------------------------------------------------------------------
# Both services and the env file

# services_start RUN REDIS_PORT MYSQL_PORT: start (or reuse) Redis and MariaDB of RUN with
# the given preferred ports, then write RUN/env.
services_start() {
  redis_start "$1" "$2"
  mysql_start "$1" "$3"
  write_env "$1"
}

# services_stop RUN: stop MariaDB and Redis of RUN (whatever runs of them).
services_stop() {
  mysql_stop "$1"
  redis_stop "$1"
}

# write_env RUN [KEY=VALUE...]: write RUN/env with the CHAT_* variables of the contract
# (ports as recorded), plus any extra KEY=VALUE lines given. Values contain no spaces or
# quotes, so the file is both a shell fragment and trivially parseable.
write_env() {
  local run="$1" tmp
  shift
  tmp="$(mktemp "$run/env.XXXXXX")"
  {
    printf '%s\n' "# Written by scripts/lib/common.sh; load with: set -a; . $run/env; set +a"
    printf 'CHAT_REDIS_HOST=%s\n' "$CHAT_HOST"
    printf 'CHAT_REDIS_PORT=%s\n' "$(redis_port "$run")"
    printf 'CHAT_MYSQL_HOST=%s\n' "$CHAT_HOST"
    printf 'CHAT_MYSQL_PORT=%s\n' "$(mysql_port "$run")"
    printf 'CHAT_MYSQL_USER=%s\n' "$CHAT_DB_USER"
    printf 'CHAT_MYSQL_PASSWORD=%s\n' "$CHAT_DB_PASSWORD"
    printf 'CHAT_MYSQL_DATABASE=%s\n' "$CHAT_DB_NAME"
    local kv
    for kv in "$@"; do printf '%s\n' "$kv"; done
  } >"$tmp"
  mv -f "$tmp" "$run/env"
}

# load_env RUN: export the variables of RUN/env into the current shell.
load_env() {
  [[ -r "$1/env" ]] || die "no $1/env (services not started?)"
  set -a
  # shellcheck disable=SC1091
  . "$1/env"
  set +a
}
