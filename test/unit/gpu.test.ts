import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { ContainerSpec, Engine, EngineInfo } from '../../src/engine/port.js';
import { OperationError } from '../../src/errors.js';
import { checkDriver, parseDriverVersion } from '../../src/smoke/driver.js';
import { cdiDevicesInSpecDirs, detectGpu, gpuRequestFor } from '../../src/smoke/gpu.js';

// Logic of the GPU request paths and the driver check. The evidence that requests reach a real
// engine is test/integration/newer-engine.test.ts (CDI) and smoke.test.ts (the NVIDIA hook).

describe('driver check (table)', () => {
  it.each([
    ['580.159.04', '580', '13.0', true],
    ['580.0.0', '580', '13.1', true],
    ['575.57.08', '580', '13.0', false],
    ['570.86.10', '575', '12.9', false],
    ['575.51.03', '575', '12.9', true],
    ['570.124.06', '570', '12.8', true],
    ['565.57.01', '570', '12.8', false],
    ['590.1', '580', '13.0', true],
  ])('driver %s, minimum %s for CUDA %s -> ok %s', (driver, min, cuda, ok) => {
    const v = checkDriver(driver, min, cuda);
    expect(v.ok).toBe(ok);
    if (!ok)
      expect(v.detail).toBe(
        `the host's NVIDIA driver ${driver} is older than ${min}, the minimum for CUDA ${cuda} (this image): update the driver to ${min} or newer, or use a variant built for an older CUDA`,
      );
  });

  it('an unreadable version is not a verdict', () => {
    expect(checkDriver('N/A', '580', '13.0')).toMatchObject({ ok: true, detail: expect.stringContaining('not checked') });
    expect(parseDriverVersion('580.159.04')).toEqual([580, 159, 4]);
    expect(parseDriverVersion('abc')).toBeNull();
  });

  it('several GPUs: the first line counts', () => {
    expect(checkDriver('570.86.10\n570.86.10\n', '580', '13.0').ok).toBe(false);
  });
});

describe('--gpu-devices per request path', () => {
  it.each([
    ['nvidia', undefined, { via: 'nvidia', devices: 'all' }],
    ['nvidia', ['0', '1'], { via: 'nvidia', devices: ['0', '1'] }],
    ['nvidia', ['nvidia.com/gpu=1'], { via: 'nvidia', devices: ['1'] }],
    ['cdi', undefined, { via: 'cdi', devices: ['nvidia.com/gpu=all'] }],
    ['cdi', ['0', '1'], { via: 'cdi', devices: ['nvidia.com/gpu=0', 'nvidia.com/gpu=1'] }],
    ['cdi', ['vendor.com/gpu=x'], { via: 'cdi', devices: ['vendor.com/gpu=x'] }],
  ] as const)('%s %j', (via, devices, want) => {
    expect(gpuRequestFor(via, devices ? [...devices] : undefined)).toEqual(want);
  });
});

describe('CDI spec folders', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'cdi-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  it('lists nvidia.com/gpu devices from JSON and YAML specs, ignores others and broken files', async () => {
    writeFileSync(path.join(dir, 'a.json'), JSON.stringify({ cdiVersion: '0.6.0', kind: 'nvidia.com/gpu', devices: [{ name: '0' }, { name: 'all' }] }));
    writeFileSync(path.join(dir, 'b.yaml'), 'cdiVersion: 0.6.0\nkind: nvidia.com/gpu\ndevices:\n  - name: "1"\n    containerEdits: {}\n');
    writeFileSync(path.join(dir, 'c.json'), JSON.stringify({ kind: 'vendor.com/fpga', devices: [{ name: '0' }] }));
    writeFileSync(path.join(dir, 'd.json'), '{ broken');
    expect((await cdiDevicesInSpecDirs([dir, path.join(dir, 'missing')])).sort()).toEqual(['nvidia.com/gpu=0', 'nvidia.com/gpu=1', 'nvidia.com/gpu=all']);
  });
});

/** An engine in memory: only what detectGpu uses. Start refuses the GPU ways it is told to refuse. */
function fakeEngine(
  info: Partial<EngineInfo['gpu']> & { local?: boolean; kind?: 'docker' | 'podman' },
  accepts: ('nvidia' | 'cdi')[],
): { engine: Engine; probes: ContainerSpec[] } {
  const probes: ContainerSpec[] = [];
  // Podman starts the container and drops the request: its inspect shows none.
  const drops = info.kind === 'podman';
  const engine = {
    info: async () => ({
      endpoint: 'fake',
      serverVersion: '0',
      kind: info.kind ?? 'docker',
      apiVersion: '1.45',
      os: 'linux',
      arch: 'amd64',
      buildkit: true,
      runNetwork: true,
      local: info.local ?? false,
      gpu: { runtimes: [], nvidiaRuntime: false, cdiDevices: [], cdiSpecDirs: [], ...info },
    }),
    createContainer: async (spec: ContainerSpec) => {
      probes.push(spec);
      return {
        id: 'x',
        start: async () => {
          if (!drops && spec.gpus && !accepts.includes(spec.gpus.via)) throw new OperationError('gpu.unavailable', `refused ${spec.gpus.via}`);
        },
        inspect: async () => ({ running: false, exitCode: 0, oomKilled: false, deviceRequests: spec.gpus && !drops ? 1 : 0 }),
        remove: async () => undefined,
      };
    },
  } as unknown as Engine;
  return { engine, probes };
}

describe('detectGpu chooses the way the engine offers', () => {
  it.each([
    ['NVIDIA runtime registered', { nvidiaRuntime: true }, [], 'auto', 'nvidia', 0],
    ['CDI devices reported', { cdiDevices: ['nvidia.com/gpu=0'] }, [], 'auto', 'cdi', 0],
    ['nothing reported, CDI probe accepted', {}, ['cdi'], 'auto', 'cdi', 1],
    ['nothing reported, only --gpus accepted (hook)', {}, ['nvidia'], 'auto', 'nvidia', 2],
    ['forced nvidia although CDI devices exist', { cdiDevices: ['nvidia.com/gpu=0'] }, ['nvidia'], 'nvidia', 'nvidia', 1],
    ['forced cdi although the runtime is registered', { nvidiaRuntime: true }, ['cdi'], 'cdi', 'cdi', 1],
    ['nothing at all', {}, [], 'auto', null, 2],
    ['forced cdi, refused', {}, ['nvidia'], 'cdi', null, 1],
    ['Podman: starts the probe but drops the request', { kind: 'podman' }, [], 'auto', null, 2],
  ] as const)('%s', async (_name, gpu, accepts, mode, via, probeCount) => {
    const { engine, probes } = fakeEngine({ ...gpu, cdiDevices: [...((gpu as { cdiDevices?: readonly string[] }).cdiDevices ?? [])] }, [...accepts]);
    const s = await detectGpu(engine, 'img', { mode });
    expect(s.available).toBe(via !== null);
    expect(s.request?.via ?? null).toBe(via);
    expect(probes).toHaveLength(probeCount);
    if (!s.available) expect(s.detail).toContain('no GPU runtime or CDI GPU device');
  });

  it('says why when the engine ran the probe without its GPU request (Podman)', async () => {
    const { engine } = fakeEngine({ kind: 'podman' }, []);
    const s = await detectGpu(engine, 'img', { mode: 'auto' });
    expect(s.detail).toContain('Podman host');
    expect(s.tried).toEqual([
      "CDI: the engine ran the container without the GPU request (Podman's Docker-compatible API ignores DeviceRequests)",
      "--gpus: the engine ran the container without the GPU request (Podman's Docker-compatible API ignores DeviceRequests)",
    ]);
  });
});
