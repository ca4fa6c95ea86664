import { createHash } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
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
  for (const [platform, local] of [['linux/amd64', BASE], ['linux/arm64', `${BASE}-arm64`]] as const) {
    const ref = `${reg.host}/base/debian-python:${platform.split('/')[1]}`;
    docker(['tag', local, ref]);
    docker(['push', ref]);
    cleanups.push(() => removeImages(ref));
    digests.push({ platform, digest: execFileSync('skopeo', ['inspect', '--tls-verify=false', '--format', '{{.Digest}}', `docker://${ref}`]).toString().trim() });
  }
  const client = new RegistryClient(reg.host, { source: 'none', secret: null });
  const index = await buildIndex(client, 'base/debian-python', digests);
  const target = { registry: reg.host, repository: 'base/debian-python', tags: [{ tag: 'bookworm', mutable: false, reference: `${reg.host}/base/debian-python:bookworm` }] };
  await putIndex(client, target, index, new Map());
}, 600_000);

describe('multi-platform images', () => {
  it('builds and tests every platform, pushes one manifest list per tag, and an arm64 container runs', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'multi');
    cleanups.push(ex.cleanup);
    ex.edit((t) =>
      `${t
        .replace('image: dynamo-image-base/debian-python:bookworm', `image: ${reg.host}/base/debian-python:bookworm`)
        .replace('platforms: [linux/amd64]', 'platforms: [linux/amd64, linux/arm64]')
        .replace(/\n    - kind: serve[\s\S]*?(?=\n    - kind: command\n      name: a GPU)/, '')}\npublish:\n  registry: "${reg.host}"\n  tags: ["{version}", "{version_minor}"]\n`,
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
    const head = await fetch(`http://${reg.host}/v2/${ex.name}/manifests/0.1.0`, { method: 'HEAD', headers: { Accept: 'application/vnd.docker.distribution.manifest.list.v2+json' } });
    expect(head.headers.get('docker-content-digest')).toBe(out.manifestList);
    // An arm64 container from the list, under emulation.
    const run = docker(['run', '--rm', '--network', 'none', '--platform', 'linux/arm64', '--entrypoint', 'python3', `${reg.host}/${ex.name}:0.1.0`, '-c', 'import platform, echo_engine; print(platform.machine())'], { allowFail: true });
    expect(run.stdout.trim(), run.stderr).toBe('aarch64');
    // A fresh runner re-running the publish: nothing built or pushed.
    removeImagesNamed(ex.name);
    const cache = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-multi-cache-'));
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }));
    const again = await runCli(['publish', ex.recipe, '--json'], { env: { DYNAMO_IMAGE_CACHE_DIR: cache } });
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ registryUpToDate: true, manifestList: out.manifestList });
  }, 900_000);

  it('CI with a runner per platform: `--platform` jobs push TAG-ARCH, one `--merge` job assembles the lists', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'merge');
    cleanups.push(ex.cleanup);
    ex.edit((t) =>
      `${t
        .replace('image: dynamo-image-base/debian-python:bookworm', `image: ${reg.host}/base/debian-python:bookworm`)
        .replace('platforms: [linux/amd64]', 'platforms: [linux/amd64, linux/arm64]')
        .replace(/\n    - kind: serve[\s\S]*?(?=\n    - kind: command\n      name: a GPU)/, '')}\npublish:\n  registry: "${reg.host}"\n`,
    );
    cleanups.push(() => removeImagesNamed(ex.name));
    // The GitHub matrix: one job per platform, and the variant once in the merge list.
    const gh = JSON.parse((await runCli(['matrix', ex.recipe, '--format', 'github'])).stdout) as { include: { platformArg: string; runner: string; command: string }[] };
    expect(gh.include.map((e) => [e.platformArg, e.runner])).toEqual([['linux/amd64', 'ubuntu-24.04'], ['linux/arm64', 'ubuntu-24.04-arm']]);
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
    const m = await runCli(['publish', ex.recipe, '--merge', '--json']);
    expect(m.code, m.stderr).toBe(0);
    const raw = JSON.parse(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/${ex.name}:0.1.0`]).toString());
    expect(raw.manifests.map((x: { platform: { architecture: string } }) => x.platform.architecture)).toEqual(['amd64', 'arm64']);
    expect(JSON.parse(m.stdout).manifestList).toBe(`sha256:${createHash('sha256').update(execFileSync('skopeo', ['inspect', '--tls-verify=false', '--raw', `docker://${reg.host}/${ex.name}:0.1.0`])).digest('hex')}`);
  }, 900_000);
});
