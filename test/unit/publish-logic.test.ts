import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { findCredentials } from '../../src/publish/credentials.js';
import { apiHost, isLoopback, parseReference } from '../../src/refs/reference.js';
import { checkTagTemplates, renderTags } from '../../src/refs/tags.js';
import { extraTagTargets } from '../../src/publish/publish.js';

describe('image references', () => {
  it.each([
    ['ubuntu', 'docker.io', 'library/ubuntu', null, null],
    ['nvidia/cuda:12.9.1-runtime-ubuntu24.04', 'docker.io', 'nvidia/cuda', '12.9.1-runtime-ubuntu24.04', null],
    ['nvcr.io/nvidia/tensorrt-llm/release:1.3.0rc16', 'nvcr.io', 'nvidia/tensorrt-llm/release', '1.3.0rc16', null],
    ['127.0.0.1:5000/a/b:1@sha256:' + 'a'.repeat(64), '127.0.0.1:5000', 'a/b', '1', 'sha256:' + 'a'.repeat(64)],
    ['localhost/x', 'localhost', 'x', null, null],
  ])('%s', (ref, domain, p, tag, digest) => {
    expect(parseReference(ref)).toEqual({ domain, path: p, tag, digest });
  });

  it.each(['UPPER/case', 'a b', 'x:', '-x'])('rejects %j', (ref) => {
    expect(parseReference(ref)).toBeNull();
  });

  it.each([
    ['127.0.0.1:5000', true],
    ['localhost:5000', true],
    ['127.8.9.1', true],
    ['registry.example.com', false],
    ['10.0.0.1:5000', false],
  ])('loopback(%s) = %s', (d, want) => expect(isLoopback(d)).toBe(want));

  it('Docker Hub is spoken to at registry-1.docker.io', () => expect(apiHost('docker.io')).toBe('registry-1.docker.io'));
});

describe('tag templates', () => {
  const vars = { version: '1.4.0', version_major: '1', version_minor: '1.4', cuda: '13.0', cuda_major: '13', framework: 'vllm', engine_version: '0.19.0' };
  it.each([
    [['{version}'], ['1.4.0']],
    [
      ['{version}', '{version}-cuda{cuda_major}'],
      ['1.4.0', '1.4.0-cuda13'],
    ],
    [
      ['{version}-{framework}{engine_version}', 'latest'],
      ['1.4.0-vllm0.19.0', 'latest'],
    ],
    [['{version}', '{version}'], ['1.4.0']],
  ])('%j -> %j', (templates, want) => {
    expect(renderTags(templates, vars)).toEqual({ ok: true, tags: want });
  });

  it('names what is missing', () => {
    expect(renderTags(['{version}-{git_sha}'], vars)).toEqual({
      ok: false,
      problems: ['"{version}-{git_sha}" needs {git_sha}, which this build has no value for (not a git checkout)'],
    });
  });

  it.each([
    [['cuda13-{version}'], 'publish.first-tag'],
    [['latest'], 'publish.first-tag'],
    [['{version}-{nope}'], 'publish.tag-variable'],
    [['{version} x'], 'publish.tag-invalid'],
  ])('refuses %j with %s', (templates, code) => {
    const issues = checkTagTemplates(templates, 'r.yaml', () => ({ line: 3, col: 5 }), { first: true });
    expect(issues.map((i) => i.code)).toContain(code);
  });
});

describe('credentials, found the way the docker CLI finds them', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-creds-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const write = (cfg: unknown) => writeFileSync(path.join(dir, 'config.json'), JSON.stringify(cfg));
  const env = (extra: NodeJS.ProcessEnv = {}) => ({ DOCKER_CONFIG: dir, PATH: `${dir}:${process.env['PATH']}`, ...extra });

  it('auths: base64 user:password', async () => {
    write({ auths: { 'reg.example:5000': { auth: Buffer.from('me:pa:ss').toString('base64') } } });
    const c = await findCredentials('reg.example:5000', env());
    expect(c.secret).toEqual({ username: 'me', password: 'pa:ss' });
    expect(c.source).toBe(`auths["reg.example:5000"].auth in ${dir}/config.json`);
  });

  it('auths: identity token, and the https:// key form', async () => {
    write({ auths: { 'https://reg.example': { identitytoken: 'tok' } } });
    expect((await findCredentials('reg.example', env())).secret).toEqual({ identityToken: 'tok' });
  });

  it('credHelpers win over auths, and credsStore is the fallback; helpers get the host on stdin', async () => {
    const helper = path.join(dir, 'docker-credential-fake');
    writeFileSync(
      helper,
      '#!/bin/sh\nread host\nif [ "$host" = "helped.example" ]; then echo "{\\"Username\\":\\"h\\",\\"Secret\\":\\"s-$host\\"}"; else echo "credentials not found in native keychain"; exit 1; fi\n',
    );
    chmodSync(helper, 0o755);
    write({ credHelpers: { 'helped.example': 'fake' }, auths: { 'helped.example': { auth: Buffer.from('a:b').toString('base64') } }, credsStore: 'fake' });
    const c = await findCredentials('helped.example', env());
    expect(c.secret).toEqual({ username: 'h', password: 's-helped.example' });
    expect(c.source).toBe(`credHelpers (docker-credential-fake) in ${dir}/config.json`);
    const store = await findCredentials('other.example', env());
    expect(store.source).toBe(`credsStore (docker-credential-fake) in ${dir}/config.json`);
    expect(store.secret).toBeNull();
  });

  it('environment variables come first, optionally for one registry only', async () => {
    write({});
    const e = env({ DYNAMO_IMAGE_REGISTRY_USERNAME: 'u', DYNAMO_IMAGE_REGISTRY_PASSWORD: 'p', DYNAMO_IMAGE_REGISTRY: 'only.example' });
    expect((await findCredentials('only.example', e)).secret).toEqual({ username: 'u', password: 'p' });
    expect((await findCredentials('other.example', e)).secret).toBeNull();
  });

  it('no config file: no credentials, and the source says so', async () => {
    const c = await findCredentials('x.example', { DOCKER_CONFIG: path.join(dir, 'missing') });
    expect(c).toEqual({ source: `none (no ${path.join(dir, 'missing', 'config.json')})`, secret: null });
  });
});

describe('extraTagTargets: -t with --push (issue 22, point 5)', () => {
  it.each([
    [
      ['127.0.0.1:5000/a/b:1', '127.0.0.1:5000/a/b:2', 'reg.example.com/c:x'],
      [
        ['127.0.0.1:5000', 'a/b', ['1', '2']],
        ['reg.example.com', 'c', ['x']],
      ],
    ],
    [['127.0.0.1:5000/a:1', '127.0.0.1:5000/a:1'], [['127.0.0.1:5000', 'a', ['1']]]],
  ] as const)('%j', (refs, want) => {
    const got = extraTagTargets([...refs]).map((t) => [t.registry, t.repository, t.tags.map((x) => x.tag)]);
    expect(got).toEqual(want);
  });
  it.each(['local-only:1', 'team/img:1', '127.0.0.1:5000/a', '127.0.0.1:5000/a@sha256:' + 'a'.repeat(64)])('refuses %s: no registry, or no tag', (ref) => {
    expect(() => extraTagTargets([ref])).toThrow(/must name a registry, a repository and a tag/);
  });
});
