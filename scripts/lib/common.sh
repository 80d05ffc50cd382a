# Shared shell helpers for scripts/test and scripts/run.
#
# Source this file (do not execute it). It only defines variables and functions; the
# caller owns `set -euo pipefail` and its EXIT trap.
# shellcheck shell=bash

# Debian packages the build and `scripts/run` need: the C libraries the Swift system library
# targets link against, Redis for the bus, curl and openssl.
PORTCULLIS_APT_PACKAGES=(
  pkg-config
  libjwt-dev
  libhiredis-dev
  libssl-dev
  zlib1g-dev
  redis-server
  redis-tools
  curl
  openssl
  ca-certificates
)

# What only the test suites need on top: testssl.sh (scans the TLS listener); Node with
# node-ws and Rails' own ActionCable client (Tests/e2e/test_actioncable.py); patch for the
# Autobahn harness in Tests/autobahn; systemd's systemd-analyze for the unit checks;
# headless Chromium and its WebDriver for the browser demo's test
# (Tests/e2e/test_demo_browser.py). scripts/run does not install these.
PORTCULLIS_TEST_APT_PACKAGES=(
  testssl.sh
  nodejs
  node-ws
  ruby-actioncable
  patch
  systemd
  chromium
  chromium-driver
)

# Root of the repository, whatever the caller's working directory.
PORTCULLIS_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"

banner() {
  printf '\n==================== %s ====================\n' "$*"
}

log() {
  printf '[%s] %s\n' "$(date +%H:%M:%S)" "$*"
}

die() {
  printf 'error: %s\n' "$*" >&2
  exit 1
}

# Runs a command as root: directly when we are root, else through sudo.
as_root() {
  if [[ $(id -u) -eq 0 ]]; then
    "$@"
  elif command -v sudo >/dev/null 2>&1; then
    sudo "$@"
  else
    die "need root (or sudo) to run: $*"
  fi
}

# True when a Debian package is installed (not merely known, removed or half-configured).
apt_is_installed() {
  dpkg -s "$1" 2>/dev/null | grep -q '^Status: install ok installed$'
}

# apt_install_missing PKG...: installs the packages that are not installed yet.
# Runs `apt-get update` once, and only when something is missing.
apt_install_missing() {
  local missing=() pkg
  for pkg in "$@"; do
    apt_is_installed "$pkg" || missing+=("$pkg")
  done
  if ((${#missing[@]} == 0)); then
    log "apt: all ${#} packages already installed"
    return 0
  fi
  log "apt: installing ${missing[*]}"
  as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq </dev/null
  as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" </dev/null
}

# setup_venv DIR REQUIREMENTS: creates (or repairs) a virtualenv at DIR and installs
# REQUIREMENTS into it. The install is skipped when neither the requirements file nor
# the interpreter changed since the last successful install (hash stamp in DIR).
setup_venv() {
  local venv=$1 requirements=$2
  local stamp="$venv/.requirements.sha256"
  if [[ -x $venv/bin/python ]] && ! "$venv/bin/python" -c 'import sys' >/dev/null 2>&1; then
    log "venv: $venv is broken (interpreter moved?), recreating"
    rm -rf "$venv"
  fi
  if [[ ! -x $venv/bin/python ]]; then
    log "venv: creating $venv with $(python3 --version 2>&1)"
    if ! python3 -m venv "$venv"; then
      # Debian's own python3 ships venv/ensurepip separately.
      rm -rf "$venv"
      apt_install_missing python3-venv
      python3 -m venv "$venv"
    fi
  fi
  local want
  want=$({
    sha256sum <"$requirements"
    "$venv/bin/python" -c 'import sys; print(sys.version)'
  } | sha256sum | cut -d' ' -f1)
  if [[ -f $stamp && $(<"$stamp") == "$want" ]]; then
    log "venv: requirements unchanged, nothing to install"
    return 0
  fi
  log "venv: installing $requirements"
  rm -f "$stamp"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements" </dev/null
  printf '%s\n' "$want" >"$stamp"
}

# Prints a TCP port on 127.0.0.1 that was free a moment ago.
free_port() {
  python3 - <<'EOF'
import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])
s.close()
EOF
}

REDIS_PID=""
REDIS_PORT=""
REDIS_DIR=""

# start_redis: starts Debian's redis-server in the foreground of a background job, on a
# free loopback port, with its own temporary data directory and no persistence.
# Sets REDIS_PID, REDIS_PORT, REDIS_DIR and exports PORTCULLIS_TEST_REDIS_URL.
# Pair it with stop_redis in the caller's EXIT trap.
start_redis() {
  command -v redis-server >/dev/null 2>&1 || die "redis-server not found (apt package redis-server)"
  REDIS_DIR=$(mktemp -d "${TMPDIR:-/tmp}/portcullis-redis.XXXXXX")
  local attempt deadline
  for attempt in 1 2 3; do
    REDIS_PORT=$(free_port)
    redis-server --bind 127.0.0.1 --port "$REDIS_PORT" --dir "$REDIS_DIR" \
      --save "" --appendonly no --daemonize no \
      --logfile "$REDIS_DIR/redis.log" </dev/null &
    REDIS_PID=$!
    deadline=$((SECONDS + 10))
    while ((SECONDS < deadline)); do
      if ! kill -0 "$REDIS_PID" 2>/dev/null; then
        break
      fi
      if [[ $(redis-cli -h 127.0.0.1 -p "$REDIS_PORT" ping 2>/dev/null) == PONG ]]; then
        export PORTCULLIS_TEST_REDIS_URL="redis://127.0.0.1:$REDIS_PORT/0"
        log "redis: pid $REDIS_PID listening on 127.0.0.1:$REDIS_PORT (data dir $REDIS_DIR)"
        return 0
      fi
      sleep 0.1
    done
    log "redis: attempt $attempt on port $REDIS_PORT failed"
    stop_redis_process
    [[ -f $REDIS_DIR/redis.log ]] && tail -n 20 "$REDIS_DIR/redis.log"
  done
  die "redis-server did not start"
}

# Stops the redis-server started by start_redis (by its PID), keeping its data dir.
stop_redis_process() {
  if [[ -n $REDIS_PID ]] && kill -0 "$REDIS_PID" 2>/dev/null; then
    kill -TERM "$REDIS_PID" 2>/dev/null || true
    local i
    for i in $(seq 50); do
      kill -0 "$REDIS_PID" 2>/dev/null || break
      sleep 0.1
    done
    kill -KILL "$REDIS_PID" 2>/dev/null || true
    wait "$REDIS_PID" 2>/dev/null || true
  fi
  REDIS_PID=""
}

# stop_redis: stops the server started by start_redis and removes its data dir.
# Safe to call more than once and when start_redis never ran.
stop_redis() {
  stop_redis_process
  if [[ -n $REDIS_DIR && -d $REDIS_DIR ]]; then
    rm -rf "$REDIS_DIR"
  fi
  REDIS_DIR=""
}

# make_dev_secret FILE: 32 random bytes as 64 hex digits (an HS256 key, a bearer key), made
# once and kept, readable by the owner only.
make_dev_secret() {
  local file=$1
  [[ -s $file ]] && return 0
  mkdir -p "$(dirname "$file")"
  (umask 077 && openssl rand -hex 32 >"$file")
  log "created $file"
}

# make_dev_cert DIR: a self-signed EC P-256 certificate for localhost and 127.0.0.1 at
# DIR/cert.pem with its key at DIR/key.pem, created only when either is missing.
make_dev_cert() {
  local dir=$1
  if [[ -s $dir/cert.pem && -s $dir/key.pem ]]; then
    log "tls: using existing $dir/cert.pem"
    return 0
  fi
  mkdir -p "$dir"
  log "tls: creating self-signed dev certificate in $dir"
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes \
    -keyout "$dir/key.pem" -out "$dir/cert.pem" -days 825 \
    -subj "/CN=localhost" \
    -addext "subjectAltName=DNS:localhost,IP:127.0.0.1" \
    -addext "basicConstraints=critical,CA:TRUE" \
    -addext "keyUsage=critical,digitalSignature,keyCertSign" \
    -addext "extendedKeyUsage=serverAuth" 2>/dev/null
  chmod 600 "$dir/key.pem"
}
