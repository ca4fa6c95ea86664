#!/usr/bin/env bash
# Fetches newer Docker tools for the tests that need them, from Debian's archive, without installing
# any package (apt reads the lists into a private folder):
#   STATE_DIR/trixie/dockerd        Debian trixie's dockerd 26.1.5 (API 1.45, CDI). It needs glibc
#                                   2.34 and runs with this machine's (bookworm's) containerd and runc.
#   STATE_DIR/trixie/docker-buildx  trixie's buildx 0.13 (reads bake files; ignores a target's network)
#   STATE_DIR/sid/docker-buildx     sid's buildx (0.29 when written), which honours `network` in bake
# Idempotent. usage: bash scripts/newer-engine.sh [STATE_DIR]   -> prints the path of dockerd last
set -euo pipefail
STATE_DIR="${1:-${DYNAMO_IMAGE_ENV_DIR:-/var/tmp/dynamo-image-env}}"
MIRROR="${DEBIAN_MIRROR:-http://deb.debian.org/debian}"

# fetch SUITE PACKAGE PATH-IN-PACKAGE DEST
fetch() {
  local suite=$1 pkg=$2 inner=$3 dest=$4
  if [ -x "$dest" ] && { "$dest" --version >/dev/null 2>&1 || "$dest" version >/dev/null 2>&1; }; then return; fi
  local w
  w=$(mktemp -d)
  mkdir -p "$w/lists/partial" "$w/cache/archives/partial" "$w/debs" "$(dirname "$dest")"
  echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR $suite main" > "$w/sources.list"
  local o=(-o "Dir::Etc::SourceList=$w/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$w/lists" -o "Dir::Cache=$w/cache")
  apt-get "${o[@]}" update -qq >&2
  (cd "$w/debs" && apt-get "${o[@]}" download "$pkg" >&2)
  dpkg -x "$w"/debs/"$pkg"_*.deb "$w/x"
  install -m 0755 "$w/x/$inner" "$dest"
  rm -rf "$w"
  "$dest" --version >&2 || "$dest" version >&2
}

fetch trixie docker-buildx usr/libexec/docker/cli-plugins/docker-buildx "$STATE_DIR/trixie/docker-buildx"
fetch sid docker-buildx usr/libexec/docker/cli-plugins/docker-buildx "$STATE_DIR/sid/docker-buildx"
fetch trixie docker.io usr/sbin/dockerd "$STATE_DIR/trixie/dockerd"
echo "$STATE_DIR/trixie/dockerd"
