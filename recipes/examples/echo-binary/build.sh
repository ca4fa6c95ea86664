#!/usr/bin/env bash
# Compiles tokenecho into a static binary at bin/tokenecho. The committed binary is what the recipe
# pins by sha256; after changing the source, run this and put the new digest in recipe.yaml.
set -euo pipefail
cd "$(dirname "$0")"
cc -O2 -static -s -Wall -Wextra -o bin/tokenecho src/tokenecho.c
sha256sum bin/tokenecho
