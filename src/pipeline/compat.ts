import { execFileSync } from 'node:child_process';
import type { Engine } from '../engine/port.js';
import { DynamoImageError, EnvironmentError, ExitCode } from '../errors.js';
import { CUDA_LABEL, FRAMEWORK_LABEL, MIN_DRIVER_LABEL } from '../plan/build-plan.js';
import { driverAtLeast, newestRunnable } from '../support/compat.js';
import { loadSupportData } from '../support/load.js';
import { parseDriverVersion } from '../smoke/driver.js';

// Does an image's CUDA run on an NVIDIA driver? The image is read from the engine (its labels, or
// NVIDIA's CUDA_VERSION); when it does not run, the newest line of the support data that does.

/** The host's driver as nvidia-smi reports it, or null where there is none. */
export function hostDriver(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=driver_version', '--format=csv,noheader'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).toString();
    // Only a version: whatever else nvidia-smi prints (an error, a banner) is no driver.
    const first = out.split('\n')[0]?.trim() ?? '';
    return parseDriverVersion(first) ? first : null;
  } catch {
    return null;
  }
}

export interface CompatVerdict {
  image: string;
  driver: string;
  driverSource: '--driver' | 'nvidia-smi';
  cuda: string;
  minDriver: string;
  runs: boolean;
  /** Where it does not run: the newest support-data line that does (of the image's framework), if any. */
  instead?: { dynamo: string; framework: string; engine: string; cuda: string; minDriver: string };
}

export async function checkCompat(engine: Engine, image: string, driver: { version: string; source: CompatVerdict['driverSource'] }): Promise<CompatVerdict> {
  const img = await engine.inspectImage(image);
  if (!img) throw new EnvironmentError('compat.no-image', `${image} is not on this engine`, 'pull or build it first');
  const envCuda = img.env.find((e) => e.startsWith('CUDA_VERSION='))?.slice('CUDA_VERSION='.length);
  const cudaFull = img.labels[CUDA_LABEL] ?? envCuda ?? null;
  if (!cudaFull)
    throw new DynamoImageError('compat.no-cuda', `${image} names no CUDA version (no ${CUDA_LABEL} label, no CUDA_VERSION): nothing to check`, {
      exitCode: ExitCode.badInput,
    });
  const cuda = cudaFull.split('.').slice(0, 2).join('.');
  const data = loadSupportData();
  const minDriver = img.labels[MIN_DRIVER_LABEL] ?? data.matrix.cuda[cuda]?.minDriver ?? null;
  if (!minDriver || !/^\d/.test(minDriver))
    throw new DynamoImageError('compat.no-minimum', `the support data has no minimum driver for CUDA ${cuda}`, { exitCode: ExitCode.badInput });
  const runs = driverAtLeast(driver.version, minDriver);
  const framework = img.labels[FRAMEWORK_LABEL];
  const row = runs ? null : newestRunnable(data.rows, driver.version, framework && framework !== 'custom' ? framework : undefined);
  return {
    image,
    driver: driver.version,
    driverSource: driver.source,
    cuda,
    minDriver,
    runs,
    ...(row ? { instead: { dynamo: row.dynamo, framework: row.framework, engine: row.engine, cuda: row.cuda, minDriver: row.minDriver } } : {}),
  };
}
