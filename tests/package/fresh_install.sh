#!/usr/bin/env bash
# tests/package/fresh_install.sh [DEB]: install the package on a fresh Debian 12 and check it.
#
# Not part of scripts/test (it needs root, the Debian mirror and about 3 minutes). It
# debootstraps a minimal bookworm into build/fresh-install (removed afterwards), then
# inside it, as an operator would:
#   - apt-get install ./chat_*.deb (pulls the libraries, redis-tools, mariadb-client);
#   - checks the user chat, /etc/chat and /var/lib/chat owners and modes, --version;
#   - with the test services running (scripts/services test up), loads
#     /usr/share/chat/sql/schema.sql with the installed client, writes node1.toml and the
#     ports into chat.toml, runs the installed chatd as user chat as chatd@node1 would,
#     asks it `nodes` over TCP, runs chat-dumper --once, stops chatd with SIGTERM;
#   - reinstalls (edited conffiles stay), purges (user, /var/lib/chat and node files stay).
# DEB defaults to the newest build/package/chat_*.deb. No systemd runs in the chroot, so
# the units themselves are checked by package_test.sh (systemd-analyze verify) only.
set -euo pipefail
# shellcheck source=scripts/lib/common.sh
. "$(dirname "${BASH_SOURCE[0]}")/../../scripts/lib/common.sh"

((EUID == 0)) || die "run as root (debootstrap, chroot)"
# shellcheck disable=SC2012 # names are chat_<version>_<arch>.deb, no odd characters
deb="${1:-$(ls -t "$CHAT_REPO_ROOT"/build/package/chat_*.deb 2>/dev/null | head -n 1)}"
[[ -f "$deb" ]] || die "no package: run scripts/package first or give DEB"
command -v debootstrap >/dev/null 2>&1 \
  || DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends debootstrap >&2
root="$CHAT_REPO_ROOT/build/fresh-install"
chatd_pid=""
cleanup() {
  [[ -n "$chatd_pid" ]] && kill -TERM "$chatd_pid" 2>/dev/null
  rm -rf -- "$root"
}
trap cleanup EXIT
in_root() { chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin \
  DEBIAN_FRONTEND=noninteractive "$@"; }
check() { # check DESCRIPTION COMMAND...
  if "${@:2}"; then log "ok: $1"; else die "FAILED: $1"; fi
}

rm -rf -- "$root"
log "debootstrap bookworm (minbase) into $root"
debootstrap --variant=minbase bookworm "$root" http://deb.debian.org/debian >"$root-debootstrap.log" 2>&1 \
  || die "debootstrap failed; log: $root-debootstrap.log"
cp "$deb" "$root/tmp/chat.deb"
log "apt-get install ./$(basename "$deb")"
in_root sh -c 'apt-get update -q && apt-get install -y -q /tmp/chat.deb' >"$root-apt.log" 2>&1 \
  || die "apt-get install failed; log: $root-apt.log"

check "user chat" in_root sh -c 'getent passwd chat | grep -q ":/var/lib/chat:/usr/sbin/nologin$"'
stat_is() { [[ "$(in_root stat -c '%U:%G %a' "$1")" == "$2" ]]; }
check "/etc/chat root:chat 750" stat_is /etc/chat "root:chat 750"
check "chat.toml root:chat 640" stat_is /etc/chat/chat.toml "root:chat 640"
check "chat.env root:root 600" stat_is /etc/chat/chat.env "root:root 600"
check "/var/lib/chat chat:chat 750" stat_is /var/lib/chat "chat:chat 750"
check "/var/lib/chat/backups chat:chat 750" stat_is /var/lib/chat/backups "chat:chat 750"
check "chatd --version" in_root sh -c 'chatd --version | grep -q "^chatd "'
check "chat-dumper --version" in_root sh -c 'chat-dumper --version | grep -q "^chat-dumper "'
check "chat-backup --help" in_root sh -c 'chat-backup --help | grep -q "^USAGE"'

if redis_running "$CHAT_TEST_RUN" && mysql_running "$CHAT_TEST_RUN"; then
  load_env "$CHAT_TEST_RUN"
  port="$(free_port_from 17450)"
  sed -i -e "s/^port = 6379\$/port = $CHAT_REDIS_PORT/" -e "s/^port = 3306\$/port = $CHAT_MYSQL_PORT/" \
    "$root/etc/chat/chat.toml"
  sed -e "s/0.0.0.0:7000/127.0.0.1:$port/" -e "s/chat1.example.com:7000/127.0.0.1:$port/" \
    "$root/usr/share/doc/chat/examples/node1.toml" >"$root/etc/chat/node1.toml"
  check "schema loaded with the installed client" in_root sh -c \
    "mariadb --default-character-set=utf8mb4 -h127.0.0.1 -P$CHAT_MYSQL_PORT -u$CHAT_MYSQL_USER \
      -p$CHAT_MYSQL_PASSWORD $CHAT_MYSQL_DATABASE < /usr/share/chat/sql/schema.sql"
  # chatd@node1's ExecStart, as user chat, the password in the environment.
  setsid chroot --userspec=chat:chat "$root" /usr/bin/env -i PATH=/usr/bin:/bin \
    CHATD_MYSQL_PASSWORD="$CHAT_MYSQL_PASSWORD" CHAT_MYSQL_PASSWORD="$CHAT_MYSQL_PASSWORD" \
    /usr/bin/chatd --node-id node1 --config /etc/chat/node1.toml --config /etc/chat/chat.toml \
    </dev/null >"$root/chatd.log" 2>&1 &
  chatd_pid=$!
  for ((i = 0; i < 100; i++)); do
    grep -qs 'listening on' "$root/chatd.log" && break
    pid_alive "$chatd_pid" || die "chatd exited: $(cat "$root/chatd.log")"
    sleep 0.1
  done
  # The node registers itself with its first heartbeat (1 s): ask until it is listed.
  exec 3<>"/dev/tcp/127.0.0.1/$port"
  for ((i = 1; i <= 20; i++)); do
    printf '{"id":%d,"op":"nodes"}\n' "$i" >&3
    read -r -t 5 answer <&3 || answer=""
    [[ "$answer" == *'"node":"node1"'* ]] && break
    sleep 0.25
  done
  exec 3>&-
  check "installed chatd answers nodes: $answer" \
    grep -q "\"node\":\"node1\"" <<<"$answer"
  check "chat-dumper --once as chat-dumper.service runs it" chroot --userspec=chat:chat "$root" \
    /usr/bin/env -i PATH=/usr/bin:/bin CHATD_MYSQL_PASSWORD="$CHAT_MYSQL_PASSWORD" \
    /usr/bin/chat-dumper --once --consumer dumper-fresh-install --config /etc/chat/chat.toml
  kill -TERM "$chatd_pid"
  rc=0
  wait "$chatd_pid" || rc=$?
  chatd_pid=""
  check "chatd stops on SIGTERM with status 0" test "$rc" = 0
else
  log "skip: chatd run (start the test services first: scripts/services test up)"
  printf '# edited\n' >>"$root/etc/chat/chat.toml"
fi

cp "$root/etc/chat/chat.toml" "$root/chat.toml.edited"
check "reinstall" in_root dpkg -i /tmp/chat.deb >/dev/null
check "edited chat.toml kept" cmp -s "$root/chat.toml.edited" "$root/etc/chat/chat.toml"
touch "$root/etc/chat/node9.toml"
check "purge" in_root apt-get purge -y -q chat >/dev/null
check "purge removed the conffiles" test ! -e "$root/etc/chat/chat.toml" -a ! -e "$root/etc/chat/chat.env"
check "purge kept the node file and /var/lib/chat" \
  test -e "$root/etc/chat/node9.toml" -a -d "$root/var/lib/chat/backups"
check "purge kept the user chat" in_root getent passwd chat >/dev/null
log "fresh install checks passed"
