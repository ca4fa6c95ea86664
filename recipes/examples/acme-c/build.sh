#!/usr/bin/env bash
# Compiles libacme.so (a shared library) and acme-server (linked against it, found at run time
# through LD_LIBRARY_PATH) into lib/ and bin/. The committed files are what the recipe pins;
# after changing the source, run this and then `dynamo-image pin recipe.yaml`.
set -euo pipefail
cd "$(dirname "$0")"
cc -O2 -s -Wall -Wextra -shared -fPIC -Wl,-soname,libacme.so.1 -o lib/libacme.so.1 src/libacme.c
cc -O2 -s -Wall -Wextra -Isrc -o bin/acme-server src/acme-server.c -Llib -l:libacme.so.1
sha256sum bin/acme-server lib/libacme.so.1
