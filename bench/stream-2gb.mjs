// Streaming a 2 GB input: peak memory and throughput of `dynamo-image build` against
// `tar -c DIR | docker build -` with the same Dockerfile and files; and the digest cache: `plan` of
// a recipe naming the 2 GB file with a cold cache (hashes it) and a warm one (does not).
// Usage: node bench/stream-2gb.mjs [sizeMiB]  (needs about 3x the size free on /var/tmp and the engine's disk)
import { cpSync, mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { cli, DOCKER, materializeContext, run, runMeasured, saveResults, table } from './lib.mjs';

const sizeMiB = Number(process.argv[2] ?? 2048);
const work = mkdtempSync('/var/tmp/dynamo-image-bench-2gb-');
const cacheDir = path.join(work, 'digest-cache');
const name = 'bench-stream-2gb';
try {
  cpSync('recipes/examples/echo-python', path.join(work, 'recipe'), { recursive: true });
  const dir = path.join(work, 'recipe');
  console.log(`writing ${sizeMiB} MiB of random data...`);
  run('sh', ['-c', `head -c ${sizeMiB}M /dev/urandom > ${dir}/big.bin`]);
  const bytes = statSync(`${dir}/big.bin`).size;
  const recipe = path.join(dir, 'recipe.yaml');
  writeFileSync(
    recipe,
    readFileSync(recipe, 'utf8')
      .replace(/^name: .*$/m, `name: ${name}`)
      .replace('files:\n', 'files:\n  - source: big.bin\n    destination: /opt/big.bin\n'),
  );

  const env = { DYNAMO_IMAGE_CACHE_DIR: cacheDir };
  const planCold = cli(['plan', recipe, '--json'], { env });
  const planWarm = cli(['plan', recipe, '--json'], { env });

  const { dir: ctx } = materializeContext(recipe);
  const ours = runMeasured(
    process.execPath,
    ['bin/dynamo-image.js', 'build', recipe, '--force', '--no-cache', '--no-test', '--quiet', '--builder', 'buildkit', '--json'],
    { env: { ...env, CI: '1' } },
  );
  const oursJson = JSON.parse(ours.stdout);
  const base = runMeasured('sh', ['-c', `tar -C ${ctx} -c . | ${DOCKER} build -q --no-cache --network none -t ${name}:baseline -`], {
    env: { DOCKER_BUILDKIT: '1' },
  });
  rmSync(ctx, { recursive: true, force: true });

  const mbps = (ms) => (bytes / 2 ** 20 / (ms / 1000)).toFixed(0);
  const rows = [
    {
      case: 'dynamo-image build (BuildKit, no cache)',
      seconds: (ours.ms / 1000).toFixed(1),
      'MiB/s': mbps(ours.ms),
      'peak RSS (MiB)': (ours.peakRssKb / 1024).toFixed(0),
      'context bytes': oursJson.contextBytes,
    },
    {
      case: 'tar -c | docker build - (same files)',
      seconds: (base.ms / 1000).toFixed(1),
      'MiB/s': mbps(base.ms),
      'peak RSS (MiB)': `${(base.peakRssKb / 1024).toFixed(0)} (largest of sh/tar/docker)`,
      'context bytes': '-',
    },
    {
      case: 'plan, digest cache cold (hashes 2 GB)',
      seconds: (planCold.ms / 1000).toFixed(2),
      'MiB/s': mbps(planCold.ms),
      'peak RSS (MiB)': '-',
      'context bytes': '-',
    },
    { case: 'plan, digest cache warm', seconds: (planWarm.ms / 1000).toFixed(2), 'MiB/s': '-', 'peak RSS (MiB)': '-', 'context bytes': '-' },
  ];
  table(rows);
  saveResults('stream-2gb', { sizeMiB, bytes, rows });
} finally {
  rmSync(work, { recursive: true, force: true });
  run(DOCKER, ['image', 'rm', '-f', `${name}:0.1.0`, `${name}:baseline`], { allowFail: true });
}
