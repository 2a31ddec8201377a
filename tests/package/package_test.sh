#!/usr/bin/env bash
# package_test.sh REPO_ROOT VERSION: checks the Debian package chat_VERSION_*.deb.
#
# The .deb: $CHAT_PACKAGE_DEB when set (scripts/test builds it before ctest), otherwise
# scripts/package builds it now (incremental: build/package). Checks, without installing
# anything on this machine:
#   - control: name, version, Depends with the shared libraries dpkg-shlibdeps found and
#     the tools the scripts need; conffiles; maintainer scripts;
#   - contents: binaries, chat-backup, units, config, schema, docs, owners and modes;
#   - extracted (dpkg-deb -x): chatd/chat-dumper --version, no sanitizer runtime,
#     chat-backup --help (finds its lib/common.sh), the example config with every
#     commented setting switched on is accepted by chatd and chat-dumper, and the units
#     pass `systemd-analyze verify` (when systemd-analyze is installed).
set -euo pipefail

repo="${1:?usage: package_test.sh REPO_ROOT VERSION}"
version="${2:?usage: package_test.sh REPO_ROOT VERSION}"
failures=0
fail() {
  printf 'FAIL: %s\n' "$*" >&2
  failures=$((failures + 1))
}
pass() { printf 'ok: %s\n' "$*"; }

tmp="$(mktemp -d "${TMPDIR:-/tmp}/chat-package-test.XXXXXX")"
trap 'rm -rf -- "$tmp"' EXIT

deb="${CHAT_PACKAGE_DEB:-}"
if [[ -z "$deb" ]]; then
  deb="$("$repo/scripts/package")" || {
    echo "FAIL: scripts/package failed" >&2
    exit 1
  }
fi
[[ -f "$deb" ]] || {
  echo "FAIL: no package at $deb" >&2
  exit 1
}
echo "package: $deb"
[[ "$(basename "$deb")" == "chat_${version}_"*.deb ]] || fail "file name $(basename "$deb") is not chat_${version}_<arch>.deb"

# ---------------------------------------------------------------------------------------
# Control data
info="$(dpkg-deb -I "$deb")"
printf '%s\n' "$info" | sed -n '/^ Package:/,$p'
field() { dpkg-deb -f "$deb" "$1"; }
[[ "$(field Package)" == chat ]] || fail "Package is '$(field Package)', not chat"
[[ "$(field Version)" == "$version" ]] || fail "Version is '$(field Version)', not $version"
[[ -n "$(field Maintainer)" ]] || fail "no Maintainer"
[[ -n "$(field Description)" ]] || fail "no Description"
depends="$(field Depends)"
# Libraries (found by dpkg-shlibdeps) and tools (listed by hand) the package must pull in.
for dep in libhiredis libmariadb3 libsodium libncursesw libssl3 libtomlplusplus libspdlog \
  libfmt libboost-program-options libprometheus-cpp-core libprometheus-cpp-pull libstdc++6 libc6 \
  adduser redis-tools mariadb-client; do
  if [[ ",$depends" =~ [,\ ]${dep//+/\\+}[a-z0-9.+-]*( |,|$) ]]; then
    pass "Depends has $dep"
  else
    fail "Depends lacks $dep: $depends"
  fi
done
# No development package may be required at run time.
[[ "$depends" != *-dev* ]] || fail "Depends names a -dev package: $depends"

dpkg-deb -e "$deb" "$tmp/control"
conffiles="$(cat "$tmp/control/conffiles" 2>/dev/null || true)"
for f in /etc/chat/chat.toml /etc/chat/chat.env; do
  if grep -qxF "$f" <<<"$conffiles"; then pass "conffile $f"; else fail "$f is not a conffile"; fi
done
for s in postinst prerm postrm; do
  if [[ -x "$tmp/control/$s" ]] && sh -n "$tmp/control/$s"; then
    pass "maintainer script $s"
  else
    fail "maintainer script $s missing, not executable or not valid sh"
  fi
done
grep -q 'adduser --system' "$tmp/control/postinst" || fail "postinst creates no system user"
grep -q 'run/systemd/system' "$tmp/control/postinst" \
  || fail "postinst reloads systemd without checking that it runs"

# ---------------------------------------------------------------------------------------
# Contents: "perms owner/group size date time ./path[ -> target]"
contents="$(dpkg-deb -c "$deb")"
has() { # has REGEX WHAT: one line of the listing matches REGEX
  if grep -qE "$1" <<<"$contents"; then pass "contains $2"; else fail "lacks $2"; fi
}
for b in chatd chat-dumper chatctl chat-tui; do
  has "^-rwxr-xr-x root/root .* \./usr/bin/$b$" "/usr/bin/$b"
done
has '^l.* \./usr/bin/chat-backup -> \.\./lib/chat/chat-backup$' "/usr/bin/chat-backup (link)"
has '^-rwxr-xr-x .* \./usr/lib/chat/chat-backup$' "/usr/lib/chat/chat-backup"
has ' \./usr/lib/chat/lib/common\.sh$' "chat-backup's lib/common.sh"
for u in 'chatd@.service' chat-dumper.service chat-dumper.timer chat-backup.service chat-backup.timer; do
  has "^-rw-r--r-- root/root .* \./usr/lib/systemd/system/${u//./\\.}$" "unit $u"
done
has '^-rw-r----- root/root .* \./etc/chat/chat\.toml$' "/etc/chat/chat.toml (0640)"
has '^-rw------- root/root .* \./etc/chat/chat\.env$' "/etc/chat/chat.env (0600)"
has ' \./usr/share/chat/sql/schema\.sql$' "the SQL schema"
has ' \./usr/share/chat/sql/sample_data\.sql$' "the sample data"
has ' \./usr/share/doc/chat/OPERATING\.md$' "OPERATING.md"
has ' \./usr/share/doc/chat/examples/node1\.toml$' "the node override example"
grep -E '^-' <<<"$contents" | grep -vq ' root/root ' && fail "files not owned by root/root"

# ---------------------------------------------------------------------------------------
# Extracted
root="$tmp/root"
dpkg-deb -x "$deb" "$root"
for b in chatd chat-dumper chatctl chat-tui; do
  out="$("$root/usr/bin/$b" --version 2>&1)" || fail "$b --version exited $?"
  if [[ "$out" == "$b $version" ]]; then pass "$b --version: $out"; else fail "$b --version printed '$out'"; fi
done
if "$root/usr/bin/chat-tui" --help >/dev/null 2>&1; then pass "chat-tui --help"; else fail "chat-tui --help failed"; fi
for b in chatd chat-dumper chatctl chat-tui; do
  # A sanitizer build links its runtime (libasan/libubsan) or has __asan_* symbols.
  if LC_ALL=C grep -qaE '__asan_init|__ubsan_handle|libasan\.so|libubsan\.so' "$root/usr/bin/$b"; then
    fail "$b is a sanitizer build"
  else
    pass "$b is no sanitizer build"
  fi
done
help="$("$root/usr/bin/chat-backup" --help 2>&1)" || true
if [[ "$help" == *"chat-backup [backup]"* ]]; then
  pass "chat-backup --help (through the /usr/bin link)"
else
  fail "chat-backup --help: $help"
fi

# The example config names every flag of chatd and chat-dumper, and the shared ones of chatctl:
# --<table>-K of a shared table as K in [table], any other flag as K in the binary's own
# table (README "Configuration"). Not config settings: --config, --help, --version, and
# chat-dumper's --once (the unit passes it).
settings="$(awk '
  /^\[[a-z]+\]/ { table = substr($1, 2, length($1) - 2) }
  match($0, /^#?[a-z][a-z-]* = /) { key = substr($0, 1, RLENGTH - 3); sub(/^#/, "", key); print table "." key }
' "$root/etc/chat/chat.toml")"
flags_covered() { # flags_covered PROGRAM OWN-TABLE [shared-only]
  local prog="$1" own="$2" shared_only="${3:-}" flag table key missing=()
  [[ -x "$root/usr/bin/$prog" ]] || return 0
  while read -r flag; do
    case "$flag" in
      config | help | version | once) continue ;;
      redis-* | mysql-* | log-* | metrics-*) table="${flag%%-*}" key="${flag#*-}" ;;
      *)
        [[ -n "$shared_only" ]] && continue
        table="$own" key="$flag"
        ;;
    esac
    grep -qxF "$table.$key" <<<"$settings" || missing+=("--$flag ($table.$key)")
  done < <("$root/usr/bin/$prog" --help | sed -nE 's/^ +(-[a-zA-Z] \[ )?--([a-z][a-z0-9-]*).*/\2/p')
  if ((${#missing[@]} == 0)); then
    pass "chat.toml names every flag of $prog"
  else
    fail "chat.toml lacks flags of $prog: ${missing[*]}"
  fi
}
flags_covered chatd chatd
flags_covered chat-dumper dumper
# chatctl's own flags belong to its commands (--name, --meeting...), not to a config file.
flags_covered chatctl chatctl shared-only

# The example config: every "#key = value" line switched on must be accepted. Neither
# program connects anywhere: a bad value of a later check stops them with exit status 2
# after the config was read, and the message tells which check stopped them.
sed -E 's/^#([a-z][a-z-]* = )/\1/' "$root/etc/chat/chat.toml" >"$tmp/all.toml"
n_on="$(grep -cE '^[a-z][a-z-]* = ' "$tmp/all.toml")"
((n_on >= 35)) || fail "only $n_on settings in chat.toml with the comments switched on"
config_ok() { # config_ok PROGRAM EXPECTED-MESSAGE ARGS...
  local prog="$1" want="$2" rc=0 out
  shift 2
  out="$("$root/usr/bin/$prog" "$@" 2>&1)" || rc=$?
  if ((rc == 2)) && [[ "$out" == *"$want"* ]]; then
    pass "$prog accepts ${*: -1}"
  else
    fail "$prog with ${*: -1}: exit $rc: $out"
  fi
}
config_ok chatd "--listen must be host:port" --listen bad --config "$root/etc/chat/chat.toml"
config_ok chatd "--listen must be host:port" --listen bad --config "$tmp/all.toml"
config_ok chatd "--listen must be host:port" --listen bad \
  --config "$root/usr/share/doc/chat/examples/node1.toml"
config_ok chat-dumper "must be positive" --batch 0 --config "$root/etc/chat/chat.toml"
config_ok chat-dumper "must be positive" --batch 0 --config "$tmp/all.toml"
# ...and the probe itself notices a bad file.
printf '[chatd]\nno-such-key = 1\n' >"$tmp/bad.toml"
out="$("$root/usr/bin/chatd" --listen bad --config "$tmp/bad.toml" 2>&1)" || true
if [[ "$out" == *no-such-key* ]]; then
  pass "the config probe notices an unknown key"
else
  fail "unknown key not reported: $out"
fi

# The units: systemd's own checker. It needs ExecStart= binaries to exist, so it checks
# copies whose /usr/bin/ paths point into the extracted tree. It does not look up users,
# so a missing `chat` user is no error here.
if command -v systemd-analyze >/dev/null 2>&1; then
  mkdir "$tmp/units"
  units=()
  for u in chatd@.service chat-dumper.service chat-dumper.timer chat-backup.service \
    chat-backup.timer; do
    name="${u/@./@node1.}" # an instance: verify refuses a template
    sed "s|=/usr/bin/|=$root/usr/bin/|" "$root/usr/lib/systemd/system/$u" >"$tmp/units/$name"
    units+=("$tmp/units/$name")
  done
  if out="$(SYSTEMD_LOG_LEVEL=notice systemd-analyze verify --man=no "${units[@]}" 2>&1)" \
    && [[ -z "$out" ]]; then
    pass "systemd-analyze verify: the units"
  else
    fail "systemd-analyze verify: $out"
  fi
else
  echo "skip: systemd-analyze not installed (units not verified)"
fi

if ((failures > 0)); then
  echo "$failures check(s) failed" >&2
  exit 1
fi
echo "all package checks passed"
