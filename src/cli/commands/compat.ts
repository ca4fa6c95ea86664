import { execFileSync } from 'node:child_process';
import { EnvironmentError, ExitCode, ReportedFailure, UsageError } from '../../errors.js';
import { driverAtLeast, newestRunnable } from '../../support/compat.js';
import { loadSupportData } from '../../support/load.js';
import { parseDriverVersion } from '../../smoke/driver.js';
import type { Output } from '../output.js';

// `dynamo-image compat IMAGE [--driver VERSION]`: does the image's CUDA run on this NVIDIA driver,
// in words a host admin can act on; when it does not, the newest image line of the support data
// that does. The image is read from the local engine (its labels, or NVIDIA's CUDA_VERSION).

const CUDA_LABEL = 'dev.dynamo-image.cuda-version';
const MIN_DRIVER_LABEL = 'dev.dynamo-image.min-driver';
const FRAMEWORK_LABEL = 'dev.dynamo-image.framework';

function detectedDriver(): string | null {
  try {
    const out = execFileSync('nvidia-smi', ['--query-gpu=driver_version', '--format=csv,noheader'], {
      stdio: ['ignore', 'pipe', 'ignore'],
      timeout: 15_000,
    }).toString();
    return out.split('\n')[0]?.trim() || null;
  } catch {
    return null;
  }
}

export async function runCompat(image: string, opts: { driver?: string; json?: boolean }, o: Output): Promise<number> {
  if (opts.driver !== undefined && !parseDriverVersion(opts.driver))
    throw new UsageError(`--driver ${opts.driver} is not a driver version`, 'e.g. --driver 575.57.08 (nvidia-smi prints it)');
  const driver = opts.driver ?? detectedDriver();
  if (!driver) throw new UsageError('no NVIDIA driver found on this host (nvidia-smi did not answer)', "give the host's driver: --driver 575.57.08");
  const { connectDocker } = await import('../../engine/dockerode-engine.js');
  const engine = await connectDocker();
  const img = await engine.inspectImage(image);
  if (!img) throw new EnvironmentError('compat.no-image', `${image} is not on this engine`, 'pull or build it first');
  const envCuda = img.env.find((e) => e.startsWith('CUDA_VERSION='))?.slice('CUDA_VERSION='.length);
  const cudaFull = img.labels[CUDA_LABEL] ?? envCuda ?? null;
  if (!cudaFull)
    throw new ReportedFailure(
      'compat.no-cuda',
      `${image} names no CUDA version (no ${CUDA_LABEL} label, no CUDA_VERSION): nothing to check`,
      ExitCode.badInput,
    );
  const cuda = cudaFull.split('.').slice(0, 2).join('.');
  const data = loadSupportData();
  const minDriver = img.labels[MIN_DRIVER_LABEL] ?? data.matrix.cuda[cuda]?.minDriver ?? null;
  if (!minDriver || !/^\d/.test(minDriver))
    throw new ReportedFailure('compat.no-minimum', `the support data has no minimum driver for CUDA ${cuda}`, ExitCode.badInput);
  const runs = driverAtLeast(driver, minDriver);
  const framework = img.labels[FRAMEWORK_LABEL];
  const instead = runs ? null : newestRunnable(data.rows, driver, framework && framework !== 'custom' ? framework : undefined);
  const source = opts.driver ? '--driver' : 'nvidia-smi';
  const verdict = runs
    ? `${image} runs on driver ${driver} (${source}): its CUDA ${cuda} needs ${minDriver} or newer`
    : `${image} does not run on driver ${driver} (${source}): its CUDA ${cuda} needs ${minDriver} or newer. Update the host's driver to ${minDriver}+, or use ${
        instead
          ? `Dynamo ${instead.dynamo}'s ${instead.framework} ${instead.engine} image for CUDA ${instead.cuda} (needs ${instead.minDriver}+), the newest line this driver runs`
          : 'an image for an older CUDA: no line of the support data runs on this driver'
      }`;
  if (opts.json)
    o.out(
      JSON.stringify({
        image,
        driver,
        driverSource: source,
        cuda,
        minDriver,
        runs,
        ...(instead
          ? { instead: { dynamo: instead.dynamo, framework: instead.framework, engine: instead.engine, cuda: instead.cuda, minDriver: instead.minDriver } }
          : {}),
      }),
    );
  else o.out(verdict);
  return runs ? ExitCode.ok : ExitCode.failed;
}
