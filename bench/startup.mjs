// Start-up cost of the commands that build nothing (validate, plan, render), against `node -e 0`
// (the floor for any Node CLI), and of matrix expansion per variant; side by side, with the ratio
// to `node -e 0` the design aims at (issue 21: validate/plan/render at most 2.5x).
// Usage: node bench/startup.mjs [runs]
import { cli, median, run, runMeasured, BIN, saveResults, table } from './lib.mjs';

const runs = Number(process.argv[2] ?? 20);
const small = 'recipes/examples/echo-python/recipe.yaml';
const builtin = 'recipes/vllm-runtime/recipe.yaml';
const measure = (fn) => {
  fn(); // warm the file cache
  return median(Array.from({ length: runs }, () => fn().ms));
};
const nodeMs = measure(() => run(process.execPath, ['-e', '0']));
const cases = [
  ['dynamo-image --version', ['--version']],
  [`dynamo-image validate ${small}`, ['validate', small]],
  [`dynamo-image plan ${small}`, ['plan', small, '--json']],
  [`dynamo-image render ${small}`, ['render', small]],
  [`dynamo-image plan ${builtin}`, ['plan', builtin, '--json']],
];
const rows = [{ command: 'node -e 0', medianMs: nodeMs.toFixed(1), overNodeMs: '0', xNode: '1.00' }];
for (const [name, args] of cases) {
  const ms = measure(() => cli(args));
  rows.push({ command: name, medianMs: ms.toFixed(1), overNodeMs: (ms - nodeMs).toFixed(1), xNode: (ms / nodeMs).toFixed(2) });
}
// The repository's recipes as CI expands them (every variant of every built-in and example).
const m = runMeasured(process.execPath, [BIN, 'matrix', 'recipes', '--format', 'json'], { env: { CI: '1' } });
const variants = JSON.parse(m.stdout).variants.length;
rows.push({
  command: `dynamo-image matrix recipes (${variants} variants)`,
  medianMs: m.ms.toFixed(1),
  overNodeMs: (m.ms - nodeMs).toFixed(1),
  xNode: (m.ms / nodeMs).toFixed(2),
});
table(rows);
console.log(
  `matrix: ${((m.ms - nodeMs) / variants).toFixed(2)} ms per variant over node's start, peak RSS ${Math.round((m.peakRssKb ?? 0) / 1024)} MB (bench/matrix-scale.mjs: 1,000 variants)`,
);
saveResults('startup', { runs, rows, matrix: { variants, ms: m.ms, peakRssKb: m.peakRssKb } });
