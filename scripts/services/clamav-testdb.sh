#!/usr/bin/env bash
# Offline ClamAV test-signature database for the AuraLink integration tests.
#
# There is no network for freshclam in CI, so instead of the official
# databases we generate a tiny custom one that detects the EICAR test file:
#   <dir>/auralink-eicar.hdb  whole-file MD5 signature   (md5:size:Name)
#   <dir>/auralink-eicar.ndb  body signature, any offset (Name:0:*:hex)
# The .ndb entry also catches EICAR embedded in a larger file.
#
# The EICAR string is assembled from pieces at runtime so this file itself is
# never a signature hit for virus scanners.
#
# Usage:
#   clamav-testdb.sh generate <dir>   write the database files into <dir>
#   clamav-testdb.sh verify <dir>     clamscan self-test of <dir> (needs clamscan)
#   clamav-testdb.sh eicar            print the EICAR test string (no newline)
set -euo pipefail

HDB_NAME="AuraLink.Test.EICAR-File"
NDB_NAME="AuraLink.Test.EICAR-Embedded"

eicar() {
  # shellcheck disable=SC2016 # literal '$' characters
  local a='X5O!P%@AP[4\PZX54(P^)7CC)7}' b='$EICAR-STANDARD-ANTIVIRUS' c='-TEST-FILE!$H+H*'
  printf '%s%s%s' "$a" "$b" "$c"
}

generate() {
  local dir="$1" md5 size hex tmp
  mkdir -p "$dir"
  md5="$(eicar | md5sum | cut -d' ' -f1)"
  size="$(eicar | wc -c | tr -d ' ')"
  hex="$(eicar | od -An -v -tx1 | tr -d ' \n')"
  [[ "$size" == 68 && ${#hex} == 136 ]] || { echo "clamav-testdb: EICAR string malformed (size=$size)" >&2; return 1; }
  tmp="$(mktemp -d "$dir/.gen.XXXXXX")"
  printf '%s:%s:%s\n' "$md5" "$size" "$HDB_NAME" >"$tmp/auralink-eicar.hdb"
  printf '%s:0:*:%s\n' "$NDB_NAME" "$hex" >"$tmp/auralink-eicar.ndb"
  mv -f "$tmp/auralink-eicar.hdb" "$tmp/auralink-eicar.ndb" "$dir/"
  rmdir "$tmp"
}

verify() {
  local dir="$1" work rc=0 out
  command -v clamscan >/dev/null || { echo "clamav-testdb: clamscan not installed" >&2; return 1; }
  work="$(mktemp -d)"
  eicar >"$work/eicar.com"
  { head -c 4096 /dev/urandom; eicar; head -c 4096 /dev/urandom; } >"$work/embedded.bin"
  head -c 8192 /dev/urandom >"$work/clean.bin"
  out="$(clamscan --no-summary --stdout -d "$dir" "$work/eicar.com" "$work/embedded.bin" "$work/clean.bin" 2>&1)" || true
  grep -q "eicar.com: .* FOUND" <<<"$out" || { echo "clamav-testdb: plain EICAR not detected" >&2; rc=1; }
  grep -q "embedded.bin: .* FOUND" <<<"$out" || { echo "clamav-testdb: embedded EICAR not detected" >&2; rc=1; }
  grep -q "clean.bin: OK" <<<"$out" || { echo "clamav-testdb: clean file not reported OK" >&2; rc=1; }
  if ((rc)); then printf '%s\n' "$out" >&2; fi
  rm -rf "$work"
  return "$rc"
}

case "${1:-}" in
  generate) generate "${2:?usage: $0 generate <dir>}" ;;
  verify) verify "${2:?usage: $0 verify <dir>}" ;;
  eicar) eicar ;;
  *) echo "usage: $0 generate <dir> | verify <dir> | eicar" >&2; exit 2 ;;
esac
