#!/usr/bin/env bash
# What the llama.cpp example (recipes/examples/llamacpp-server) needs, for the tests that build it
# (env-up.sh --all; the integration setup runs that when it is missing). Nothing is pulled:
#   dynamo-image-base/debian-llamacpp:sid   Debian sid minbase with llama.cpp-tools (llama-server
#                                           needs glibc 2.43: bookworm's 2.36 is too old)
#   recipes/examples/llamacpp-server/models/tiny-llama.gguf
#                                           a tiny llama model with deterministic weights, written
#                                           with sid's python3-gguf (same bytes every run)
# The llama.cpp-tools version is pinned here; when Debian sid no longer has it, this refuses and
# says what it has now (sid moves: update the pin, the recipe's engine.version and its sha256s).
#
# env-up.sh makes the model every time (validate and matrix read it: it is an input of the recipe);
# the base only with --all (only the tests build the image).
#
#   usage: bash scripts/llamacpp-env.sh STATE_DIR MIRROR model|base
set -euo pipefail
log() { printf '[llamacpp-env] %s\n' "$*" >&2; }
STATE_DIR="${1:?usage: llamacpp-env.sh STATE_DIR MIRROR}"
MIRROR="${2:-http://deb.debian.org/debian}"
WHAT="${3:?usage: llamacpp-env.sh STATE_DIR MIRROR model|base}"
REPO_ROOT="$(cd "$(dirname "$0")/.." && pwd)"
LLAMACPP_DEB="1:0.7.0+dfsg-2"
BASE=dynamo-image-base/debian-llamacpp:sid
MODEL="$REPO_ROOT/recipes/examples/llamacpp-server/models/tiny-llama.gguf"
# The model's digest as the recipe pins it (files[0].sha256): one place for it.
MODEL_SHA256=$(awk '/source: models\/tiny-llama.gguf/ {f=1} f && /sha256:/ {print $2; exit}' "$REPO_ROOT/recipes/examples/llamacpp-server/recipe.yaml")
[ ${#MODEL_SHA256} = 64 ] || { log "no sha256 for models/tiny-llama.gguf in the recipe"; exit 3; }
SUDO=""
if [ "$(id -u)" != 0 ]; then SUDO="sudo"; fi

# Debian sid's package lists in a folder of our own (nothing is installed from them). Sid's index
# here can be older than its Valid-Until: apt is told not to check that.
APT="$STATE_DIR/sid-apt"
mkdir -p "$APT/lists/partial" "$APT/cache/archives/partial"
echo "deb [signed-by=/usr/share/keyrings/debian-archive-keyring.gpg] $MIRROR sid main" >"$APT/sources.list"
O=(-o "Dir::Etc::SourceList=$APT/sources.list" -o Dir::Etc::SourceParts=/dev/null -o "Dir::State::Lists=$APT/lists" -o "Dir::Cache=$APT/cache" -o Acquire::Check-Valid-Until=false)
sid_lists() {
  [ -n "$(ls "$APT/lists"/*Packages* 2>/dev/null)" ] || apt-get "${O[@]}" update -qq >&2
}
candidate() { apt-cache "${O[@]}" policy "$1" | awk '/Candidate:/ {print $2}'; }

if [ "$WHAT" = base ]; then
have_base=$(docker image inspect -f '{{index .Config.Labels "dev.dynamo-image.llamacpp-deb"}}' "$BASE" 2>/dev/null || true)
if [ "$have_base" != "$LLAMACPP_DEB" ]; then
  sid_lists
  now=$(candidate llama.cpp-tools)
  if [ "$now" != "$LLAMACPP_DEB" ]; then
    log "Debian sid has llama.cpp-tools ${now:-(none)} now; this project pins $LLAMACPP_DEB (scripts/llamacpp-env.sh)."
    log "update LLAMACPP_DEB there and engine.version in recipes/examples/llamacpp-server/recipe.yaml"
    exit 3
  fi
  dir=$(mktemp -d "$STATE_DIR/rootfs-sid.XXXXXX")
  log "debootstrap sid amd64 (llama.cpp-tools $LLAMACPP_DEB) from $MIRROR -> $BASE (about a minute)"
  if ! $SUDO debootstrap --variant=minbase --include=llama.cpp-tools,ca-certificates sid "$dir" "$MIRROR" >"$STATE_DIR/debootstrap-sid.log" 2>&1; then
    tail -n 20 "$STATE_DIR/debootstrap-sid.log" >&2
    $SUDO rm -rf "$dir"
    exit 3
  fi
  got=$($SUDO chroot "$dir" dpkg-query -W -f '${Version}' llama.cpp-tools)
  if [ "$got" != "$LLAMACPP_DEB" ]; then
    log "debootstrap installed llama.cpp-tools $got, not the pinned $LLAMACPP_DEB"
    $SUDO rm -rf "$dir"
    exit 3
  fi
  $SUDO rm -rf "$dir/var/cache/apt/archives"/*.deb "$dir/var/lib/apt/lists"/* "$dir/var/log"/*
  $SUDO tar -C "$dir" -c . | docker import -c 'CMD ["/bin/bash"]' -c "LABEL dev.dynamo-image.llamacpp-deb=$LLAMACPP_DEB" - "$BASE" >/dev/null
  $SUDO rm -rf "$dir"
  log "imported $BASE"
else
  log "base image $BASE present (llama.cpp-tools $LLAMACPP_DEB)"
fi
fi

if [ "$WHAT" = model ]; then
if [ ! -f "$MODEL" ] || [ "$(sha256sum "$MODEL" | cut -d' ' -f1)" != "$MODEL_SHA256" ]; then
  # sid's python3-gguf (pure Python) unpacked, run by this machine's python3 with numpy.
  GGUF="$STATE_DIR/python3-gguf"
  if [ ! -d "$GGUF/usr/lib/python3/dist-packages/gguf" ]; then
    sid_lists
    w=$(mktemp -d)
    (cd "$w" && apt-get "${O[@]}" download python3-gguf >&2 2>/dev/null)
    rm -rf "$GGUF" && dpkg -x "$w"/python3-gguf_*.deb "$GGUF"
    rm -rf "$w"
  fi
  # Debian's python3 with Debian's numpy (not whatever python3 comes first in PATH: pyenv, a venv).
  PY=/usr/bin/python3
  if ! $PY -c 'import numpy, yaml, requests, tqdm' 2>/dev/null; then
    log "installing python3-numpy and what python3-gguf imports"
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq --no-install-recommends python3-numpy python3-yaml python3-requests python3-tqdm >/dev/null
  fi
  mkdir -p "$(dirname "$MODEL")"
  PYTHONPATH="$GGUF/usr/lib/python3/dist-packages" $PY "$REPO_ROOT/scripts/make-tiny-gguf.py" "$MODEL.tmp"
  got=$(sha256sum "$MODEL.tmp" | cut -d' ' -f1)
  if [ "$got" != "$MODEL_SHA256" ]; then
    log "the tiny model came out as sha256 $got, not $MODEL_SHA256: its bytes are no longer reproducible"
    rm -f "$MODEL.tmp"
    exit 3
  fi
  mv "$MODEL.tmp" "$MODEL"
  log "wrote $MODEL ($(stat -c %s "$MODEL") bytes, sha256 $MODEL_SHA256)"
fi
fi
