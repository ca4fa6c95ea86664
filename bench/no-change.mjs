// No-change rebuild, side by side on the same engine: `dynamo-image build --no-test` when nothing
// changed against `docker build DIR` (BuildKit, warm cache) of the same Dockerfile and files, with a
// small input (the echo-python example) and with a 1 GB input (the same recipe plus a 1 GiB file).
// Usage: node bench/no-change.mjs [RUNS=10] [SIZE_MB=1024]
import { execFileSync } from 'node:child_process';
import { cpSync, mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { cli, DOCKER, materializeContext, median, ROOT, run, saveResults, table } from './lib.mjs';

const runs = Number(process.argv[2] ?? 10);
const sizeMb = Number(process.argv[3] ?? 1024);
const env = { DOCKER_BUILDKIT: '1' };

function measure(name, recipe) {
  const { dir } = materializeContext(recipe);
  try {
    // Warm both: the first runs build, the measured ones find everything done.
    run(DOCKER, ['build', '-q', '--network', 'none', '-t', `bench-nochange:${name}`, dir], { env });
    cli(['build', recipe, '--no-test', '--quiet']);
    const docker = [];
    const ours = [];
    for (let i = 0; i < runs; i++) {
      docker.push(run(DOCKER, ['build', '-q', '--network', 'none', '-t', `bench-nochange:${name}`, dir], { env }).ms);
      ours.push(cli(['build', recipe, '--no-test', '--quiet']).ms);
    }
    return { docker: median(docker), ours: median(ours), raw: { docker, ours } };
  } finally {
    rmSync(dir, { recursive: true, force: true });
    run(DOCKER, ['image', 'rm', '-f', `bench-nochange:${name}`], { allowFail: true });
  }
}

const small = measure('small', 'recipes/examples/echo-python/recipe.yaml');
const big = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-bench-1g-'));
let large;
try {
  cpSync(path.join(ROOT, 'recipes/examples/echo-python'), big, { recursive: true });
  execFileSync('sh', [
    '-c',
    `head -c ${sizeMb}M /dev/urandom > ${big}/big.bin && sed -i 's/^name: .*/name: bench-nochange-1g/; s#^files:#files:\\n  - source: big.bin\\n    destination: /opt/big.bin#' ${big}/recipe.yaml`,
  ]);
  large = measure('large', path.join(big, 'recipe.yaml'));
} finally {
  rmSync(big, { recursive: true, force: true });
  run(DOCKER, ['image', 'rm', '-f', 'bench-nochange-1g:0.1.0'], { allowFail: true });
}
const rows = [
  {
    input: 'small (echo-python)',
    'docker build (ms)': small.docker.toFixed(0),
    'dynamo-image build (ms)': small.ours.toFixed(0),
    ratio: (small.ours / small.docker).toFixed(2),
  },
  {
    input: `${sizeMb} MiB file`,
    'docker build (ms)': large.docker.toFixed(0),
    'dynamo-image build (ms)': large.ours.toFixed(0),
    ratio: (large.ours / large.docker).toFixed(2),
  },
];
table(rows);
saveResults('no-change', { runs, sizeMb, rows, raw: { small: small.raw, large: large.raw } });
