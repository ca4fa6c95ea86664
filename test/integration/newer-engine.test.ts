import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { docker, privateExample } from '../support/docker.js';
import { skopeoDigest, startRegistry, type TestRegistry } from '../support/registry.js';
import { startNetProbe, stepNetworkSteps } from '../support/net-probe.js';
import { startSecondEngine, type SecondEngine } from '../support/second-engine.js';

// A newer engine than Debian bookworm's 20.10: Debian trixie's dockerd 26.1.5 (API 1.45), fetched
// by scripts/newer-engine.sh (npm run env:up does it), started by this test on its own socket and
// data root with CDI enabled. Build (BuildKit and classic), smoke tests and publish run against it.
//
// GPUs through CDI, WITHOUT A GPU: the CDI spec's device `nvidia.com/gpu=0` is /dev/null, and it
// bind-mounts a stand-in `nvidia-smi` (a shell script that prints a fake GPU line and a driver
// version read from a file) at /usr/bin/nvidia-smi, as NVIDIA's generated specs mount the real one.
// The engine applies the CDI edits itself, so these tests show that the request reaches the engine
// the CDI way and that the driver check reads and judges a version. They prove nothing about a GPU.

const STATE = process.env['DYNAMO_IMAGE_ENV_DIR'] ?? '/var/tmp/dynamo-image-env';
const BASE = 'dynamo-image-base/debian-python:bookworm';

let engine: SecondEngine;
let env: NodeJS.ProcessEnv;
const dir = mkdtempSync('/tmp/dig-cdi-');
const fake = path.join(dir, 'fake-nvidia');
const cleanups: (() => unknown)[] = [];

function setDriver(version: string) {
  writeFileSync(path.join(fake, 'driver_version'), `${version}\n`);
}

beforeAll(async () => {
  const dockerd = execFileSync('bash', [path.join(ROOT, 'scripts/newer-engine.sh'), STATE], { stdio: ['ignore', 'pipe', 'pipe'], timeout: 300_000 })
    .toString()
    .trim()
    .split('\n')
    .pop()!;
  const specs = path.join(dir, 'cdi');
  mkdirSync(specs);
  mkdirSync(fake);
  const smi = path.join(fake, 'nvidia-smi');
  writeFileSync(
    smi,
    '#!/bin/sh\n# stand-in for nvidia-smi: no GPU behind it\ncase "$*" in\n  *driver_version*) cat /etc/fake-nvidia/driver_version ;;\n  *) echo "GPU 0: STAND-IN, NOT A GPU (UUID: GPU-00000000-0000-0000-0000-000000000000)" ;;\nesac\n',
  );
  chmodSync(smi, 0o755);
  setDriver('580.159.04');
  const spec = {
    cdiVersion: '0.6.0',
    kind: 'nvidia.com/gpu',
    devices: [
      { name: '0', containerEdits: { deviceNodes: [{ path: '/dev/nvidia0', hostPath: '/dev/null' }] } },
      { name: 'all', containerEdits: { deviceNodes: [{ path: '/dev/nvidia0', hostPath: '/dev/null' }] } },
    ],
    containerEdits: {
      mounts: [
        { hostPath: smi, containerPath: '/usr/bin/nvidia-smi', options: ['ro', 'nosuid', 'nodev', 'bind'] },
        { hostPath: fake, containerPath: '/etc/fake-nvidia', options: ['ro', 'nosuid', 'nodev', 'bind'] },
      ],
    },
  };
  writeFileSync(path.join(specs, 'fake-nvidia.json'), JSON.stringify(spec));
  engine = await startSecondEngine([BASE], { gpuHook: false, dockerd, daemonConfig: { features: { cdi: true }, 'cdi-spec-dirs': [specs] } });
  env = { DOCKER_HOST: engine.host };
}, 400_000);

afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await engine?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('Docker Engine 26 (Debian trixie)', () => {
  it('is the newer engine, with CDI on', () => {
    expect(engine.version).toMatch(/^26\.1\.\d+\S* API 1\.45$/);
    const info = JSON.parse(docker(['-H', engine.host, 'info', '--format', '{{json .CDISpecDirs}}']).stdout);
    expect(info).toEqual([path.join(dir, 'cdi')]);
  });

  it('builds with BuildKit and the smoke tests pass, the GPU test through CDI (stand-in device)', async () => {
    const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml', '--builder', 'buildkit', '--gpu', 'require', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.smoke).toMatchObject({ ran: true, failed: 0, skipped: 0 });
    const t = await runCli(['test', 'recipes/examples/echo-python/recipe.yaml', '--gpu', 'require', '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    const rep = JSON.parse(t.stdout);
    expect(rep.gpu.request).toEqual({ via: 'cdi', devices: ['nvidia.com/gpu=all'] });
    expect(rep.gpu.detail).toContain('nvidia.com/gpu=0');
    expect(rep.results.find((x: { name: string }) => x.name === 'a GPU is visible')).toMatchObject({ status: 'passed', gpu: true });
    expect(docker(['-H', engine.host, 'ps', '-aq']).stdout.trim()).toBe('');
  });

  // Reproducible digests (bench/reproducible.sh compares two fresh engines; this is the quick
  // guard): with SOURCE_DATE_EPOCH, a rebuild with no cache seconds later is the same image.
  it('SOURCE_DATE_EPOCH: a rebuild without cache is the same image id; its config and every file the build wrote carry the epoch', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'sde26');
    cleanups.push(ex.cleanup, () => docker(['-H', engine.host, 'rmi', '-f', `${ex.name}:0.1.0`]));
    const renv = { ...env, SOURCE_DATE_EPOCH: '1700000000' };
    const a = await runCli(['build', ex.recipe, '--builder', 'buildkit', '--no-test', '--json'], { env: renv });
    expect(a.code, a.stderr).toBe(0);
    expect(a.stderr).toContain('inline cache off for this build: SOURCE_DATE_EPOCH is set');
    await new Promise((r) => setTimeout(r, 1500));
    const b = await runCli(['build', ex.recipe, '--builder', 'buildkit', '--no-test', '--no-cache', '--json'], { env: renv });
    expect(b.code, b.stderr).toBe(0);
    const id = JSON.parse(a.stdout).image;
    expect(JSON.parse(b.stdout).image).toBe(id);
    expect(docker(['-H', engine.host, 'inspect', '--format', '{{.Created}}', id]).stdout.trim()).toBe('2023-11-14T22:13:20Z');
    // Nothing in the image is newer than the epoch but what the base brought (its files are older).
    const newer = docker([
      '-H',
      engine.host,
      'run',
      '--rm',
      '--network',
      'none',
      '--entrypoint',
      'find',
      id,
      '/opt/dynamo',
      '/etc/echo-engine',
      '/workspace',
      '-newermt',
      '@1700000000',
    ]);
    expect(newer.stdout.trim()).toBe('');
  });

  it('--gpu-devices 0 becomes the CDI name nvidia.com/gpu=0', async () => {
    const t = await runCli(['test', 'recipes/examples/echo-python/recipe.yaml', '--gpu', 'require', '--gpu-devices', '0', '--json'], { env });
    expect(t.code, t.stderr).toBe(0);
    expect(JSON.parse(t.stdout).gpu.request).toEqual({ via: 'cdi', devices: ['nvidia.com/gpu=0'] });
  });

  it('--gpu require still fails honestly where the way asked for does not exist (--gpu-request nvidia: no NVIDIA runtime)', async () => {
    const t = await runCli(['test', 'recipes/examples/echo-python/recipe.yaml', '--gpu', 'require', '--gpu-request', 'nvidia', '--json'], { env });
    expect(t.code).toBe(1);
    const rep = JSON.parse(t.stdout);
    expect(rep.gpu.available).toBe(false);
    expect(rep.results.find((x: { name: string }) => x.name === 'a GPU is visible')).toMatchObject({ status: 'failed' });
    expect(rep.results.find((x: { name: string }) => x.name === 'a GPU is visible').reason).toContain('no GPU runtime or CDI GPU device');
  });

  it('builds with the classic builder too', async () => {
    const ex = privateExample('recipes/examples/echo-binary', 'classic26');
    cleanups.push(ex.cleanup);
    const r = await runCli(['build', ex.recipe, '--builder', 'classic', '--gpu', 'off', '--json'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).smoke).toMatchObject({ ran: true, failed: 0 });
    expect(docker(['-H', engine.host, 'image', 'inspect', '--format', '{{.Id}}', `${ex.name}:0.2.0`]).stdout.trim()).toBe(JSON.parse(r.stdout).image);
  });

  it('each step gets the network it asked for: RUN --network=none keeps one offline while another reaches the host (issue 19, point 6)', async () => {
    const probe = await startNetProbe();
    cleanups.push(() => probe.close());
    const ex = privateExample('recipes/examples/echo-python', 'net26');
    cleanups.push(ex.cleanup);
    ex.edit((t) => `${t}${stepNetworkSteps(probe.port)}`);
    // A bridge-less engine: the step that downloads needs --network host, and only it gets it.
    const r = await runCli(['build', ex.recipe, '--builder', 'buildkit', '--network', 'host', '--no-test', '--progress', 'plain'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('RUN --network=none');
    const read = (f: string) =>
      docker(['-H', engine.host, 'run', '--rm', '--network', 'none', '--entrypoint', 'cat', `${ex.name}:0.1.0`, `/opt/netcheck/${f}`]).stdout;
    expect(read('online')).toBe('reached');
    expect(read('offline')).toBe('unreachable');
    expect(probe.connections()).toBe(1);
  });

  describe('publish from engine 26', () => {
    let reg: TestRegistry;
    beforeAll(async () => {
      reg = await startRegistry();
      cleanups.push(() => reg.dispose());
    });
    it('pushes and verifies; skopeo reads the same digest', async () => {
      const ex = privateExample('recipes/examples/echo-python', 'pub26');
      cleanups.push(ex.cleanup);
      ex.edit((t) => `${t}\npublish:\n  registry: "${reg.host}"\n`);
      const r = await runCli(['publish', ex.recipe, '--gpu', 'off', '--json'], { env });
      expect(r.code, r.stderr).toBe(0);
      const pushed = JSON.parse(r.stdout).pushed;
      expect(pushed).toHaveLength(1);
      expect(skopeoDigest(pushed[0].reference)).toBe(pushed[0].digest);
    });
  });

  describe('the driver check (stand-in nvidia-smi reporting a driver version)', () => {
    it('a CUDA 13.0 image on a 570 driver: every GPU test fails with one line naming both versions', async () => {
      const b = await runCli(['build', 'recipes/examples/echo-matrix/recipe.yaml', '--variant', 'cuda=13.0', '--no-test', '--quiet'], { env });
      expect(b.code, b.stderr).toBe(0);
      setDriver('570.86.10');
      try {
        const t = await runCli(['test', 'recipes/examples/echo-matrix/recipe.yaml', '--variant', 'cuda=13.0', '--gpu', 'require', '--json'], { env });
        expect(t.code).toBe(1);
        const rep = JSON.parse(t.stdout);
        expect(rep.gpu.driver).toMatchObject({ version: '570.86.10', minimum: '580', ok: false });
        const gpuTest = rep.results.find((x: { gpu: boolean }) => x.gpu);
        expect(gpuTest.status).toBe('failed');
        expect(gpuTest.reason).toBe(
          "the host's NVIDIA driver 570.86.10 is older than 580, the minimum for CUDA 13.0 (this image): update the driver to 580 or newer, or use a variant built for an older CUDA",
        );
        // The CPU tests still ran and passed.
        expect(rep.results.filter((x: { gpu: boolean; status: string }) => !x.gpu && x.status === 'passed').length).toBeGreaterThan(0);
        // The same image on a 580 driver passes.
        setDriver('580.159.04');
        const ok = await runCli(['test', 'recipes/examples/echo-matrix/recipe.yaml', '--variant', 'cuda=13.0', '--gpu', 'require', '--json'], { env });
        expect(ok.code, ok.stderr).toBe(0);
        expect(JSON.parse(ok.stdout).gpu.driver).toMatchObject({ version: '580.159.04', ok: true });
      } finally {
        setDriver('580.159.04');
      }
    });
  });
});
