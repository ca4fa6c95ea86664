// Build overhead: `dynamo-image build --force --no-cache` against `docker build --no-cache` of the
// same Dockerfile and context (BuildKit both), and a no-change rebuild (dynamo-image's up-to-date
// check) against `docker build` with a warm cache. Usage: node bench/build-overhead.mjs [runs]
import { rmSync } from 'node:fs';
import { cli, DOCKER, materializeContext, median, run, saveResults, table } from './lib.mjs';

const runs = Number(process.argv[2] ?? 3);
const recipe = 'recipes/examples/echo-python/recipe.yaml';
const { dir } = materializeContext(recipe);
const env = { DOCKER_BUILDKIT: '1' };
const cold = { ours: [], docker: [] };
const warm = { ours: [], docker: [] };
try {
  for (let i = 0; i < runs; i++) {
    cold.docker.push(run(DOCKER, ['build', '-q', '--no-cache', '--network', 'none', '-t', 'bench-baseline:cold', dir], { env }).ms);
    cold.ours.push(cli(['build', recipe, '--force', '--no-cache', '--no-test', '--quiet', '--builder', 'buildkit']).ms);
  }
  for (let i = 0; i < runs * 3; i++) {
    warm.docker.push(run(DOCKER, ['build', '-q', '--network', 'none', '-t', 'bench-baseline:warm', dir], { env }).ms);
    warm.ours.push(cli(['build', recipe, '--no-test', '--quiet']).ms);
  }
} finally {
  rmSync(dir, { recursive: true, force: true });
  run(DOCKER, ['image', 'rm', '-f', 'bench-baseline:cold', 'bench-baseline:warm'], { allowFail: true });
}
const rows = [
  {
    case: 'full build, no cache',
    'docker build (ms)': median(cold.docker).toFixed(0),
    'dynamo-image build (ms)': median(cold.ours).toFixed(0),
    'difference (ms)': (median(cold.ours) - median(cold.docker)).toFixed(0),
  },
  {
    case: 'no change',
    'docker build (ms)': median(warm.docker).toFixed(0),
    'dynamo-image build (ms)': median(warm.ours).toFixed(0),
    'difference (ms)': (median(warm.ours) - median(warm.docker)).toFixed(0),
  },
];
table(rows);
saveResults('build-overhead', { runs, recipe, rows, raw: { cold, warm } });
