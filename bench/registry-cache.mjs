// Registry build cache on fresh runners: the previous version of a recipe is published (BuildKit
// inline cache in its image), then the next version is built on two brand-new engines (own data
// root: no image but the base, no build cache): once cold, once with --cache-from the published
// image. Reports both times, the ratio and the cached steps.
// Usage: node bench/registry-cache.mjs [RUNS=3]
import { execFileSync, spawn } from 'node:child_process';
import { cpSync, existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { cli, median, ROOT, saveResults, table } from './lib.mjs';

const runs = Number(process.argv[2] ?? 3);
const BASE = 'dynamo-image-base/debian-python:bookworm';
const work = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-bench-cache-'));
const port = await new Promise((r) => {
  const s = createServer();
  s.listen(0, '127.0.0.1', () => {
    const p = s.address().port;
    s.close(() => r(p));
  });
});
const registry = `127.0.0.1:${port}`;
writeFileSync(
  path.join(work, 'registry.yml'),
  `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${work}/storage\nhttp:\n  addr: ${registry}\n`,
);
const reg = spawn('docker-registry', ['serve', path.join(work, 'registry.yml')], { stdio: 'ignore' });

async function freshEngine(name) {
  const dir = path.join(work, name);
  const sock = path.join(dir, 'docker.sock');
  const child = spawn(
    'dockerd',
    [
      '--data-root',
      path.join(dir, 'data'),
      '--exec-root',
      `/run/dib-${name}-${process.pid}`,
      '--pidfile',
      path.join(dir, 'pid'),
      '--host',
      `unix://${sock}`,
      '--bridge=none',
      '--iptables=false',
      '--ip-masq=false',
    ],
    { stdio: 'ignore' },
  );
  for (let i = 0; i < 120 && !(existsSync(sock) && tryVersion(sock)); i++) await new Promise((r) => setTimeout(r, 250));
  execFileSync('sh', ['-c', `docker save ${BASE} | docker -H unix://${sock} load -q`]);
  return {
    env: { DOCKER_HOST: `unix://${sock}`, DYNAMO_IMAGE_CACHE_DIR: path.join(dir, 'cache'), DYNAMO_IMAGE_NO_FAST_PATH: '1' },
    stop: async () => {
      child.kill('SIGTERM');
      await new Promise((r) => child.once('exit', r));
      rmSync(`/run/dib-${name}-${process.pid}`, { recursive: true, force: true });
    },
  };
}
function tryVersion(sock) {
  try {
    execFileSync('docker', ['-H', `unix://${sock}`, 'version'], { stdio: 'ignore', timeout: 5000 });
    return true;
  } catch {
    return false;
  }
}

const cold = [];
const warm = [];
let cached = null;
try {
  for (let i = 0; i < 120; i++)
    if (
      await fetch(`http://${registry}/v2/`).then(
        () => true,
        () => false,
      )
    )
      break;
    else await new Promise((r) => setTimeout(r, 100));
  const ex = path.join(work, 'recipe');
  cpSync(path.join(ROOT, 'recipes/examples/echo-python'), ex, { recursive: true });
  const recipe = path.join(ex, 'recipe.yaml');
  const name = `bench-cache-${process.pid}`;
  writeFileSync(recipe, `${readFileSync(recipe, 'utf8').replace(/^name: .*$/m, `name: ${name}`)}\npublish:\n  registry: "${registry}"\n`);
  // Release 0.1.0, published from this machine's engine (inline cache in the image).
  cli(['publish', recipe, '--quiet', '--builder', 'buildkit']);
  // The next release: a new version, the same engine and files.
  writeFileSync(recipe, readFileSync(recipe, 'utf8').replace(/^version: 0\.1\.0$/m, 'version: 0.2.0'));
  for (let i = 0; i < runs; i++) {
    for (const [kind, list] of [
      ['cold', cold],
      ['warm', warm],
    ]) {
      const eng = await freshEngine(`${kind}${i}`);
      try {
        const args = [
          'build',
          recipe,
          '--no-test',
          '--json',
          '--builder',
          'buildkit',
          ...(kind === 'warm' ? ['--cache-from', `${registry}/${name}:0.1.0`] : []),
        ];
        const r = cli(args, { env: eng.env });
        const out = JSON.parse(r.stdout);
        list.push(r.ms);
        if (kind === 'warm') {
          cached = `${out.cachedSteps}/${out.totalSteps}`;
          if (process.env.BENCH_SHOW_STEPS) {
            const plain = cli(
              ['build', recipe, '--no-test', '--force', '--progress', 'plain', '--builder', 'buildkit', '--cache-from', `${registry}/${name}:0.1.0`],
              { env: eng.env },
            );
            console.error(
              plain.stderr
                .split('\n')
                .filter((l) => /CACHED|DONE/.test(l))
                .join('\n'),
            );
          }
        }
      } finally {
        await eng.stop();
      }
    }
  }
} finally {
  reg.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
}
const rows = [
  { case: 'fresh engine, cold', 'build (ms)': median(cold).toFixed(0), cached: '-', ratio: '1.00' },
  { case: 'fresh engine, --cache-from the published 0.1.0', 'build (ms)': median(warm).toFixed(0), cached, ratio: (median(warm) / median(cold)).toFixed(2) },
];
table(rows);
saveResults('registry-cache', { runs, rows, raw: { cold, warm } });
