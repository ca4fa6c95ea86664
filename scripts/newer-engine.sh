#!/usr/bin/env bash
# Fetches a newer Docker engine for the tests that need one: Debian trixie's dockerd 26.1.5 (API
# 1.45, CDI support) from Debian's archive, unpacked into STATE_DIR/trixie. Only the dockerd binary
# is used: it needs glibc 2.34 and runs with this machine's (bookworm's) containerd and runc. No
# package is installed; apt reads trixie's lists into a private folder. Idempotent.
# usage: bash scripts/newer-engine.sh [STATE_DIR]   -> prints the path of dockerd
set -euo pipefail
STATE_DIR="${1:-${DYNAMO_IMAGE_ENV_DIR:-/var/tmp/dynamo-image-env}}"
OUT="$STATE_DIR/trixie"
if [ -x "$OUT/dockerd" ] && "$OUT/dockerd" --version >/dev/null 2>&1; then echo "$OUT/dockerd"; exit 0; fi
W=$(mktemp -d); trap 'rm -rf "$W"' EXIT
mkdir -p "$W/lists/partial" "$W/cache/archives/partial" "$W/debs" "$OUT"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR trixie main" > "$W/sources.list"
O=(-o "Dir::Etc::SourceList=$W/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$W/lists" -o "Dir::Cache=$W/cache")
apt-get "${O[@]}" update -qq >&2
(cd "$W/debs" && apt-get "${O[@]}" download docker.io >&2)
dpkg -x "$W"/debs/docker.io_*.deb "$W/x"
install -m 0755 "$W/x/usr/sbin/dockerd" "$OUT/dockerd"
"$OUT/dockerd" --version >&2
echo "$OUT/dockerd"
