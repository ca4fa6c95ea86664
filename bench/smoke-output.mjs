// A smoke test whose command prints a lot (issue 19, point 7): peak RSS of `dynamo-image test` while
// the container writes SIZE MiB to stdout and to stderr, and what the report kept of it.
// Usage: node bench/smoke-output.mjs [sizeMiB]   (default 150; builds the echo-python example once)
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { BIN, cli, DOCKER, run, runMeasured, saveResults, table } from './lib.mjs';

const sizeMiB = Number(process.argv[2] ?? 150);
const work = mkdtempSync('/var/tmp/dynamo-image-bench-output-');
const name = 'bench-smoke-output';
try {
  const dir = path.join(work, 'recipe');
  cpSync('recipes/examples/echo-python', dir, { recursive: true });
  const recipe = path.join(dir, 'recipe.yaml');
  const text = readFileSync(recipe, 'utf8').replace(/^name: .*$/m, `name: ${name}`);
  const tests = `smoke:\n  tests:\n    - kind: command\n      name: prints ${sizeMiB} MiB to stdout\n      command: [sh, -c, "head -c ${sizeMiB}M /dev/zero | tr '\\\\0' x; echo; echo END"]\n      stdout: { contains: END }\n    - kind: command\n      name: prints ${sizeMiB} MiB to stderr\n      command: [sh, -c, "head -c ${sizeMiB}M /dev/zero | tr '\\\\0' y >&2; echo done"]\n      stdout: { contains: done }\n    - kind: command\n      name: prints ${sizeMiB} MiB and fails its check (the report shows what was kept)\n      command: [sh, -c, "head -c ${sizeMiB}M /dev/zero | tr '\\\\0' z; echo; echo LAST"]\n      stdout: { contains: NEVER-PRINTED }\n`;
  writeFileSync(recipe, text.slice(0, text.indexOf('smoke:')) + tests);
  cli(['build', recipe, '--no-test', '--quiet']);
  const t = runMeasured(process.execPath, [BIN, 'test', recipe, '--json', '--gpu', 'off'], { env: { CI: '1' }, allowFail: true, maxBuffer: 512 << 20 });
  let report;
  try {
    report = JSON.parse(t.stdout);
  } catch {
    // Output past the buffer below (the code before the cap printed all of it): figures only.
    report = { results: [{ name: `(the --json report did not parse: ${t.stdout.length} bytes read)`, status: '?' }] };
  }
  const kept = (r) => JSON.stringify(r).length;
  const rows = report.results.map((r) => ({
    test: r.name,
    status: r.status,
    'report bytes': kept(r),
    'says dropped': /bytes of output dropped here/.test(JSON.stringify(r)) ? 'yes' : 'no',
  }));
  rows.push({
    test: `dynamo-image test (exit ${t.status})`,
    status: `${(t.ms / 1000).toFixed(1)} s`,
    'report bytes': t.stdout.length,
    'says dropped': `peak RSS ${(t.peakRssKb / 1024).toFixed(0)} MiB`,
  });
  table(rows);
  saveResults('smoke-output', { sizeMiB, peakRssKb: t.peakRssKb, seconds: t.ms / 1000, rows });
} finally {
  rmSync(work, { recursive: true, force: true });
  run(DOCKER, ['image', 'rm', '-f', `${name}:0.1.0`], { allowFail: true });
}
