#!/usr/bin/env bash
# Reproducible digests (issue 25, point 5): two fresh engines of the same kind (own data roots: no
# build cache, no image but the same base image, loaded from one `docker save`) build the same
# recipe; are the image ids (config digests) and layer digests the same? Where not, which layer
# differs and which files in it. Reports, asserts nothing. Stops the engines it started (by pid)
# and removes what it made.
#
#   usage: bash bench/reproducible.sh [RECIPE] [--builder buildkit|classic]
#   (default recipes/examples/echo-python/recipe.yaml; needs `npm run env:up` for the base image)
set -euo pipefail
REPO="$(cd "$(dirname "$0")/.." && pwd)"
recipe="${1:-recipes/examples/echo-python/recipe.yaml}"
shift || true
builder_args=("$@")
dockerd_bin="${BENCH_DOCKERD:-dockerd}"
work=$(mktemp -d /var/tmp/dynamo-image-repro.XXXXXX)
pids=()
cleanup() {
  for pid in "${pids[@]}"; do
    if tr '\0' ' ' <"/proc/$pid/cmdline" 2>/dev/null | grep -qF -- "$work"; then
      kill "$pid" || true
      for _ in $(seq 1 30); do kill -0 "$pid" 2>/dev/null || break; sleep 1; done
    fi
  done
  rm -rf "$work"
}
trap cleanup EXIT
cd "$REPO"
# A registry on 127.0.0.1 (Debian's docker-registry): each engine pushes its image, and the
# manifest digests (what a registry, cosign and a pull by digest see) are compared too.
port=$(node -e 'const s = require("net").createServer().listen(0, "127.0.0.1", () => { console.log(s.address().port); s.close(); })')
mkdir -p "$work/registry"
printf 'version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' "$work/registry/data" "$port" >"$work/registry/config.yml"
setsid docker-registry serve "$work/registry/config.yml" </dev/null >"$work/registry/log" 2>&1 &
pids+=($!)
for _ in $(seq 1 40); do curl -sf --max-time 2 "http://127.0.0.1:$port/v2/" >/dev/null 2>&1 && break; sleep 0.25; done
digests=()
# The images the recipe starts from, as the plan names them, saved once from the default engine.
bases=$(node bin/dynamo-image.js plan "$recipe" --json | node -e 'const p = JSON.parse(require("fs").readFileSync(0, "utf8")); console.log([...new Set([p.base.runtime, p.base.builder, ...p.imports.map((i) => i.image)])].join(" "))')
# shellcheck disable=SC2086
docker save -o "$work/bases.tar" $bases
ids=()
for side in a b; do
  d="$work/$side"
  mkdir -p "$d"
  # Own socket, data root and exec root; the same flags as the project's engine.
  setsid "$dockerd_bin" --bridge=none --iptables=false --ip-masq=false --data-root="$d/data" --exec-root="/run/dynamo-image-repro-$side-$$" \
    --pidfile="$d/dockerd.pid" --host="unix://$d/docker.sock" </dev/null >"$d/dockerd.log" 2>&1 &
  pids+=($!)
  for _ in $(seq 1 60); do curl -sf --max-time 2 --unix-socket "$d/docker.sock" http://localhost/_ping >/dev/null 2>&1 && break; sleep 0.5; done
  export DOCKER_HOST="unix://$d/docker.sock"
  docker load -q -i "$work/bases.tar" >/dev/null
  out=$(DYNAMO_IMAGE_CACHE_DIR="$d/cache" node bin/dynamo-image.js build "$recipe" --no-test --json "${builder_args[@]}")
  id=$(printf '%s' "$out" | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8")).image)')
  ids+=("$id")
  docker inspect --format '{{json .RootFS.Layers}}' "$id" >"$d/layers.json"
  docker history --no-trunc --format '{{.CreatedBy}}' "$id" | tac >"$d/history.txt"
  docker save -o "$d/image.tar" "$id"
  docker tag "$id" "127.0.0.1:$port/repro-$side:1"
  digest=$(docker push -q "127.0.0.1:$port/repro-$side:1" >/dev/null && docker inspect --format '{{join .RepoDigests " "}}' "$id" | tr ' ' '\n' | grep "repro-$side@" | sed 's/.*@//')
  digests+=("$digest")
  echo "engine $side ($(docker version --format '{{.Server.Version}}')): image id $id, pushed manifest $digest"
  unset DOCKER_HOST
done
if [ "${ids[0]}" = "${ids[1]}" ]; then
  echo "reproducible: both engines built ${ids[0]}"
  result=same
  if [ "${digests[0]}" = "${digests[1]}" ]; then echo "reproducible in the registry too: both pushed ${digests[0]}"; else
    echo "the pushed manifests differ: ${digests[0]} vs ${digests[1]} (layer compression)"
    result=same-config-other-manifest
  fi
else
  result=different
  echo "not reproducible: ${ids[0]} vs ${ids[1]}"
  node - "$work" <<'EOF'
const { readFileSync } = require('node:fs');
const { execFileSync } = require('node:child_process');
const work = process.argv[2];
const layers = (s) => JSON.parse(readFileSync(`${work}/${s}/layers.json`, 'utf8'));
const [a, b] = [layers('a'), layers('b')];
const same = a.filter((l, i) => l === b[i]).length;
console.log(`layers: ${a.length} and ${b.length}; the first ${a.findIndex((l, i) => l !== b[i])} equal, ${same} equal in all`);
// Each differing layer: its files' listing (mode, owner, size, mtime, name) compared.
const list = (side, i) => {
  const manifest = JSON.parse(execFileSync('tar', ['-xOf', `${work}/${side}/image.tar`, 'manifest.json']).toString())[0];
  const tar = manifest.Layers[i];
  return execFileSync('sh', ['-c', `tar -xOf '${work}/${side}/image.tar' '${tar}' | tar -tv --full-time`], { maxBuffer: 1 << 28 }).toString().split('\n');
};
a.forEach((l, i) => {
  if (l === b[i]) return;
  const la = list('a', i), lb = list('b', i);
  const sb = new Set(lb);
  const diff = la.filter((x) => x && !sb.has(x)).slice(0, 8);
  console.log(`layer ${i} differs (${la.length - 1} entries): e.g.\n  ${diff.join('\n  ')}`);
});
EOF
  echo "config differences (each field that differs):"
  # manifest.json names the config (sha256.json on Docker 20.10, blobs/sha256/... on 25+).
  cfg() { tar -xOf "$1" "$(tar -xOf "$1" manifest.json | node -e 'console.log(JSON.parse(require("fs").readFileSync(0, "utf8"))[0].Config)')"; }
  cfg "$work/a/image.tar" >"$work/a/config.json"
  cfg "$work/b/image.tar" >"$work/b/config.json"
  node - "$work/a/config.json" "$work/b/config.json" <<'EOF'
const { readFileSync } = require('node:fs');
const [a, b] = process.argv.slice(2).map((f) => JSON.parse(readFileSync(f, 'utf8')));
const walk = (x, y, at) => {
  if (JSON.stringify(x) === JSON.stringify(y)) return;
  if (x && y && typeof x === 'object' && typeof y === 'object') {
    for (const k of new Set([...Object.keys(x), ...Object.keys(y)])) walk(x[k], y[k], `${at}.${k}`);
    return;
  }
  out.push(`  ${at}: ${JSON.stringify(x)} vs ${JSON.stringify(y)}`.slice(0, 300));
};
const out = [];
walk(a, b, 'config');
console.log(out.slice(0, 10).join('\n') + (out.length > 10 ? `\n  ... and ${out.length - 10} more` : ''));
EOF
fi
mkdir -p "$REPO/bench/results"
printf '{"benchmark":"reproducible","recipe":"%s","source_date_epoch":"%s","a":"%s","b":"%s","manifest_a":"%s","manifest_b":"%s","result":"%s","date":"%s"}\n' "$recipe" "${SOURCE_DATE_EPOCH:-}" "${ids[0]}" "${ids[1]}" "${digests[0]}" "${digests[1]}" "$result" "$(date -u +%FT%TZ)" >"$REPO/bench/results/reproducible.json"
