import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildIndex, putIndex } from '../../src/publish/manifest-list.js';
import { RegistryClient } from '../../src/publish/registry-client.js';
import { runCli } from '../support/cli.js';
import { docker, privateExample, removeImages, removeImagesNamed } from '../support/docker.js';
import { startRegistry, type TestRegistry } from '../support/registry.js';

// A recipe for linux/amd64 and linux/arm64 on this amd64 machine: the arm64 image is built and
// smoke-tested under QEMU user emulation (npm run env:up registers it and makes the arm64 base
// image), each platform is pushed under its own tag, and every publish tag is one manifest list,
// read back by skopeo; an arm64 container from that list runs under emulation.

const BASE = 'dynamo-image-base/debian-python:bookworm';
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

let reg: TestRegistry;
beforeAll(async () => {
  reg = await startRegistry();
  cleanups.push(() => reg.dispose());
  // The base image as a registry serves it for several platforms: a manifest list of the two
  // locally made images.
  const digests: { platform: string; digest: string }[] = [];
  for (const [platform, local] of [
    ['linux/amd64', BASE],
    ['linux/arm64', `${BASE}-arm64`],
  ] as const) {
    const ref = `${reg.host}/base/debian-python:${platform.split('/')[1]}`;
    docker(['tag', local, ref]);
    docker(['push', ref]);
    cleanups.push(() => removeImages(ref));
    digests.push({
      platform,
      digest: execFileSync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`])
        .toString()
        .trim(),
    });
  }
  const client = new RegistryClient(reg.host, { source: 'none', secret: null });
  const index = await buildIndex(client, 'base/debian-python', digests);
  const target = {
    registry: reg.host,
    repository: 'base/debian-python',
    tags: [{ tag: 'bookworm', mutable: false, reference: `${reg.host}/base/debian-python:bookworm` }],
  };
  await putIndex(client, target, index, new Map());
}, 600_000);

describe('multi-platform images', () => {
  it('builds and tests every platform, pushes one manifest list per tag, and an arm64 container runs', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'multi');
    cleanups.push(ex.cleanup);
    // A per-platform file (issue 23, point 4): each image must get its own platform's.
    const sha: Record<string, string> = {};
    for (const arch of ['amd64', 'arm64']) {
      mkdirSync(path.join(ex.dir, 'lib', arch), { recursive: true });
      writeFileSync(path.join(ex.dir, 'lib', arch, 'platform.txt'), `built for ${arch}\n`);
      sha[arch] = createHash('sha256').update(`built for ${arch}\n`).digest('hex');
    }
    ex.edit((t) =>
      t.replace(
        /\nfiles:\n/,
        `\nfiles:\n  - source: lib/{arch}/platform.txt\n    destination: /opt/echo/platform.txt\n    sha256: { amd64: ${sha['amd64']}, arm64: ${sha['arm64']} }\n`,
      ),
    );
    ex.edit(
      (t) =>
        `${t
          .replace('image: dynamo-image-base/debian-python:bookworm', `image: ${reg.host}/base/debian-python:bookworm`)
          .replace('platforms: [linux/amd64]', 'platforms: [linux/amd64, linux/arm64]')
          .replace(
            /\n    - kind: serve[\s\S]*?(?=\n    - kind: command\n      name: a GPU)/,
            '',
          )}\npublish:\n  registry: "${reg.host}"\n  tags: ["{version}", "{version_minor}"]\n`,
    );
    cleanups.push(() => removeImagesNamed(ex.name));
    const r = await runCli(['publish', ex.recipe, '--json'], { timeoutMs: 900_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.platforms.map((p: { platform: string }) => p.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    for (const p of out.platforms) expect(p.smoke).toMatchObject({ ran: true, failed: 0 });
    // skopeo, another client, reads a manifest list with both platforms under each tag.
    for (const tag of ['0.1.0', '0.1']) {
      const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/${ex.name}:${tag}`]).toString());
      expect(raw.mediaType).toBe('application/vnd.docker.distribution.manifest.list.v2+json');
      expect(raw.manifests.map((m: { platform: { architecture: string } }) => m.platform.architecture)).toEqual(['amd64', 'arm64']);
    }
    // The registry API says the same digest for the tag.
    const head = await fetch(`http://${reg.host}/v2/${ex.name}/manifests/0.1.0`, {
      method: 'HEAD',
      headers: { Accept: 'application/vnd.docker.distribution.manifest.list.v2+json' },
    });
    expect(head.headers.get('docker-content-digest')).toBe(out.manifestList);
    // An arm64 container from the list, under emulation.
    const run = docker(
      [
        'run',
        '--rm',
        '--network',
        'none',
        '--platform',
        'linux/arm64',
        '--entrypoint',
        'python3',
        `${reg.host}/${ex.name}:0.1.0`,
        '-c',
        'import platform, echo_engine; print(platform.machine(), open("/opt/echo/platform.txt").read().strip())',
      ],
      { allowFail: true },
    );
    expect(run.stdout.trim(), run.stderr).toBe('aarch64 built for arm64');
    const amd = docker(
      ['run', '--rm', '--network', 'none', '--platform', 'linux/amd64', '--entrypoint', 'cat', `${reg.host}/${ex.name}:0.1.0`, '/opt/echo/platform.txt'],
      { allowFail: true },
    );
    expect(amd.stdout.trim(), amd.stderr).toBe('built for amd64');
    // A fresh runner re-running the publish: nothing built or pushed.
    removeImagesNamed(ex.name);
    const cache = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-multi-cache-'));
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }));
    const again = await runCli(['publish', ex.recipe, '--json'], { env: { DYNAMO_IMAGE_CACHE_DIR: cache } });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ registryUpToDate: true, manifestList: out.manifestList });
  }, 900_000);

  it('a recipe for linux/arm64 only builds for arm64 without --platform (issue 22, point 2), and its smoke tests run', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'armonly');
    cleanups.push(ex.cleanup);
    ex.edit((t) =>
      t
        .replace('image: dynamo-image-base/debian-python:bookworm', `image: ${reg.host}/base/debian-python:bookworm`)
        .replace('platforms: [linux/amd64]', 'platforms: [linux/arm64]')
        .replace(/\n    - kind: serve[\s\S]*?(?=\n    - kind: command\n      name: a GPU)/, ''),
    );
    cleanups.push(() => removeImagesNamed(ex.name));
    const r = await runCli(['build', ex.recipe, '--json'], { timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { smoke: { ran: boolean; failed: number } };
    expect(out.smoke).toMatchObject({ ran: true, failed: 0 });
    expect(docker(['image', 'inspect', '-f', '{{.Os}}/{{.Architecture}}', `${ex.name}:0.1.0`]).stdout.trim()).toBe('linux/arm64');
  }, 600_000);

  it('CI with a runner per platform: `--platform` jobs push TAG-ARCH, one `--merge` job assembles the lists', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'merge');
    cleanups.push(ex.cleanup);
    ex.edit(
      (t) =>
        `${t
          .replace('image: dynamo-image-base/debian-python:bookworm', `image: ${reg.host}/base/debian-python:bookworm`)
          .replace('platforms: [linux/amd64]', 'platforms: [linux/amd64, linux/arm64]')
          .replace(/\n    - kind: serve[\s\S]*?(?=\n    - kind: command\n      name: a GPU)/, '')}\npublish:\n  registry: "${reg.host}"\n`,
    );
    cleanups.push(() => removeImagesNamed(ex.name));
    // The GitHub matrix: one job per platform, and the variant once in the merge list.
    const gh = JSON.parse((await runCli(['matrix', ex.recipe, '--format', 'github'])).stdout) as {
      include: { platformArg: string; runner: string; command: string }[];
    };
    expect(gh.include.map((e) => [e.platformArg, e.runner])).toEqual([
      ['linux/amd64', 'ubuntu-24.04'],
      ['linux/arm64', 'ubuntu-24.04-arm'],
    ]);
    expect(gh.include[1]!.command).toContain('--platform linux/arm64');
    const merge = JSON.parse((await runCli(['matrix', ex.recipe, '--format', 'github-merge'])).stdout) as { include: { command: string }[] };
    expect(merge.include).toHaveLength(1);
    expect(merge.include[0]!.command).toMatch(/--merge$/);
    // Merging before the platforms are there is refused, naming what is missing.
    const early = await runCli(['publish', ex.recipe, '--merge']);
    expect(early.code).toBe(1);
    expect(early.stderr).toContain(`${reg.host}/${ex.name}:0.1.0-amd64 (linux/amd64)`);
    for (const platform of ['linux/amd64', 'linux/arm64']) {
      const r = await runCli(['publish', ex.recipe, '--platform', platform, '--json'], { timeoutMs: 900_000 });
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).pushed[0].reference).toBe(`${reg.host}/${ex.name}:0.1.0-${platform.split('/')[1]}`);
    }
    // The merge as a plan first (issue 21): data, versioned; nothing put in the registry.
    const dryMerge = await runCli(['publish', ex.recipe, '--merge', '--dry-run', '--json']);
    expect(dryMerge.code, dryMerge.stderr).toBe(0);
    const mergePlan = JSON.parse(dryMerge.stdout).release;
    expect(mergePlan).toMatchObject({ version: 1, kind: 'merge', registry: reg.host, repository: ex.name });
    expect(mergePlan.platforms.map((x: { platform: string }) => x.platform)).toEqual(['linux/amd64', 'linux/arm64']);
    expect(mergePlan.lists.map((l: { tag: string; action: string }) => [l.tag, l.action])).toContainEqual(['0.1.0', 'put']);
    expect((await fetch(`http://${reg.host}/v2/${ex.name}/manifests/0.1.0`, { method: 'HEAD' })).status).toBe(404);
    const m = await runCli(['publish', ex.recipe, '--merge', '--json']);
    expect(m.code, m.stderr).toBe(0);
    expect(JSON.parse(m.stdout).manifestList).toBe(mergePlan.manifestList);
    // Every platform and list in place: the per-platform release plan says nothing is left to do.
    const dry = await runCli(['publish', ex.recipe, '--dry-run', '--json']);
    expect(dry.code, dry.stderr).toBe(0);
    const plan = JSON.parse(dry.stdout).release;
    expect(plan).toMatchObject({ version: 1, kind: 'platforms' });
    expect(plan.platforms.map((x: { platform: string; upToDate: boolean }) => [x.platform, x.upToDate])).toEqual([
      ['linux/amd64', true],
      ['linux/arm64', true],
    ]);
    expect(plan.lists.every((l: { action: string }) => l.action === 'unchanged')).toBe(true);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/${ex.name}:0.1.0`]).toString());
    expect(raw.manifests.map((x: { platform: { architecture: string } }) => x.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(JSON.parse(m.stdout).manifestList).toBe(
      `sha256:${createHash('sha256')
        .update(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/${ex.name}:0.1.0`]))
        .digest('hex')}`,
    );
  }, 900_000);

  it('one engine binary per platform (bin/{arch}/engine): each image gets its own file, each file is checked against its own platform', async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-per-arch-'));
    cleanups.push(() => rmSync(dir, { recursive: true, force: true }));
    // Two real executables: each base image's own /usr/bin/true (the arm64 one read under emulation).
    for (const [arch, image] of [
      ['amd64', BASE],
      ['arm64', `${BASE}-arm64`],
    ] as const) {
      mkdirSync(path.join(dir, 'bin', arch), { recursive: true });
      writeFileSync(
        path.join(dir, 'bin', arch, 'engine'),
        execFileSync('docker', ['run', '--rm', '--network', 'none', '--platform', `linux/${arch}`, image, 'cat', '/usr/bin/true']),
        { mode: 0o755 },
      );
    }
    const name = `per-arch-${process.pid}`;
    cleanups.push(() => removeImagesNamed(name));
    const recipe = path.join(dir, 'recipe.yaml');
    const placeholder = 'f'.repeat(64);
    writeFileSync(
      recipe,
      `apiVersion: dynamo-image/v1
name: ${name}
version: 1.0.0
base:
  image: ${reg.host}/base/debian-python:bookworm
  os: debian12
  platforms: [linux/amd64, linux/arm64]
python: "3.11"
engine:
  framework: custom
  version: 1.0.0
  binary:
    path: bin/{arch}/engine
    sha256: { amd64: ${placeholder}, arm64: ${placeholder} }
    installPath: /opt/engine/bin/engine
backend:
  entrypoint: [/opt/engine/bin/engine]
smoke:
  tests:
    - kind: command
      name: the engine runs
      command: [/opt/engine/bin/engine]
`,
    );
    const pin = await runCli(['pin', recipe, '--json']);
    expect(pin.code, pin.stderr).toBe(0);
    expect(JSON.parse(pin.stdout).changes.map((c: { field: string }) => c.field)).toEqual(['engine.binary.sha256.amd64', 'engine.binary.sha256.arm64']);
    const render = await runCli(['render', recipe]);
    expect(render.stdout).toContain('ARG TARGETARCH\nCOPY bin/${TARGETARCH}/engine /opt/dynamo/staging-engine/opt/engine/bin/engine');

    const r = await runCli(['build', recipe, '--network', 'none', '--json'], { timeoutMs: 600_000 });
    expect(r.code, r.stderr).toBe(0);
    for (const p of JSON.parse(r.stdout).platforms) expect(p.smoke).toMatchObject({ ran: true, failed: 0 });
    // Each platform's image holds its own file: the ELF header's machine (0x3e x86-64, 0xb7 AArch64).
    const machine = (arch: string) =>
      docker([
        'run',
        '--rm',
        '--network',
        'none',
        '--platform',
        `linux/${arch}`,
        '--entrypoint',
        'od',
        `${name}:1.0.0-${arch}`,
        '-An',
        '-tx1',
        '-j18',
        '-N1',
        '/opt/engine/bin/engine',
      ]).stdout.trim();
    expect(machine('amd64')).toBe('3e');
    expect(machine('arm64')).toBe('b7');
    // The classic builder gets TARGETARCH from us.
    const classic = await runCli(['build', recipe, '--network', 'none', '--builder', 'classic', '--platform', 'linux/amd64', '--force', '--no-test']);
    expect(classic.code, classic.stderr).toBe(0);

    // The arm64 file where the amd64 one should be: refused before anything is built, at its digest's line.
    copyFileSync(path.join(dir, 'bin', 'arm64', 'engine'), path.join(dir, 'bin', 'amd64', 'engine'));
    await runCli(['pin', recipe]);
    const bad = await runCli(['validate', recipe]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(
      'error[input.platform-mismatch]: engine.binary.path: "bin/amd64/engine" is an ELF executable for linux/arm64, not linux/amd64',
    );
  }, 900_000);
});
