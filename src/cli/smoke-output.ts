import { rename, writeFile } from 'node:fs/promises';
import type { SmokeRunOptions, TestEvents } from '../pipeline/build-and-test.js';
import { annotation } from '../builder/progress.js';
import { formatHuman, formatJunit, formatResultLine } from '../smoke/report.js';
import type { SmokeReport, TestResult } from '../smoke/types.js';
import type { Output } from './output.js';
import { maskSecrets } from './output-guard.js';

// How the CLI shows smoke tests, for every command that runs them.

/** The smoke-test flags (test, and with the build flags build and publish). */
export interface SmokeCliOptions {
  tests?: string;
  gpu: 'auto' | 'require' | 'off';
  gpuDevices?: string;
  gpuRequest?: 'auto' | 'nvidia' | 'cdi';
  jobs: number;
  json?: boolean;
  junit?: string;
  quiet?: boolean;
  /** With a recipe: one variant of its matrix. */
  variant?: string;
  baseImage?: string;
}

/** The smoke-test flags as the pipeline takes them. */
export function smokeRunOptions(opts: Pick<SmokeCliOptions, 'gpu' | 'gpuDevices' | 'gpuRequest' | 'jobs'>): SmokeRunOptions {
  const devices =
    opts.gpuDevices
      ?.split(',')
      .map((d) => d.trim())
      .filter(Boolean) ?? [];
  return { gpu: opts.gpu, ...(devices.length ? { gpuDevices: devices } : {}), ...(opts.gpuRequest ? { gpuRequest: opts.gpuRequest } : {}), jobs: opts.jobs };
}

/** How the CLI shows smoke tests: a line per result as it comes, then the report (or JSON), and the JUnit file. */
export function smokeEvents(
  opts: Pick<SmokeCliOptions, 'quiet' | 'json' | 'junit'>,
  o: Output,
  written: Promise<void>[] = [],
): TestEvents & { written: Promise<void>[] } {
  return {
    written,
    onResult: (r: TestResult) => {
      if (!opts.quiet && !opts.json) o.err(`  ${formatResultLine(r)}`);
      // On GitHub, a failing test is an annotation on the run's summary page too.
      if (r.status === 'failed' && process.env['GITHUB_ACTIONS'] === 'true')
        (o.command ?? o.err)(`::error title=smoke test failed::${annotation(`${r.name}: ${r.reason ?? 'failed'}`)}`);
    },
    onReport: (report: SmokeReport) => {
      if (opts.junit) {
        const file = opts.junit;
        const tmp = `${file}.${process.pid}.tmp`;
        written.push(writeFile(tmp, maskSecrets(formatJunit(report))).then(() => rename(tmp, file)));
      }
      // A recorded report goes to the JUnit file only: the progress already said the tests were not run.
      if (report.recorded) return;
      if (opts.json) o.out(JSON.stringify(report));
      else if (!opts.quiet || report.failed) o.err(formatHuman(report, { streamed: true }));
    },
  };
}
