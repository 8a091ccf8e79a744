#!/usr/bin/env bash
# Installs a pinned Node.js release from the npm registry package node-linux-<arch>
# (the official Node binary inside a registry package, checked by npm against the
# registry's integrity hash) into a cache folder, once, and prints its bin folder:
#
#   export PATH="$(bash scripts/install-node.sh)":$PATH      # Node 26 (default)
#   bash scripts/install-node.sh 24.22.3                     # another release
#
# Cache: ${AURALINK_CACHE:-$HOME/.cache/auralink}/node-<version>/. The package carries
# only the node binary; npm stays the one already installed (it runs on this node).
# Progress goes to stderr; only the bin folder goes to stdout.
set -euo pipefail

VERSION="${1:-${AURALINK_NODE_VERSION:-26.12.1}}"
CACHE_DIR="${AURALINK_CACHE:-${HOME:-/root}/.cache/auralink}"
case "$(uname -m)" in
  x86_64 | amd64) ARCH=x64 ;;
  aarch64 | arm64) ARCH=arm64 ;;
  *) echo "install-node: no node-linux package for $(uname -m)" >&2; exit 1 ;;
esac
PKG="node-linux-$ARCH"
DIR="$CACHE_DIR/node-$VERSION"
BIN="$DIR/node_modules/$PKG/bin"

if [[ "$("$BIN/node" --version 2>/dev/null || true)" != "v$VERSION" ]]; then
  echo "install-node: installing $PKG@$VERSION into $DIR" >&2
  command -v npm >/dev/null || { echo "install-node: npm is required" >&2; exit 1; }
  mkdir -p "$CACHE_DIR"
  TMP="$(mktemp -d "$CACHE_DIR/.node-$VERSION.XXXXXX")" # same file system: the mv below is a rename
  trap 'rm -rf "$TMP"' EXIT
  npm install --prefix "$TMP" --no-save --no-audit --no-fund --no-package-lock --loglevel=error "$PKG@$VERSION" >&2
  got="$("$TMP/node_modules/$PKG/bin/node" --version)"
  [[ "$got" == "v$VERSION" ]] || { echo "install-node: $PKG@$VERSION runs as $got" >&2; exit 1; }
  # Swap in whole, so an interrupted install never leaves a half-written cache behind.
  rm -rf "$DIR"
  mv "$TMP" "$DIR"
  trap - EXIT
fi
echo "$BIN"
