import type { GpuRequest } from '../engine/port.js';
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
  /** What a check measured, for the JSON report (overlay: the package and layer delta). */
  data?: unknown;
}

export interface GpuStatus {
  available: boolean;
  /** How it was decided (runtime registered, CDI, a probe container), or why not. */
  detail: string;
  /** How GPU tests ask for GPUs: `nvidia` (as `--gpus`) or `cdi` (as `--device nvidia.com/gpu=...`). */
  request?: GpuRequest | null;
  /** What was tried and refused, when no way worked. */
  tried?: string[];
  /** The host driver against the image's minimum, read in a GPU container before the GPU tests. */
  driver?: { version: string | null; minimum: string | null; ok: boolean; detail: string };
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
  /** A report read back from the test record of an unchanged image: when it ran (not run now). */
  recorded?: string;
}
