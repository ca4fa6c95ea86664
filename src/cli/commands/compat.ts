import { ExitCode, UsageError } from '../../errors.js';
import { checkCompat, hostDriver } from '../../pipeline/compat.js';
import { parseDriverVersion } from '../../smoke/driver.js';
import type { Output } from '../output.js';

// `dynamo-image compat IMAGE [--driver VERSION]`: flags -> checkCompat -> the verdict in words a
// host admin can act on (or JSON); exit 1 when the image does not run on the driver.

export async function runCompat(image: string, opts: { driver?: string; json?: boolean }, o: Output): Promise<number> {
  if (opts.driver !== undefined && !parseDriverVersion(opts.driver))
    throw new UsageError(`--driver ${opts.driver} is not a driver version`, 'e.g. --driver 575.57.08 (nvidia-smi prints it)');
  const version = opts.driver ?? hostDriver();
  if (!version) throw new UsageError('no NVIDIA driver found on this host (nvidia-smi did not answer)', "give the host's driver: --driver 575.57.08");
  const { connectDocker } = await import('../../engine/dockerode-engine.js');
  const v = await checkCompat(await connectDocker(), image, { version, source: opts.driver ? '--driver' : 'nvidia-smi' });
  if (opts.json) o.out(JSON.stringify(v));
  else if (v.runs) o.out(`${image} runs on driver ${v.driver} (${v.driverSource}): its CUDA ${v.cuda} needs ${v.minDriver} or newer`);
  else {
    const i = v.instead;
    const use = i
      ? `Dynamo ${i.dynamo}'s ${i.framework} ${i.engine} image for CUDA ${i.cuda} (needs ${i.minDriver}+), the newest line this driver runs`
      : 'an image for an older CUDA: no line of the support data runs on this driver';
    o.out(
      `${image} does not run on driver ${v.driver} (${v.driverSource}): its CUDA ${v.cuda} needs ${v.minDriver} or newer. Update the host's driver to ${v.minDriver}+, or use ${use}`,
    );
  }
  return v.runs ? ExitCode.ok : ExitCode.failed;
}
