import { rename, writeFile } from 'node:fs/promises';
import type { MatrixEntry } from '../outputs/ci-matrix.js';
import type { VariantOutcome } from '../pipeline/build-variants.js';
import { formatJunitSuites } from '../smoke/report.js';
import type { SmokeReport } from '../smoke/types.js';
import type { PushedTag } from '../publish/publish.js';
import type { Output } from './output.js';

// How `build --matrix` shows its variants: a row each, the table at the end, one JUnit file.

export interface MatrixRow {
  variant: string;
  result: VariantOutcome['result'];
  seconds: string;
  sizeMB: string;
  cache: string;
  smoke: string;
  error?: string;
}

export function row(o: VariantOutcome): MatrixRow {
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

export function printTable(table: MatrixRow[], o: Output): void {
  const cols = ['variant', 'result', 'seconds', 'sizeMB', 'cache', 'smoke'] as const;
  const w = cols.map((c) => Math.max(c.length, ...table.map((r) => String(r[c]).length)));
  const line = (vals: string[]) =>
    vals
      .map((v, i) => v.padEnd(w[i]!))
      .join('  ')
      .trimEnd();
  o.err(line([...cols]));
  for (const r of table) o.err(line(cols.map((c) => String(r[c]))));
}

/** One testsuite per variant, named by the variant and its platforms (each image's own tag differs). */
export async function writeMatrixJunit(file: string, entries: MatrixEntry[], reports: Map<string, SmokeReport>): Promise<void> {
  const done = entries.filter((e) => reports.has(e.id));
  await writeFile(
    `${file}.${process.pid}.tmp`,
    formatJunitSuites(
      done.map((e) => reports.get(e.id)!),
      done.map((e) => `${e.id} (${e.plan.platforms.join(', ')})`),
    ),
  );
  await rename(`${file}.${process.pid}.tmp`, file);
}

/** What `--push` did to one variant's tags, a line each. */
export function pushedLines(pushed: PushedTag[]): string[] {
  return pushed.map((p) => `${p.action === 'pushed' ? 'pushed' : 'unchanged'} ${p.reference}@${p.digest}`);
}
