import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, inspectImage, privateExample, removeImages, removeImagesNamed } from '../support/docker.js';
import { skopeoDigest, skopeoDigestAsync, startRegistry, type TestRegistry } from '../support/registry.js';
import { startTokenServer, type TokenServer } from '../support/token-server.js';

// Publishing to real registries (Debian's docker-registry) on 127.0.0.1, with and without htpasswd
// (bcrypt) auth; digests checked with an independent client (Debian's skopeo).

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const PUBLISH = (registry: string, extra = '') =>
  `\npublish:\n  registry: "${registry}"\n  tags: ["{version}", "{version}-{framework}-py"]\n  mutableTags: [latest]\n${extra}`;
const FAST_RETRIES = { DYNAMO_IMAGE_RETRIES: '3', DYNAMO_IMAGE_RETRY_BASE_MS: '200' };

function example(registry: string, opts: { version?: string } = {}) {
  const ex = privateExample('recipes/examples/echo-python', 'pub');
  ex.edit((t) => `${t.replace(/^version: 0\.1\.0$/m, `version: ${opts.version ?? '0.1.0'}`)}${PUBLISH(registry)}`);
  cleanups.push(ex.cleanup);
  cleanups.push(() => removeImagesNamed(ex.name));
  return ex;
}

// The registry stops mid-push. The engine then retries the layer upload five times over 50 s
// (5 + 10 + 15 + 20 s; Docker has no setting for it) before it gives up: this publish is built and
// tested first, alone, then its push runs while the other tests of this file do, and it is checked
// by the file's last test. 0.1.0 is published; 0.2.0 with a large layer is interrupted: `latest`
// (mutable, pushed last) must still point at 0.1.0's digest and 0.2.0 must not exist.
const midPush = {} as {
  reg: TestRegistry;
  ex: ReturnType<typeof example>;
  old: string;
  stopped: boolean;
  result: Promise<Awaited<ReturnType<typeof runCli>>>;
};
beforeAll(async () => {
  const reg = await startRegistry();
  cleanups.push(() => reg.dispose());
  const ex = example(reg.host);
  expect((await runCli(['publish', ex.recipe, '--quiet'])).code).toBe(0);
  Object.assign(midPush, { reg, ex, old: skopeoDigest(`${reg.host}/${ex.name}:latest`), stopped: false });
  execFileSync('sh', ['-c', `head -c 150M /dev/urandom > ${ex.dir}/big.bin`]);
  ex.edit((t) => t.replace(/^version: 0\.1\.0$/m, 'version: 0.2.0').replace('files:\n', 'files:\n  - source: big.bin\n    destination: /opt/big.bin\n'));
  // Built and tested now, alone (no build of another test beside it): the publish below only pushes.
  const built = await runCli(['build', ex.recipe, '--quiet']);
  expect(built.code, built.stderr).toBe(0);
  // Two attempts of the tool's own.
  midPush.result = runCli(['publish', ex.recipe], {
    env: { ...FAST_RETRIES, DYNAMO_IMAGE_RETRIES: '2' },
    onStderr: (all) => {
      // Pushing the 150 MiB layer takes seconds (the engine compresses it); stop 1 s into it.
      if (!midPush.stopped && all.includes(`pushing ${reg.host}/${ex.name}:0.2.0`)) {
        midPush.stopped = true;
        setTimeout(() => void reg.stop(), 1000);
      }
    },
  });
}, 300_000);

describe('an open registry', () => {
  let reg: TestRegistry;
  beforeAll(async () => {
    reg = await startRegistry();
    cleanups.push(() => reg.dispose());
  });

  it('publishes every tag, semver first, and the digests equal what skopeo reads', async () => {
    const ex = example(reg.host);
    const r = await runCli(['publish', ex.recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.pushed.map((p: { reference: string }) => p.reference)).toEqual([
      `${reg.host}/${ex.name}:0.1.0`,
      `${reg.host}/${ex.name}:0.1.0-custom-py`,
      `${reg.host}/${ex.name}:latest`,
    ]);
    const digest = out.pushed[0].digest;
    expect(digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    for (const p of out.pushed) {
      expect(p.digest).toBe(digest);
      expect(skopeoDigest(p.reference)).toBe(digest);
    }
    expect(out.smoke.ran === true || /passed before/.test(out.smoke.reason)).toBe(true);
    // Again: nothing to push, nothing moved.
    const again = await runCli(['publish', ex.recipe, '--json']);
    expect(again.code, again.stderr).toBe(0);
    expect(JSON.parse(again.stdout)).toMatchObject({ upToDate: true, pushed: [] });
    expect(JSON.parse(again.stdout).unchanged).toHaveLength(3);
  });

  it('refuses to move an existing tag to another image, and changes nothing', async () => {
    const ex = example(reg.host);
    expect((await runCli(['publish', ex.recipe, '--quiet'])).code).toBe(0);
    const before = { v: skopeoDigest(`${reg.host}/${ex.name}:0.1.0`), latest: skopeoDigest(`${reg.host}/${ex.name}:latest`) };
    // Same version, other content: a new image that would take the old tags.
    ex.edit((t) => t.replace('ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json', 'ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json\n    CHANGED: "yes"'));
    const r = await runCli(['publish', ex.recipe]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[publish.tag-exists]: refusing to move existing tags to another image: ${reg.host}/${ex.name}:0.1.0 is ${before.v}`);
    expect(r.stderr).toContain('Nothing was pushed');
    expect(skopeoDigest(`${reg.host}/${ex.name}:0.1.0`)).toBe(before.v);
    expect(skopeoDigest(`${reg.host}/${ex.name}:latest`)).toBe(before.latest);
    // --force moves them.
    const forced = await runCli(['publish', ex.recipe, '--force', '--json']);
    expect(forced.code, forced.stderr).toBe(0);
    const moved = JSON.parse(forced.stdout).pushed[0].digest;
    expect(moved).not.toBe(before.v);
    expect(skopeoDigest(`${reg.host}/${ex.name}:0.1.0`)).toBe(moved);
  });

  it('build --push publishes like publish, to the --registry given', async () => {
    // The recipe names a closed loopback port; --registry overrides it.
    const ex = example('127.0.0.1:9', { version: '5.0.0' });
    const r = await runCli(['build', ex.recipe, '--push', '--registry', reg.host, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.pushed[0].reference).toBe(`${reg.host}/${ex.name}:5.0.0`);
    expect(skopeoDigest(out.pushed[0].reference)).toBe(out.pushed[0].digest);
    // -t REF with --push is pushed too (issue 22, point 5), after the publish tags, same digest.
    const extra = `${reg.host}/${ex.name}-mirror:5.0.0-ci`;
    const t = await runCli(['build', ex.recipe, '--push', '--registry', reg.host, '-t', extra, '--json']);
    expect(t.code, t.stderr).toBe(0);
    const tout = JSON.parse(t.stdout);
    expect(tout.pushed.map((p: { reference: string }) => p.reference)).toEqual([extra]);
    expect(tout.unchanged.map((p: { reference: string }) => p.reference)).toContain(`${reg.host}/${ex.name}:5.0.0`);
    expect(skopeoDigest(extra)).toBe(out.pushed[0].digest);
    // why reads the image's plan summary from the registry (issue 24, point 4): the local -t tag goes first.
    docker(['rmi', extra]);
    const w = await runCli(['why', ex.recipe, '--image', extra]);
    expect(w.code, w.stderr).toBe(0);
    expect(w.stdout).toContain(`${extra} (registry) is this build`);
    ex.edit((t) => t.replace('ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json', 'ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json\n    CHANGED: "yes"'));
    const w2 = await runCli(['why', ex.recipe, '--image', extra]);
    expect(w2.code).toBe(1);
    expect(w2.stdout).toContain('runtime settings changed');
  });

  it('--dry-run prints the plan (read from the registry) and does none of it', async () => {
    const ex = example(reg.host, { version: '3.0.0' });
    const r = await runCli(['publish', ex.recipe, '--dry-run']);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain(`push ${reg.host}/${ex.name}:3.0.0: absent`);
    expect(r.stdout).toContain(`push ${reg.host}/${ex.name}:latest: absent`);
    expect(r.stdout).toContain(`verify ${reg.host}/${ex.name}:3.0.0 resolves to the pushed digest`);
    const j = await runCli(['publish', ex.recipe, '--dry-run', '--json']);
    expect(j.code, j.stderr).toBe(0);
    const release = JSON.parse(j.stdout).release;
    expect(release).toMatchObject({ version: 1, kind: 'single', registry: reg.host, repository: ex.name, build: true });
    const steps = release.steps.map((s: { tag: string; action: string }) => [s.tag, s.action]);
    expect(steps).toContainEqual(['3.0.0', 'push']);
    expect(steps).toContainEqual(['latest', 'push']);
    expect(steps.every(([, a]: [string, string]) => a === 'push')).toBe(true);
    const tags = await fetch(`http://${reg.host}/v2/${ex.name}/tags/list`);
    expect(tags.status).toBe(404);
  });

  it('refuses an image whose smoke tests fail, unless --skip-tests (and the result says so)', async () => {
    const ex = example(reg.host, { version: '4.0.0' });
    ex.edit((t) => t.replace('version: { constraint: "==0.1.0" }', 'version: { constraint: "==7.0.0" }'));
    const r = await runCli(['publish', ex.recipe]);
    expect(r.code).toBe(1);
    expect(r.stderr).toContain('error[smoke.failed]');
    expect((await fetch(`http://${reg.host}/v2/${ex.name}/tags/list`)).status).toBe(404);
    const skipped = await runCli(['publish', ex.recipe, '--skip-tests', '--json']);
    expect(skipped.code, skipped.stderr).toBe(0);
    const out = JSON.parse(skipped.stdout);
    expect(out.testsSkipped).toBe(true);
    expect(out.smoke).toEqual({ ran: false, reason: '--skip-tests' });
    expect(skipped.stderr).toContain('publishing without smoke tests');
  });

  it('lock pins the base image by digest; build --locked uses it and refuses without it', async () => {
    const baseRef = `${reg.host}/dynamo-image-base/debian-python:bookworm`;
    docker(['tag', 'dynamo-image-base/debian-python:bookworm', baseRef]);
    docker(['push', baseRef]);
    cleanups.push(() => removeImages(baseRef));
    const ex = example(reg.host);
    ex.edit((t) => t.replace('image: dynamo-image-base/debian-python:bookworm', `image: ${baseRef}`));
    const lock = await runCli(['lock', ex.recipe, '--json']);
    expect(lock.code, lock.stderr).toBe(0);
    const want = skopeoDigest(baseRef);
    expect(JSON.parse(lock.stdout).images).toEqual({ [baseRef]: want });
    expect(readFileSync(path.join(ex.dir, 'recipe.lock.yaml'), 'utf8')).toContain(`${baseRef}: ${want}`);
    const rendered = await runCli(['render', ex.recipe, '--locked']);
    expect(rendered.stdout).toContain(`FROM ${baseRef}@${want} AS runtime`);
    const built = await runCli(['build', ex.recipe, '--locked', '--no-test', '--json']);
    expect(built.code, built.stderr).toBe(0);
    expect(inspectImage(`${ex.name}:0.1.0`).Config.Labels['org.opencontainers.image.base.name']).toBe(`${baseRef}@${want}`);
    rmSync(path.join(ex.dir, 'recipe.lock.yaml'));
    const refused = await runCli(['build', ex.recipe, '--locked']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain(`base: --locked: "${baseRef}" has no digest in`);
    expect(refused.stderr).toContain('run: dynamo-image lock');
  });
});

describe('a registry with htpasswd (bcrypt) auth', () => {
  const SECRET = 'S3cret-Pa55-9f1c';
  const creds = { username: 'ci-bot', password: SECRET };
  let reg: TestRegistry;
  let dockerConfig: string;
  beforeAll(async () => {
    reg = await startRegistry({ auth: creds });
    cleanups.push(() => reg.dispose());
    dockerConfig = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-dockercfg-'));
    cleanups.push(() => rmSync(dockerConfig, { recursive: true, force: true }));
  });

  const noSecret = (...texts: string[]) => {
    for (const t of texts) {
      expect(t).not.toContain(SECRET);
      expect(t).not.toContain(Buffer.from(`${creds.username}:${SECRET}`).toString('base64'));
    }
  };

  it('credentials from a docker config file (auths, base64 user:password)', async () => {
    writeFileSync(
      path.join(dockerConfig, 'config.json'),
      JSON.stringify({ auths: { [reg.host]: { auth: Buffer.from(`${creds.username}:${SECRET}`).toString('base64') } } }),
    );
    const ex = example(reg.host);
    const r = await runCli(['publish', ex.recipe, '--json'], { env: { DOCKER_CONFIG: dockerConfig } });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.credentials).toBe(`auths["${reg.host}"].auth in ${dockerConfig}/config.json`);
    expect(skopeoDigest(out.pushed[0].reference, creds)).toBe(out.pushed[0].digest);
    noSecret(r.stdout, r.stderr);
  });

  it('credentials from the environment (for CI)', async () => {
    const ex = example(reg.host);
    const r = await runCli(['publish', ex.recipe, '--json'], {
      env: { DOCKER_CONFIG: path.join(dockerConfig, 'none'), DYNAMO_IMAGE_REGISTRY_USERNAME: creds.username, DYNAMO_IMAGE_REGISTRY_PASSWORD: SECRET },
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.credentials).toBe('environment (DYNAMO_IMAGE_REGISTRY_USERNAME, DYNAMO_IMAGE_REGISTRY_PASSWORD)');
    expect(skopeoDigest(out.pushed[0].reference, creds)).toBe(out.pushed[0].digest);
    noSecret(r.stdout, r.stderr);
    // Nor in the image, its labels, its environment, or the plan.
    const img = JSON.stringify(inspectImage(`${ex.name}:0.1.0`));
    const plan = (await runCli(['plan', ex.recipe, '--json'], { env: { DYNAMO_IMAGE_REGISTRY_PASSWORD: SECRET } })).stdout;
    noSecret(img, plan);
  });

  it('a wrong password fails fast, naming the registry and the credential source', async () => {
    const ex = example(reg.host);
    const started = Date.now();
    const r = await runCli(['publish', ex.recipe], {
      env: {
        ...FAST_RETRIES,
        DOCKER_CONFIG: path.join(dockerConfig, 'none'),
        DYNAMO_IMAGE_REGISTRY_USERNAME: creds.username,
        DYNAMO_IMAGE_REGISTRY_PASSWORD: 'wrong-password-123',
      },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(
      `error[registry.unauthorized]: ${reg.host} refused the request (HTTP 401) with credentials from environment (DYNAMO_IMAGE_REGISTRY_USERNAME, DYNAMO_IMAGE_REGISTRY_PASSWORD)`,
    );
    expect(r.stderr).not.toMatch(/retry \d/);
    expect(Date.now() - started).toBeLessThan(30_000);
    noSecret(r.stdout, r.stderr);
    expect(r.stderr).not.toContain('wrong-password-123');
    // No credentials at all: the same, naming that none were found.
    const none = await runCli(['publish', ex.recipe], { env: { DOCKER_CONFIG: path.join(dockerConfig, 'none') } });
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('with credentials from none (no ');
  });

  it('no registry at all is an environment problem: exit 3', async () => {
    const ex = example('127.0.0.1:9');
    const r = await runCli(['publish', ex.recipe], { env: FAST_RETRIES });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain('error[registry.unreachable]: no registry answers at http://127.0.0.1:9');
    expect(existsSync(ex.recipe)).toBe(true);
  });
});

describe('a registry with bearer-token auth (a token service on 127.0.0.1)', () => {
  const creds = { username: 'token-user', password: 'T0ken-Pa55-77aa' };
  let tokens: TokenServer;
  let reg: TestRegistry;
  beforeAll(async () => {
    tokens = await startTokenServer(creds);
    cleanups.push(() => tokens.stop());
    reg = await startRegistry({ token: tokens });
    cleanups.push(() => reg.dispose());
  });

  it('publishes and verifies through bearer tokens', async () => {
    const ex = example(reg.host);
    const r = await runCli(['publish', ex.recipe, '--json'], {
      env: { DYNAMO_IMAGE_REGISTRY_USERNAME: creds.username, DYNAMO_IMAGE_REGISTRY_PASSWORD: creds.password },
    });
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.pushed).toHaveLength(3);
    // Async: this process serves the token realm skopeo asks.
    expect(await skopeoDigestAsync(out.pushed[0].reference, creds)).toBe(out.pushed[0].digest);
    // Tokens were issued for pull (our checks) and push (the engine).
    expect(tokens.requests.some((q) => q.granted && q.scope === `repository:${ex.name}:pull`)).toBe(true);
    expect(tokens.requests.some((q) => q.granted && q.scope?.startsWith(`repository:${ex.name}:`) && q.scope.includes('push'))).toBe(true);
    expect(r.stdout + r.stderr).not.toContain(creds.password);
  });

  it('wrong credentials: the token service refuses, and so do we, at once', async () => {
    const ex = example(reg.host);
    const r = await runCli(['publish', ex.recipe], {
      env: { ...FAST_RETRIES, DYNAMO_IMAGE_REGISTRY_USERNAME: creds.username, DYNAMO_IMAGE_REGISTRY_PASSWORD: 'nope' },
    });
    expect(r.code).toBe(1);
    expect(r.stderr).toContain(`error[registry.unauthorized]: ${reg.host} refused the request (HTTP 401) with credentials from environment`);
    expect(r.stderr).not.toMatch(/retry \d/);
  });
});

describe('a registry that stopped mid-push (started before the other tests)', () => {
  it('the tool retried, then exit 1, and no tag half-moved', async () => {
    const { reg, ex, old } = midPush;
    const r = await midPush.result;
    expect(midPush.stopped).toBe(true);
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/retry 1\/1/);
    expect(r.stderr).toContain('error[publish.interrupted]');
    expect(r.stderr).not.toContain('running 7 smoke test(s)');
    await reg.start();
    expect(skopeoDigest(`${reg.host}/${ex.name}:latest`)).toBe(old);
    expect((await fetch(`http://${reg.host}/v2/${ex.name}/manifests/0.2.0`, { method: 'HEAD' })).status).toBe(404);
    // The local aliases made for the push were removed again.
    expect(docker(['images', '-q', `${reg.host}/${ex.name}:0.2.0`]).stdout.trim()).toBe('');
  });
});
