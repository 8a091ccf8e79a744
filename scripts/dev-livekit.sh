#!/usr/bin/env bash
# A LiveKit server for trying the service on this machine (README: "A real call in two
# minutes"): `livekit-server --dev`, whose key pair devkey/secret is the service's
# development default, listening on loopback and posting its webhooks to the service.
#
#   bash scripts/dev-livekit.sh          runs in the foreground; Ctrl-C stops it
#
# Uses `livekit-server` from PATH (or LIVEKIT_SERVER_BIN); without one, builds v1.13.5
# from source with Go once (a few minutes), through scripts/test-services.sh.
# The webhook target is http://127.0.0.1:${PORT:-8080}/api/v1/webhooks/livekit
# (AURALINK_WEBHOOK_URL overrides it). Not for production: --dev has a public secret.
set -euo pipefail

SCRIPT_DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
webhook="${AURALINK_WEBHOOK_URL:-http://127.0.0.1:${PORT:-8080}/api/v1/webhooks/livekit}"

bin="${LIVEKIT_SERVER_BIN:-$(command -v livekit-server || true)}"
if [[ -z "$bin" ]]; then
  bash "$SCRIPT_DIR/test-services.sh" build livekit
  # shellcheck disable=SC2016 # expanded by the inner bash
  bin="$(bash -c 'eval "$1"; printf %s "$TEST_LIVEKIT_BIN"' _ "$(bash "$SCRIPT_DIR/test-services.sh" env)")"
fi
[[ -x "$bin" ]] || { echo "dev-livekit: $bin is not an executable livekit-server" >&2; exit 1; }

echo "dev-livekit: LiveKit in development mode (key devkey, secret secret) on ws://127.0.0.1:7880," >&2
echo "dev-livekit: webhooks to $webhook" >&2
# --dev keeps its own keys when the config names none; the webhook is signed with devkey.
# A loopback ICE candidate beside the interfaces' addresses (as test-services.sh does):
# browsers on this machine can reach LiveKit through lo whatever address they gather on.
exec "$bin" --dev --bind 127.0.0.1 \
  --config-body "{webhook: {api_key: devkey, urls: [\"$webhook\"]}, rtc: {enable_loopback_candidate: true}}"
