import type { Engine } from '../engine/port.js';
import { OperationError, UsageError } from '../errors.js';
import type { MatrixEntry } from '../outputs/ci-matrix.js';
import { buildAndTest, type BuildAndTestOptions, type BuildAndTestResult } from './build-and-test.js';

// Every variant of a matrix on one engine. The first variant of each recipe builds alone, so the
// stages the variants share are built once and the others find them in the cache; then the rest
// run with bounded parallelism. A failure does not stop the others unless failFast.

export type VariantOutcome =
  | { id: string; result: 'built' | 'up to date'; seconds: number; outcome: BuildAndTestResult }
  | { id: string; result: 'failed' | 'cancelled'; seconds: number; error: Error };

export interface BuildVariantsOptions {
  jobs: number;
  failFast?: boolean;
  signal: AbortSignal;
  /** The options of one variant's build (its own progress sink, etc.). */
  optionsFor: (e: MatrixEntry, signal: AbortSignal) => BuildAndTestOptions;
  onStart?: (e: MatrixEntry) => void;
  /** After a variant is built and tested (e.g. publish it); a throw fails the variant. */
  afterBuild?: (e: MatrixEntry, r: BuildAndTestResult, signal: AbortSignal) => Promise<void>;
  onDone?: (e: MatrixEntry, o: VariantOutcome) => void;
}

export async function buildVariants(
  engine: Engine,
  entries: MatrixEntry[],
  recipeDirs: Map<string, string>,
  opts: BuildVariantsOptions,
): Promise<VariantOutcome[]> {
  const failFast = new AbortController();
  const combined = AbortSignal.any([opts.signal, failFast.signal]);
  const out = new Map<string, VariantOutcome>();
  const one = async (e: MatrixEntry) => {
    const started = Date.now();
    const secs = () => (Date.now() - started) / 1000;
    let o: VariantOutcome;
    if (combined.aborted) o = { id: e.id, result: 'cancelled', seconds: 0, error: new OperationError('matrix.fail-fast', 'cancelled by --fail-fast') };
    else {
      opts.onStart?.(e);
      try {
        // Several at once on one engine: the builder is told (Docker 20.10's BuildKit cannot export
        // inline cache from concurrent builds without crashing).
        const r = await buildAndTest(
          engine,
          { plan: e.plan, recipeDir: recipeDirs.get(e.recipe)! },
          { ...opts.optionsFor(e, combined), ...(opts.jobs > 1 ? { concurrent: true } : {}) },
        );
        await opts.afterBuild?.(e, r, combined);
        o = { id: e.id, result: r.build.upToDate ? 'up to date' : 'built', seconds: secs(), outcome: r };
      } catch (err) {
        if (opts.signal.aborted) throw opts.signal.reason;
        const cancelled = failFast.signal.aborted && err === failFast.signal.reason;
        o = { id: e.id, result: cancelled ? 'cancelled' : 'failed', seconds: secs(), error: err as Error };
        if (opts.failFast && !cancelled) failFast.abort(new OperationError('matrix.fail-fast', 'cancelled by --fail-fast'));
      }
    }
    out.set(e.id, o);
    opts.onDone?.(e, o);
  };
  const pool = async (list: MatrixEntry[]) => {
    let next = 0;
    const worker = async () => {
      while (next < list.length) await one(list[next++]!);
    };
    await Promise.all(Array.from({ length: Math.max(1, Math.min(opts.jobs, list.length)) }, worker));
  };
  const firsts = entries.filter((e, i) => entries.findIndex((x) => x.recipe === e.recipe) === i);
  await pool(firsts);
  await pool(entries.filter((e) => !firsts.includes(e)));
  return entries.map((e) => out.get(e.id)!);
}

/**
 * `-t` with several variants: each tag names one image, so with more than one variant it needs
 * `{variant}` to stay apart. Returns each variant's tags; refused before any build.
 */
export function variantTags(variants: number, tags: string[]): (variant: string) => string[] {
  const shared = tags.filter((t) => !t.includes('{variant}'));
  if (variants > 1 && shared.length)
    throw new UsageError(`-t ${shared[0]} would name all ${variants} variants`, 'put {variant} in the tag, e.g. -t registry.example.com/team/img:{variant}');
  return (variant) => tags.map((t) => t.replaceAll('{variant}', variant || 'default'));
}
