#!/usr/bin/env bash
# Fetches the clients that check a signed release (issue 25), from Debian's archive, without
# installing any package (apt reads the lists into a private folder; dpkg -x unpacks):
#   STATE_DIR/audit/bin/cosign       sid's cosign 3.1 (verifies signatures and attestations, offline)
#   STATE_DIR/audit/bin/oras         sid's oras 1.3 (lists what is attached to an image)
#   STATE_DIR/audit/bin/pyspdxtools  sid's python3-spdx-tools 0.8 (validates SPDX 2.3 documents),
#                                    run by Debian's /usr/bin/python3 with its pure-Python
#                                    dependencies from bookworm (sid's beartype: bookworm has none)
# Idempotent. usage: bash scripts/audit-tools.sh [STATE_DIR]   -> prints STATE_DIR/audit/bin
set -euo pipefail
STATE_DIR="${1:-${DYNAMO_IMAGE_ENV_DIR:-/var/tmp/dynamo-image-env}}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
OUT="$STATE_DIR/audit"
BIN="$OUT/bin"

ready() {
  [ -x "$BIN/cosign" ] && [ -x "$BIN/oras" ] && [ -x "$BIN/pyspdxtools" ] &&
    "$BIN/cosign" version >/dev/null 2>&1 && "$BIN/oras" version >/dev/null 2>&1 && "$BIN/pyspdxtools" --help >/dev/null 2>&1
}
if ready; then echo "$BIN"; exit 0; fi

w=$(mktemp -d)
trap 'rm -rf "$w"' EXIT
# download SUITE PACKAGE... into $w/debs (SUITE "" = this machine's own lists)
download() {
  local suite=$1
  shift
  mkdir -p "$w/debs"
  if [ -z "$suite" ]; then
    (cd "$w/debs" && apt-get download "$@" >&2)
    return
  fi
  local l="$w/$suite"
  mkdir -p "$l/lists/partial" "$l/cache/archives/partial"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $suite main" >"$l/sources.list"
  # Sid's index can be older than its Valid-Until here (field notes §5).
  local o=(-o "Dir::Etc::SourceList=$l/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$l/lists"
    -o "Dir::Cache=$l/cache" -o Acquire::Check-Valid-Until=false)
  apt-get "${o[@]}" update -qq >&2
  (cd "$w/debs" && apt-get "${o[@]}" download "$@" >&2)
}
download sid cosign oras python3-spdx-tools python3-beartype
download "" python3-click python3-license-expression python3-boolean python3-ply python3-rdflib \
  python3-semantic-version python3-uritools python3-isodate python3-xmltodict python3-yaml python3-pyparsing
rm -rf "$OUT.new"
mkdir -p "$OUT.new/bin"
for d in "$w"/debs/*.deb; do dpkg -x "$d" "$OUT.new/root"; done
install -m 0755 "$OUT.new/root/usr/bin/cosign" "$OUT.new/bin/cosign"
install -m 0755 "$OUT.new/root/usr/bin/oras" "$OUT.new/bin/oras"
cat >"$OUT.new/bin/pyspdxtools" <<SH
#!/bin/sh
# Debian sid's pyspdxtools on this machine's Python, with its dependencies unpacked beside it.
PYTHONPATH="$OUT/root/usr/lib/python3/dist-packages" exec /usr/bin/python3 "$OUT/root/usr/bin/pyspdxtools" "\$@"
SH
chmod 0755 "$OUT.new/bin/pyspdxtools"
rm -rf "$OUT"
mv "$OUT.new" "$OUT"
ready || { echo "audit-tools: the unpacked clients do not run" >&2; exit 1; }
"$BIN/cosign" version 2>&1 | grep -E '^GitVersion' >&2 || true
"$BIN/oras" version | head -1 >&2
echo "$BIN"
