import { existsSync, statSync } from 'node:fs';
import { connectDocker } from '../../engine/dockerode-engine.js';
import type { Engine } from '../../engine/port.js';
import { ExitCode, ReportedFailure, UsageError } from '../../errors.js';
import { loadTestsFile, type SmokeSettings } from '../../smoke/load-tests.js';
import type { SmokeReport } from '../../smoke/types.js';
import { builtImageOf, testImage } from '../../pipeline/build-and-test.js';
import { smokeEvents, smokeRunOptions, type SmokeCliOptions } from '../smoke-output.js';
import { checkOutputPath, type Output } from '../output.js';
import { planFromFlags } from '../plan-flags.js';
import { interruptSignal } from '../signals.js';

/** Runs the tests, prints the reports, records the outcome. Returns the report. */
export async function runAndReport(args: {
  engine: Engine;
  image: string;
  display?: string | undefined;
  settings: SmokeSettings;
  opts: SmokeCliOptions;
  o: Output;
  signal: AbortSignal;
}): Promise<SmokeReport> {
  const events = smokeEvents(args.opts, args.o);
  const report = await testImage(args.engine, {
    image: args.image,
    ...(args.display ? { display: args.display } : {}),
    settings: args.settings,
    smoke: smokeRunOptions(args.opts),
    signal: args.signal,
    events,
  });
  await Promise.all(events.written);
  return report;
}

function looksLikeRecipe(arg: string): boolean {
  return /\.ya?ml$/i.test(arg) || (existsSync(arg) && statSync(arg).isFile());
}

export async function runTest(target: string, opts: SmokeCliOptions, o: Output): Promise<number> {
  checkOutputPath(opts.junit, '--junit');
  let settings: SmokeSettings | null = opts.tests ? await loadTestsFile(opts.tests) : null;
  let image = target;
  let display: string | undefined;
  let engine: Engine;
  if (looksLikeRecipe(target)) {
    const { plan } = await planFromFlags(target, opts);
    settings ??= plan.smoke;
    engine = await connectDocker();
    const found = await builtImageOf(engine, plan);
    if (!found)
      throw new UsageError(`no image built from this plan of ${target} (plan ${plan.digest.slice(0, 19)})`, `build it first: dynamo-image build ${target}`);
    ({ id: image, display } = found);
  } else {
    if (!settings) throw new UsageError(`${target} is an image: say which tests to run with --tests FILE`, 'or give the recipe instead of the image');
    engine = await connectDocker();
  }
  if (settings.tests.length === 0) o.err('warning: no smoke tests declared');
  const { signal, dispose } = interruptSignal();
  try {
    const report = await runAndReport({ engine, image, display, settings, opts, o, signal });
    if (report.failed) throw new ReportedFailure('smoke.failed', `${report.failed} of ${report.results.length} smoke test(s) failed`, ExitCode.failed);
    return ExitCode.ok;
  } finally {
    dispose();
  }
}
