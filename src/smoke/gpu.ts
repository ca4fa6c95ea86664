import type { Engine } from '../engine/port.js';
import { OperationError } from '../errors.js';
import type { GpuStatus } from './types.js';

export const SMOKE_LABEL = 'dev.dynamo-image.smoke';

/**
 * Can this engine give GPUs to a container? A registered NVIDIA runtime or CDI GPU devices say yes;
 * otherwise a probe container requests GPUs the way `docker run --gpus all` does, and the engine's
 * answer decides. This says whether GPUs can be *requested*; whether a real GPU is behind the
 * request is what the GPU tests themselves find out.
 */
export async function detectGpu(engine: Engine, image: string): Promise<GpuStatus> {
  const info = await engine.info();
  if (info.gpu.nvidiaRuntime) return { available: true, detail: 'the NVIDIA runtime is registered with the engine' };
  const cdi = info.gpu.cdiDevices.filter((d) => d.startsWith('nvidia.com/gpu'));
  if (cdi.length) return { available: true, detail: `CDI GPU devices: ${cdi.join(', ')}` };
  const c = await engine.createContainer({ image, entrypoint: ['/bin/sh', '-c', 'exit 0'], labels: { [SMOKE_LABEL]: 'gpu-probe' }, gpus: 'all' });
  try {
    await c.start();
    return { available: true, detail: 'the engine accepts GPU requests (an NVIDIA device driver is registered)' };
  } catch (e) {
    if (e instanceof OperationError && e.code === 'gpu.unavailable') return { available: false, detail: 'no GPU runtime on this Docker host' };
    // The probe's own command could not run, but the GPU request itself was accepted.
    return { available: true, detail: 'the engine accepts GPU requests' };
  } finally {
    await c.remove();
  }
}
