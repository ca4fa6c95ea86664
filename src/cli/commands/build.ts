import { buildImage, type BuildOutcome } from '../../build/run-build.js';
import { plainProgress, quietProgress, ttyProgress, type ProgressSink } from '../../build/progress.js';
import type { Target } from '../../dockerfile/from-plan.js';
import { connectDocker } from '../../engine/dockerode-engine.js';
import { ExitCode, InputError, OperationError, UsageError, type Issue } from '../../errors.js';
import { variantOption } from '../variant-option.js';
import { readTestRecord } from '../../smoke/records.js';
import type { Engine } from '../../engine/port.js';
import { runAndReport, testsDigest } from './test.js';
import { planRecipe, type PlannedRecipe } from '../../plan/make-plan.js';
import { referenceProblem } from '../../publish/reference.js';
import { checkOutputPath, printIssues, type Output } from '../output.js';
import { interruptSignal } from '../signals.js';

export interface BuildCliOptions {
  target: Target;
  noCache?: boolean;
  force?: boolean;
  buildArg: string[];
  tag: string[];
  platform?: string;
  cacheFrom: string[];
  builder: 'auto' | 'buildkit' | 'classic';
  network?: 'none' | 'default' | 'host';
  json?: boolean;
  quiet?: boolean;
  allowUnsupported?: boolean;
  test: boolean;
  gpu: 'auto' | 'require' | 'off';
  gpuDevices?: string;
  gpuRequest?: 'auto' | 'nvidia' | 'cdi';
  jobs: number;
  junit?: string;
  locked?: boolean;
  /** `build --variant cuda=12.9,platform=linux/arm64`: one variant of the recipe's matrix. */
  variant?: string;
  /** `build --matrix`: every variant of every recipe given. */
  matrix?: boolean;
  failFast?: boolean;
  /** `build --push`: publish after the build. */
  push?: boolean;
  registry?: string;
  /** Shown instead of --no-test when tests are skipped for another reason (publish --skip-tests). */
  skipTestsReason?: string;
}

export function parseBuildArgs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const a of list) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name)) issues.push({ code: 'usage.build-arg', severity: 'error', path: '--build-arg', message: `"${a}" is not NAME=VALUE` });
    else out[name] = eq < 0 ? (process.env[name] ?? '') : a.slice(eq + 1);
  }
  if (issues.length) throw new InputError(issues, 'bad --build-arg');
  return out;
}

export function checkTags(tags: string[]): void {
  const issues = tags.flatMap((t) => {
    const p = t.includes('@') ? `"${t}" names a digest; a tag cannot` : referenceProblem(t);
    return p ? [{ code: 'usage.tag', severity: 'error' as const, path: '--tag', message: p, hint: 'e.g. registry.example.com/team/image:1.0.0' }] : [];
  });
  if (issues.length) throw new InputError(issues, 'bad --tag');
}

export function makeProgress(o: Output, opts: { quiet?: boolean; json?: boolean }): ProgressSink {
  if (opts.quiet) return quietProgress;
  if (process.stderr.isTTY && !process.env['CI']) return ttyProgress(process.stderr);
  return plainProgress((l) => o.err(l), { github: process.env['GITHUB_ACTIONS'] === 'true' });
}

export function summarize(r: BuildOutcome): string {
  if (r.upToDate) return `${r.tags.join(', ')}: up to date (${r.image.slice(0, 19)}, ${(r.sizeBytes / 1e6).toFixed(1)} MB)`;
  return `built ${r.image.slice(0, 19)} in ${(r.durationMs / 1000).toFixed(1)}s with ${r.builder} (${r.cachedSteps}/${r.totalSteps} steps cached, ${(r.sizeBytes / 1e6).toFixed(1)} MB); tagged ${r.tags.join(', ')}`;
}

export type SmokeSummary = { ran: true; passed: number; failed: number; skipped: number } | { ran: false; reason: string };

/**
 * Builds, runs the smoke tests between the build and the tags, and tags. Shared by `build` and
 * `publish`: a failing image never carries the tags.
 */
export async function buildWithTests(
  engine: Engine,
  planned: Pick<PlannedRecipe, 'plan' | 'recipeDir'>,
  opts: BuildCliOptions,
  o: Output,
  signal: AbortSignal,
): Promise<{ result: BuildOutcome; smoke: SmokeSummary | null }> {
  const buildArgs = parseBuildArgs(opts.buildArg);
  checkTags(opts.tag);
  const progress = makeProgress(o, opts);
  const settings = planned.plan.smoke;
  let smoke: SmokeSummary | null = null;
  const result = await buildImage(engine, planned, {
    target: opts.target,
    noCache: opts.noCache ?? false,
    force: opts.force ?? false,
    buildArgs,
    extraTags: opts.tag,
    ...(opts.platform ? { platform: opts.platform } : {}),
    cacheFrom: opts.cacheFrom,
    builder: opts.builder,
    ...(opts.network ? { network: opts.network } : {}),
    signal,
    progress,
    beforeTag: async (imageId, upToDate) => {
      if (!opts.test) return void (smoke = { ran: false, reason: opts.skipTestsReason ?? '--no-test' });
      if (settings.tests.length === 0) return void (smoke = { ran: false, reason: 'the recipe declares no smoke tests' });
      if (opts.target !== 'runtime') return void (smoke = { ran: false, reason: `smoke tests run on the runtime target, not ${opts.target}` });
      const rec = upToDate ? await readTestRecord(imageId, testsDigest(settings)) : null;
      if (rec?.passed && opts.gpu !== 'require') {
        progress.note(`smoke tests passed for this image at ${rec.at}; not run again`);
        return void (smoke = { ran: false, reason: `passed before (${rec.at})` });
      }
      progress.note(`running ${settings.tests.length} smoke test(s) in ${imageId.slice(0, 19)}`);
      const rep = await runAndReport({
        engine,
        image: imageId,
        display: `${planned.plan.image.name}:${planned.plan.image.version}`,
        settings,
        opts: { gpu: opts.gpu, ...(opts.gpuDevices ? { gpuDevices: opts.gpuDevices } : {}), ...(opts.gpuRequest ? { gpuRequest: opts.gpuRequest } : {}), jobs: opts.jobs, ...(opts.junit ? { junit: opts.junit } : {}), quiet: opts.quiet || opts.json },
        o,
        signal,
      });
      smoke = { ran: true, passed: rep.passed, failed: rep.failed, skipped: rep.skipped };
      if (rep.failed) throw new OperationError('smoke.failed', `${rep.failed} of ${rep.results.length} smoke test(s) failed in ${imageId.slice(0, 19)}; no tag applied`, { hint: 'see the report above; --no-test builds without them' });
    },
  });
  return { result, smoke };
}

export async function runBuild(files: string[], opts: BuildCliOptions, o: Output): Promise<number> {
  if (opts.matrix) {
    const { runMatrixBuild } = await import('./build-matrix.js');
    return runMatrixBuild(files, opts, o);
  }
  checkOutputPath(opts.junit, '--junit');
  if (files.length > 1) throw new UsageError(`build takes one recipe; got ${files.length}`, 'use --matrix to build several recipes and all their variants');
  const file = files[0] ?? 'recipe.yaml';
  if (opts.push) {
    const { runPublish } = await import('./publish.js');
    return runPublish(file, opts, o);
  }
  parseBuildArgs(opts.buildArg);
  checkTags(opts.tag);
  const variant = variantOption(opts.variant);
  const planned = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, locked: opts.locked ?? false, ...(variant ? { variant } : {}) });
  printIssues(o, planned.warnings);
  const engine = await connectDocker();
  const { signal, dispose } = interruptSignal();
  try {
    const { result, smoke } = await buildWithTests(engine, planned, opts, o, signal);
    if (opts.json) o.out(JSON.stringify({ ...result, smoke }));
    else if (!opts.quiet) o.err(summarize(result));
    return ExitCode.ok;
  } finally {
    dispose();
  }
}
