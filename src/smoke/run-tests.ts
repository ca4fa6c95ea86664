import type { ContainerSpec, Engine, GpuRequest } from '../engine/port.js';
import { OperationError } from '../errors.js';
import type { SmokeTest } from '../recipe/schema.js';
import { parseBytes, parseDuration } from './checks.js';
import { checkDriver } from './driver.js';
import { detectGpu, SMOKE_LABEL } from './gpu.js';
import type { GpuStatus, SmokeReport, TestResult } from './types.js';
import { CUDA_LABEL, MIN_DRIVER_LABEL } from '../plan/build-plan.js';
import { Failure, raceSignal, runToExit, TimedOut, withContainer, type Ctx, type SmokeOptions } from './context.js';
import { runCommand, runFile, runPython } from './kinds/basic.js';
import { runCudaVariant } from './kinds/cuda-variant.js';
import { runLibraries } from './kinds/libraries.js';
import { runMetadata } from './kinds/metadata.js';
import { runOverlay } from './kinds/overlay.js';
import { runServe } from './kinds/serve.js';

export type { SmokeOptions } from './context.js';

// Runs smoke tests inside an image (one file per kind in kinds/, the shared context in context.ts): each in a fresh container (network none, limits), each
// container removed in `finally` whatever happens, tests in parallel up to `jobs`.

async function runOne(ctx: Ctx, t: SmokeTest): Promise<TestResult> {
  const started = Date.now();
  const base = { name: t.name, kind: t.kind, gpu: t.gpu };
  if (t.gpu && ctx.opts.gpu === 'off') return { ...base, status: 'skipped', durationMs: 0, reason: 'GPU tests are off (--gpu off)' };
  if (t.gpu && !ctx.gpu.available) {
    if (ctx.opts.gpu === 'require') return { ...base, status: 'failed', durationMs: 0, reason: `--gpu require: ${ctx.gpu.detail}` };
    return { ...base, status: 'skipped', durationMs: 0, reason: ctx.gpu.detail };
  }
  // A driver too old for the image's CUDA fails every GPU test with the same one clear line.
  if (t.gpu && ctx.gpu.driver && !ctx.gpu.driver.ok) return { ...base, status: 'failed', durationMs: 0, reason: ctx.gpu.driver.detail };
  // The CUDA check reads the whole image (its export): minutes for a 30 GB engine image.
  const timeoutMs = parseDuration(
    t.timeout ?? (t.kind === 'serve' ? '120s' : t.kind === 'cuda-variant' || t.kind === 'libraries' || t.kind === 'overlay' ? '10m' : '60s'),
  );
  const timer = AbortSignal.timeout(timeoutMs);
  const signal = AbortSignal.any([ctx.signal, timer]);
  let data: unknown;
  try {
    const work = (async () => {
      if (t.kind === 'overlay') data = await runOverlay(ctx, t, signal);
      else if (t.kind === 'command') await runCommand(ctx, t, signal);
      else if (t.kind === 'python') await runPython(ctx, t, signal);
      else if (t.kind === 'file') await runFile(ctx, t);
      else if (t.kind === 'cuda-variant') await runCudaVariant(ctx, t, signal);
      else if (t.kind === 'libraries') await runLibraries(ctx, t, signal);
      else if (t.kind === 'metadata') runMetadata(ctx, t);
      else await runServe(ctx, t, signal);
    })();
    // The container is removed by the work's own `finally`; wait for it even after a timeout.
    await raceSignal(work, signal).catch(async (e: unknown) => {
      if (signal.aborted) {
        await work.catch(() => undefined);
        if (ctx.signal.aborted) throw ctx.signal.reason;
        throw new TimedOut();
      }
      throw e;
    });
    return { ...base, status: 'passed', durationMs: Date.now() - started, ...(data !== undefined ? { data } : {}) };
  } catch (e) {
    const durationMs = Date.now() - started;
    if (ctx.signal.aborted) throw ctx.signal.reason;
    if (e instanceof TimedOut)
      return {
        ...base,
        status: 'failed',
        durationMs,
        reason: `timed out after ${t.timeout ?? (t.kind === 'serve' ? '120s' : '60s')}; the container was removed`,
      };
    if (e instanceof Failure) return { ...base, status: 'failed', durationMs, reason: e.reason, ...e.details };
    if (e instanceof OperationError) return { ...base, status: 'failed', durationMs, reason: e.message };
    throw e;
  }
}

/**
 * Reads the host driver's version in a GPU container of the image (nvidia-smi, which the driver's
 * files bring into the container) and checks it against the image's minimum for its CUDA.
 */
async function readDriver(ctx: Ctx, request: GpuRequest, signal: AbortSignal): Promise<NonNullable<GpuStatus['driver']>> {
  const minimum = ctx.image.labels[MIN_DRIVER_LABEL] ?? null;
  const cuda = ctx.image.labels[CUDA_LABEL] ?? null;
  const spec: ContainerSpec = {
    image: ctx.image.id,
    entrypoint: ['nvidia-smi', '--query-gpu=driver_version', '--format=csv,noheader'],
    labels: { [SMOKE_LABEL]: 'driver-check' },
    memoryBytes: parseBytes(ctx.opts.limits.memory),
    pidsLimit: ctx.opts.limits.pids,
    gpus: request,
  };
  let out: { exitCode: number; stdout: string; stderr: string };
  try {
    out = await withContainer(ctx, spec, async (c) => runToExit(ctx, c, AbortSignal.any([signal, AbortSignal.timeout(30_000)])));
  } catch (e) {
    if (ctx.signal.aborted) throw ctx.signal.reason;
    return { version: null, minimum, ok: true, detail: `driver version not read (${e instanceof Error ? e.message.split('\n')[0] : String(e)}); not checked` };
  }
  if (out.exitCode !== 0) return { version: null, minimum, ok: true, detail: `driver version not read (nvidia-smi exited ${out.exitCode}); not checked` };
  const version = out.stdout.trim().split('\n')[0]!.trim();
  if (!minimum || !cuda)
    return {
      version,
      minimum,
      ok: true,
      detail: `driver ${version}; the image names no CUDA version or minimum driver (labels ${CUDA_LABEL}, ${MIN_DRIVER_LABEL}); not checked`,
    };
  const v = checkDriver(version, minimum, cuda);
  return { version, minimum, ok: v.ok, detail: v.detail };
}

export async function runSmokeTests(engine: Engine, opts: SmokeOptions): Promise<SmokeReport> {
  const startedAt = new Date();
  const image = await engine.inspectImage(opts.image);
  if (!image) throw new OperationError('smoke.no-image', `no image ${opts.image} on the engine`, { hint: 'build it first: dynamo-image build RECIPE' });
  const needGpu = opts.tests.some((t) => t.gpu) || opts.gpu === 'require';
  const gpu: GpuStatus =
    opts.gpu === 'off'
      ? { available: false, detail: 'GPU tests are off (--gpu off)' }
      : needGpu
        ? await detectGpu(engine, image.id, { mode: opts.gpuRequest ?? 'auto', ...(opts.gpuDevices ? { devices: opts.gpuDevices } : {}) })
        : { available: false, detail: 'not checked (no GPU tests)' };
  const overall = AbortSignal.timeout(parseDuration(opts.timeout));
  const signal = AbortSignal.any([opts.signal, overall]);
  const ctx: Ctx = { engine, image, opts, gpu, signal };
  if (gpu.available && gpu.request && opts.tests.some((t) => t.gpu)) gpu.driver = await readDriver(ctx, gpu.request, signal);
  const results: TestResult[] = new Array(opts.tests.length);
  let next = 0;
  const worker = async () => {
    while (next < opts.tests.length) {
      const i = next++;
      const t = opts.tests[i]!;
      if (overall.aborted && !opts.signal.aborted) {
        results[i] = {
          name: t.name,
          kind: t.kind,
          gpu: t.gpu,
          status: 'failed',
          durationMs: 0,
          reason: `not run: the overall timeout (${opts.timeout}) passed`,
        };
        continue;
      }
      let r: TestResult;
      try {
        r = await runOne(ctx, t);
      } catch (e) {
        if (overall.aborted && !opts.signal.aborted)
          r = { name: t.name, kind: t.kind, gpu: t.gpu, status: 'failed', durationMs: 0, reason: `the overall timeout (${opts.timeout}) passed` };
        else throw e;
      }
      results[i] = r;
      opts.onResult?.(r);
    }
  };
  const workers = Array.from({ length: Math.max(1, Math.min(opts.jobs, opts.tests.length || 1)) }, () => worker());
  const settled = await Promise.allSettled(workers);
  const rejected = settled.find((s) => s.status === 'rejected');
  if (rejected) throw (rejected as PromiseRejectedResult).reason;
  if (opts.gpu === 'require' && !gpu.available && !opts.tests.some((t) => t.gpu))
    results.push({ name: 'GPU available', kind: 'command', gpu: true, status: 'failed', durationMs: 0, reason: `--gpu require: ${gpu.detail}` });
  const count = (s: string) => results.filter((r) => r.status === s).length;
  return {
    image: opts.display ?? opts.image,
    imageId: image.id,
    startedAt: startedAt.toISOString(),
    durationMs: Date.now() - startedAt.getTime(),
    gpu: { ...gpu, mode: opts.gpu },
    results,
    passed: count('passed'),
    failed: count('failed'),
    skipped: count('skipped'),
  };
}
