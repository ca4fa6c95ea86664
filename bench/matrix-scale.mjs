// Matrix expansion at scale: N copies of recipes/vllm-runtime (2 variants each after the support
// matrix) under one folder, expanded by `matrix DIR --format json` (github refuses more than 256
// jobs). Reports wall time, time per variant and peak RSS, next to one `plan` of one recipe.
// Usage: node bench/matrix-scale.mjs [RECIPES=250] [RUNS=3]
import { rmSync } from 'node:fs';
import path from 'node:path';
import { BIN, ROOT, median, runMeasured, saveResults, vllmCopies } from './lib.mjs';

const recipes = Number(process.argv[2] ?? 250);
const runs = Number(process.argv[3] ?? 3);
const dir = vllmCopies(recipes);
const env = { CI: '1', DYNAMO_IMAGE_CACHE_DIR: path.join(dir, '.cache') };
const node = process.execPath;
const measure = (args) => {
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(runMeasured(node, [BIN, ...args], { env, cwd: dir }));
  return { ms: median(rs.map((r) => r.ms)), peakRssKb: Math.max(...rs.map((r) => r.peakRssKb ?? 0)), out: rs[0].stdout };
};
const plan = measure(['plan', path.join(dir, 'r0000', 'recipe.yaml'), '--json']);
const m = measure(['matrix', dir, '--format', 'json']);
const variants = JSON.parse(m.out).variants.length;
// The repository's own recipes (built-ins and examples) as CI expands them, against one plan.
const builtin = (() => {
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(runMeasured(node, [BIN, 'matrix', 'recipes', '--format', 'github'], { env, cwd: ROOT }));
  return { ms: median(rs.map((r) => r.ms)), peakRssKb: Math.max(...rs.map((r) => r.peakRssKb ?? 0)), n: JSON.parse(rs[0].stdout).include.length };
})();
const builtinPlan = (() => {
  const rs = [];
  for (let i = 0; i < runs; i++) rs.push(runMeasured(node, [BIN, 'plan', 'recipes/vllm-runtime/recipe.yaml', '--json'], { env, cwd: ROOT }));
  return { ms: median(rs.map((r) => r.ms)), peakRssKb: Math.max(...rs.map((r) => r.peakRssKb ?? 0)) };
})();
rmSync(dir, { recursive: true, force: true });
const rows = [
  { case: 'plan (1 recipe, 1 variant)', ms: Math.round(plan.ms), perVariantMs: null, peakRssMb: Math.round(plan.peakRssKb / 1024) },
  {
    case: `matrix --format json (${recipes} recipes, ${variants} variants)`,
    ms: Math.round(m.ms),
    perVariantMs: Number((m.ms / variants).toFixed(2)),
    peakRssMb: Math.round(m.peakRssKb / 1024),
  },
  { case: 'plan recipes/vllm-runtime', ms: Math.round(builtinPlan.ms), perVariantMs: null, peakRssMb: Math.round(builtinPlan.peakRssKb / 1024) },
  {
    case: `matrix recipes --format github (${builtin.n} variants), ${(builtin.ms / builtinPlan.ms).toFixed(2)}x one plan`,
    ms: Math.round(builtin.ms),
    perVariantMs: Number((builtin.ms / builtin.n).toFixed(2)),
    peakRssMb: Math.round(builtin.peakRssKb / 1024),
  },
];
console.table(rows);
saveResults('matrix-scale', { recipes, variants, runs, rows });
