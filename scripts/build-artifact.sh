#!/usr/bin/env bash
# Builds the production artifact of the service into OUT_DIR: the compiled server
# (dist/), the web app (web/dist/) when there is one, a package.json/package-lock.json
# without workspaces, and production dependencies only (`npm ci --omit=dev`).
# The Dockerfile runs this in its build stage and copies OUT_DIR into the runtime
# image; scripts/production-check.sh runs the same script without Docker, so CI
# exercises the very steps the image is made of.
#
#   scripts/build-artifact.sh OUT_DIR            npm run build, then assemble OUT_DIR
#   scripts/build-artifact.sh OUT_DIR --no-build assemble from an existing dist/
#
# Needs the repository's dev dependencies installed (`npm ci`) to build. OUT_DIR is
# replaced. Run it from anywhere; run the artifact with `node dist/main.js` in OUT_DIR.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="${1:-}"
BUILD=1
[[ "${2:-}" == "--no-build" ]] && BUILD=0
if [[ -z "$OUT" || "$OUT" == --* ]]; then
  echo "usage: scripts/build-artifact.sh OUT_DIR [--no-build]" >&2
  exit 2
fi
OUT="$(mkdir -p "$OUT" && cd "$OUT" && pwd)"
case "$OUT" in
  "$ROOT" | "$ROOT/src" | "$ROOT/dist" | / ) echo "build-artifact: refusing OUT_DIR=$OUT" >&2; exit 2 ;;
esac

step() { echo "build-artifact: $*" >&2; }

cd "$ROOT"
if [[ $BUILD == 1 ]]; then
  step "npm run build"
  npm run --silent build
fi
[[ -f dist/main.js ]] || { step "dist/main.js is missing (run npm run build)"; exit 1; }

step "assembling $OUT"
find "$OUT" -mindepth 1 -maxdepth 1 -exec rm -rf {} +
cp -R dist "$OUT/dist"
# The web app, when a workspace builds one; the server finds it relative to itself.
if [[ -d web/dist ]]; then
  mkdir -p "$OUT/web"
  cp -R web/dist "$OUT/web/dist"
  step "included web/dist"
fi
for f in LICENSE README.md; do [[ -f $f ]] && cp "$f" "$OUT/"; done
node scripts/artifact-manifest.mjs "$OUT" >&2

step "installing production dependencies (npm ci --omit=dev)"
# No production dependency has an install script (esbuild, the only one, comes with
# tsx, a dev dependency), so scripts stay off: nothing runs at install time.
(cd "$OUT" && npm ci --omit=dev --ignore-scripts --no-audit --no-fund --loglevel=error)
step "done: $(du -sh "$OUT" | cut -f1) in $OUT"
