import { rename, writeFile } from 'node:fs/promises';
import { quietProgress } from '../../builder/progress.js';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, ReportedFailure, UsageError } from '../../errors.js';
import type { MatrixEntry } from '../../outputs/ci-matrix.js';
import type { BuildAndTestResult } from '../../pipeline/build-and-test.js';
import { findCredentials } from '../../publish/credentials.js';
import { extraTagTargets, publishImage, publishTarget, type PublishTarget } from '../../publish/publish.js';
import { retryPolicy } from '../../publish/registry-client.js';
import { formatJunitSuites } from '../../smoke/report.js';
import type { SmokeReport } from '../../smoke/types.js';
import { checkOutputPath } from '../output.js';
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
  checkOutputPath(opts.junit, '--junit');
  const { expandRecipes } = await import('../../pipeline/variants.js');
  const { entries, recipeDirs } = await expandRecipes(args.length ? args : ['recipe.yaml'], { allowUnsupported: opts.allowUnsupported ?? false, baseImage: opts.baseImage });
  // Extra tags name one image each: with several variants they need {variant} to stay apart.
  const shared = opts.tag.filter((t) => !t.includes('{variant}'));
  if (entries.length > 1 && shared.length)
    throw new UsageError(`-t ${shared[0]} would name all ${entries.length} variants`, 'put {variant} in the tag, e.g. -t registry.example.com/team/img:{variant}');
  const tagsFor = (variant: string) => opts.tag.map((t) => t.replaceAll('{variant}', variant || 'default'));
  // Publishing targets, resolved before any build: a bad registry or tag stops everything first.
  // Each variant's publish tags, then its -t tags (each names its registry): all pushed.
  const targets = new Map<string, PublishTarget[]>(opts.push ? entries.map((e) => [e.id, [publishTarget(e.plan, { registry: opts.registry, gitSha: null }), ...extraTagTargets(tagsFor(e.variant))]] as const) : []);
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
      optionsFor: (e, s) => buildAndTestOptions({ ...opts, tag: tagsFor(e.variant), quiet: true, json: true, jobs: 1 }, { progress: quietProgress, signal: s, events: { onReport: (r) => reports.set(e.id, r) } }),
      // --push: each variant is published as soon as it is built and tested.
      ...(opts.push
        ? {
            afterBuild: async (e: MatrixEntry, r: BuildAndTestResult, s: AbortSignal) => {
              const lines: string[] = [];
              for (const target of targets.get(e.id)!) {
                const creds = await findCredentials(target.registry, process.env, { publish: true });
                const pushed = await publishImage({ engine, imageId: r.build.image, target, creds, buildKey: r.build.buildKey, force: false, policy: retryPolicy(), signal: s, note: () => undefined });
                lines.push(...pushed.map((p) => `${p.action === 'pushed' ? 'pushed' : 'unchanged'} ${p.reference}@${p.digest}`));
              }
              published.set(e.id, lines);
              for (const l of lines) o.err(`${e.id}: ${l}`);
            },
          }
        : {}),
      onStart: (e) => o.err(`building ${e.id}`),
      onDone: (e, x) => o.err('outcome' in x ? `done ${e.id} (${x.seconds.toFixed(1)}s)` : `${x.result === 'cancelled' ? 'cancelled' : 'FAILED'} ${e.id}: ${x.error.message}`),
    });
  } finally {
    dispose();
  }
  const table = outcomes.map(row);
  const failed = table.filter((r) => r.result === 'failed').length;
  if (opts.junit && reports.size) {
    const file = opts.junit;
    // One testsuite per variant, named by the variant and its platforms (each image's own tag differs).
    const done = entries.filter((e) => reports.has(e.id));
    await writeFile(`${file}.${process.pid}.tmp`, formatJunitSuites(done.map((e) => reports.get(e.id)!), done.map((e) => `${e.id} (${e.plan.platforms.join(', ')})`)));
    await rename(`${file}.${process.pid}.tmp`, file);
  }
  if (opts.json) o.out(JSON.stringify({ variants: table.map((r) => ({ ...r, ...(published.has(r.variant) ? { published: published.get(r.variant) } : {}) })), failed }));
  const cols = ['variant', 'result', 'seconds', 'sizeMB', 'cache', 'smoke'] as const;
  const w = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
  const line = (vals: string[]) => vals.map((v, i) => v.padEnd(w[i]!)).join('  ').trimEnd();
  o.err(line([...cols]));
  for (const r of table) o.err(line(cols.map((c) => String(r[c]))));
  const summary = `${table.length - failed} of ${table.length} variant(s) ok${failed ? `, ${failed} failed` : ''}`;
  if (failed) throw new ReportedFailure('matrix.failed', summary, ExitCode.failed);
  o.err(summary);
  return ExitCode.ok;
}
