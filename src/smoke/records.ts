import { lstat, readFile } from 'node:fs/promises';
import path from 'node:path';
import { recordKey, sealMatches, seal, trustedFolder, writeExclusive } from '../plan/cache-trust.js';
import { cacheDir } from '../plan/digest-cache.js';
import type { SmokeReport } from './types.js';

// What the smoke tests said about an exact image (by id), so an up-to-date build or a publish
// need not run them again, and a publish can refuse an image whose tests failed. A record counts
// only from a folder nobody else can write, sealed with this cache's key (plan/cache-trust.ts), and
// bound to the image id and the digest of the test definitions: a forged or copied "passed" record
// is ignored, with a warning, and the tests run.

export interface TestRecord {
  imageId: string;
  testsDigest: string;
  passed: boolean;
  /** Published with --skip-tests: the tests were not run for this image. */
  skipped?: boolean;
  gpuTested: boolean;
  summary: { passed: number; failed: number; skipped: number };
  at: string;
  /** The report of that run (results without output), for a JUnit file of an unchanged image. */
  report?: SmokeReport;
}

/** Where the record of an image's smoke tests lives. */
export function testRecordPath(imageId: string): string {
  return fileFor(imageId);
}

function fileFor(imageId: string): string {
  return path.join(cacheDir(), 'test-records', `${imageId.replace(/^sha256:/, '')}.json`);
}

function recordsDir(): string {
  return path.join(cacheDir(), 'test-records');
}

/** An untrusted record is warned about once per process. */
let warned = false;

/** Why the records cannot be trusted here, or null. */
export async function recordsProblem(): Promise<string | null> {
  return trustedFolder(recordsDir(), cacheDir());
}

/** A record, or null; `warn` hears why a record that is there was not trusted. */
export async function readTestRecord(imageId: string, testsDigest: string, warn?: (text: string) => void): Promise<TestRecord | null> {
  const file = fileFor(imageId);
  try {
    await lstat(file);
  } catch {
    return null;
  }
  const say = (why: string) => {
    if (!warned) warn?.(`warning: the smoke-test record ${file} is ignored: ${why}; the tests run again`);
    warned = true;
    return null;
  };
  const problem = await recordsProblem();
  if (problem) return say(problem);
  try {
    const st = await lstat(file);
    if (!st.isFile() || st.uid !== (process.getuid?.() ?? st.uid) || st.mode & 0o022)
      return say("it is not a file of this user's that only this user can write");
    const sealed = JSON.parse(await readFile(file, 'utf8')) as { record?: unknown; mac?: unknown };
    const body = JSON.stringify(sealed.record);
    if (typeof sealed.record !== 'object' || !sealMatches(await recordKey(cacheDir()), body, sealed.mac))
      return say('its seal does not verify (not written by this cache)');
    const r = sealed.record as TestRecord;
    return r.imageId === imageId && r.testsDigest === testsDigest ? r : null;
  } catch {
    return null;
  }
}

async function writeRecord(rec: TestRecord): Promise<void> {
  if (await recordsProblem()) return; // records are not written where they would not be trusted
  const body = JSON.stringify(rec);
  await writeExclusive(fileFor(rec.imageId), JSON.stringify({ record: rec, mac: seal(await recordKey(cacheDir()), body) }));
}

export async function writeTestRecord(rep: SmokeReport, testsDigest: string): Promise<void> {
  const rec: TestRecord = {
    imageId: rep.imageId,
    testsDigest,
    passed: rep.failed === 0,
    gpuTested: rep.gpu.available && rep.results.some((r) => r.gpu && r.status === 'passed'),
    summary: { passed: rep.passed, failed: rep.failed, skipped: rep.skipped },
    at: new Date().toISOString(),
    report: { ...rep, results: rep.results.map(({ tail: _tail, actual: _actual, ...r }) => r) },
  };
  try {
    await writeRecord(rec);
  } catch {
    // a read-only cache only costs a re-run next time
  }
}

/** Records that an image was published without its tests, unless a real outcome is on record. */
export async function recordSkippedTests(imageId: string, testsDigest: string): Promise<void> {
  if (await readTestRecord(imageId, testsDigest)) return;
  const rec: TestRecord = {
    imageId,
    testsDigest,
    passed: false,
    skipped: true,
    gpuTested: false,
    summary: { passed: 0, failed: 0, skipped: 0 },
    at: new Date().toISOString(),
  };
  try {
    await writeRecord(rec);
  } catch {
    // advisory
  }
}
