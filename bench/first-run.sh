#!/usr/bin/env bash
# The quick start's first run, as a new user meets it: a fresh clone of this checkout, an engine of
# its own (new data root: no image, no build cache) and a new state folder (no base image, no apt
# lists of its own), then `npm run example`, timed. Debian's packages this machine already has are
# not removed (on a machine without them, add their install: about 25 s measured on CI's kind).
# Stops the engine it started (by its pid) and removes what it made.
#
#   usage: bash bench/first-run.sh            -> prints the seconds, and writes bench/results/first-run.json
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
work=$(mktemp -d /var/tmp/dynamo-image-first-run.XXXXXX)
export DYNAMO_IMAGE_ENV_DIR="$work/env" DYNAMO_IMAGE_ENGINE_DIR="$work/engine"
export DOCKER_HOST="unix://$work/engine/docker.sock"
cleanup() {
  pid=$(cat "$work/engine/dockerd.pid.txt" 2>/dev/null || true)
  if [ -n "$pid" ] && tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$work/engine"; then
    kill "$pid" || true
    for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
  fi
  rm -rf "$work"
}
trap cleanup EXIT
git clone -q "$REPO" "$work/clone"
cd "$work/clone"
start=$(date +%s.%N)
npm run example >"$work/example.log" 2>&1 || { tail -n 30 "$work/example.log"; exit 1; }
end=$(date +%s.%N)
secs=$(awk -v a="$start" -v b="$end" 'BEGIN { printf "%.1f", b - a }')
echo "npm run example on a fresh clone, new engine, no images: ${secs} s"
mkdir -p "$REPO/bench/results"
printf '{"benchmark":"first-run","seconds":%s,"date":"%s"}\n' "$secs" "$(date -u +%FT%TZ)" >"$REPO/bench/results/first-run.json"
