import { quietProgress } from '../../build/progress.js';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode } from '../../errors.js';
import { buildVariants, type VariantOutcome } from '../../pipeline/build-variants.js';
import { buildAndTestOptions, type BuildCliOptions } from '../build-options.js';
import type { Output } from '../output.js';
import { interruptSignal } from '../signals.js';

interface MatrixRow {
  variant: string;
  result: VariantOutcome['result'];
  seconds: string;
  sizeMB: string;
  cache: string;
  smoke: string;
  error?: string;
}

function row(o: VariantOutcome): MatrixRow {
  const seconds = o.seconds.toFixed(1);
  if (!('outcome' in o)) return { variant: o.id, result: o.result, seconds, sizeMB: '-', cache: '-', smoke: '-', error: o.error.message };
  const { build, smoke } = o.outcome;
  return {
    variant: o.id,
    result: o.result,
    seconds,
    sizeMB: (build.sizeBytes / 1e6).toFixed(1),
    cache: build.upToDate ? 'all' : `${build.cachedSteps}/${build.totalSteps}`,
    smoke: smoke.ran ? `${smoke.passed} passed, ${smoke.skipped} skipped` : smoke.reason,
  };
}

/** `build --matrix`: the pipeline's buildVariants, with a line per variant and a table at the end. */
export async function runMatrixBuild(args: string[], opts: BuildCliOptions, o: Output): Promise<number> {
  const { expandRecipes } = await import('../../pipeline/variants.js');
  const { entries, recipeDirs } = await expandRecipes(args.length ? args : ['recipe.yaml'], { allowUnsupported: opts.allowUnsupported ?? false });
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  let outcomes: VariantOutcome[];
  try {
    outcomes = await buildVariants(engine, entries, recipeDirs, {
      jobs: opts.jobs,
      failFast: opts.failFast ?? false,
      signal,
      optionsFor: (_e, s) => buildAndTestOptions({ ...opts, tag: [], quiet: true, json: true, jobs: 1 }, { progress: quietProgress, signal: s }),
      onStart: (e) => o.err(`building ${e.id}`),
      onDone: (e, x) => o.err('outcome' in x ? `done ${e.id} (${x.seconds.toFixed(1)}s)` : `${x.result === 'cancelled' ? 'cancelled' : 'FAILED'} ${e.id}: ${x.error.message}`),
    });
  } finally {
    dispose();
  }
  const table = outcomes.map(row);
  const failed = table.filter((r) => r.result === 'failed').length;
  if (opts.json) o.out(JSON.stringify({ variants: table, failed }));
  const cols = ['variant', 'result', 'seconds', 'sizeMB', 'cache', 'smoke'] as const;
  const w = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(w[i]!)).join('  ').trimEnd();
  o.err(line([...cols]));
  for (const r of table) o.err(line(cols.map((c) => String(r[c]))));
  o.err(`${table.length - failed} of ${table.length} variant(s) ok${failed ? `, ${failed} failed` : ''}`);
  return failed ? ExitCode.failed : ExitCode.ok;
}
