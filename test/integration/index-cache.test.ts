import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { docker, removeImagesNamed, runIn } from '../support/docker.js';

// The tool's own install steps under BuildKit: an index that needs credentials gets them from a
// netrc build secret (engine.index.secret), and pip's downloads go to a cache mount, so a rebuild
// with --no-cache (every RUN runs again) downloads no wheel a second time. The index runs on
// 127.0.0.1 and counts what it serves; PyPI-like, it marks files cacheable.

const TOKEN = `netrc-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const WHEEL = path.join(ROOT, 'recipes/examples/python-deps/wheels/tally_count-0.3.1-py3-none-any.whl');
const NAME = `it-index-cache-${process.pid}`;
let server: http.Server;
let dir = '';
const log: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const ok = auth === `Basic ${Buffer.from(`ci:${TOKEN}`).toString('base64')}`;
    log.push(`${req.url} ${ok ? 'ok' : 'refused'}`);
    if (!ok) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
    if (req.url === '/simple/tally-count/')
      return void res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<a href="/files/tally_count-0.3.1-py3-none-any.whl">tally_count-0.3.1-py3-none-any.whl</a>');
    if (req.url === '/files/tally_count-0.3.1-py3-none-any.whl')
      return void res.writeHead(200, { 'cache-control': 'max-age=365000000, immutable, public' }).end(readFileSync(WHEEL));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const port = (server.address() as AddressInfo).port;
  dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-index-cache-'));
  writeFileSync(
    path.join(dir, 'recipe.yaml'),
    `apiVersion: dynamo-image/v1
name: ${NAME}
version: 0.3.1
base:
  image: dynamo-image-base/debian-python:bookworm
  os: debian12
python: "3.11"
engine:
  framework: custom
  version: 0.3.1
  index: { requirement: tally-count, url: "http://127.0.0.1:${port}/simple/", secret: pip-netrc }
backend:
  entrypoint: [python3]
`,
  );
  writeFileSync(path.join(dir, 'netrc'), `machine 127.0.0.1 login ci password ${TOKEN}\n`);
});
afterAll(() => {
  server?.close();
  removeImagesNamed(NAME);
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const wheelGets = () => log.filter((l) => l.startsWith('/files/') && l.endsWith(' ok')).length;

describe('index credentials and download caches (BuildKit)', () => {
  it('installs from an index that needs a netrc secret; a rebuild of the install step takes the wheel from the cache mount', async () => {
    const recipe = path.join(dir, 'recipe.yaml');
    const secret = `id=pip-netrc,src=${path.join(dir, 'netrc')}`;
    const first = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--secret', secret, '--no-test', '--progress', 'plain']);
    expect(first.code, first.stderr).toBe(0);
    expect(wheelGets()).toBe(1);
    expect(runIn(`${NAME}:0.3.1`, ['python3', '-c', 'import tally_count; print(tally_count.count("abc"))']).stdout.trim()).toBe('3');

    // A change before the install step (a build argument of the framework stage) runs pip again: it
    // asks the index and finds the wheel in its cache mount. (--no-cache would not show this: BuildKit
    // then starts cache mounts empty too.)
    writeFileSync(recipe, `${readFileSync(recipe, 'utf8')}buildArgs: { REBUILD: "2" }\n`);
    const again = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--secret', secret, '--no-test', '--progress', 'plain']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr + again.stdout).toMatch(/Using cached|tally_count-0\.3\.1-py3-none-any\.whl \(/);
    expect(log.filter((l) => l.startsWith('/simple/') && l.endsWith(' ok')).length).toBeGreaterThanOrEqual(2);
    expect(wheelGets()).toBe(1);

    // The credentials are nowhere: output, plan, image config and history, any layer.
    const plan = await runCli(['plan', recipe, '--json']);
    const rendered = await runCli(['render', recipe]);
    expect(rendered.stdout).toContain('--mount=type=secret,id=pip-netrc,target=/root/.netrc,mode=0400');
    expect(rendered.stdout).toContain('--mount=type=cache,id=dynamo-image-pip,target=/root/.cache/pip,sharing=locked');
    for (const text of [
      first.stdout,
      first.stderr,
      again.stdout,
      again.stderr,
      plan.stdout,
      rendered.stdout,
      docker(['image', 'inspect', `${NAME}:0.3.1`]).stdout,
      docker(['history', '--no-trunc', `${NAME}:0.3.1`]).stdout,
    ])
      expect(text).not.toContain(TOKEN);
    const saved = execFileSync('sh', ['-c', `docker save ${NAME}:0.3.1 | tar -xO --wildcards '*' 2>/dev/null | grep -a -c '${TOKEN}' || true`])
      .toString()
      .trim();
    expect(saved).toBe('0');
    expect(runIn(`${NAME}:0.3.1`, ['sh', '-c', 'test ! -e /root/.netrc && test ! -e /root/.cache/pip && echo clean'], { user: '0' }).stdout.trim()).toBe(
      'clean',
    );
  });

  it('a requirements file with hashes from the index, together with a local dependency wheel, in one hash-checked install', async () => {
    const ex = path.join(ROOT, 'recipes/examples/python-deps');
    const sub = path.join(dir, 'req');
    mkdirSync(path.join(sub, 'wheels'), { recursive: true });
    for (const w of ['tally_engine-2.0.0-py3-none-any.whl', 'tally_words-1.2.0-py3-none-any.whl'])
      copyFileSync(path.join(ex, 'wheels', w), path.join(sub, 'wheels', w));
    const countSha = createHash('sha256').update(readFileSync(WHEEL)).digest('hex');
    writeFileSync(
      path.join(sub, 'requirements.txt'),
      `# tally-engine's other dependency, from the index\ntally-count==0.3.1 \\\n    --hash=sha256:${countSha}\n`,
    );
    const reqSha = createHash('sha256')
      .update(readFileSync(path.join(sub, 'requirements.txt')))
      .digest('hex');
    const port = (server.address() as AddressInfo).port;
    const recipe = path.join(sub, 'recipe.yaml');
    writeFileSync(
      recipe,
      `apiVersion: dynamo-image/v1
name: ${NAME}-req
version: 2.0.0
base:
  image: dynamo-image-base/debian-python:bookworm
  os: debian12
python: "3.11"
engine:
  framework: custom
  version: 2.0.0
  wheel: { path: wheels/tally_engine-2.0.0-py3-none-any.whl, sha256: 311c09ef7a558b36755f03c6d906b2a6c86da6748b24adc3eaded87bfd3c2dee }
dependencies:
  wheels:
    - { path: wheels/tally_words-1.2.0-py3-none-any.whl, sha256: 115da3729df78804f0fe9224a78e90240ba7e97870d58eaf158e0f1e0e256997 }
  requirements: { path: requirements.txt, sha256: ${reqSha} }
  index: { url: "http://127.0.0.1:${port}/simple/", secret: pip-netrc }
backend:
  entrypoint: [tally-engine]
smoke:
  tests:
    - kind: command
      name: the engine runs with both dependencies
      command: [tally-engine, a, b, c, d]
      stdout: { contains: "4" }
    - kind: metadata
      name: records every dependency
      labels: { dev.dynamo-image.python-dependencies: "tally-words==1.2.0,tally-count==0.3.1" }
`,
    );
    const plan = await runCli(['plan', recipe, '--json']);
    expect(plan.code, plan.stderr).toBe(0);
    expect(JSON.parse(plan.stdout).requirements).toEqual({
      input: 'requirements.txt',
      index: { url: `http://127.0.0.1:${port}/simple/`, secret: 'pip-netrc' },
      packages: [{ name: 'tally-count', version: '0.3.1' }],
    });
    const r = await runCli([
      'build',
      recipe,
      '--builder',
      'buildkit',
      '--network',
      'host',
      '--secret',
      `id=pip-netrc,src=${path.join(dir, 'netrc')}`,
      '--json',
    ]);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).smoke).toMatchObject({ ran: true, passed: 2, failed: 0 });

    // An unpinned line: exit 2 before anything runs, named at its line in the requirements file.
    writeFileSync(path.join(sub, 'requirements.txt'), `tally-count==0.3.1 --hash=sha256:${countSha}\ntally-words>=1.0\n`);
    await runCli(['pin', recipe]);
    const bad = await runCli(['build', recipe, '--builder', 'buildkit', '--network', 'host', '--secret', `id=pip-netrc,src=${path.join(dir, 'netrc')}`]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain(`${path.join(sub, 'requirements.txt')}:2:1: error[input.requirements]`);
    expect(bad.stderr).toContain('"tally-words>=1.0" is not pinned');
  });

  it('without the secret, or with the classic builder, nothing is built', async () => {
    const recipe = path.join(dir, 'recipe.yaml');
    const before = log.length;
    const r = await runCli(['build', recipe, '--builder', 'buildkit', '--force', '--network', 'host']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the recipe reads the secret pip-netrc, not given');
    const c = await runCli([
      'build',
      recipe,
      '--builder',
      'classic',
      '--force',
      '--network',
      'host',
      '--secret',
      `id=pip-netrc,src=${path.join(dir, 'netrc')}`,
    ]);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('the classic builder cannot mount build secrets');
    expect(log.length).toBe(before);
  });
});
