import type { ContainerHandle, ContainerSpec, Engine, ImageDetails } from '../engine/port.js';
import { OperationError } from '../errors.js';
import type { SmokeTest } from '../recipe/schema.js';
import { explainExit, parseBytes } from './checks.js';
import { SMOKE_LABEL, type GpuRequestMode } from './gpu.js';
import type { GpuStatus, TestResult } from './types.js';

// What every test kind shares: the run's options and context, the failure types, containers that
// are removed whatever happens, timeouts that follow the run's signal.

export interface SmokeOptions {
  image: string;
  /** How reports name the image (a tag), when `image` is an id. */
  display?: string;
  tests: SmokeTest[];
  limits: { memory: string; cpus: number; pids: number };
  timeout: string;
  gpu: 'auto' | 'require' | 'off';
  gpuDevices?: string[];
  /** How GPU tests ask for GPUs (default auto: the NVIDIA runtime when registered, else CDI). */
  gpuRequest?: GpuRequestMode;
  jobs: number;
  signal: AbortSignal;
  onResult?: (r: TestResult) => void;
  /** serve tests of an image with neither python3 nor curl: requests go from a container of this image in the server's network namespace. */
  probeImage?: string;
}

export class Failure extends Error {
  constructor(
    readonly reason: string,
    readonly details: Partial<Pick<TestResult, 'expected' | 'actual' | 'exitCode' | 'exitExplained' | 'tail' | 'data'>> = {},
  ) {
    super(reason);
  }
}

export class TimedOut extends Error {}

export function raceSignal<T>(p: Promise<T>, signal: AbortSignal): Promise<T> {
  if (signal.aborted) return Promise.reject(signal.reason);
  return new Promise<T>((resolve, reject) => {
    const on = () => reject(signal.reason);
    signal.addEventListener('abort', on, { once: true });
    p.then(
      (v) => {
        signal.removeEventListener('abort', on);
        resolve(v);
      },
      (e: unknown) => {
        signal.removeEventListener('abort', on);
        reject(e);
      },
    );
  });
}

/** Waits, or rejects when the signal aborts; its listener goes when the wait ends either way. */
export const sleep = (ms: number, signal: AbortSignal) =>
  new Promise<void>((resolve, reject) => {
    if (signal.aborted) return reject(signal.reason);
    const onAbort = () => (clearTimeout(t), reject(signal.reason));
    const t = setTimeout(() => (signal.removeEventListener('abort', onAbort), resolve()), ms);
    signal.addEventListener('abort', onAbort, { once: true });
  });

export interface Ctx {
  engine: Engine;
  image: ImageDetails;
  opts: SmokeOptions;
  gpu: GpuStatus;
  signal: AbortSignal;
}

export function baseSpec(ctx: Ctx, test: SmokeTest): Omit<ContainerSpec, 'image'> & { image: string } {
  return {
    image: ctx.image.id,
    labels: { [SMOKE_LABEL]: test.name.slice(0, 200) },
    memoryBytes: parseBytes(ctx.opts.limits.memory),
    nanoCpus: Math.round(ctx.opts.limits.cpus * 1e9),
    pidsLimit: ctx.opts.limits.pids,
    ...(test.gpu && ctx.gpu.request ? { gpus: ctx.gpu.request } : {}),
  };
}

/** Creates a container, hands it to `fn`, and removes it whatever happens. */
export async function withContainer<T>(ctx: Ctx, spec: ContainerSpec, fn: (c: ContainerHandle) => Promise<T>): Promise<T> {
  const c = await ctx.engine.createContainer(spec);
  try {
    return await fn(c);
  } finally {
    await c.remove();
  }
}

/** The runtime refuses to start a command that is missing or not executable: report it as the shell would. */
export function startFailure(e: unknown): Failure | null {
  if (!(e instanceof OperationError)) return null;
  const code = e.code === 'container.command-not-found' ? 127 : e.code === 'container.command-not-executable' ? 126 : null;
  if (code === null) return null;
  return new Failure(`exit code ${code}: ${e.message}`, { exitCode: code, exitExplained: explainExit(code, false) });
}

export async function runToExit(ctx: Ctx, c: ContainerHandle, signal: AbortSignal) {
  try {
    await c.start();
  } catch (e) {
    throw startFailure(e) ?? e;
  }
  const { exitCode } = await c.wait(signal);
  const [logs, state] = await Promise.all([c.logs(), c.inspect()]);
  return { exitCode, oomKilled: state.oomKilled, ...logs };
}
