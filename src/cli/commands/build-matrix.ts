import { quietProgress } from '../../builder/progress.js';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, ReportedFailure } from '../../errors.js';
import type { MatrixEntry } from '../../outputs/ci-matrix.js';
import type { BuildAndTestResult } from '../../pipeline/build-and-test.js';
import { pushBuilt, releaseTargets } from '../../pipeline/publish.js';
import type { PublishTarget } from '../../publish/publish.js';
import type { SmokeReport } from '../../smoke/types.js';
import { checkOutputPath } from '../output.js';
import { buildVariants, variantTags, type VariantOutcome } from '../../pipeline/build-variants.js';
import { buildAndTestOptions, type BuildCliOptions } from '../build-options.js';
import type { Output } from '../output.js';
import { printTable, pushedLines, row, writeMatrixJunit } from '../matrix-output.js';
import { interruptSignal } from '../signals.js';

/** `build --matrix`: the pipeline's buildVariants, with a line per variant and a table at the end. */
export async function runMatrixBuild(args: string[], opts: BuildCliOptions, o: Output): Promise<number> {
  checkOutputPath(opts.junit, '--junit');
  const { expandRecipes } = await import('../../pipeline/variants.js');
  const { entries, recipeDirs } = await expandRecipes(args.length ? args : ['recipe.yaml'], {
    allowUnsupported: opts.allowUnsupported ?? false,
    baseImage: opts.baseImage,
  });
  const tagsFor = variantTags(entries.length, opts.tag);
  // Publishing targets, resolved before any build: a bad registry or tag stops everything first.
  // Each variant's publish tags, then its -t tags (each names its registry): all pushed.
  const targets = new Map<string, PublishTarget[]>(
    opts.push ? entries.map((e) => [e.id, releaseTargets(e.plan, { registry: opts.registry, extraTags: tagsFor(e.variant) })] as const) : [],
  );
  const reports = new Map<string, SmokeReport>();
  const published = new Map<string, string[]>();
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  let outcomes: VariantOutcome[];
  try {
    outcomes = await buildVariants(engine, entries, recipeDirs, {
      jobs: opts.jobs,
      failFast: opts.failFast ?? false,
      signal,
      optionsFor: (e, s) =>
        buildAndTestOptions(
          { ...opts, tag: tagsFor(e.variant), quiet: true, json: true, jobs: 1 },
          { progress: quietProgress, signal: s, events: { onReport: (r) => reports.set(e.id, r) } },
        ),
      // --push: each variant is published as soon as it is built and tested.
      ...(opts.push
        ? {
            afterBuild: async (e: MatrixEntry, r: BuildAndTestResult, s: AbortSignal) => {
              const pushed = await pushBuilt(engine, {
                imageId: r.build.image,
                buildKey: r.build.buildKey,
                targets: targets.get(e.id)!,
                force: false,
                signal: s,
                note: () => undefined,
              });
              const lines = pushedLines(pushed);
              published.set(e.id, lines);
              for (const l of lines) o.err(`${e.id}: ${l}`);
            },
          }
        : {}),
      onStart: (e) => o.err(`building ${e.id}`),
      onDone: (e, x) =>
        o.err('outcome' in x ? `done ${e.id} (${x.seconds.toFixed(1)}s)` : `${x.result === 'cancelled' ? 'cancelled' : 'FAILED'} ${e.id}: ${x.error.message}`),
    });
  } finally {
    dispose();
  }
  const table = outcomes.map(row);
  const failed = table.filter((r) => r.result === 'failed').length;
  if (opts.junit && reports.size) await writeMatrixJunit(opts.junit, entries, reports);
  if (opts.json)
    o.out(JSON.stringify({ variants: table.map((r) => ({ ...r, ...(published.has(r.variant) ? { published: published.get(r.variant) } : {}) })), failed }));
  printTable(table, o);
  const summary = `${table.length - failed} of ${table.length} variant(s) ok${failed ? `, ${failed} failed` : ''}`;
  if (failed) throw new ReportedFailure('matrix.failed', summary, ExitCode.failed);
  o.err(summary);
  return ExitCode.ok;
}
