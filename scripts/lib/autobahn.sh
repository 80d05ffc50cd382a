#!/usr/bin/env bash
# Autobahn|Testsuite (RFC 6455 fuzzingclient, cases 1-10, and the permessage-deflate cases
# 12-13 of RFC 7692) against a socket route with `compression` on, through the whole path:
# client -> portcullis -> Redis Streams -> portcullis-rooms (echo app) -> Redis ->
# portcullis -> client. The route compresses every message (`min_size: 0`) so that 12.x
# and 13.x exercise both directions whatever their message size.
#
#   scripts/lib/autobahn.sh BIN_DIR OUTDIR
#
#   BIN_DIR  holds the built `portcullis` and `portcullis-rooms`
#   OUTDIR   gets the edge and worker logs, and run.sh's spec, wstest.log and reports/
#
# Needs PORTCULLIS_TEST_REDIS_URL (scripts/test starts that Redis); everything goes under a
# fresh bus prefix, deleted afterwards. The harness is Tests/autobahn in this repository
# (override with AUTOBAHN_TOOLS); its venv is built once by that directory's
# setup.sh (from PyPI) into $PORTCULLIS_AUTOBAHN_VENV (default ~/.cache/portcullis-autobahn) and rebuilt
# when setup.sh or py3.patch change. Extra run.sh settings (AUTOBAHN_CASES, AUTOBAHN_EXCLUDE,
# AUTOBAHN_TIMEOUT) pass through. AUTOBAHN_EXCLUDE defaults here to the 12.x and 13.x cases
# with messages above 8 KiB: each of their 12 groups (context takeover, window bits, ...)
# still runs its 16 B to 8 KiB sizes and its 8 KiB message in 256-byte fragments (84 cases,
# about a minute), while all 216 take 20-30 minutes on a 2-core machine, bound by the
# suite's own client. `AUTOBAHN_EXCLUDE= scripts/test` runs them all;
# `AUTOBAHN_EXCLUDE='12.*,13.*'` is the 1-10 run.
#
# Prints run.sh's summary line. Exits 0 when no case FAILED; 1 when one did (or when the
# setup failed, with an `error:` line); 2 when results are missing (run.sh's codes). Stops
# the processes it started, by PID.
set -euo pipefail

# shellcheck source=common.sh
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

bin_dir=${1:?usage: autobahn.sh BIN_DIR OUTDIR}
out=${2:?usage: autobahn.sh BIN_DIR OUTDIR}
: "${PORTCULLIS_TEST_REDIS_URL:?autobahn.sh needs PORTCULLIS_TEST_REDIS_URL (scripts/test sets it)}"
redis_url=$PORTCULLIS_TEST_REDIS_URL

tools=${AUTOBAHN_TOOLS:-$PORTCULLIS_ROOT/Tests/autobahn}
for file in setup.sh run.sh py3.patch; do
  [[ -f $tools/$file ]] || die "autobahn: no $tools/$file (the harness is Tests/autobahn; AUTOBAHN_TOOLS overrides it)"
done
tools=$(cd "$tools" && pwd)
for exe in portcullis portcullis-rooms; do
  [[ -x $bin_dir/$exe ]] || die "autobahn: no $bin_dir/$exe (build first)"
done

# --- the wstest venv, built once --------------------------------------------------------------

venv=${PORTCULLIS_AUTOBAHN_VENV:-$HOME/.cache/portcullis-autobahn}
want=$(cat "$tools/setup.sh" "$tools/py3.patch" | sha256sum | cut -d' ' -f1)
stamp=$venv/.portcullis-setup.sha256
if [[ -x $venv/bin/wstest && -f $stamp && $(<"$stamp") == "$want" ]]; then
  log "autobahn: using $venv"
else
  log "autobahn: building the wstest venv in $venv ($tools/setup.sh, about a minute)"
  command -v patch >/dev/null 2>&1 || apt_install_missing patch
  rm -rf "$venv"
  mkdir -p "$(dirname "$venv")"
  "$tools/setup.sh" "$venv" </dev/null
  printf '%s\n' "$want" >"$stamp"
fi

# --- redis prefix, portcullis-rooms, portcullis -------------------------------------------------

mkdir -p "$out"
out=$(cd "$out" && pwd)
prefix="autobahn$(od -An -N4 -tx1 /dev/urandom | tr -d ' \n')"
edge_id="ab-$$"
port=$(free_port)
admin_port=$(free_port)
rooms_pid=""
edge_pid=""

stop_pid() {
  local pid=$1 i
  [[ -n $pid ]] && kill -0 "$pid" 2>/dev/null || return 0
  kill -TERM "$pid" 2>/dev/null || true
  for i in $(seq 100); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    log "autobahn: pid $pid still running 10 s after SIGTERM; SIGKILL"
    kill -KILL "$pid" 2>/dev/null || true
  fi
  wait "$pid" 2>/dev/null || true
}

cleanup() {
  stop_pid "$edge_pid"
  stop_pid "$rooms_pid"
  # Free what the run left in the shared test Redis (multi-MiB messages in the streams).
  redis-cli -u "$redis_url" --scan --pattern "$prefix:*" 2>/dev/null |
    xargs -r -n 100 redis-cli -u "$redis_url" DEL >/dev/null 2>&1 || true
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

cat >"$out/rooms.yaml" <<EOF
redis: {url: "$redis_url"}
bus: {prefix: "$prefix"}
worker: {id: "autobahn-$$"}
apps: [echo]
EOF
cat >"$out/portcullis.yaml" <<EOF
version: 1
edge: {id: "$edge_id", drain_timeout: 5s, watch_interval: 0s}
listeners:
  - {name: main, address: "127.0.0.1:$port"}
admin: {address: "127.0.0.1:$admin_port"}
routes:
  - name: autobahn
    match: {path: /autobahn}
    socket: {app: echo, mode: opaque, rate_limit: off, max_message_size: 20MiB, compression: {min_size: 0}}
redis: {url: "$redis_url"}
bus: {prefix: "$prefix"}
EOF

"$bin_dir/portcullis-rooms" serve --config "$out/rooms.yaml" </dev/null >"$out/rooms.log" 2>&1 &
rooms_pid=$!
"$bin_dir/portcullis" serve --config "$out/portcullis.yaml" </dev/null >"$out/portcullis.log" 2>&1 &
edge_pid=$!

show_logs() {
  log "autobahn: last lines of $out/portcullis.log"
  tail -n 20 "$out/portcullis.log" >&2 || true
  log "autobahn: last lines of $out/rooms.log"
  tail -n 20 "$out/rooms.log" >&2 || true
}

deadline=$((SECONDS + 30))
until [[ $(curl -s -o /dev/null -w '%{http_code}' "http://127.0.0.1:$admin_port/healthz" 2>/dev/null) == 200 ]] &&
  redis-cli -u "$redis_url" XINFO CONSUMERS "$prefix:in:echo" portcullis-rooms:echo 2>/dev/null |
  grep -qx "autobahn-$$"; do
  for pid in "$edge_pid" "$rooms_pid"; do
    kill -0 "$pid" 2>/dev/null || { show_logs; die "autobahn: pid $pid exited during startup"; }
  done
  ((SECONDS < deadline)) || { show_logs; die "autobahn: edge or worker not ready after 30 s"; }
  sleep 0.2
done
log "autobahn: portcullis pid $edge_pid on 127.0.0.1:$port, portcullis-rooms pid $rooms_pid, bus prefix $prefix"

# --- the suite ---------------------------------------------------------------------------------

# The 12.x/13.x case ids whose messages exceed 8 KiB (sizes 7-10 and 12-18 of each group;
# 11 is 8 KiB in 256-byte fragments), comma-separated, for the default AUTOBAHN_EXCLUDE.
large_compression_cases() {
  local ids=() group size
  for group in 12.1 12.2 12.3 12.4 12.5 13.1 13.2 13.3 13.4 13.5 13.6 13.7; do
    for size in 7 8 9 10 12 13 14 15 16 17 18; do ids+=("$group.$size"); done
  done
  local IFS=,
  echo "${ids[*]}"
}

rc=0
AUTOBAHN_VENV=$venv AUTOBAHN_AGENT=${AUTOBAHN_AGENT:-portcullis} AUTOBAHN_TIMEOUT=${AUTOBAHN_TIMEOUT:-3600} \
  AUTOBAHN_EXCLUDE=${AUTOBAHN_EXCLUDE-$(large_compression_cases)} \
  "$tools/run.sh" "ws://127.0.0.1:$port/autobahn" "$out" || rc=$?
for pid in "$edge_pid" "$rooms_pid"; do
  if ! kill -0 "$pid" 2>/dev/null; then
    show_logs
    die "autobahn: pid $pid exited during the run"
  fi
done
case $rc in
  0) log "autobahn: no case failed (reports: $out/reports/index.html)" ;;
  1) log "autobahn: cases FAILED (see above; reports: $out/reports/index.html)" ;;
  *) show_logs; log "autobahn: incomplete run (exit $rc); see $out/wstest.log" ;;
esac
exit "$rc"
