import type { SmokeTest } from '../recipe/schema.js';

export type TestStatus = 'passed' | 'failed' | 'skipped';

export interface TestResult {
  name: string;
  kind: SmokeTest['kind'];
  gpu: boolean;
  status: TestStatus;
  durationMs: number;
  /** Why it failed or was skipped, one line. */
  reason?: string;
  /** For failures: what was expected and what came back. */
  expected?: string;
  actual?: string;
  exitCode?: number;
  exitExplained?: string;
  /** Last lines of the container's output. */
  tail?: string[];
}

export interface GpuStatus {
  available: boolean;
  /** How it was decided (runtime registered, CDI, a probe container), or why not. */
  detail: string;
}

export interface SmokeReport {
  image: string;
  imageId: string;
  startedAt: string;
  durationMs: number;
  gpu: GpuStatus & { mode: 'auto' | 'require' | 'off' };
  results: TestResult[];
  passed: number;
  failed: number;
  skipped: number;
}
