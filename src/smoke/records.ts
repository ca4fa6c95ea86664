import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { cacheDir } from '../plan/digest-cache.js';
import type { SmokeReport } from './types.js';

// What the smoke tests said about an exact image (by id), so an up-to-date build or a publish
// need not run them again, and a publish can refuse an image whose tests failed.

export interface TestRecord {
  imageId: string;
  testsDigest: string;
  passed: boolean;
  /** Published with --skip-tests: the tests were not run for this image. */
  skipped?: boolean;
  gpuTested: boolean;
  summary: { passed: number; failed: number; skipped: number };
  at: string;
}

/** Where the record of an image's smoke tests lives. */
export function testRecordPath(imageId: string): string {
  return fileFor(imageId);
}

function fileFor(imageId: string): string {
  return path.join(cacheDir(), 'test-records', `${imageId.replace(/^sha256:/, '')}.json`);
}

export async function readTestRecord(imageId: string, testsDigest: string): Promise<TestRecord | null> {
  try {
    const r = JSON.parse(await readFile(fileFor(imageId), 'utf8')) as TestRecord;
    return r.imageId === imageId && r.testsDigest === testsDigest ? r : null;
  } catch {
    return null;
  }
}

export async function writeTestRecord(rep: SmokeReport, testsDigest: string): Promise<void> {
  const rec: TestRecord = {
    imageId: rep.imageId,
    testsDigest,
    passed: rep.failed === 0,
    gpuTested: rep.gpu.available && rep.results.some((r) => r.gpu && r.status === 'passed'),
    summary: { passed: rep.passed, failed: rep.failed, skipped: rep.skipped },
    at: new Date().toISOString(),
  };
  const file = fileFor(rep.imageId);
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.tmp`, JSON.stringify(rec));
    await rename(`${file}.tmp`, file);
  } catch {
    // a read-only cache only costs a re-run next time
  }
}

/** Records that an image was published without its tests, unless a real outcome is on record. */
export async function recordSkippedTests(imageId: string, testsDigest: string): Promise<void> {
  if (await readTestRecord(imageId, testsDigest)) return;
  const file = fileFor(imageId);
  const rec: TestRecord = { imageId, testsDigest, passed: false, skipped: true, gpuTested: false, summary: { passed: 0, failed: 0, skipped: 0 }, at: new Date().toISOString() };
  try {
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, JSON.stringify(rec));
  } catch {
    // advisory
  }
}
