// Helpers shared by the benchmark scripts. Benchmarks are scripts, not tests: they print figures
// and write them to bench/results/*.json; they assert nothing.
import { spawnSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

export const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
export const BIN = path.join(ROOT, 'bin', 'dynamo-image.js');
// Debian's docker CLI speaks to the Debian engine with BuildKit built in (DOCKER_BUILDKIT=1).
export const DOCKER = process.env.BENCH_DOCKER ?? '/usr/bin/docker';

export function run(cmd, args, opts = {}) {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { encoding: 'utf8', maxBuffer: 64 << 20, ...opts, env: { ...process.env, ...(opts.env ?? {}) } });
  const ms = performance.now() - t0;
  if (r.status !== 0 && !opts.allowFail) throw new Error(`${cmd} ${args.join(' ')} exited ${r.status}: ${r.stderr?.slice(-2000)}`);
  return { ms, stdout: r.stdout, stderr: r.stderr, status: r.status };
}

/** Runs a command under GNU time and returns its peak RSS in KiB as well. */
export function runMeasured(cmd, args, opts = {}) {
  const r = run('/usr/bin/time', ['-f', 'PEAK_RSS_KB=%M', cmd, ...args], opts);
  const m = /PEAK_RSS_KB=(\d+)/.exec(r.stderr);
  return { ...r, peakRssKb: m ? Number(m[1]) : null };
}

export function median(xs) {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
}

export function cli(args, opts = {}) {
  return run(process.execPath, [BIN, ...args], { ...opts, env: { CI: '1', ...(opts.env ?? {}) } });
}

/** Writes the Dockerfile and the inputs of a recipe into a plain folder, for `docker build DIR`. */
export function materializeContext(recipe, target = 'runtime') {
  const plan = JSON.parse(cli(['plan', recipe, '--json']).stdout);
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-bench-ctx-'));
  writeFileSync(path.join(dir, 'Dockerfile'), cli(['render', recipe, '--target', target]).stdout);
  for (const i of plan.inputs) {
    mkdirSync(path.dirname(path.join(dir, i.contextPath)), { recursive: true });
    copyFileSync(path.join(path.dirname(recipe), i.source), path.join(dir, i.contextPath));
  }
  return { dir, plan };
}

/**
 * `n` copies of recipes/vllm-runtime (each its own name) under a new folder, for matrix expansion at
 * scale: 2 variants each with today's support matrix.
 */
export function vllmCopies(n) {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-bench-matrix-'));
  const source = readFileSync(path.join(ROOT, 'recipes/vllm-runtime/recipe.yaml'), 'utf8');
  for (let i = 0; i < n; i++) {
    const d = path.join(dir, `r${String(i).padStart(4, '0')}`);
    mkdirSync(d);
    writeFileSync(path.join(d, 'recipe.yaml'), source.replace(/^name: .*$/m, `name: vllm-runtime-${i}`).replace(/\$schema=\S+/, ''));
  }
  return dir;
}

export function saveResults(name, data) {
  mkdirSync(path.join(ROOT, 'bench', 'results'), { recursive: true });
  const file = path.join(ROOT, 'bench', 'results', `${name}.json`);
  writeFileSync(
    file,
    `${JSON.stringify({ date: new Date().toISOString(), host: `${os.cpus().length} cpus, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB`, ...data }, null, 2)}\n`,
  );
  console.log(`results in ${path.relative(process.cwd(), file)}`);
}

export function table(rows) {
  const cols = Object.keys(rows[0]);
  const w = cols.map((c) => Math.max(c.length, ...rows.map((r) => String(r[c]).length)));
  const line = (vals) => vals.map((v, i) => String(v).padEnd(w[i])).join('  ');
  console.log(line(cols));
  for (const r of rows) console.log(line(cols.map((c) => r[c])));
}
