import { existsSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCredentials } from '../../src/publish/credentials.js';
import { RegistryClient, realmProblem } from '../../src/publish/registry-client.js';
import { runCli } from '../support/cli.js';
import { privateExample } from '../support/docker.js';
import { startHostileRegistry, startRecorder, type HostileRegistry } from '../support/hostile-registry.js';

// Issue 19, points 1-2: credentials only where asked, registry answers as untrusted input. The
// registries here are node servers on 127.0.0.1 that record every request and misbehave on purpose;
// `lock` runs as the real CLI against them.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

const SECRET = { DYNAMO_IMAGE_REGISTRY_USERNAME: 'pushbot', DYNAMO_IMAGE_REGISTRY_PASSWORD: 'push-password-9f3a' };
const QUICK = { DYNAMO_IMAGE_RETRIES: '1', DYNAMO_IMAGE_RETRY_BASE_MS: '10' };

async function hostile(address?: string): Promise<HostileRegistry> {
  const reg = await startHostileRegistry(address);
  cleanups.push(() => reg.close());
  return reg;
}

/** echo-python whose base image lives on `host`, publishing to `publishTo`. */
function recipeOn(host: string, publishTo = '127.0.0.1:1') {
  const ex = privateExample('recipes/examples/echo-python', 'trust');
  cleanups.push(ex.cleanup);
  ex.edit(
    (t) =>
      `${t.replace('image: dynamo-image-base/debian-python:bookworm', `image: ${host}/base/debian-python:bookworm`)}\npublish:\n  registry: "${publishTo}"\n`,
  );
  return ex;
}

const lockFile = (recipe: string) => path.join(path.dirname(recipe), 'recipe.lock.yaml');

describe('credentials only where asked (point 1)', () => {
  it('environment credentials without DYNAMO_IMAGE_REGISTRY never reach a base image registry', async () => {
    const reg = await hostile();
    const ex = recipeOn(reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...SECRET, ...QUICK } });
    expect(r.code, r.stderr).toBe(0);
    expect(reg.seen.length).toBeGreaterThan(0);
    expect(reg.seen.filter((s) => s.authorization !== null)).toEqual([]);
    expect(readFileSync(lockFile(ex.recipe), 'utf8')).toContain(reg.digest);
  });

  it('a basic challenge from that registry gets no credentials that belong to another: exit 1, refused, nothing sent', async () => {
    const reg = await hostile();
    reg.behaviour = { kind: 'challenge-basic' };
    const ex = recipeOn(reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...SECRET, ...QUICK, DOCKER_CONFIG: path.join(ex.dir, 'no-docker-config') } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error[registry.unauthorized]');
    expect(reg.seen.filter((s) => s.authorization !== null)).toEqual([]);
    expect(existsSync(lockFile(ex.recipe))).toBe(false);
  });

  it('credentials scoped to the registry are sent only after its challenge', async () => {
    const reg = await hostile();
    reg.behaviour = { kind: 'challenge-basic' };
    const ex = recipeOn(reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...SECRET, ...QUICK, DYNAMO_IMAGE_REGISTRY: reg.host } });
    expect(r.code, r.stderr).toBe(0);
    expect(reg.seen[0]!.authorization).toBeNull();
    const basic = `Basic ${Buffer.from('pushbot:push-password-9f3a').toString('base64')}`;
    expect(reg.seen.slice(1).map((s) => s.authorization)).toContain(basic);
  });

  it('a bearer realm on another host is refused, naming both hosts; the realm hears nothing', async () => {
    const thief = await startRecorder('127.0.0.2');
    cleanups.push(() => thief.close());
    const reg = await hostile();
    reg.behaviour = { kind: 'challenge-bearer', realm: `http://${thief.host}/token` };
    const ex = recipeOn(reg.host, reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...SECRET, ...QUICK } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toContain('error[registry.auth-realm]');
    expect(r.stderr).toContain(reg.host);
    expect(r.stderr).toContain(thief.host);
    expect(thief.seen).toEqual([]);
    expect(existsSync(lockFile(ex.recipe))).toBe(false);
  });

  it('a host the user names in DYNAMO_IMAGE_REGISTRY_TOKEN_HOSTS may serve tokens', async () => {
    const tokens = await startRecorder('127.0.0.2');
    cleanups.push(() => tokens.close());
    const reg = await hostile();
    reg.behaviour = { kind: 'challenge-bearer', realm: `http://${tokens.host}/token` };
    const ex = recipeOn(reg.host, reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...SECRET, ...QUICK, DYNAMO_IMAGE_REGISTRY_TOKEN_HOSTS: '127.0.0.2' } });
    expect(r.code, r.stderr).toBe(0);
    expect(tokens.seen).toHaveLength(1);
    expect(reg.seen.some((s) => s.authorization === 'Bearer stolen')).toBe(true);
  });

  it.each([
    ['registry.example', 'https://registry.example/token', null],
    ['registry.example', 'http://registry.example/token', /not https/],
    ['registry.example', 'https://evil.example/token', /another host/],
    ['registry.example', 'https://u:p@registry.example/token', /credentials of its own/],
    ['registry.example:5000', 'https://registry.example/token', null],
    ['registry-1.docker.io', 'https://auth.docker.io/token', null],
    ['127.0.0.1:5000', 'http://127.0.0.1:5001/token', null],
    ['127.0.0.1:5000', 'http://127.0.0.2:5001/token', /another host/],
    ['registry.example', 'not a url', /not a URL/],
  ] as const)('realm rule: %s challenged with %s', (registry, realm, want) => {
    const p = realmProblem(registry, realm, {});
    if (want === null) expect(p).toBeNull();
    else expect(p).toMatch(want);
  });

  it('a redirect to another origin drops Authorization', async () => {
    const other = await hostile();
    const reg = await hostile();
    reg.behaviour = { kind: 'challenge-basic' };
    const client = new RegistryClient(reg.host, await findCredentials(reg.host, { ...SECRET, DYNAMO_IMAGE_REGISTRY: reg.host }), { attempts: 1, baseMs: 0 });
    await client.ping();
    reg.behaviour = { kind: 'redirect', location: `http://${other.host}/v2/base/x/manifests/1` };
    await client.manifestDigest('base/x', '1', { verify: true });
    expect(reg.seen.at(-1)!.authorization).toMatch(/^Basic /);
    expect(other.seen).toHaveLength(1);
    expect(other.seen[0]!.authorization).toBeNull();
  });
});

describe('registry answers are untrusted input (point 2)', () => {
  const cases: [string, HostileRegistry['behaviour'], number, RegExp][] = [
    ['an HTML page from a captive portal', { kind: 'html' }, 3, /error\[registry\.bad-answer\].*"text\/html", not an image manifest/],
    ['a Docker-Content-Digest that is not a digest', { kind: 'digest', header: 'sha256:../../etc' }, 3, /error\[registry\.bad-answer\].*not a digest/],
    ['a Docker-Content-Digest that does not match the bytes', { kind: 'digest', header: `sha256:${'a'.repeat(64)}` }, 3, /error\[registry\.digest-mismatch\]/],
    ['a declared 50 MB manifest', { kind: 'huge', bytes: 50 * 1024 * 1024, declare: true }, 3, /error\[registry\.too-large\].*limit of 4194304 bytes/],
    ['an undeclared 50 MB manifest', { kind: 'huge', bytes: 50 * 1024 * 1024, declare: false }, 3, /error\[registry\.too-large\].*more than 4194304 bytes/],
    ['a body that trickles a byte every 200 ms', { kind: 'trickle', intervalMs: 200 }, 3, /error\[registry\.slow\].*within 2 s/],
  ];
  it.each(cases)('%s: lock exits 3 and writes nothing', async (_name, behaviour, code, message) => {
    const reg = await hostile();
    reg.behaviour = behaviour;
    const ex = recipeOn(reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...QUICK, DYNAMO_IMAGE_REGISTRY_TIMEOUT_S: '2' } });
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toMatch(message);
    expect(r.stderr).toContain(reg.host);
    expect(r.stderr).not.toContain('this is a bug');
    expect(existsSync(lockFile(ex.recipe))).toBe(false);
  });

  it('the size limit is configurable', async () => {
    const reg = await hostile();
    const ex = recipeOn(reg.host);
    const r = await runCli(['lock', ex.recipe], { env: { ...QUICK, DYNAMO_IMAGE_REGISTRY_MAX_BODY_BYTES: '100' } });
    expect(r.code, r.stderr).toBe(3);
    expect(r.stderr).toMatch(/limit of 100 bytes/);
  });
});
