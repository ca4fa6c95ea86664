import { rename, writeFile } from 'node:fs/promises';
import type { SmokeRunOptions, TestEvents } from '../pipeline/build-and-test.js';
import { formatHuman, formatJunit, formatResultLine } from '../smoke/report.js';
import type { SmokeReport, TestResult } from '../smoke/types.js';
import type { SmokeCliOptions } from './commands/test.js';
import type { Output } from './output.js';

// How the CLI shows smoke tests, for every command that runs them.

/** The smoke-test flags as the pipeline takes them. */
export function smokeRunOptions(opts: Pick<SmokeCliOptions, 'gpu' | 'gpuDevices' | 'gpuRequest' | 'jobs'>): SmokeRunOptions {
  const devices = opts.gpuDevices?.split(',').map((d) => d.trim()).filter(Boolean) ?? [];
  return { gpu: opts.gpu, ...(devices.length ? { gpuDevices: devices } : {}), ...(opts.gpuRequest ? { gpuRequest: opts.gpuRequest } : {}), jobs: opts.jobs };
}

/** How the CLI shows smoke tests: a line per result as it comes, then the report (or JSON), and the JUnit file. */
export function smokeEvents(opts: Pick<SmokeCliOptions, 'quiet' | 'json' | 'junit'>, o: Output): TestEvents & { written: Promise<void>[] } {
  const written: Promise<void>[] = [];
  return {
    written,
    ...(opts.quiet || opts.json ? {} : { onResult: (r: TestResult) => o.err(`  ${formatResultLine(r)}`) }),
    onReport: (report: SmokeReport) => {
      if (opts.junit) {
        const file = opts.junit;
        const tmp = `${file}.${process.pid}.tmp`;
        written.push(writeFile(tmp, formatJunit(report)).then(() => rename(tmp, file)));
      }
      if (opts.json) o.out(JSON.stringify(report));
      else if (!opts.quiet || report.failed) o.err(formatHuman(report, { streamed: true }));
    },
  };
}

