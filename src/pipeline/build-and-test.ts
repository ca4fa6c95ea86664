import { finalImages } from '../builder/final-image.js';
import { buildImage, type BuildOptions, type BuildOutcome } from '../builder/run-build.js';
import type { Engine } from '../engine/port.js';
import { OperationError } from '../errors.js';
import { PLAN_DIGEST_LABEL, TARGET_LABEL } from '../plan/labels.js';
import { canonicalJson, sha256Hex } from '../plan/canonical.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import type { GpuRequestMode } from '../smoke/gpu.js';
import { readTestRecord, writeTestRecord } from '../smoke/records.js';
import { runSmokeTests } from '../smoke/run-tests.js';
import type { SmokeReport, TestResult } from '../smoke/types.js';

// plan -> image, tested, tagged: the step every command that builds goes through (build, build
// --matrix, publish, the library). It prints nothing: progress and results leave through `events`,
// the outcome is the return value.

export type { SmokeSettings } from '../smoke/load-tests.js';
import type { SmokeSettings } from '../smoke/load-tests.js';

/** Identifies a set of smoke tests: a passed record counts only for the same tests. */
export function testsDigest(s: SmokeSettings): string {
  return sha256Hex(canonicalJson(s));
}

export type SmokeSummary = { ran: true; passed: number; failed: number; skipped: number } | { ran: false; reason: string };

export interface SmokeRunOptions {
  gpu: 'auto' | 'require' | 'off';
  gpuDevices?: string[];
  gpuRequest?: GpuRequestMode;
  jobs: number;
}

export interface TestEvents {
  /** Each test as it finishes. */
  onResult?: (r: TestResult) => void;
  /** The whole report, before a failure is thrown. */
  onReport?: (r: SmokeReport) => void;
  /** One-line notes (why tests were not run again). */
  note?: (text: string) => void;
}

/** Runs an image's smoke tests and records the outcome for its id. */
export async function testImage(
  engine: Engine,
  args: { image: string; display?: string; settings: SmokeSettings; smoke: SmokeRunOptions; signal: AbortSignal; events?: TestEvents },
): Promise<SmokeReport> {
  const { settings, smoke } = args;
  const report = await runSmokeTests(engine, {
    image: args.image,
    ...(args.display ? { display: args.display } : {}),
    tests: settings.tests,
    limits: settings.limits,
    timeout: settings.timeout,
    ...(settings.probeImage ? { probeImage: settings.probeImage } : {}),
    gpu: smoke.gpu,
    ...(smoke.gpuDevices?.length ? { gpuDevices: smoke.gpuDevices } : {}),
    ...(smoke.gpuRequest ? { gpuRequest: smoke.gpuRequest } : {}),
    jobs: smoke.jobs,
    signal: args.signal,
    ...(args.events?.onResult ? { onResult: args.events.onResult } : {}),
  });
  await writeTestRecord(report, testsDigest(settings));
  args.events?.onReport?.(report);
  return report;
}

export interface BuildAndTestOptions extends Omit<BuildOptions, 'beforeTag'> {
  /** Run the recipe's smoke tests between build and tags (false: `--no-test`). */
  test: boolean;
  /** Why tests are not run, when `test` is false (default `--no-test`). */
  skipTestsReason?: string;
  smoke: SmokeRunOptions;
  events?: TestEvents;
}

export interface BuildAndTestResult {
  build: BuildOutcome;
  smoke: SmokeSummary;
  report: SmokeReport | null;
}

/**
 * Builds (or finds up to date), runs the smoke tests unless they passed before for this exact
 * image, and only then tags. A failing test throws `smoke.failed` and no tag is applied.
 */
export async function buildAndTest(engine: Engine, planned: Pick<PlannedRecipe, 'plan' | 'recipeDir'>, opts: BuildAndTestOptions): Promise<BuildAndTestResult> {
  const settings = planned.plan.smoke;
  let smoke: SmokeSummary = { ran: false, reason: opts.skipTestsReason ?? '--no-test' };
  let report: SmokeReport | null = null;
  const build = await buildImage(engine, planned, {
    ...opts,
    beforeTag: async (imageId, upToDate) => {
      if (!opts.test) return;
      if (settings.tests.length === 0) return void (smoke = { ran: false, reason: 'the recipe declares no smoke tests' });
      if (opts.target !== 'runtime') return void (smoke = { ran: false, reason: `smoke tests run on the runtime target, not ${opts.target}` });
      const rec = upToDate ? await readTestRecord(imageId, testsDigest(settings), (t) => opts.progress.note(t)) : null;
      if (rec?.passed && opts.smoke.gpu !== 'require') {
        opts.progress.note(`smoke tests passed for this image at ${rec.at}; not run again`);
        // The outcome on record still reaches the reports (a CI step uploads the JUnit file).
        if (rec.report) opts.events?.onReport?.({ ...rec.report, recorded: rec.at });
        return void (smoke = { ran: false, reason: `passed before (${rec.at})` });
      }
      opts.progress.note(`running ${settings.tests.length} smoke test(s) in ${imageId.slice(0, 19)}`);
      report = await testImage(engine, {
        image: imageId,
        display: `${planned.plan.image.name}:${planned.plan.image.version}`,
        settings,
        smoke: opts.smoke,
        signal: opts.signal,
        ...(opts.events ? { events: opts.events } : {}),
      });
      smoke = { ran: true, passed: report.passed, failed: report.failed, skipped: report.skipped };
      if (report.failed)
        throw new OperationError(
          'smoke.failed',
          `${report.failed} of ${report.results.length} smoke test(s) failed in ${imageId.slice(0, 19)}; no tag applied`,
          { hint: 'see the report above; --no-test builds without them' },
        );
    },
  });
  return { build, smoke, report };
}

/** The runtime image built from exactly this plan, whatever it is tagged (its id and a name to show), or null. */
export async function builtImageOf(engine: Engine, plan: PlannedRecipe['plan']): Promise<{ id: string; display: string } | null> {
  const found = finalImages(await engine.findImages({ [PLAN_DIGEST_LABEL]: plan.digest, [TARGET_LABEL]: 'runtime' }), plan.digest)[0];
  return found ? { id: found.id, display: found.tags[0] ?? `${plan.image.name}:${plan.image.version}` } : null;
}
