#!/usr/bin/env bash
# Starts Podman's Docker-compatible service (`podman system service`) for the tests that run the
# tool against Podman, on its own socket, storage and config, and loads the base images it is given
# from the Docker engine (there is no registry to pull them from). Installs Debian's podman (4.3 on
# bookworm) when it is missing. Idempotent: a service already answering on the socket is reused.
#
#   usage: bash scripts/podman-up.sh STATE_DIR [IMAGE ...]   -> prints unix://STATE_DIR/podman.sock
#   stop:  kill "$(cat STATE_DIR/podman.pid)"
#
# Podman's containers fail with "error setting rlimit" when its default ulimits are above what this
# machine allows: a private containers.conf (CONTAINERS_CONF) sets them at most at `ulimit -Hn`.
set -euo pipefail
log() { printf '[podman-up] %s\n' "$*" >&2; }
STATE_DIR="${1:?usage: podman-up.sh STATE_DIR [IMAGE ...]}"
shift
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

if ! command -v podman >/dev/null 2>&1; then
  log "installing Debian's podman"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends podman >/dev/null
fi

mkdir -p "$STATE_DIR"
SOCK="$STATE_DIR/podman.sock"
CONF="$STATE_DIR/containers.conf"
hard_nofile=$(ulimit -Hn)
[ "$hard_nofile" = unlimited ] && hard_nofile=1048576
nofile=$((hard_nofile < 1048576 ? hard_nofile : 1048576))
cat >"$CONF" <<EOF
# Written by scripts/podman-up.sh: limits this machine allows, no network, no systemd.
[containers]
default_ulimits = ["nofile=$nofile:$nofile", "nproc=32768:32768"]
netns = "none"
[engine]
cgroup_manager = "cgroupfs"
events_logger = "file"
EOF
export CONTAINERS_CONF="$CONF"
P=(podman --root "$STATE_DIR/root" --runroot "$STATE_DIR/run")

answers() { curl -sf --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }
if ! answers; then
  rm -f "$SOCK"
  log "starting podman system service on $SOCK"
  # setsid: its own session, so a signal meant for whatever started this script does not reach it.
  setsid "${P[@]}" system service --time=0 "unix://$SOCK" >"$STATE_DIR/service.log" 2>&1 </dev/null &
  echo $! >"$STATE_DIR/podman.pid"
  for _ in $(seq 1 60); do answers && break; sleep 0.5; done
  answers || { log "the service did not answer; its log:"; tail -n 20 "$STATE_DIR/service.log" >&2; exit 1; }
fi

for img in "$@"; do
  want=$(docker image inspect --format '{{.Id}}' "$img")
  have=$("${P[@]}" image inspect --format '{{.Id}}' "$img" 2>/dev/null || true)
  if [ "sha256:$have" != "$want" ] && [ "$have" != "$want" ]; then
    log "loading $img from the Docker engine"
    docker save "$img" | "${P[@]}" load -q >/dev/null
  fi
done
echo "unix://$SOCK"
