import { mkdtempSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, privateExample, removeImages, removeImagesNamed } from '../support/docker.js';
import { startFaultProxy, type FaultProxy } from '../support/fault-proxy.js';
import { skopeoDigest, startRegistry, type TestRegistry } from '../support/registry.js';

// CI as it runs: every job on a fresh runner, with no local image, no digest cache and no test
// records, and the registry already holding the last release. Re-running an unchanged publish
// there must succeed without building (issue 11, point 1), and a publish that failed partway must
// be finished by a plain re-run there too.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

/** What a fresh runner lacks: the local images of this recipe, and the cache folder. */
function freshRunner(name: string): NodeJS.ProcessEnv {
  const ids = docker(['images', '-q', '--filter', `reference=*${name}*`])
    .stdout.split('\n')
    .filter(Boolean);
  const all = docker(['images', '--format', '{{.Repository}}:{{.Tag}}'])
    .stdout.split('\n')
    .filter((r) => r.includes(name));
  removeImages(...all, ...ids);
  const cache = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-fresh-cache-'));
  cleanups.push(() => rmSync(cache, { recursive: true, force: true }));
  return { DYNAMO_IMAGE_CACHE_DIR: cache };
}

function example(registry: string, tags: string) {
  const ex = privateExample('recipes/examples/echo-python', 'fresh');
  ex.edit((t) => `${t}\npublish:\n  registry: "${registry}"\n  tags: ${tags}\n`);
  cleanups.push(ex.cleanup);
  cleanups.push(() => removeImagesNamed(ex.name));
  return ex;
}

describe('a fresh runner re-running an unchanged publish', () => {
  let reg: TestRegistry;
  let proxy: FaultProxy;
  beforeAll(async () => {
    reg = await startRegistry();
    cleanups.push(() => reg.dispose());
    proxy = await startFaultProxy(reg.host);
    cleanups.push(() => proxy.close());
  });

  it('exits 0 without building, testing or pushing: the registry holds this build', async () => {
    const ex = example(reg.host, '["{version}", "{version}-py"]');
    const first = await runCli(['publish', ex.recipe, '--json']);
    expect(first.code, first.stderr).toBe(0);
    const digest = JSON.parse(first.stdout).pushed[0].digest;
    const env = freshRunner(ex.name);
    expect(docker(['images', '-q', `${ex.name}:0.1.0`]).stdout.trim()).toBe('');
    const again = await runCli(['publish', ex.recipe, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out).toMatchObject({ registryUpToDate: true, image: null, pushed: [] });
    expect(out.unchanged.map((u: { digest: string }) => u.digest)).toEqual([digest, digest]);
    // Nothing was built: the fresh runner still has no image of this recipe.
    expect(docker(['images', '-q', `${ex.name}:0.1.0`]).stdout.trim()).toBe('');
    expect(skopeoDigest(`${reg.host}/${ex.name}:0.1.0`)).toBe(digest);
    // The dry run says the same before doing anything.
    const dry = await runCli(['publish', ex.recipe, '--dry-run'], { env });
    expect(dry.stdout).toContain('build: not needed (the registry already holds this build)');
    expect(dry.stdout).toContain(`unchanged ${reg.host}/${ex.name}:0.1.0-py: already this build`);
  });

  it('a publish that failed on its second tag is finished by a re-run on a fresh runner, with one digest for both', async () => {
    const ex = example(proxy.host, '["{version}", "{version}-second"]');
    proxy.failManifestTag = '0.1.0-second';
    const failed = await runCli(['publish', ex.recipe], { env: { DYNAMO_IMAGE_RETRIES: '1' } });
    proxy.failManifestTag = null;
    expect(failed.code, failed.stderr).toBe(1);
    const first = skopeoDigest(`${reg.host}/${ex.name}:0.1.0`);
    const env = freshRunner(ex.name);
    const again = await runCli(['publish', ex.recipe, '--json'], { env });
    expect(again.code, again.stderr).toBe(0);
    const out = JSON.parse(again.stdout);
    expect(out.registryUpToDate).toBe(true);
    expect(out.pushed).toEqual([{ reference: `${proxy.host}/${ex.name}:0.1.0-second`, digest: first }]);
    expect(skopeoDigest(`${reg.host}/${ex.name}:0.1.0-second`)).toBe(first);
    expect(docker(['images', '-q', `${ex.name}:0.1.0`]).stdout.trim()).toBe('');
  });

  it('a changed recipe is a new build: it is built and the immutable tag is refused before any build', async () => {
    const ex = example(reg.host, '["{version}"]');
    expect((await runCli(['publish', ex.recipe, '--quiet'])).code).toBe(0);
    ex.edit((t) => t.replace('description: ', 'description: changed '));
    const env = freshRunner(ex.name);
    const r = await runCli(['publish', ex.recipe], { env });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[publish.tag-exists]');
    // Refused from the registry's answer alone: nothing was built.
    expect(docker(['images', '-q', `${ex.name}:0.1.0`]).stdout.trim()).toBe('');
  });
});

describe('registry build cache on a fresh engine (issue 11, point 4)', () => {
  it('the next version, built on a new engine with --cache-from the published image: every Dockerfile step cached', async () => {
    const { startSecondEngine } = await import('../support/second-engine.js');
    const reg = await startRegistry();
    cleanups.push(() => reg.dispose());
    const ex = example(reg.host, '["{version}"]');
    const pub = await runCli(['publish', ex.recipe, '--quiet', '--builder', 'buildkit']);
    expect(pub.code, pub.stderr).toBe(0);
    ex.edit((t) => t.replace(/^version: 0\.1\.0$/m, 'version: 0.2.0'));
    const engine = await startSecondEngine(['dynamo-image-base/debian-python:bookworm'], { gpuHook: false });
    cleanups.push(() => engine.stop());
    const cache = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-fresh-cache-'));
    cleanups.push(() => rmSync(cache, { recursive: true, force: true }));
    const env = { DOCKER_HOST: engine.host, DYNAMO_IMAGE_CACHE_DIR: cache };
    const r = await runCli(['build', ex.recipe, '--no-test', '--json', '--builder', 'buildkit', '--cache-from', `${reg.host}/${ex.name}:0.1.0`], { env });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.upToDate).toBe(false);
    expect(out.totalSteps).toBeGreaterThan(5);
    expect(out.cachedSteps).toBe(out.totalSteps);
    // Without it, the same fresh engine builds everything (here: a version it has not seen).
    ex.edit((t) => t.replace(/^version: 0\.2\.0$/m, 'version: 0.3.0'));
    const engine2 = await startSecondEngine(['dynamo-image-base/debian-python:bookworm'], { gpuHook: false });
    cleanups.push(() => engine2.stop());
    const cold = await runCli(['build', ex.recipe, '--no-test', '--json', '--builder', 'buildkit'], { env: { ...env, DOCKER_HOST: engine2.host } });
    expect(JSON.parse(cold.stdout).cachedSteps).toBe(0);
  });
});
