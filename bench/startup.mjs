// Start-up cost of the commands that build nothing (validate, plan, render), against `node -e 0`
// (the floor for any Node CLI), and of matrix expansion per variant; side by side, with the goals
// of issue 21: validate/plan/render at most 2.5x `node -e 0`; 1,000 variants of the built-in vLLM
// recipe at most 1.5 ms per variant and 120 MB.
// Usage: node bench/startup.mjs [runs]
import { rmSync } from 'node:fs';
import path from 'node:path';
import { cli, median, run, runMeasured, BIN, saveResults, table, vllmCopies } from './lib.mjs';

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
// 1,000 variants: 500 copies of the vLLM built-in (2 variants each), median of 3.
const dir = vllmCopies(500);
const big = Array.from({ length: 3 }, () =>
  runMeasured(process.execPath, [BIN, 'matrix', dir, '--format', 'json'], { env: { CI: '1', DYNAMO_IMAGE_CACHE_DIR: path.join(dir, '.cache') } }),
);
const bigVariants = JSON.parse(big[0].stdout).variants.length;
rmSync(dir, { recursive: true, force: true });
const bigMs = median(big.map((r) => r.ms));
const bigRssMb = Math.max(...big.map((r) => r.peakRssKb ?? 0)) / 1024;
rows.push({
  command: `dynamo-image matrix DIR (${bigVariants} variants of vllm-runtime)`,
  medianMs: bigMs.toFixed(1),
  overNodeMs: (bigMs - nodeMs).toFixed(1),
  xNode: (bigMs / nodeMs).toFixed(2),
});
table(rows);
const worst = Math.max(...rows.slice(2, 5).map((r) => Number(r.xNode)));
console.log(`validate/plan/render: at most ${worst.toFixed(2)}x node -e 0 (goal 2.5x)`);
console.log(
  `matrix of ${bigVariants} variants: ${(bigMs / bigVariants).toFixed(2)} ms per variant (goal 1.5), peak RSS ${Math.round(bigRssMb)} MB (goal 120); ` +
    `the repository's recipes: ${((m.ms - nodeMs) / variants).toFixed(2)} ms per variant over node's start, peak RSS ${Math.round((m.peakRssKb ?? 0) / 1024)} MB`,
);
saveResults('startup', {
  runs,
  rows,
  matrix: { variants, ms: m.ms, peakRssKb: m.peakRssKb },
  matrix1000: { variants: bigVariants, ms: bigMs, msPerVariant: bigMs / bigVariants, peakRssMb: bigRssMb },
});
