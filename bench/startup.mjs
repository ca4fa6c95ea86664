// Start-up cost of `dynamo-image render` against `node -e 0` (the floor for any Node CLI).
// Usage: node bench/startup.mjs [runs]
import { cli, median, run, saveResults, table } from './lib.mjs';

const runs = Number(process.argv[2] ?? 20);
const recipe = 'recipes/examples/echo-python/recipe.yaml';
const measure = (fn) => {
  fn(); // warm the file cache
  return median(Array.from({ length: runs }, () => fn().ms));
};
const nodeMs = measure(() => run(process.execPath, ['-e', '0']));
const versionMs = measure(() => cli(['--version']));
const renderMs = measure(() => cli(['render', recipe]));
const rows = [
  { command: 'node -e 0', medianMs: nodeMs.toFixed(1), overNodeMs: '0' },
  { command: 'dynamo-image --version', medianMs: versionMs.toFixed(1), overNodeMs: (versionMs - nodeMs).toFixed(1) },
  { command: `dynamo-image render ${recipe}`, medianMs: renderMs.toFixed(1), overNodeMs: (renderMs - nodeMs).toFixed(1) },
];
table(rows);
saveResults('startup', { runs, rows });
