import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, OperationError } from '../../errors.js';
import type { Output } from '../output.js';
import { interruptSignal } from '../signals.js';
import { buildWithTests, type BuildCliOptions } from '../build-options.js';

interface MatrixRow {
  variant: string;
  result: 'built' | 'up to date' | 'failed' | 'cancelled';
  seconds: string;
  sizeMB: string;
  cache: string;
  smoke: string;
  error?: string;
}

const quietOutput: Output = { out: () => undefined, err: () => undefined, isTTY: false };

/**
 * Builds every variant of every recipe on this engine. The first variant of each recipe builds
 * alone, so the stages the variants share are built once and the rest find them in the cache;
 * then the others run with bounded parallelism. A failure does not stop the others unless
 * --fail-fast.
 */
export async function runMatrixBuild(args: string[], opts: BuildCliOptions, o: Output): Promise<number> {
  const { expandRecipes } = await import('../../pipeline/variants.js');
  const { entries, recipeDirs } = await expandRecipes(args.length ? args : ['recipe.yaml'], { allowUnsupported: opts.allowUnsupported ?? false });
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  const failFast = new AbortController();
  const combined = AbortSignal.any([signal, failFast.signal]);
  const rows = new Map<string, MatrixRow>();
  const buildOne = async (e: (typeof entries)[number]) => {
    const started = Date.now();
    const secs = () => ((Date.now() - started) / 1000).toFixed(1);
    if (combined.aborted) {
      rows.set(e.id, { variant: e.id, result: 'cancelled', seconds: '0.0', sizeMB: '-', cache: '-', smoke: '-' });
      return;
    }
    o.err(`building ${e.id}`);
    try {
      const { result, smoke } = await buildWithTests(engine, { plan: e.plan, recipeDir: recipeDirs.get(e.recipe)! }, { ...opts, tag: [], quiet: true, json: true, jobs: 1, junit: undefined as never }, quietOutput, combined);
      rows.set(e.id, {
        variant: e.id,
        result: result.upToDate ? 'up to date' : 'built',
        seconds: secs(),
        sizeMB: (result.sizeBytes / 1e6).toFixed(1),
        cache: result.upToDate ? 'all' : `${result.cachedSteps}/${result.totalSteps}`,
        smoke: smoke === null ? '-' : smoke.ran ? `${smoke.passed} passed, ${smoke.skipped} skipped` : smoke.reason,
      });
      o.err(`done ${e.id} (${secs()}s)`);
    } catch (err) {
      if (signal.aborted) throw signal.reason;
      const cancelled = failFast.signal.aborted && err === failFast.signal.reason;
      rows.set(e.id, { variant: e.id, result: cancelled ? 'cancelled' : 'failed', seconds: secs(), sizeMB: '-', cache: '-', smoke: '-', error: (err as Error).message });
      o.err(`${cancelled ? 'cancelled' : 'FAILED'} ${e.id}: ${(err as Error).message}`);
      if (opts.failFast && !cancelled) failFast.abort(new OperationError('matrix.fail-fast', 'cancelled by --fail-fast'));
    }
  };
  try {
    const firsts = entries.filter((e, i) => entries.findIndex((x) => x.recipe === e.recipe) === i);
    const rest = entries.filter((e) => !firsts.includes(e));
    await Promise.all(firsts.map(buildOne));
    let next = 0;
    const worker = async () => {
      while (next < rest.length) await buildOne(rest[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, rest.length)) }, worker));
  } finally {
    dispose();
  }
  const table = entries.map((e) => rows.get(e.id)!);
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
