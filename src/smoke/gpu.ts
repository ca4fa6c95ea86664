import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Engine, EngineInfo, GpuRequest } from '../engine/port.js';
import { OperationError } from '../errors.js';
import type { GpuStatus } from './types.js';

export const SMOKE_LABEL = 'dev.dynamo-image.smoke';

/** `--gpu-request`: how GPU tests ask for GPUs. */
export type GpuRequestMode = 'auto' | 'nvidia' | 'cdi';

/** The CDI kind NVIDIA's GPUs are published under (nvidia-ctk cdi generate, and host-check.sh). */
export const NVIDIA_CDI_KIND = 'nvidia.com/gpu';

/**
 * `--gpu-devices 0,1` as the chosen path names them: `0` stays `0` for the NVIDIA runtime, becomes
 * `nvidia.com/gpu=0` for CDI; a fully qualified CDI name is kept as it is.
 */
export function gpuRequestFor(via: 'nvidia' | 'cdi', devices: string[] | undefined): GpuRequest {
  if (via === 'nvidia') return { via, devices: devices?.length ? devices.map((d) => d.replace(/^nvidia\.com\/gpu=/, '')) : 'all' };
  return { via, devices: devices?.length ? devices.map((d) => (d.includes('=') ? d : `${NVIDIA_CDI_KIND}=${d}`)) : [`${NVIDIA_CDI_KIND}=all`] };
}

/** CDI device names (`nvidia.com/gpu=0`) found in the spec files of folders on this machine. */
export async function cdiDevicesInSpecDirs(dirs: string[]): Promise<string[]> {
  const out: string[] = [];
  for (const dir of dirs) {
    let names: string[];
    try {
      names = (await readdir(dir)).sort();
    } catch {
      continue;
    }
    for (const n of names.filter((x) => /\.(json|ya?ml)$/.test(x))) {
      try {
        const text = await readFile(path.join(dir, n), 'utf8');
        // JSON specs are read as JSON; a YAML spec is scanned for its kind and device names.
        const spec = n.endsWith('.json')
          ? (JSON.parse(text) as { kind?: string; devices?: { name?: string }[] })
          : { kind: /^kind:\s*"?([^"\s]+)"?/m.exec(text)?.[1], devices: [...text.matchAll(/^\s*-?\s*name:\s*"?([^"\s]+)"?/gm)].map((m) => ({ name: m[1] })) };
        if (spec.kind !== NVIDIA_CDI_KIND) continue;
        for (const d of spec.devices ?? []) if (d.name) out.push(`${spec.kind}=${d.name}`);
      } catch {
        // an unreadable or malformed spec is the engine's business; it reports it itself
      }
    }
  }
  return [...new Set(out)];
}

/**
 * Starts a probe container with this request: does the engine accept it, and keep it? An engine
 * that starts the container but drops the request (Podman's Docker-compatible API ignores
 * DeviceRequests) has given it no GPU: its container's inspect shows no device request.
 */
async function probe(engine: Engine, image: string, gpus: GpuRequest, kind: EngineInfo['kind']): Promise<{ ok: true } | { ok: false; why: string }> {
  const c = await engine.createContainer({ image, entrypoint: ['/bin/sh', '-c', 'exit 0'], labels: { [SMOKE_LABEL]: 'gpu-probe' }, gpus });
  try {
    try {
      await c.start();
    } catch (e) {
      if (e instanceof OperationError && e.code === 'gpu.unavailable') return { ok: false, why: e.message };
      // The probe's own command could not run, but the GPU request itself was accepted.
    }
    if ((await c.inspect()).deviceRequests === 0)
      return {
        ok: false,
        why: `the engine ran the container without the GPU request${kind === 'podman' ? " (Podman's Docker-compatible API ignores DeviceRequests)" : ''}`,
      };
    return { ok: true };
  } finally {
    await c.remove();
  }
}

/**
 * Can this engine give GPUs to a container, and which way? With `auto`: a registered NVIDIA runtime
 * means the `--gpus` request; CDI GPU devices the engine reports (or that its local spec folders
 * hold) mean a CDI request; otherwise a probe container tries CDI, then `--gpus`. This says whether
 * GPUs can be *requested*; whether a real GPU is behind the request is what the GPU tests (and the
 * driver check) find out.
 */
export async function detectGpu(
  engine: Engine,
  image: string,
  opts: { mode?: GpuRequestMode; devices?: string[]; info?: EngineInfo } = {},
): Promise<GpuStatus> {
  const mode = opts.mode ?? 'auto';
  const info = opts.info ?? (await engine.info());
  const cdiKnown = [
    ...info.gpu.cdiDevices.filter((d) => d.startsWith(`${NVIDIA_CDI_KIND}=`)),
    ...(info.local ? await cdiDevicesInSpecDirs(info.gpu.cdiSpecDirs) : []),
  ];
  const yes = (via: 'nvidia' | 'cdi', detail: string): GpuStatus => ({ available: true, detail, request: gpuRequestFor(via, opts.devices) });

  if (mode !== 'cdi' && info.gpu.nvidiaRuntime) return yes('nvidia', 'the NVIDIA runtime is registered with the engine; GPUs requested as --gpus');
  if (mode !== 'nvidia' && cdiKnown.length) return yes('cdi', `CDI devices ${[...new Set(cdiKnown)].join(', ')}; GPUs requested through CDI`);
  const tried: string[] = [];
  if (mode !== 'nvidia') {
    const r = await probe(engine, image, gpuRequestFor('cdi', opts.devices), info.kind);
    if (r.ok) return yes('cdi', 'the engine accepts a CDI GPU request (probe container)');
    tried.push(`CDI: ${r.why}`);
  }
  if (mode !== 'cdi') {
    const r = await probe(engine, image, gpuRequestFor('nvidia', opts.devices), info.kind);
    if (r.ok) return yes('nvidia', 'the engine accepts --gpus requests (an NVIDIA device driver is registered)');
    tried.push(`--gpus: ${r.why}`);
  }
  const forced = mode === 'auto' ? '' : ` (--gpu-request ${mode})`;
  const host = info.kind === 'podman' ? `Podman host (${info.serverVersion}: its Docker-compatible API gives containers no GPUs)` : 'Docker host';
  return { available: false, detail: `no GPU runtime or CDI GPU device on this ${host}${forced}`, request: null, tried };
}
