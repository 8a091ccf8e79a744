#!/usr/bin/env bash
# The container image's build-and-run steps, run without Docker (CI has no engine):
# builds the artifact with scripts/build-artifact.sh (the script the Dockerfile runs),
# then starts `node dist/main.js` from it with NODE_ENV=production, production
# dependencies only and freshly generated secrets, against the real PostgreSQL (a new
# database), Redis, MinIO (a new bucket) and LiveKit of scripts/test-services.sh.
# It checks readiness and a few API calls end to end, then stops the server with
# SIGTERM and expects exit code 0. One PASS/FAIL line per check; exit 1 on any FAIL.
#
#   scripts/production-check.sh              npm run build, then check
#   scripts/production-check.sh --no-build   reuse dist/ (CI builds just before)
#   KEEP=1 scripts/production-check.sh       keep the temp folder (artifact, logs)
#
# Needs the services up: `bash scripts/test-services.sh start`.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BUILD_FLAG=""
[[ "${1:-}" == "--no-build" ]] && BUILD_FLAG="--no-build"
NODE_BIN="$(command -v node)"
WORK="$(mktemp -d "${TMPDIR:-/tmp}/auralink-prodcheck.XXXXXX")"
ART="$WORK/app"
LOG="$WORK/server.log"
FAILS=0
SERVER_PID=""
DB_CREATED=""

pass() { echo "PASS $*"; }
fail() { echo "FAIL $*"; FAILS=$((FAILS + 1)); }
info() { echo "INFO $*"; }
# Prints one value of a JSON document read from stdin: jget '.checks.database.status'
jget() {
  "$NODE_BIN" -e '
    let s = ""; process.stdin.on("data", (d) => (s += d)).on("end", () => {
      try {
        let v = JSON.parse(s);
        for (const k of process.argv[1].split(".").filter(Boolean)) v = v == null ? undefined : v[k];
        process.stdout.write(v === undefined ? "" : typeof v === "object" ? JSON.stringify(v) : String(v));
      } catch { process.stdout.write(""); }
    });' "$1"
}
b64url() { openssl base64 -A | tr '+/' '-_' | tr -d '='; }
now_ms() { date +%s%3N; }

cleanup() {
  local rc=$?
  if [[ -n "$SERVER_PID" ]] && kill -0 "$SERVER_PID" 2>/dev/null; then kill -KILL "$SERVER_PID" 2>/dev/null || true; fi
  if [[ -n "$DB_CREATED" ]]; then
    psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS \"$DB_CREATED\" WITH (FORCE)" >/dev/null 2>&1 || true
  fi
  if [[ "${KEEP:-}" == 1 ]]; then echo "INFO kept $WORK"; else rm -rf "$WORK"; fi
  exit $rc
}
trap cleanup EXIT

# ---- services -----------------------------------------------------------------
eval "$(bash "$ROOT/scripts/test-services.sh" env)"
ADMIN_URL="$TEST_DATABASE_URL"
status="$(bash "$ROOT/scripts/test-services.sh" status 2>&1 || true)"
for svc in postgres redis livekit minio; do
  if grep -Eq "^$svc: +up" <<<"$status"; then
    pass "service $svc is up"
  else
    fail "service $svc is down (run: bash scripts/test-services.sh start)"
  fi
done
[[ $FAILS == 0 ]] || { echo "FAIL production check: services missing"; exit 1; }

# ---- artifact -----------------------------------------------------------------
info "node $("$NODE_BIN" --version), work dir $WORK"
t0=$(now_ms)
if bash "$ROOT/scripts/build-artifact.sh" "$ART" $BUILD_FLAG >"$WORK/build.log" 2>&1; then
  pass "artifact built in $(( ($(now_ms) - t0) / 1000 )) s ($(du -sh "$ART" | cut -f1))"
else
  fail "artifact build (log below)"; tail -40 "$WORK/build.log"; exit 1
fi
if [[ -d "$ART/node_modules/typescript" || -d "$ART/node_modules/tsx" || -d "$ART/node_modules/esbuild" ]]; then
  fail "artifact contains dev dependencies (typescript/tsx/esbuild)"
else
  pass "artifact has production dependencies only (no typescript, tsx, esbuild)"
fi

# ---- configuration: fresh database, new bucket, generated secrets --------------
DB="auralink_prodcheck_$(openssl rand -hex 4)"
psql "$ADMIN_URL" -qX -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$DB\"" >/dev/null
DB_CREATED="$DB"
PORT="$("$NODE_BIN" -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
JWT_SECRET="$(openssl rand -hex 32)"
SIGNING_SECRET="$(openssl rand -hex 32)"
BASE="http://127.0.0.1:$PORT"
# A clean environment: nothing from the caller's shell (or a .env) leaks into the run.
PROD_ENV=(
  PATH="$PATH" HOME="$WORK" NODE_ENV=production HOST=127.0.0.1 PORT="$PORT" LOG_LEVEL=info
  DATA_DIR="$WORK/data" PUBLIC_BASE_URL="$BASE"
  DATABASE_URL="${ADMIN_URL%/*}/$DB"
  REDIS_URL="$TEST_REDIS_URL"
  SUPABASE_JWT_SECRET="$JWT_SECRET" URL_SIGNING_SECRET="$SIGNING_SECRET"
  LIVEKIT_URL="$TEST_LIVEKIT_URL" LIVEKIT_API_KEY="$TEST_LIVEKIT_API_KEY" LIVEKIT_API_SECRET="$TEST_LIVEKIT_API_SECRET"
  S3_ENDPOINT="$TEST_S3_ENDPOINT" S3_REGION="$TEST_S3_REGION" S3_ACCESS_KEY_ID="$TEST_S3_ACCESS_KEY"
  S3_SECRET_ACCESS_KEY="$TEST_S3_SECRET_KEY" STORAGE_BUCKET="auralink-prodcheck-$(openssl rand -hex 4)"
)
run_prod() { (cd "$ART" && env -i "${PROD_ENV[@]}" "$NODE_BIN" "$@"); }

# ---- the built CLIs ------------------------------------------------------------
if out="$(run_prod dist/cli/migrate.js 2>&1)" && grep -q '006_open_seat' <<<"$out"; then
  pass "node dist/cli/migrate.js applied the migrations to a fresh database"
else
  fail "node dist/cli/migrate.js: $(tail -3 <<<"$out")"
fi
if run_prod dist/cli/dev-token.js alice >/dev/null 2>&1; then
  fail "node dist/cli/dev-token.js minted a token under production settings"
else
  pass "node dist/cli/dev-token.js refuses under production settings"
fi

# ---- start ---------------------------------------------------------------------
t0=$(now_ms)
# The node flags production uses (package.json start:prod, the Dockerfile, the unit).
(cd "$ART" && exec env -i "${PROD_ENV[@]}" "$NODE_BIN" --max-semi-space-size=4 --heap-growing-percent=50 dist/main.js) >"$LOG" 2>&1 &
SERVER_PID=$!
ready=""
for _ in $(seq 1 600); do
  kill -0 "$SERVER_PID" 2>/dev/null || break
  code="$(curl -s -o "$WORK/ready.json" -w '%{http_code}' "$BASE/readiness" || true)"
  if [[ "$code" == 200 ]]; then ready=$(( $(now_ms) - t0 )); break; fi
  sleep 0.1
done
if [[ -n "$ready" ]]; then
  pass "GET /readiness 200 after $ready ms: $(cat "$WORK/ready.json")"
else
  fail "GET /readiness never answered 200 (last: ${code:-none}); server log:"; tail -40 "$LOG"; exit 1
fi
for dep in database storage livekit redis; do
  st="$(jget ".checks.$dep.status" <"$WORK/ready.json")"
  [[ "$st" == ok ]] && pass "readiness: $dep ok" || fail "readiness: $dep is '$st'"
done

# ---- API calls -----------------------------------------------------------------
code="$(curl -s -o /dev/null -w '%{http_code}' "$BASE/liveness" || true)"
[[ "$code" == 200 ]] && pass "GET /liveness 200" || fail "GET /liveness $code"
if [[ -f "$ART/web/dist/index.html" ]]; then
  ctype="$(curl -s -o /dev/null -w '%{http_code} %{content_type}' "$BASE/" || true)"
  [[ "$ctype" == "200 text/html"* ]] && pass "GET / serves the web app from the artifact's web/dist" || fail "GET / answered '$ctype'"
else
  info "no web/dist in the artifact (no web app built)"
fi
doc="$(curl -s "$BASE/openapi.json" || true)"
[[ "$(jget .openapi <<<"$doc")" == 3.* ]] && pass "GET /openapi.json is OpenAPI $(jget .openapi <<<"$doc")" || fail "GET /openapi.json"

body="$(curl -s -w '\n%{http_code}' "$BASE/api/v1/users/me" || true)"
[[ "${body##*$'\n'}" == 401 && "$(jget .error.code <<<"${body%$'\n'*}")" == UNAUTHORIZED ]] \
  && pass "GET /api/v1/users/me without a token: 401 UNAUTHORIZED" || fail "GET /api/v1/users/me without a token: ${body//$'\n'/ }"

# An HS256 access token signed with openssl, as any other issuer would sign it.
SUB="$("$NODE_BIN" -e 'console.log(crypto.randomUUID())')"
EXP=$(( $(date +%s) + 600 ))
H="$(printf '{"alg":"HS256","typ":"JWT"}' | b64url)"
P="$(printf '{"sub":"%s","aud":"authenticated","role":"authenticated","email":"ops@example.test","exp":%d,"user_metadata":{"display_name":"Ops"}}' "$SUB" "$EXP" | b64url)"
S="$(printf '%s.%s' "$H" "$P" | openssl dgst -sha256 -hmac "$JWT_SECRET" -binary | b64url)"
AUTH="Authorization: Bearer $H.$P.$S"

me="$(curl -s -H "$AUTH" "$BASE/api/v1/users/me" || true)"
[[ "$(jget .user_id <<<"$me")" == "$SUB" ]] && pass "GET /api/v1/users/me with a token: user $SUB" || fail "GET /api/v1/users/me: $me"

room="$(curl -s -H "$AUTH" -H 'content-type: application/json' -d '{"name":"production check"}' "$BASE/api/v1/rooms" || true)"
CALL_ID="$(jget .call_id <<<"$room")"
[[ -n "$CALL_ID" && -n "$(jget .room_id <<<"$room")" ]] \
  && pass "POST /api/v1/rooms 201 (LiveKit room $(jget .room_id <<<"$room"))" || fail "POST /api/v1/rooms: $room"

printf 'production check %s\n' "$DB" >"$WORK/hello.txt"
file="$(curl -s -H "$AUTH" -F "call_id=$CALL_ID" -F "file=@$WORK/hello.txt;type=text/plain" "$BASE/api/v1/files" || true)"
FILE_ID="$(jget .file_id <<<"$file")"
if [[ -n "$FILE_ID" ]]; then
  pass "POST /api/v1/files stored $(jget .file_size <<<"$file") bytes in S3"
  url="$(curl -s -H "$AUTH" "$BASE/api/v1/files/$FILE_ID/download" | jget .url || true)"
  if [[ -n "$url" ]] && curl -sf "$url" | cmp -s - "$WORK/hello.txt"; then
    pass "GET /api/v1/files/{id}/download: the signed URL returns the uploaded bytes"
  else
    fail "GET /api/v1/files/{id}/download: url '$url' did not return the bytes"
  fi
  code="$(curl -s -o /dev/null -w '%{http_code}' -X DELETE -H "$AUTH" "$BASE/api/v1/files/$FILE_ID" || true)"
  [[ "$code" == 204 ]] && pass "DELETE /api/v1/files/{id} 204" || fail "DELETE /api/v1/files/{id} $code"
else
  fail "POST /api/v1/files: $file"
fi

rss_kb="$(awk '/^VmRSS/ {print $2}' "/proc/$SERVER_PID/status" 2>/dev/null || echo 0)"
info "RSS after the checks: $(( rss_kb / 1024 )) MB"

# ---- graceful stop -------------------------------------------------------------
kill -TERM "$SERVER_PID" 2>/dev/null || true
rc=""
for _ in $(seq 1 300); do
  if ! kill -0 "$SERVER_PID" 2>/dev/null; then wait "$SERVER_PID" && rc=0 || rc=$?; break; fi
  sleep 0.1
done
if [[ "$rc" == 0 ]]; then
  pass "SIGTERM: the server stopped with exit code 0"
  SERVER_PID=""
else
  fail "SIGTERM: exit code '${rc:-still running after 30 s}'"
fi
if grep -q '"level":50\|"level":60' "$LOG"; then
  fail "the server logged errors:"; grep '"level":50\|"level":60' "$LOG" | head -5
else
  pass "no error lines in the server log"
fi

if [[ $FAILS == 0 ]]; then
  echo "PASS production check (node $("$NODE_BIN" --version))"
else
  echo "FAIL production check: $FAILS check(s) failed; server log tail:"; tail -20 "$LOG"
  exit 1
fi
