import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { cudaMajorOf, cudaMismatches, distInfoOf, dpkgPackages, type Found } from '../../src/smoke/cuda-variant.js';
import { elfDynamic } from '../../src/smoke/elf.js';
import { ROOT } from '../support/cli.js';

// Issue 24, point 1: which CUDA major a thing in an image was built for, from its name alone.
describe('cudaMajorOf', () => {
  it.each<[Found['kind'], string, string | undefined, number | null]>([
    ['python', 'cupy-cuda12x', '13.6.0', 12],
    ['python', 'cupy-cuda13x', '13.6.0', 13],
    ['python', 'nvidia-cublas-cu12', '12.9.1.4', 12],
    ['python', 'nvidia-cuda-runtime-cu13', '13.0.88', 13],
    ['python', 'torch', '2.5.1+cu121', 12],
    ['python', 'torch', '2.9.0+cu130', 13],
    ['python', 'torch', '2.5.1+cu118', 11],
    ['python', 'torch', '2.9.0', null],
    ['python', 'numpy', '1.24.2', null],
    ['python', 'nvidia-nccl-cu12', '2.27.3', 12],
    ['dpkg', 'cuda-cudart-12-9', '12.9.79-1', 12],
    ['dpkg', 'cuda-nvrtc-13-0', '13.0.88-1', 13],
    ['dpkg', 'libcudart12', '12.0.146~12.0.1-4', 12],
    ['dpkg', 'libnccl2', '2.21.5-1+cuda12.4', 12],
    ['dpkg', 'libcudnn9-cuda-13', '9.13.0.50-1', 13],
    ['dpkg', 'libcufft11', '11.0.8', null], // cuFFT's SONAME major is its own (CUDA 12 ships libcufft.so.11)
    ['dpkg', 'zlib1g', '1:1.2.13', null],
    ['library', 'libcudart.so.12', undefined, 12],
    ['library', 'libcudart.so.13.0.88', undefined, 13],
    ['library', 'libcublasLt.so.12', undefined, 12],
    ['library', 'libnvJitLink.so.13', undefined, 13],
    ['library', 'libcufft.so.11', undefined, null],
    ['library', 'libcuda.so.1', undefined, null], // the driver's, not a toolkit's
    ['library', 'libz.so.1', undefined, null],
  ])('%s %s %s -> %s', (kind, name, version, want) => {
    expect(cudaMajorOf({ kind, name, ...(version ? { version } : {}), path: '/x' })).toBe(want);
  });
});

describe('cudaMismatches', () => {
  const found: Found[] = [
    { kind: 'python', name: 'cupy-cuda12x', version: '13.6.0', path: '/a' },
    { kind: 'python', name: 'nvidia-cublas-cu13', version: '13.0', path: '/b' },
    { kind: 'library', name: 'libcudart.so.12', path: '/c' },
    { kind: 'library', name: 'libcudart.so.12', path: '/c' },
  ];
  it('reports each thing of another major once; an allow entry (glob, PEP 503 names) takes it out with its reason', () => {
    expect(cudaMismatches(found, 13, []).wrong.map((w) => w.name)).toEqual(['cupy-cuda12x', 'libcudart.so.12']);
    const r = cudaMismatches(found, 13, [{ name: 'cupy_cuda12*', reason: 'legacy' }]);
    expect(r.wrong.map((w) => w.name)).toEqual(['libcudart.so.12']);
    expect(r.allowed).toMatchObject([{ name: 'cupy-cuda12x', reason: 'legacy' }]);
    expect(cudaMismatches(found, 12, []).wrong.map((w) => w.name)).toEqual(['nvidia-cublas-cu13']);
  });
});

describe('reading names', () => {
  it('dist-info folders, dpkg status (installed only), ELF SONAME and NEEDED', () => {
    expect(distInfoOf('cupy_cuda12x-13.6.0.dist-info')).toEqual({ name: 'cupy-cuda12x', version: '13.6.0' });
    expect(distInfoOf('not-a-dist')).toBeNull();
    expect(dpkgPackages('Package: a\nStatus: install ok installed\nVersion: 1\n\nPackage: b\nStatus: deinstall ok config-files\nVersion: 2\n')).toEqual([
      { name: 'a', version: '1' },
    ]);
    const so = readFileSync(path.join(ROOT, 'test/fixtures/elf/libstub-cudart12.so'));
    expect(elfDynamic(so)).toMatchObject({ soname: 'libcudart.so.12', machine: 62 });
    // Truncated before its strings: no answer rather than a wrong one.
    expect(elfDynamic(so.subarray(0, 200))).toBeNull();
    expect(elfDynamic(Buffer.from('#!/bin/sh\n'))).toBeNull();
  });
});

describe('the loader trace (issue 24, point 2)', () => {
  it('not found, driver libraries expected, stubs, resolved; a failed --preload', async () => {
    const { parseTrace, preloadFailed } = await import('../../src/smoke/loader.js');
    const out = [
      '\tlinux-vdso.so.1 (0x00007ff3bb041000)',
      '\tlibnixl_capi.so => not found',
      '\tlibcuda.so.1 => not found',
      '\tlibnvidia-ml.so.1 => not found',
      '\tlibcudart.so.13 => /usr/local/cuda/lib64/stubs/libcudart.so.13 (0x00007ff3bae50000)',
      '\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007ff3bae50000)',
      '\t/lib64/ld-linux-x86-64.so.2 (0x00007ff3bb043000)',
    ].join('\n');
    const r = parseTrace(out);
    expect(r.missing).toEqual(['libnixl_capi.so']);
    expect(r.driverMissing).toEqual(['libcuda.so.1', 'libnvidia-ml.so.1']);
    expect(r.stubs).toEqual([{ name: 'libcudart.so.13', path: '/usr/local/cuda/lib64/stubs/libcudart.so.13' }]);
    expect(r.resolved['libc.so.6']).toBe('/lib/x86_64-linux-gnu/libc.so.6');
    expect(preloadFailed('libx.so', "ERROR: ld.so: object 'libx.so' from --preload cannot be preloaded (cannot open shared object file): ignored.")).toBe(true);
    expect(preloadFailed('libx.so', '')).toBe(false);
  });
});

describe('overlay delta (issue 24, point 3)', () => {
  it('removed, upgraded/downgraded, shadowed by a second copy, added; violations minus the allow-list', async () => {
    const { overlayDelta, overlayViolations } = await import('../../src/smoke/overlay.js');
    const site = '/usr/local/lib/python3.12/dist-packages';
    const engine = [
      { kind: 'python' as const, name: 'torch', version: '2.9.0', where: site },
      { kind: 'python' as const, name: 'numpy', version: '2.1.0', where: site },
      { kind: 'python' as const, name: 'triton', version: '3.5.0', where: site },
      { kind: 'dpkg' as const, name: 'libnccl2', version: '2.27.3-1+cuda13.0', where: '/var/lib/dpkg/status' },
    ];
    const result = [
      { kind: 'python' as const, name: 'torch', version: '2.9.0', where: site },
      { kind: 'python' as const, name: 'numpy', version: '1.26.4', where: site },
      { kind: 'python' as const, name: 'torch', version: '2.10.0', where: '/opt/dynamo/venv/lib/python3.12/site-packages' },
      { kind: 'python' as const, name: 'ai-dynamo', version: '1.7.0', where: '/opt/dynamo/venv/lib/python3.12/site-packages' },
      { kind: 'dpkg' as const, name: 'libnccl2', version: '2.28.0-1+cuda13.0', where: '/var/lib/dpkg/status' },
    ];
    const d = overlayDelta(engine, result, []);
    expect(d.removed.map((x) => x.name)).toEqual(['triton']);
    expect(d.changed.map((x) => `${x.name} ${x.direction}`)).toEqual(['numpy downgraded', 'libnccl2 changed']);
    expect(d.shadowed.map((x) => `${x.name} ${x.version}`)).toEqual(['torch 2.10.0']);
    expect(d.added.map((x) => x.name)).toEqual(['ai-dynamo']);
    expect(overlayViolations(d, [])).toHaveLength(4);
    expect(
      overlayViolations(d, [
        { name: 'lib*', reason: 'r' },
        { name: 'Triton', reason: 'r' },
      ]),
    ).toEqual([
      `python numpy downgraded: 2.1.0 -> 1.26.4 (${site})`,
      `python torch 2.10.0 installed again at /opt/dynamo/venv/lib/python3.12/site-packages, beside the engine's 2.9.0 at ${site}`,
    ]);
  });
});
