// Bundles the CLI into dist/bundle/ and makes a V8 code cache for each bundle; bin/dynamo-image.js
// runs them through bin/bundle-loader.js. Run by `npm run build`, after tsc. The library
// (dist/index.js) is not bundled.
//
// Why: Node 20 has no compile cache. Loading ~160 ES modules (95 of them zod's) and compiling them
// was most of the start-up of `validate`, `plan` and `render`: 4x `node -e 0` (bench/startup.mjs).
//
// - cli.cjs: the CLI (dist/cli/main.js). A module loaded with `await import()` (a command, the
//   engine adapter, the build session, the context packer) is still run only by the command that
//   loads it: esbuild keeps it behind an init function.
// - no-change.cjs: the no-change fast path (dist/fast/no-change.js), which loads nothing else.
// The engine's packages (dockerode, tar-stream, gRPC) stay outside the bundles: they have native and
// file-relative parts, and only the commands that talk to an engine load them.
//
// The code cache is made in a fresh `node` (no flags: V8 refuses a cache made under other flags)
// that runs the commands that build nothing on the bundled examples, so that the functions they run
// are in it, compiled.
import { spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
const dist = path.join(root, 'dist');
const out = path.join(dist, 'bundle');
const BUNDLES = { cli: 'cli/main.js', 'no-change': 'fast/no-change.js' };

if (process.argv[2] === '--make-code-cache') await makeCodeCache();
else await bundle();

async function bundle() {
  const { build } = await import('esbuild');
  rmSync(out, { recursive: true, force: true });
  for (const [name, entry] of Object.entries(BUNDLES)) {
    await build({
      entryPoints: [path.join(dist, entry)],
      outfile: path.join(out, `${name}.cjs`),
      bundle: true,
      format: 'cjs',
      platform: 'node',
      target: 'node20',
      external: ['dockerode', 'tar-stream', '@grpc/grpc-js'],
      // `import()` becomes `require()`: the packages outside are CommonJS, and in Node 20 a script
      // run from a code cache loses its dynamic-import callback (ERR_VM_DYNAMIC_IMPORT_CALLBACK_MISSING).
      supported: { 'dynamic-import': false },
      // support/load.ts finds the package root from its own URL.
      define: { 'import.meta.url': '__bundleUrl' },
      banner: { js: "const __bundleUrl = require('node:url').pathToFileURL(__filename).href;" },
      legalComments: 'eof',
      logLevel: 'warning',
    });
  }
  const r = spawnSync(process.execPath, [fileURLToPath(import.meta.url), '--make-code-cache'], { stdio: 'inherit', env: { ...process.env, NODE_OPTIONS: '' } });
  if (r.status !== 0) throw new Error(`making the code cache failed (exit ${r.status})`);
  const size = (f) => `${(readFileSync(path.join(out, f)).length / 1024).toFixed(0)} KiB`;
  console.log(
    `bundle: ${Object.keys(BUNDLES)
      .map((n) => `${n}.cjs ${size(`${n}.cjs`)} (code cache ${size(`${n}.cjs.v8cache`)})`)
      .join(', ')}`,
  );
}

async function makeCodeCache() {
  const { loadBundle } = await import('../bin/bundle-loader.js');
  // The warm-up plans and renders; its digests go to a folder of its own, removed after.
  const cacheDir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-code-cache-'));
  process.env['DYNAMO_IMAGE_CACHE_DIR'] = cacheDir;
  const silent = { out() {}, err() {}, isTTY: false };
  const example = path.join(root, 'recipes/examples/echo-python/recipe.yaml');
  const builtin = path.join(root, 'recipes/vllm-runtime/recipe.yaml');
  try {
    const scripts = {};
    const cli = loadBundle('cli', { useCache: false, script: (s) => (scripts.cli = s) });
    for (const argv of [
      ['--version'],
      ['validate', example],
      ['plan', example, '--json'],
      ['render', example],
      ['plan', builtin, '--json'],
      ['validate', builtin],
    ]) {
      const code = await cli.main(argv, silent);
      if (code !== 0) throw new Error(`dynamo-image ${argv.join(' ')}: exit ${code}`);
    }
    const fast = loadBundle('no-change', { useCache: false, script: (s) => (scripts['no-change'] = s) });
    await fast.tryNoChange(['build', example], { out() {}, err() {} });
    for (const [name, script] of Object.entries(scripts)) {
      const file = path.join(out, `${name}.cjs`);
      const hash = createHash('sha256').update(readFileSync(file)).digest();
      writeFileSync(`${file}.v8cache`, Buffer.concat([hash, script.createCachedData()]));
    }
  } finally {
    rmSync(cacheDir, { recursive: true, force: true });
  }
  process.exitCode = 0;
}
