#!/usr/bin/env bash
# Real backing services for the AuraLink integration tests, on loopback only.
#
#   scripts/test-services.sh start    build what is missing, start/reuse every service,
#                                     wait until each answers, then print the env (stdout)
#   scripts/test-services.sh stop     stop what this script started (PostgreSQL/Redis untouched)
#   scripts/test-services.sh status   one "name: up|down ..." line per service (exit 1 if any down)
#   scripts/test-services.sh env      print `export NAME=value` lines:
#                                       eval "$(scripts/test-services.sh env)"
#   scripts/test-services.sh build [livekit|minio|clamav|chromium]...
#                                     only build/install the binaries (all when none is named;
#                                     e.g. a CI cache step, or `build livekit` for a local call)
#
# Services: PostgreSQL 127.0.0.1:5432, Redis 127.0.0.1:6379, LiveKit 127.0.0.1:7880
# (rtc tcp 7881, udp 50000-50200), MinIO 127.0.0.1:19000 (console 19001),
# clamd 127.0.0.1:3310 + unix socket. PostgreSQL/Redis are only started if down and
# never stopped. A service already answering on its port is reused. Chromium (for the
# browser tests) is Debian's package, installed with apt: never a browser download.
#
# Optional environment:
#   AURALINK_SERVICES_DIR, AURALINK_CACHE     state dir / binary cache (see below)
#   AURALINK_TEST_WEBHOOK_URL                 LiveKit webhook target (start restarts LiveKit if it changed)
#   AURALINK_TEST_BROWSER_WEBHOOK_URL         a second webhook target, for the browser tests' service
#   AURALINK_CHROMIUM                         chromium binary (default /usr/bin/chromium, Debian's)
#   AURALINK_LIVEKIT_VERSION                  default v1.13.5 (see LIVEKIT_VERSION below)
#   AURALINK_LIVEKIT_PORT, AURALINK_LIVEKIT_RTC_TCP_PORT, AURALINK_LIVEKIT_UDP_START/_END,
#   AURALINK_MINIO_PORT, AURALINK_MINIO_CONSOLE_PORT, AURALINK_CLAMD_PORT
#                                             move this script's services (e.g. a second set)
#
# State (pids, logs, data, generated configs): ${AURALINK_SERVICES_DIR:-/tmp/auralink-services}
# Binaries (built from source via the Go module proxy, never downloaded prebuilt):
#   ${AURALINK_CACHE:-$HOME/.cache/auralink}/bin/<name>-<version>/
# Progress goes to stderr; only `env` output goes to stdout.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
STATE_DIR="${AURALINK_SERVICES_DIR:-/tmp/auralink-services}"
CACHE_DIR="${AURALINK_CACHE:-${HOME:-/root}/.cache/auralink}"
BIN_ROOT="$CACHE_DIR/bin"
RUN_DIR="$STATE_DIR/run"
LOG_DIR="$STATE_DIR/logs"
CONF_DIR="$STATE_DIR/conf"

# ---- pinned versions -------------------------------------------------------
LIVEKIT_MODULE="github.com/livekit/livekit-server"
# v1.13.5 is the newest release buildable from the module proxy alone: v1.13.6+ replace
# pion with github.com/livekit/{webrtc-pion,ice,dtls} "-warp" forks, which the proxy
# used here refuses (403 "This module version is not available"). Override with
# AURALINK_LIVEKIT_VERSION=v1.13.11 where those forks are reachable.
LIVEKIT_VERSION="${AURALINK_LIVEKIT_VERSION:-v1.13.5}"
LIVEKIT_BIN="$BIN_ROOT/livekit-server-$LIVEKIT_VERSION/server"
MINIO_MODULE="github.com/minio/minio"
MINIO_VERSION="v0.0.0-20260212201848-7aac2a2c5b7c" # MinIO tags are not semver; newest pseudo-version on the proxy
MINIO_BIN="$BIN_ROOT/minio-$MINIO_VERSION/minio"

# ---- fixed test endpoints and credentials (test-only values) ----------------
HOST="127.0.0.1"
PG_PORT=5432
REDIS_PORT=6379
# the ports of the services this script owns can be moved (e.g. a second, isolated set
# next to a running one: AURALINK_SERVICES_DIR + these); PostgreSQL/Redis are shared
LIVEKIT_PORT="${AURALINK_LIVEKIT_PORT:-7880}"
LIVEKIT_RTC_TCP_PORT="${AURALINK_LIVEKIT_RTC_TCP_PORT:-7881}"
LIVEKIT_UDP_START="${AURALINK_LIVEKIT_UDP_START:-50000}"
LIVEKIT_UDP_END="${AURALINK_LIVEKIT_UDP_END:-50200}"
LIVEKIT_API_KEY="auralink-test-key"
LIVEKIT_API_SECRET="auralink-test-secret-not-for-production-0123456789"
LIVEKIT_WEBHOOK_URL="${AURALINK_TEST_WEBHOOK_URL:-http://127.0.0.1:18089/api/v1/webhooks/livekit}"
# LiveKit posts every event to each URL; one fixed port per test file that needs the
# webhooks lets those files run at the same time (nobody listening is harmless).
LIVEKIT_BROWSER_WEBHOOK_URL="${AURALINK_TEST_BROWSER_WEBHOOK_URL:-http://127.0.0.1:18090/api/v1/webhooks/livekit}"
MINIO_PORT="${AURALINK_MINIO_PORT:-19000}"
MINIO_CONSOLE_PORT="${AURALINK_MINIO_CONSOLE_PORT:-19001}"
MINIO_ACCESS_KEY="auralinktest"
MINIO_SECRET_KEY="auralink-test-minio-secret-0123"
S3_REGION="us-east-1"
CLAMD_PORT="${AURALINK_CLAMD_PORT:-3310}"
CLAMD_SOCKET="$STATE_DIR/clamd.sock"
CLAMAV_DB_DIR="$STATE_DIR/clamav-db"
CHROMIUM_BIN="${AURALINK_CHROMIUM:-/usr/bin/chromium}"

# bounded waits (seconds)
WAIT_PG=30
WAIT_REDIS=20
WAIT_LIVEKIT=60
WAIT_MINIO=60
WAIT_CLAMD=120

# ---- helpers ----------------------------------------------------------------
log() { printf '[test-services %s] %s\n' "$(date +%H:%M:%S)" "$*" >&2; }
err() { printf '[test-services %s] ERROR: %s\n' "$(date +%H:%M:%S)" "$*" >&2; }

tail_log() { # <file> [lines]
  local f="$1" n="${2:-40}"
  if [[ -s "$f" ]]; then
    printf -- '----- last %s lines of %s -----\n' "$n" "$f" >&2
    tail -n "$n" "$f" >&2 || true
    printf -- '----- end of %s -----\n' "$f" >&2
  else
    printf -- '(log %s is empty or missing)\n' "$f" >&2
  fi
}

as_root() {
  if [[ $(id -u) == 0 ]]; then "$@"
  elif command -v sudo >/dev/null; then sudo -n "$@"
  else err "need root for: $*"; return 1
  fi
}

ensure_go() {
  if ! command -v go >/dev/null; then
    [[ -x /usr/local/go/bin/go ]] && PATH="$PATH:/usr/local/go/bin"
  fi
  command -v go >/dev/null || { err "go toolchain not found (needed to build LiveKit/MinIO)"; return 1; }
}

# HTTP status code of a GET (000 on connection failure)
http_code() { # <url> [body-file]
  local out="${2:-/dev/null}"
  if command -v curl >/dev/null; then
    local code
    code="$(curl -s -o "$out" -w '%{http_code}' --max-time 3 "$1" 2>/dev/null)" || true
    echo "${code:-000}"
  else # minimal HTTP/1.0 over bash /dev/tcp, for images without curl
    local rest="${1#http://}" hostport path resp
    hostport="${rest%%/*}"; path="/${rest#*/}"; [[ "$rest" == */* ]] || path=/
    # shellcheck disable=SC2016 # expanded by the inner bash
    resp="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/${1%:*}/${1##*:}" || exit 1
      printf "GET %s HTTP/1.0\r\nHost: %s\r\n\r\n" "$2" "$1" >&3; cat <&3' _ "$hostport" "$path" 2>/dev/null)" || { echo 000; return; }
    [[ "$out" != /dev/null ]] && printf '%s' "${resp#*$'\r\n\r\n'}" >"$out"
    awk 'NR==1{print $2}' <<<"$resp"
  fi
}

pid_file() { echo "$RUN_DIR/$1.pid"; }

# pid of a process this script started, if it is still alive (and still our binary)
our_pid() { # <name> <cmdline-substring>
  local f pid
  f="$(pid_file "$1")"
  [[ -f "$f" ]] || return 1
  pid="$(<"$f")"
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$2" || return 1
  echo "$pid"
}

# start a long-running foreground process detached in its own session, with a clean env
spawn() { # <name> <env assignments...> -- <cmd...>
  local name="$1"; shift
  local envs=()
  while [[ "$1" != "--" ]]; do envs+=("$1"); shift; done
  shift
  local logf="$LOG_DIR/$name.log"
  [[ -f "$logf" ]] && mv -f "$logf" "$logf.prev"
  # 9>&- : never let a daemon inherit the lock fd (it would hold the lock for its lifetime)
  env -i PATH="/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin" HOME="${HOME:-/root}" \
    "${envs[@]}" setsid "$@" >"$logf" 2>&1 </dev/null 9>&- &
  echo $! >"$(pid_file "$name")"
}

stop_pid() { # <name> <cmdline-substring>
  local name="$1" pid i
  if pid="$(our_pid "$name" "$2")"; then
    log "stopping $name (pid $pid)"
    kill -TERM "$pid" 2>/dev/null || true
    for ((i = 0; i < 150; i++)); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    if kill -0 "$pid" 2>/dev/null; then
      log "$name did not exit after 15s, sending SIGKILL"
      kill -KILL "$pid" 2>/dev/null || true
      sleep 0.5
    fi
  fi
  rm -f "$(pid_file "$name")"
}

# wait until <check-fn> succeeds; fail early if <name>'s process died
wait_until() { # <name> <timeout> <logfile> <check-fn> [cmdline-substring]
  local name="$1" timeout="$2" logf="$3" check="$4" match="${5:-}" start=$SECONDS
  while ! "$check"; do
    if [[ -n "$match" ]] && ! our_pid "$name" "$match" >/dev/null; then
      err "$name exited during startup"
      tail_log "$logf"
      return 1
    fi
    if ((SECONDS - start >= timeout)); then
      err "$name did not become ready within ${timeout}s"
      tail_log "$logf"
      return 1
    fi
    sleep 0.5
  done
  log "$name is ready ($((SECONDS - start))s)"
}

with_lock() { # <lockfile> <cmd...>  (serialises concurrent invocations)
  local lock="$1"; shift
  mkdir -p "$(dirname "$lock")"
  (
    if ! flock -n 9; then
      log "waiting for another test-services.sh run (lock $lock)"
      flock -w 1800 9 || { err "timed out waiting for lock $lock"; exit 1; }
    fi
    "$@"
  ) 9>"$lock"
}

# ---- builds -----------------------------------------------------------------
# `go install module/cmd/server@version` is used when the module allows it. LiveKit
# >= v1.13.6 has `replace` directives in go.mod (pion forks github.com/livekit/
# {webrtc-pion,ice,dtls}), which `go install pkg@version` refuses; for those the exact
# module version is fetched through the proxy, copied out of the read-only module
# cache and built as the main module (checksums verified via go.sum / sumdb).
build_livekit_locked() {
  [[ -x "$LIVEKIT_BIN" ]] && return 0
  ensure_go || return 1
  local dest src work tmp blog="$LOG_DIR/build-livekit.log" t0=$SECONDS
  dest="$(dirname "$LIVEKIT_BIN")"
  log "building LiveKit $LIVEKIT_VERSION from source (several minutes on a cold Go cache; log: $blog)"
  : >"$blog"
  if ! src="$(cd "$CACHE_DIR" && GOWORK=off go mod download -json "$LIVEKIT_MODULE@$LIVEKIT_VERSION" 2>>"$blog" |
    sed -n 's/^[[:space:]]*"Dir": "\(.*\)",\{0,1\}$/\1/p')" || [[ -z "$src" || ! -f "$src/go.mod" ]]; then
    err "go mod download $LIVEKIT_MODULE@$LIVEKIT_VERSION failed"
    tail_log "$blog"; return 1
  fi
  tmp="$(mktemp -d "$BIN_ROOT/.livekit-build.XXXXXX")"
  if ! grep -qE '^[[:space:]]*replace[[:space:](]' "$src/go.mod"; then
    log "livekit: GOBIN=$dest go install $LIVEKIT_MODULE/cmd/server@$LIVEKIT_VERSION"
    (cd "$CACHE_DIR" && GOBIN="$tmp" GOWORK=off go install "$LIVEKIT_MODULE/cmd/server@$LIVEKIT_VERSION") >>"$blog" 2>&1 ||
      { err "LiveKit build failed"; tail_log "$blog"; rm -rf "$tmp"; return 1; }
  else
    work="$CACHE_DIR/src/livekit-server-$LIVEKIT_VERSION"
    log "livekit: go.mod has replace directives, building $work as the main module"
    rm -rf "$work"; mkdir -p "$(dirname "$work")"
    if ! { cp -R "$src" "$work" && chmod -R u+w "$work"; }; then err "cannot copy $src"; rm -rf "$tmp"; return 1; fi
    if ! (cd "$work" && GOWORK=off GOFLAGS=-buildvcs=false go build -o "$tmp/server" ./cmd/server) >>"$blog" 2>&1; then
      err "LiveKit build failed"
      tail_log "$blog"
      if grep -q 'livekit/.*warp.*403\|not available' "$blog"; then
        err "the Go proxy does not serve LiveKit's pion forks needed by $LIVEKIT_VERSION;" \
          "set AURALINK_LIVEKIT_VERSION=v1.13.5 (newest release without replace directives)"
      fi
      rm -rf "$tmp" "$work"; return 1
    fi
    rm -rf "$work"
  fi
  rm -rf "$dest"; mv "$tmp" "$dest"; chmod 755 "$dest"
  log "LiveKit built in $((SECONDS - t0))s -> $LIVEKIT_BIN"
}

build_minio_locked() {
  [[ -x "$MINIO_BIN" ]] && return 0
  ensure_go || return 1
  local dest tmp blog="$LOG_DIR/build-minio.log" t0=$SECONDS
  dest="$(dirname "$MINIO_BIN")"
  log "building MinIO $MINIO_VERSION from source (several minutes on a cold Go cache; log: $blog)"
  tmp="$(mktemp -d "$BIN_ROOT/.minio-build.XXXXXX")"
  if ! (cd "$CACHE_DIR" && GOBIN="$tmp" GOWORK=off go install "$MINIO_MODULE@$MINIO_VERSION") >"$blog" 2>&1; then
    err "MinIO build failed: GOBIN=$tmp go install $MINIO_MODULE@$MINIO_VERSION"
    tail_log "$blog"; rm -rf "$tmp"; return 1
  fi
  rm -rf "$dest"; mv "$tmp" "$dest"; chmod 755 "$dest"
  log "MinIO built in $((SECONDS - t0))s -> $MINIO_BIN"
}

build_livekit() { [[ -x "$LIVEKIT_BIN" ]] || with_lock "$BIN_ROOT/.livekit.lock" build_livekit_locked; }
build_minio() { [[ -x "$MINIO_BIN" ]] || with_lock "$BIN_ROOT/.minio.lock" build_minio_locked; }

ensure_clamav_installed() {
  command -v clamd >/dev/null || [[ -x /usr/sbin/clamd ]] || {
    local alog="$LOG_DIR/apt-clamav.log"
    log "installing clamav-daemon + clamav from Debian apt (log: $alog)"
    export DEBIAN_FRONTEND=noninteractive
    if ! as_root apt-get install -y clamav-daemon clamav >"$alog" 2>&1; then
      log "apt-get install failed, running apt-get update once and retrying"
      as_root apt-get update >>"$alog" 2>&1 || true
      as_root apt-get install -y clamav-daemon clamav >>"$alog" 2>&1 ||
        { err "apt-get install clamav-daemon clamav failed"; tail_log "$alog"; return 1; }
    fi
  }
  command -v clamscan >/dev/null || { err "clamscan missing after install"; return 1; }
}

clamd_bin() { command -v clamd 2>/dev/null || echo /usr/sbin/clamd; }

# Debian's chromium, driven by playwright-core in the browser tests. Only apt: a browser
# downloaded by `playwright install` is neither reachable here nor reviewed by Debian.
ensure_chromium_installed() {
  chromium_ready && return 0
  [[ "$CHROMIUM_BIN" == /usr/bin/chromium ]] || { err "chromium: $CHROMIUM_BIN (AURALINK_CHROMIUM) is not executable"; return 1; }
  local alog="$LOG_DIR/apt-chromium.log"
  log "installing chromium from Debian apt (log: $alog)"
  export DEBIAN_FRONTEND=noninteractive
  if ! as_root apt-get install -y chromium >"$alog" 2>&1; then
    log "apt-get install failed, running apt-get update once and retrying"
    as_root apt-get update >>"$alog" 2>&1 || true
    as_root apt-get install -y chromium >>"$alog" 2>&1 ||
      { err "apt-get install chromium failed"; tail_log "$alog"; return 1; }
  fi
  chromium_ready || { err "chromium missing or not starting after install ($CHROMIUM_BIN --version)"; return 1; }
}

# ---- readiness checks ---------------------------------------------------------
pg_ready() { pg_isready -q -h "$HOST" -p "$PG_PORT" -t 2 >/dev/null 2>&1; }
redis_ready() { [[ "$(timeout 3 redis-cli -h "$HOST" -p "$REDIS_PORT" ping 2>/dev/null)" == PONG ]]; }
livekit_ready() {
  local body="$RUN_DIR/.livekit-health"
  [[ "$(http_code "http://$HOST:$LIVEKIT_PORT/" "$body")" == 200 ]] && grep -q '^OK' "$body" 2>/dev/null
}
minio_ready() { [[ "$(http_code "http://$HOST:$MINIO_PORT/minio/health/ready")" == 200 ]]; }
chromium_ready() { [[ -x "$CHROMIUM_BIN" ]] && timeout 20 "$CHROMIUM_BIN" --version >/dev/null 2>&1; }
clamd_ready() {
  local reply
  # shellcheck disable=SC2016 # expanded by the inner bash
  reply="$(timeout 3 bash -c 'exec 3<>"/dev/tcp/$0/$1" || exit 1; printf "zPING\0" >&3; tr -d "\0" <&3' \
    "$HOST" "$CLAMD_PORT" 2>/dev/null)" || return 1
  [[ "$reply" == PONG ]]
}

# ---- credential checks (catch a foreign server on our port with other secrets) ---
b64url() { base64 -w0 | tr '+/' '-_' | tr -d '='; }
hmac_hex() { # <hexkey> <data>
  printf '%s' "$2" | openssl dgst -sha256 -mac HMAC -macopt "hexkey:$1" -hex 2>/dev/null | awk '{print $NF}'
}

livekit_auth_ok() {
  command -v openssl >/dev/null && command -v curl >/dev/null || return 0 # best effort
  local now hdr pl sig jwt code
  now="$(date +%s)"
  hdr="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)"
  pl="$(printf '{"iss":"%s","nbf":%d,"exp":%d,"video":{"roomList":true}}' "$LIVEKIT_API_KEY" $((now - 10)) $((now + 300)) | b64url)"
  sig="$(printf '%s.%s' "$hdr" "$pl" | openssl dgst -sha256 -hmac "$LIVEKIT_API_SECRET" -binary | b64url)"
  jwt="$hdr.$pl.$sig"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 -X POST \
    -H "Authorization: Bearer $jwt" -H 'Content-Type: application/json' -d '{}' \
    "http://$HOST:$LIVEKIT_PORT/twirp/livekit.RoomService/ListRooms" 2>/dev/null)" || code=000
  [[ "$code" == 200 ]]
}

minio_auth_ok() { # AWS SigV4 ListBuckets with the test credentials
  command -v openssl >/dev/null && command -v curl >/dev/null || return 0 # best effort
  local amzdate day ph creq scope sts k code
  amzdate="$(date -u +%Y%m%dT%H%M%SZ)"; day="${amzdate:0:8}"
  ph="e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855" # sha256("")
  creq="$(printf 'GET\n/\n\nhost:%s:%s\nx-amz-content-sha256:%s\nx-amz-date:%s\n\nhost;x-amz-content-sha256;x-amz-date\n%s' \
    "$HOST" "$MINIO_PORT" "$ph" "$amzdate" "$ph")"
  scope="$day/$S3_REGION/s3/aws4_request"
  sts="$(printf 'AWS4-HMAC-SHA256\n%s\n%s\n%s' "$amzdate" "$scope" "$(printf '%s' "$creq" | sha256sum | cut -d' ' -f1)")"
  k="$(printf '%s' "AWS4$MINIO_SECRET_KEY" | od -An -v -tx1 | tr -d ' \n')"
  k="$(hmac_hex "$k" "$day")"; k="$(hmac_hex "$k" "$S3_REGION")"; k="$(hmac_hex "$k" s3)"; k="$(hmac_hex "$k" aws4_request)"
  code="$(curl -s -o /dev/null -w '%{http_code}' --max-time 5 \
    -H "x-amz-date: $amzdate" -H "x-amz-content-sha256: $ph" \
    -H "Authorization: AWS4-HMAC-SHA256 Credential=$MINIO_ACCESS_KEY/$scope, SignedHeaders=host;x-amz-content-sha256;x-amz-date, Signature=$(hmac_hex "$k" "$sts")" \
    "http://$HOST:$MINIO_PORT/" 2>/dev/null)" || code=000
  [[ "$code" == 200 ]]
}

# ---- generated configs -----------------------------------------------------------
write_if_changed() { # <file> ; content on stdin. returns 0 only if an existing file changed
  local f="$1" tmp existed=0
  tmp="$(mktemp "$f.XXXXXX")"
  cat >"$tmp"
  [[ -f "$f" ]] && existed=1
  if ((existed)) && cmp -s "$tmp" "$f"; then rm -f "$tmp"; return 1; fi
  mv -f "$tmp" "$f"
  ((existed))
}

livekit_config() {
  cat <<EOF
# generated by scripts/test-services.sh -- test-only settings, do not use in production
port: $LIVEKIT_PORT
bind_addresses:
  - $HOST
rtc:
  tcp_port: $LIVEKIT_RTC_TCP_PORT
  port_range_start: $LIVEKIT_UDP_START
  port_range_end: $LIVEKIT_UDP_END
  use_external_ip: false
  node_ip: $HOST
  # gather ICE host candidates on loopback only (UDP sockets bind 127.0.0.1).
  # Note: LiveKit has no bind option for the ICE/TCP mux, tcp_port listens on all interfaces.
  enable_loopback_candidate: true
  interfaces:
    includes: [lo]
  ips:
    includes: [$HOST/32]
keys:
  $LIVEKIT_API_KEY: $LIVEKIT_API_SECRET
logging:
  level: info
webhook:
  api_key: $LIVEKIT_API_KEY
  urls:
    - "$LIVEKIT_WEBHOOK_URL"
    - "$LIVEKIT_BROWSER_WEBHOOK_URL"
EOF
}

clamd_config() {
  cat <<EOF
# generated by scripts/test-services.sh -- test-only clamd
Foreground yes
LogFile $LOG_DIR/clamd-daemon.log
LogTime yes
LogFileMaxSize 0
TemporaryDirectory $STATE_DIR/clamd-tmp
DatabaseDirectory $CLAMAV_DB_DIR
OfficialDatabaseOnly no
Bytecode no
LocalSocket $CLAMD_SOCKET
LocalSocketMode 666
FixStaleSocket yes
TCPSocket $CLAMD_PORT
TCPAddr $HOST
MaxConnectionQueueLength 30
MaxThreads 4
ReadTimeout 60
CommandReadTimeout 30
SelfCheck 0
StreamMaxLength 200M
MaxFileSize 200M
MaxScanSize 200M
User $(id -un)
EOF
}

# ---- per-service start -------------------------------------------------------
start_postgres() {
  if pg_ready; then log "postgres: already running on $HOST:$PG_PORT"; return 0; fi
  local ver
  ver="$(find /etc/postgresql -mindepth 1 -maxdepth 1 -type d -printf '%f\n' 2>/dev/null | sort -V | tail -n1)"
  [[ -n "$ver" ]] || { err "postgres: not running and no cluster under /etc/postgresql"; return 1; }
  log "postgres: starting cluster $ver/main"
  as_root pg_ctlcluster --skip-systemctl-redirect "$ver" main start >&2 9>&- || true
  wait_until postgres "$WAIT_PG" "/var/log/postgresql/postgresql-$ver-main.log" pg_ready
}

start_redis() {
  if redis_ready; then log "redis: already running on $HOST:$REDIS_PORT"; return 0; fi
  log "redis: starting redis-server on $HOST:$REDIS_PORT"
  as_root mkdir -p /var/lib/redis /var/log/redis
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port "$REDIS_PORT" --save "" \
    --appendonly no --dir /var/lib/redis --logfile /var/log/redis/ci.log >&2 9>&- || true
  wait_until redis "$WAIT_REDIS" /var/log/redis/ci.log redis_ready
}

# Each start_<svc> only launches (or decides to reuse); waiting happens in wait_<svc>.
start_livekit() {
  build_livekit || return 1
  local cfg="$CONF_DIR/livekit.yaml" changed=0
  livekit_config | write_if_changed "$cfg" && changed=1
  if our_pid livekit "$LIVEKIT_BIN" >/dev/null; then
    if ((changed)); then
      log "livekit: config changed (e.g. AURALINK_TEST_WEBHOOK_URL), restarting"
      stop_pid livekit "$LIVEKIT_BIN"
    else
      log "livekit: reusing running instance (pid $(<"$(pid_file livekit)"))"; return 0
    fi
  elif livekit_ready; then
    log "livekit: something not started by this script already answers on $HOST:$LIVEKIT_PORT, reusing it"
    return 0
  fi
  log "livekit: starting on $HOST:$LIVEKIT_PORT (rtc tcp $LIVEKIT_RTC_TCP_PORT, udp $LIVEKIT_UDP_START-$LIVEKIT_UDP_END)"
  spawn livekit -- "$LIVEKIT_BIN" --config "$cfg" --bind "$HOST" --node-ip "$HOST"
}
wait_livekit() {
  wait_until livekit "$WAIT_LIVEKIT" "$LOG_DIR/livekit.log" livekit_ready "$LIVEKIT_BIN" || return 1
  livekit_auth_ok || {
    err "livekit: answers on $HOST:$LIVEKIT_PORT but rejects the test key '$LIVEKIT_API_KEY' (foreign instance? run 'stop' or free the port)"
    return 1
  }
}

start_minio() {
  build_minio || return 1
  local changed=0
  mkdir -p "$STATE_DIR/minio-data"
  printf '%s\n' "$MINIO_BIN" "$HOST:$MINIO_PORT" "$HOST:$MINIO_CONSOLE_PORT" "$MINIO_ACCESS_KEY" "$MINIO_SECRET_KEY" |
    write_if_changed "$CONF_DIR/minio.args" && changed=1
  if our_pid minio "$MINIO_BIN" >/dev/null; then
    if ((changed)); then
      log "minio: settings changed, restarting"
      stop_pid minio "$MINIO_BIN"
    else
      log "minio: reusing running instance (pid $(<"$(pid_file minio)"))"; return 0
    fi
  fi
  if minio_ready; then
    log "minio: something not started by this script already answers on $HOST:$MINIO_PORT, reusing it"
    return 0
  fi
  log "minio: starting on $HOST:$MINIO_PORT (console $MINIO_CONSOLE_PORT)"
  spawn minio MINIO_ROOT_USER="$MINIO_ACCESS_KEY" MINIO_ROOT_PASSWORD="$MINIO_SECRET_KEY" \
    MINIO_SITE_REGION="$S3_REGION" MINIO_UPDATE=off MINIO_CI_CD=1 MINIO_BROWSER=on -- \
    "$MINIO_BIN" server "$STATE_DIR/minio-data" --address "$HOST:$MINIO_PORT" \
    --console-address "$HOST:$MINIO_CONSOLE_PORT"
}
wait_minio() {
  wait_until minio "$WAIT_MINIO" "$LOG_DIR/minio.log" minio_ready "$MINIO_BIN" || return 1
  minio_auth_ok || {
    err "minio: answers on $HOST:$MINIO_PORT but rejects the test credentials (foreign instance? run 'stop' or free the port)"
    return 1
  }
}

start_clamd() {
  ensure_clamav_installed || return 1
  local bin changed=0
  bin="$(clamd_bin)"
  mkdir -p "$CLAMAV_DB_DIR" "$STATE_DIR/clamd-tmp"
  "$SCRIPT_DIR/services/clamav-testdb.sh" generate "$CLAMAV_DB_DIR"
  if [[ ! -f "$CLAMAV_DB_DIR/.verified" ]] || ! cmp -s <(cat "$CLAMAV_DB_DIR"/*.hdb "$CLAMAV_DB_DIR"/*.ndb) "$CLAMAV_DB_DIR/.verified"; then
    log "clamd: verifying test signature database with clamscan"
    "$SCRIPT_DIR/services/clamav-testdb.sh" verify "$CLAMAV_DB_DIR" || { err "clamd: signature self-test failed"; return 1; }
    cat "$CLAMAV_DB_DIR"/*.hdb "$CLAMAV_DB_DIR"/*.ndb >"$CLAMAV_DB_DIR/.verified"
  fi
  clamd_config | write_if_changed "$CONF_DIR/clamd.conf" && changed=1
  if our_pid clamd "$bin" >/dev/null; then
    if ((changed)); then
      log "clamd: config changed, restarting"
      stop_pid clamd "$bin"
    else
      log "clamd: reusing running instance (pid $(<"$(pid_file clamd)"))"; return 0
    fi
  elif clamd_ready; then
    log "clamd: something not started by this script already answers on $HOST:$CLAMD_PORT, reusing it"
    return 0
  fi
  log "clamd: starting on $HOST:$CLAMD_PORT and $CLAMD_SOCKET"
  [[ -f "$LOG_DIR/clamd-daemon.log" ]] && mv -f "$LOG_DIR/clamd-daemon.log" "$LOG_DIR/clamd-daemon.log.prev"
  spawn clamd -- "$bin" --foreground --config-file="$CONF_DIR/clamd.conf"
}
wait_clamd() {
  # clamd writes its own LogFile (timestamps); stdout/stderr go to clamd.log
  local logf="$LOG_DIR/clamd-daemon.log"; [[ -s "$logf" ]] || logf="$LOG_DIR/clamd.log"
  wait_until clamd "$WAIT_CLAMD" "$logf" clamd_ready "$(clamd_bin)"
}

# ---- commands ------------------------------------------------------------------
print_env() {
  cat <<EOF
export TEST_DATABASE_URL=postgres://postgres@$HOST:$PG_PORT/postgres
export TEST_REDIS_URL=redis://$HOST:$REDIS_PORT
export TEST_LIVEKIT_URL=ws://$HOST:$LIVEKIT_PORT
export TEST_LIVEKIT_BIN=$(printf '%q' "$LIVEKIT_BIN")
export TEST_LIVEKIT_API_KEY=$LIVEKIT_API_KEY
export TEST_LIVEKIT_API_SECRET=$LIVEKIT_API_SECRET
export TEST_LIVEKIT_WEBHOOK_URL=$(printf '%q' "$LIVEKIT_WEBHOOK_URL")
export TEST_LIVEKIT_BROWSER_WEBHOOK_URL=$(printf '%q' "$LIVEKIT_BROWSER_WEBHOOK_URL")
export TEST_S3_ENDPOINT=http://$HOST:$MINIO_PORT
export TEST_S3_ACCESS_KEY=$MINIO_ACCESS_KEY
export TEST_S3_SECRET_KEY=$MINIO_SECRET_KEY
export TEST_S3_REGION=$S3_REGION
export TEST_CLAMD_HOST=$HOST
export TEST_CLAMD_PORT=$CLAMD_PORT
export TEST_CLAMD_SOCKET=$(printf '%q' "$CLAMD_SOCKET")
export TEST_CHROMIUM=$(printf '%q' "$CHROMIUM_BIN")
EOF
}

prepare_dirs() { mkdir -p "$STATE_DIR" "$RUN_DIR" "$LOG_DIR" "$CONF_DIR" "$BIN_ROOT"; }

cmd_build() { # [name...]
  local failed=() name names=("$@")
  ((${#names[@]})) || names=(livekit minio clamav chromium)
  for name in "${names[@]}"; do
    case "$name" in
      livekit) build_livekit || failed+=(livekit) ;;
      minio) build_minio || failed+=(minio) ;;
      clamav) ensure_clamav_installed || failed+=(clamav) ;;
      chromium) ensure_chromium_installed || failed+=(chromium) ;;
      *) err "build: unknown name '$name' (livekit, minio, clamav, chromium)"; return 2 ;;
    esac
  done
  ((${#failed[@]} == 0)) || { err "build failed for: ${failed[*]}"; return 1; }
  log "present: ${names[*]}"
}

cmd_start_locked() {
  local t0=$SECONDS failed=() svc
  log "state dir: $STATE_DIR, binary cache: $BIN_ROOT"
  start_postgres || failed+=(postgres)
  start_redis || failed+=(redis)
  log "step: chromium"
  ensure_chromium_installed || failed+=(chromium)
  # launch the slow ones first, then wait for all of them together
  local launched=()
  for svc in livekit minio clamd; do
    log "step: $svc"
    if "start_$svc"; then launched+=("$svc"); else failed+=("$svc"); fi
  done
  for svc in "${launched[@]}"; do
    "wait_$svc" || failed+=("$svc")
  done
  if ((${#failed[@]})); then
    err "failed to start: ${failed[*]} (logs in $LOG_DIR)"
    return 1
  fi
  log "all services up in $((SECONDS - t0))s"
}

cmd_stop_locked() {
  stop_pid livekit "$LIVEKIT_BIN"
  stop_pid minio "$MINIO_BIN"
  stop_pid clamd "$(clamd_bin)"
  rm -f "$CLAMD_SOCKET"
  log "stopped (PostgreSQL and Redis are left running)"
}

cmd_status() {
  local down=0
  status_line() { # <name> <check> <where> [cmdline-substring of our process]
    local state=down pid
    if "$2"; then state=up; else down=1; fi
    if [[ -n "${4:-}" ]]; then
      if pid="$(our_pid "$1" "$4")"; then state+=" (pid $pid)"
      elif [[ $state == up ]]; then state+=" (not started by this script)"
      fi
    fi
    printf '%-9s %s %s\n' "$1:" "$state" "$3"
  }
  status_line postgres pg_ready "$HOST:$PG_PORT"
  status_line redis redis_ready "$HOST:$REDIS_PORT"
  status_line livekit livekit_ready "http://$HOST:$LIVEKIT_PORT" "$LIVEKIT_BIN"
  status_line minio minio_ready "http://$HOST:$MINIO_PORT" "$MINIO_BIN"
  status_line clamd clamd_ready "$HOST:$CLAMD_PORT" "$(clamd_bin)"
  status_line chromium chromium_ready "$CHROMIUM_BIN"
  return "$down"
}

main() {
  case "${1:-}" in
    start)
      prepare_dirs
      with_lock "$RUN_DIR/state.lock" cmd_start_locked
      print_env
      ;;
    stop)
      prepare_dirs
      with_lock "$RUN_DIR/state.lock" cmd_stop_locked
      ;;
    status) prepare_dirs; cmd_status ;;
    env) print_env ;;
    build) shift; prepare_dirs; cmd_build "$@" ;;
    *)
      echo "usage: $0 start|stop|status|env   (also: build [livekit|minio|clamav|chromium]...)" >&2
      exit 2
      ;;
  esac
}

main "$@"
