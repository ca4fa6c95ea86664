import { createHash } from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { quietProgress } from '../../src/builder/progress.js';
import { expandRecipes } from '../../src/pipeline/variants.js';
import { buildAndTest, type BuildAndTestOptions } from '../../src/pipeline/build-and-test.js';
import { buildVariants } from '../../src/pipeline/build-variants.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { publishImage, publishTarget } from '../../src/publish/publish.js';
import { runSmokeTests } from '../../src/smoke/run-tests.js';
import { FakeEngine } from '../support/fake-engine.js';
import { ROOT } from '../support/cli.js';

// The ordering rules, against the Engine port in memory (test/support/fake-engine.ts). The real
// engine's integration tests show the features work; these show the pipeline's order of calls.

process.env['DYNAMO_IMAGE_CACHE_DIR'] = path.join(ROOT, '.dynamo-image', 'unit-cache');
const RECIPE = path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml');

function options(over: Partial<BuildAndTestOptions> = {}): BuildAndTestOptions {
  return {
    target: 'runtime',
    builder: 'buildkit',
    signal: new AbortController().signal,
    progress: quietProgress,
    test: true,
    smoke: { gpu: 'off', jobs: 1 },
    ...over,
  };
}

describe('tags only after the smoke tests pass', () => {
  it('a failing test: no tag at all, and every test container is removed', async () => {
    const planned = await planRecipe(RECIPE);
    const engine = new FakeEngine();
    engine.run = (spec) => ((spec.entrypoint ?? [])[0] === 'echo-engine' ? { exitCode: 3, stderr: 'boom' } : { exitCode: 0 });
    await expect(buildAndTest(engine, planned, options())).rejects.toMatchObject({ code: 'smoke.failed' });
    expect(engine.calls.filter((c) => c.startsWith('tag '))).toEqual([]);
    expect(engine.containers.size).toBe(0);
  });

  it('passing tests: the first tag comes after the last test container is removed', async () => {
    const planned = await planRecipe(RECIPE);
    const engine = new FakeEngine();
    engine.run = (spec) => ((spec.entrypoint ?? [])[0] === 'echo-engine' ? { exitCode: 0, stdout: 'echo-engine 0.1.0' } : { exitCode: 0, stdout: '' });
    // Only the first command test: the others need a real image.
    const one = {
      ...planned,
      plan: { ...planned.plan, smoke: { ...planned.plan.smoke, tests: planned.plan.smoke.tests.filter((t) => t.kind === 'command' && !t.gpu).slice(0, 1) } },
    };
    const r = await buildAndTest(engine, one, options());
    expect(r.smoke).toMatchObject({ ran: true, failed: 0 });
    const firstTag = engine.calls.findIndex((c) => c.startsWith('tag '));
    const lastRemove = engine.calls.map((c) => c.startsWith('remove ')).lastIndexOf(true);
    expect(firstTag).toBeGreaterThan(lastRemove);
    expect(lastRemove).toBeGreaterThan(engine.calls.indexOf('build runtime'));
  });
});

describe('smoke tests: timeouts and cancel remove their containers', () => {
  it('a test that never ends fails at its timeout, and its container is removed', async () => {
    const engine = new FakeEngine();
    const { plan } = await planRecipe(RECIPE);
    const image = (
      await engine.build({
        context: (await import('node:stream')).Readable.from([]),
        dockerfile: 'x',
        buildArgs: {},
        labels: {},
        cacheFrom: [],
        builder: 'buildkit',
        network: 'none',
        signal: new AbortController().signal,
        onEvent: () => undefined,
      })
    ).imageId;
    engine.run = () => ({ hang: true });
    const rep = await runSmokeTests(engine, {
      image,
      tests: [{ kind: 'command', name: 'hangs', gpu: false, timeout: '300ms', command: ['sleep', 'inf'], exitCode: 0 }],
      limits: plan.smoke.limits,
      timeout: '10s',
      gpu: 'off',
      jobs: 1,
      signal: new AbortController().signal,
    });
    expect(rep.results[0]).toMatchObject({ status: 'failed', reason: 'timed out after 300ms; the container was removed' });
    expect(engine.containers.size).toBe(0);
  });

  it('a cancel (Ctrl-C) mid-test rejects with its reason and leaves no container', async () => {
    const engine = new FakeEngine();
    const { plan } = await planRecipe(RECIPE);
    const image = (
      await engine.build({
        context: (await import('node:stream')).Readable.from([]),
        dockerfile: 'x',
        buildArgs: {},
        labels: {},
        cacheFrom: [],
        builder: 'buildkit',
        network: 'none',
        signal: new AbortController().signal,
        onEvent: () => undefined,
      })
    ).imageId;
    engine.run = () => ({ hang: true });
    const ac = new AbortController();
    setTimeout(() => ac.abort(new Error('SIGINT')), 200);
    const tests = [1, 2, 3].map((i) => ({ kind: 'command' as const, name: `t${i}`, gpu: false, command: ['sleep', 'inf'], exitCode: 0 }));
    await expect(runSmokeTests(engine, { image, tests, limits: plan.smoke.limits, timeout: '10s', gpu: 'off', jobs: 3, signal: ac.signal })).rejects.toThrow(
      'SIGINT',
    );
    expect(engine.calls.filter((c) => c.startsWith('create '))).toHaveLength(3);
    expect(engine.containers.size).toBe(0);
  });
});

describe('publish: every tag checked before the first push; mutable tags last', () => {
  // A registry in memory on 127.0.0.1: /v2/ and HEAD/GET of manifests, every request logged.
  const seen: string[] = [];
  const manifests = new Map<string, { digest: string; config: string }>();
  // Content-addressed, as a registry is: a manifest's digest is the sha256 of the bytes served.
  const body = (config: string) =>
    JSON.stringify({ schemaVersion: 2, mediaType: 'application/vnd.docker.distribution.manifest.v2+json', config: { digest: config } });
  const entry = (config: string) => ({ digest: `sha256:${createHash('sha256').update(body(config)).digest('hex')}`, config });
  let host = '';
  let server: http.Server;
  beforeAll(async () => {
    server = http.createServer((req, res) => {
      seen.push(`${req.method} ${req.url}`);
      if (req.url === '/v2/') return void res.writeHead(200).end('{}');
      const m = /^\/v2\/(.+)\/manifests\/(.+)$/.exec(req.url ?? '');
      const hit = m ? (manifests.get(`${m[1]}:${m[2]}`) ?? [...manifests.values()].find((x) => x.digest === m[2])) : undefined;
      if (!hit) return void res.writeHead(404).end();
      res.writeHead(200, { 'docker-content-digest': hit.digest, 'content-type': 'application/vnd.docker.distribution.manifest.v2+json' });
      res.end(req.method === 'HEAD' ? undefined : body(hit.config));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('checks all three tags, then pushes the immutable ones, then latest', async () => {
    const { plan } = await planRecipe(RECIPE);
    const p = { ...plan, publish: { registry: host, tags: ['{version}', '{version}-py'], mutableTags: ['latest'] } };
    const target = publishTarget(p, { registry: host });
    const engine = new FakeEngine();
    const imageId = (
      await engine.build({
        context: (await import('node:stream')).Readable.from([]),
        dockerfile: 'x',
        buildArgs: {},
        labels: {},
        cacheFrom: [],
        builder: 'buildkit',
        network: 'none',
        signal: new AbortController().signal,
        onEvent: () => undefined,
      })
    ).imageId;
    // The registry already has `latest` (another image): it is mutable, so it moves, last.
    manifests.set('echo-python:latest', entry(`sha256:${'b'.repeat(64)}`));
    seen.length = 0;
    const order: string[] = [];
    const orig = engine.push.bind(engine);
    engine.push = async (repo, tag) => {
      order.push(`push ${tag} after ${seen.filter((s) => s.startsWith('HEAD')).length} checks`);
      return orig(repo, tag);
    };
    // The pushes are verified against the registry afterwards: make them land.
    engine.pushDigest = entry(imageId).digest;
    const land = setInterval(() => {
      for (const t of ['0.1.0', '0.1.0-py', 'latest'])
        if (engine.calls.includes(`push ${host}/echo-python:${t}`)) manifests.set(`echo-python:${t}`, { digest: engine.pushDigest, config: imageId });
    }, 1);
    try {
      const pushed = await publishImage({
        engine,
        imageId,
        target,
        creds: { source: 'none', secret: null },
        policy: { attempts: 1, baseMs: 0 },
        signal: new AbortController().signal,
        note: () => undefined,
      });
      expect(pushed.map((x) => x.reference.split(':').pop())).toEqual(['0.1.0', '0.1.0-py', 'latest']);
    } finally {
      clearInterval(land);
    }
    expect(order).toEqual(['push 0.1.0 after 3 checks', 'push 0.1.0-py after 3 checks', 'push latest after 3 checks']);
  });

  it('an immutable tag held by another image: refused before any push', async () => {
    const { plan } = await planRecipe(RECIPE);
    const p = { ...plan, publish: { registry: host, tags: ['{version}', '{version}-held'], mutableTags: [] } };
    manifests.set('echo-python:0.1.0-held', entry(`sha256:${'f'.repeat(64)}`));
    const engine = new FakeEngine();
    const imageId = (
      await engine.build({
        context: (await import('node:stream')).Readable.from([]),
        dockerfile: 'x',
        buildArgs: {},
        labels: {},
        cacheFrom: [],
        builder: 'buildkit',
        network: 'none',
        signal: new AbortController().signal,
        onEvent: () => undefined,
      })
    ).imageId;
    await expect(
      publishImage({
        engine,
        imageId,
        target: publishTarget(p, { registry: host }),
        creds: { source: 'none', secret: null },
        policy: { attempts: 1, baseMs: 0 },
        signal: new AbortController().signal,
        note: () => undefined,
      }),
    ).rejects.toMatchObject({ code: 'publish.tag-exists' });
    expect(engine.calls.filter((c) => c.startsWith('push') || c.startsWith('tag'))).toEqual([]);
  });
});

describe('matrix --fail-fast', () => {
  it('after the first failure, variants not yet started are cancelled; started ones finish', async () => {
    const { entries, recipeDirs } = await expandRecipes([path.join(ROOT, 'recipes/examples/echo-matrix/recipe.yaml')]);
    expect(entries.length).toBe(3);
    const engine = new FakeEngine();
    engine.failBuild = 'RUN failed';
    const outcomes = await buildVariants(engine, entries, recipeDirs, {
      jobs: 1,
      failFast: true,
      signal: new AbortController().signal,
      optionsFor: (_e, signal) => options({ test: false, signal }),
    });
    expect(outcomes.map((o) => o.result)).toEqual(['failed', 'cancelled', 'cancelled']);
    expect(engine.calls.filter((c) => c.startsWith('build'))).toHaveLength(1);
  });

  it('without it, every variant is tried', async () => {
    const { entries, recipeDirs } = await expandRecipes([path.join(ROOT, 'recipes/examples/echo-matrix/recipe.yaml')]);
    const engine = new FakeEngine();
    engine.failBuild = 'RUN failed';
    const outcomes = await buildVariants(engine, entries, recipeDirs, {
      jobs: 2,
      signal: new AbortController().signal,
      optionsFor: (_e, signal) => options({ test: false, signal }),
    });
    expect(outcomes.map((o) => o.result)).toEqual(['failed', 'failed', 'failed']);
  });
});
