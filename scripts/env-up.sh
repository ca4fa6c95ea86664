#!/usr/bin/env bash
# Brings up what dynamo-image's examples and tests need on a Debian machine with no registry to
# pull from: a Docker engine (Debian's docker.io), debootstrap, Debian's registry and skopeo, and
# the locally made base images. Idempotent: each step checks first and does only what is missing.
# --all: also what only the tests need (see below).
set -euo pipefail

log() { printf '[env-up] %s\n' "$*" >&2; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

STATE_DIR="${DYNAMO_IMAGE_ENV_DIR:-/var/tmp/dynamo-image-env}"
ALL=0
for a in "$@"; do
  case "$a" in
    --all) ALL=1 ;;
    *) log "unknown argument $a (env-up.sh [--all])"; exit 2 ;;
  esac
done
$SUDO mkdir -p "$STATE_DIR"

# --- 1. Debian packages -------------------------------------------------------------------------
need_pkgs=()
command -v dockerd >/dev/null 2>&1 || need_pkgs+=(docker.io)
command -v debootstrap >/dev/null 2>&1 || need_pkgs+=(debootstrap)
command -v docker-registry >/dev/null 2>&1 || need_pkgs+=(docker-registry)
command -v skopeo >/dev/null 2>&1 || need_pkgs+=(skopeo)
command -v htpasswd >/dev/null 2>&1 || need_pkgs+=(apache2-utils)
command -v curl >/dev/null 2>&1 || need_pkgs+=(curl)
# The apt tests sign a repository (gpg) and build packages (dpkg-deb, part of dpkg).
command -v gpg >/dev/null 2>&1 || need_pkgs+=(gpg)
command -v python3 >/dev/null 2>&1 || need_pkgs+=(python3)
[ -d /usr/share/python-wheels ] && ls /usr/share/python-wheels/pip-*.whl >/dev/null 2>&1 || need_pkgs+=(python3-pip-whl)
# arm64 images build and run here under QEMU user emulation.
command -v qemu-aarch64-static >/dev/null 2>&1 || need_pkgs+=(qemu-user-static)
command -v update-binfmts >/dev/null 2>&1 || need_pkgs+=(binfmt-support)
if [ "${#need_pkgs[@]}" -gt 0 ]; then
  log "installing from Debian: ${need_pkgs[*]}"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${need_pkgs[@]}" >/dev/null
fi

# --- 2. The Docker engine ------------------------------------------------------------------------
# DYNAMO_IMAGE_ENGINE_DIR: an engine of this run's own, on its own socket, data root and exec root
# (.ci/run sets it, with DOCKER_HOST, so CI never leans on an engine something else started and may
# stop). Unset: the machine's engine on /var/run/docker.sock, as a developer has it.
SOCK=/var/run/docker.sock
ENGINE_ARGS=""
ENGINE_LOG="$STATE_DIR/dockerd.log"
ENGINE_PID="$STATE_DIR/dockerd.pid"
if [ -n "${DYNAMO_IMAGE_ENGINE_DIR:-}" ]; then
  $SUDO mkdir -p "$DYNAMO_IMAGE_ENGINE_DIR"
  SOCK="$DYNAMO_IMAGE_ENGINE_DIR/docker.sock"
  ENGINE_LOG="$DYNAMO_IMAGE_ENGINE_DIR/dockerd.log"
  ENGINE_PID="$DYNAMO_IMAGE_ENGINE_DIR/dockerd.pid.txt"
  ENGINE_ARGS="--data-root=$DYNAMO_IMAGE_ENGINE_DIR/data --exec-root=/run/dynamo-image-$(printf %s "$DYNAMO_IMAGE_ENGINE_DIR" | cksum | cut -d' ' -f1) --pidfile=$DYNAMO_IMAGE_ENGINE_DIR/dockerd.pid"
  if [ "${DOCKER_HOST:-}" != "unix://$SOCK" ]; then
    log "DYNAMO_IMAGE_ENGINE_DIR is set: set DOCKER_HOST=unix://$SOCK too, so the tests use that engine"
    exit 2
  fi
fi
engine_answers() { [ -S "$SOCK" ] && curl -sf --max-time 3 --unix-socket "$SOCK" http://localhost/_ping >/dev/null 2>&1; }
if engine_answers; then
  log "engine already answers on $SOCK"
else
  # containerd comes with docker.io; dockerd starts its own when none runs.
  log "starting dockerd (--bridge=none --iptables=false --ip-masq=false) on $SOCK, log in $ENGINE_LOG"
  # The GPU stand-in hook directory is put on PATH only by tests that ask for it (see test/support).
  # setsid: its own session and process group, so a signal meant for the job that started it (CI's
  # script, a test runner's group, ^C in the terminal) does not reach the engine every test uses.
  $SUDO sh -c "setsid nohup dockerd --bridge=none --iptables=false --ip-masq=false $ENGINE_ARGS \
    --host=unix://$SOCK </dev/null >'$ENGINE_LOG' 2>&1 & echo \$! >'$ENGINE_PID'"
  for _ in $(seq 1 120); do
    engine_answers && break
    sleep 0.5
  done
  if ! engine_answers; then
    log "the engine did not answer within 60 s; last lines of its log:"
    tail -n 30 "$ENGINE_LOG" >&2 || true
    exit 3
  fi
  log "engine up (pid $(cat "$ENGINE_PID"))"
fi

# --- 3. Base images, made locally (nothing can be pulled) ----------------------------------------
# dynamo-image-base/debian-python:bookworm  - Debian bookworm minbase with python3 + venv
MIRROR="${DEBIAN_MIRROR:-}"
if [ -z "$MIRROR" ]; then
  # The first non-security mirror apt already uses (one-line or deb822 format).
  MIRROR=$( (cat /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources 2>/dev/null || true) \
    | grep -E '^(URIs:|deb )' | grep -v security | head -n1 | awk '{print $2}' || true)
  [ -n "$MIRROR" ] || MIRROR=http://deb.debian.org/debian
fi

make_base() {
  local ref="$1" include="$2" arch="${3:-amd64}"
  if docker image inspect "$ref" >/dev/null 2>&1; then
    log "base image $ref present"
    return
  fi
  local dir
  dir=$(mktemp -d "$STATE_DIR/rootfs.XXXXXX")
  log "debootstrap bookworm $arch ($include) from $MIRROR -> $ref ($([ "$arch" = amd64 ] && echo 'about a minute' || echo 'several minutes under emulation'))"
  if ! $SUDO debootstrap --arch="$arch" --variant=minbase --include="$include" bookworm "$dir" "$MIRROR" >"$STATE_DIR/debootstrap-$arch.log" 2>&1; then
    tail -n 20 "$STATE_DIR/debootstrap-$arch.log" >&2
    $SUDO rm -rf "$dir"
    exit 3
  fi
  # Drop apt lists and caches: smaller image, and no timestamps of this run inside it.
  $SUDO rm -rf "$dir/var/cache/apt/archives"/*.deb "$dir/var/lib/apt/lists"/* "$dir/var/log"/*
  if [ "$arch" = amd64 ]; then
    $SUDO tar -C "$dir" -c . | docker import -c 'CMD ["/bin/bash"]' - "$ref" >/dev/null
  else
    # `docker import --platform` is ignored without experimental features: write the image's
    # config (with its architecture) ourselves and `docker load` it.
    python3 "$(dirname "$0")/import-rootfs.py" "$dir" "$ref" "$arch" >/dev/null
  fi
  $SUDO rm -rf "$dir"
  log "imported $ref"
}
make_base "dynamo-image-base/debian-python:bookworm" "python3,python3-venv"

# dynamo-image-base/debian:bookworm - the same without any Python (for engines that install none):
# made from the one above by purging Python, offline.
if ! docker image inspect dynamo-image-base/debian:bookworm >/dev/null 2>&1; then
  printf '%s\n' 'FROM dynamo-image-base/debian-python:bookworm' \
    "RUN apt-get purge -y --auto-remove 'python3*' 'libpython3*' >/dev/null && ! command -v python3" \
    | docker build -q --network none -t dynamo-image-base/debian:bookworm - >"$STATE_DIR/nopython-base.log" 2>&1 \
    || { tail -n 20 "$STATE_DIR/nopython-base.log" >&2; exit 3; }
  log "made dynamo-image-base/debian:bookworm (no Python)"
fi

# What only the tests need (the stand-ins' OS, the arm64 base under emulation, a newer engine):
# with --all (.ci/run; the integration tests' setup runs it when any of it is missing). The quick
# start needs none of it.
if [ "$ALL" = 1 ]; then
# --- 3a. The stand-ins' operating system, for building the built-in recipes offline --------------
# test/integration/builtin-standins.test.ts builds recipes/{vllm,sglang,tensorrtllm}-runtime
# against local stand-ins of the images they name; those stand in on top of this one: the
# debian-python base with every apt package the built-ins install already installed, and no apt
# sources, so the recipes' own `apt-get update && apt-get install` runs offline ("already the
# newest version"). The packages are read from the recipes; apt on this machine downloads them
# (with the base image's dpkg status, so only what the base lacks) and the image is built offline.
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
STANDIN_OS=dynamo-image-standin/os:bookworm
STANDIN_PKGS=$(cd "$REPO_ROOT" && node -e '
  const { parse } = require("yaml"); const fs = require("fs");
  const pkgs = new Set();
  for (const d of ["vllm-runtime", "sglang-runtime", "tensorrtllm-runtime"])
    for (const p of parse(fs.readFileSync(`recipes/${d}/recipe.yaml`, "utf8")).systemPackages ?? []) pkgs.add(p);
  console.log([...pkgs].sort().join(" "));')
STANDIN_KEY=$(printf '%s' "$STANDIN_PKGS" | sha256sum | cut -c1-12)
if [ "$(docker image inspect -f '{{index .Config.Labels "dev.dynamo-image.standin-packages"}}' "$STANDIN_OS" 2>/dev/null)" != "$STANDIN_KEY" ]; then
  work=$(mktemp -d "$STATE_DIR/standin.XXXXXX")
  mkdir -p "$work/debs/partial"
  docker run --rm --network none dynamo-image-base/debian-python:bookworm cat /var/lib/dpkg/status >"$work/status"
  # shellcheck disable=SC2086
  if ! $SUDO apt-get install --download-only -y -q --no-install-recommends \
      -o Dir::State::status="$work/status" -o Dir::Cache::archives="$work/debs" $STANDIN_PKGS >"$STATE_DIR/standin.log" 2>&1; then
    $SUDO apt-get update -q >>"$STATE_DIR/standin.log" 2>&1 || true
    # shellcheck disable=SC2086
    $SUDO apt-get install --download-only -y -q --no-install-recommends \
      -o Dir::State::status="$work/status" -o Dir::Cache::archives="$work/debs" $STANDIN_PKGS >>"$STATE_DIR/standin.log" 2>&1 \
      || { tail -n 20 "$STATE_DIR/standin.log" >&2; exit 3; }
  fi
  $SUDO chown -R "$(id -u)" "$work/debs"
  rm -rf "$work/debs/partial" "$work/debs/lock"
  printf '%s\n' 'FROM dynamo-image-base/debian-python:bookworm' 'COPY debs/ /tmp/debs/' \
    'RUN DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends /tmp/debs/*.deb >/dev/null && rm -rf /tmp/debs /var/lib/apt/lists/* /var/log/* && rm -f /etc/apt/sources.list && rm -rf /etc/apt/sources.list.d/*' \
    "LABEL dev.dynamo-image.standin-packages=$STANDIN_KEY" >"$work/Dockerfile"
  docker build -q --network none -t "$STANDIN_OS" "$work" >>"$STATE_DIR/standin.log" 2>&1 || { tail -n 20 "$STATE_DIR/standin.log" >&2; rm -rf "$work"; exit 3; }
  rm -rf "$work"
  log "made $STANDIN_OS ($(echo "$STANDIN_PKGS" | wc -w) packages)"
else
  log "stand-in base $STANDIN_OS present"
fi

# --- 3b. arm64: QEMU user emulation registered with the kernel, and the arm64 base image ----------
if [ ! -e /proc/sys/fs/binfmt_misc/register ]; then
  $SUDO mount -t binfmt_misc binfmt_misc /proc/sys/fs/binfmt_misc || log "warning: cannot mount binfmt_misc; arm64 builds will fail"
fi
if [ ! -e /proc/sys/fs/binfmt_misc/qemu-aarch64 ]; then
  $SUDO update-binfmts --enable qemu-aarch64 >/dev/null 2>&1 || log "warning: cannot register qemu-aarch64; arm64 builds will fail"
fi
make_base "dynamo-image-base/debian-python:bookworm-arm64" "python3,python3-venv" arm64

# --- 3c. llama.cpp: a Debian sid base with llama.cpp-tools (its example's tests build it) ---------
bash "$(dirname "$0")/llamacpp-env.sh" "$STATE_DIR" "$MIRROR" base || exit 3

fi

# --- 4. The third-party wheel example's input (Debian's own pip wheel) ----------------------------
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
PIP_WHEEL=/usr/share/python-wheels/pip-23.0.1-py3-none-any.whl
if [ -f "$PIP_WHEEL" ]; then
  mkdir -p "$REPO_ROOT/recipes/examples/pip-wheel/wheels"
  cp -p "$PIP_WHEEL" "$REPO_ROOT/recipes/examples/pip-wheel/wheels/"
else
  log "warning: $PIP_WHEEL missing (python3-pip-whl); the pip-wheel example will not validate"
fi

# --- 4b. The llama.cpp example's tiny model (validate and matrix read it; same bytes every run) ----
bash "$REPO_ROOT/scripts/llamacpp-env.sh" "$STATE_DIR" "$MIRROR" model || exit 3

if [ "$ALL" = 1 ]; then
# --- 5. A newer engine for the tests that need one (dockerd 26 with CDI) ----------------------------
if NEWER=$(DEBIAN_MIRROR="$MIRROR" bash "$REPO_ROOT/scripts/newer-engine.sh" "$STATE_DIR" 2>"$STATE_DIR/newer-engine.log"); then
  log "newer engine: $NEWER ($("$NEWER" --version))"
else
  log "could not fetch Debian trixie's dockerd (see $STATE_DIR/newer-engine.log); its tests will fail"
  tail -n 5 "$STATE_DIR/newer-engine.log" >&2 || true
fi
# --- 6. The clients that check a signed release: cosign, oras, pyspdxtools (Debian sid) -------------
if AUDIT=$(DEBIAN_MIRROR="$MIRROR" bash "$REPO_ROOT/scripts/audit-tools.sh" "$STATE_DIR" 2>"$STATE_DIR/audit-tools.log"); then
  log "release checkers: $AUDIT (cosign, oras, pyspdxtools)"
else
  log "could not fetch cosign/oras/pyspdxtools (see $STATE_DIR/audit-tools.log); the signed-release tests will fail"
  tail -n 5 "$STATE_DIR/audit-tools.log" >&2 || true
fi

else
  log "for the tests only, not made now (env-up.sh --all): the stand-ins' OS, the arm64 base, the llama.cpp base, a newer engine, cosign/oras/pyspdxtools"
fi

log "ready"
