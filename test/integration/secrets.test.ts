import { execFileSync } from 'node:child_process';
import { readFileSync, rmSync, writeFileSync } from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { docker, privateExample, removeImagesNamed, runIn } from '../support/docker.js';

// Issue 10, point 7: a build step installs from a package index on 127.0.0.1 that requires a
// token, given with --secret (a file, then an environment variable) and mounted by BuildKit for
// that step only. The token must be nowhere afterwards: not in the image (`docker save`), its
// history or labels, the plan, or anything the CLI printed.

const TOKEN = `tok-${Math.random().toString(36).slice(2)}-${Date.now()}`;
const WHEEL = path.join(ROOT, 'recipes/examples/python-deps/wheels/tally_count-0.3.1-py3-none-any.whl');
let server: http.Server;
let port = 0;
const seen: string[] = [];
const ex = privateExample('recipes/examples/echo-python', 'secret');

beforeAll(async () => {
  // A minimal PEP 503 index that answers only with the token (basic auth, any user name).
  server = http.createServer((req, res) => {
    const auth = req.headers.authorization ?? '';
    const ok = auth.startsWith('Basic ') && Buffer.from(auth.slice(6), 'base64').toString().endsWith(`:${TOKEN}`);
    seen.push(`${req.method} ${req.url} ${ok ? 'authorized' : 'refused'}`);
    if (!ok) return void res.writeHead(401, { 'WWW-Authenticate': 'Basic realm="test"' }).end();
    if (req.url === '/simple/tally-count/')
      return void res
        .writeHead(200, { 'content-type': 'text/html' })
        .end('<a href="/files/tally_count-0.3.1-py3-none-any.whl">tally_count-0.3.1-py3-none-any.whl</a>');
    if (req.url === '/files/tally_count-0.3.1-py3-none-any.whl') return void res.writeHead(200).end(readFileSync(WHEEL));
    res.writeHead(404).end();
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
  ex.edit(
    (t) =>
      `${t}\nsteps:\n  - name: install from the private index\n    network: true\n    secrets: [index_token]\n    run: /opt/dynamo/build-tools/bin/pip --python /opt/dynamo/venv/bin/python install --no-cache-dir --disable-pip-version-check --index-url "http://ci:$(cat /run/secrets/index_token)@127.0.0.1:${port}/simple/" tally-count==0.3.1\n`,
  );
});
afterAll(() => {
  server?.close();
  removeImagesNamed(ex.name);
  ex.cleanup();
});

describe('build secrets', () => {
  it('a step reads the token from --secret; the token is nowhere in the image or the output', async () => {
    const file = path.join(ex.dir, '..', `${path.basename(ex.dir)}-token`);
    writeFileSync(file, TOKEN);
    try {
      const r = await runCli([
        'build',
        ex.recipe,
        '--builder',
        'buildkit',
        '--network',
        'host',
        '--secret',
        `id=index_token,src=${file}`,
        '--no-test',
        '--json',
        '--progress',
        'plain',
      ]);
      expect(r.code, r.stderr).toBe(0);
      expect(seen.some((s) => s.endsWith('authorized'))).toBe(true);
      expect(runIn(`${ex.name}:0.1.0`, ['python3', '-c', 'import tally_count; print(tally_count.count("ab"))']).stdout.trim()).toBe('2');
      // Nowhere: CLI output, plan, image config/history/labels, every layer (docker save).
      const plan = await runCli(['plan', ex.recipe, '--json']);
      for (const text of [
        r.stdout,
        r.stderr,
        plan.stdout,
        docker(['image', 'inspect', `${ex.name}:0.1.0`]).stdout,
        docker(['history', '--no-trunc', `${ex.name}:0.1.0`]).stdout,
      ])
        expect(text).not.toContain(TOKEN);
      const saved = execFileSync('sh', ['-c', `docker save ${ex.name}:0.1.0 | tar -xO --wildcards '*' 2>/dev/null | grep -a -c '${TOKEN}' || true`])
        .toString()
        .trim();
      expect(saved).toBe('0');
      // From the environment too (a rebuild: the step is cached, the secret is still served).
      const e = await runCli(
        ['build', ex.recipe, '--builder', 'buildkit', '--network', 'host', '--force', '--no-cache', '--secret', 'id=index_token,env=INDEX_TOKEN', '--no-test'],
        { env: { INDEX_TOKEN: TOKEN } },
      );
      expect(e.code, e.stderr).toBe(0);
      expect(e.stderr).not.toContain(TOKEN);
    } finally {
      rmSync(file, { force: true });
    }
  });

  it('a step that reads a secret not given is refused before the build; the classic builder refuses secrets', async () => {
    const r = await runCli(['build', ex.recipe, '--builder', 'buildkit', '--force']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('the recipe reads the secret index_token, not given');
    const c = await runCli(['build', ex.recipe, '--builder', 'classic', '--force', '--secret', 'id=index_token,env=HOME']);
    expect(c.code).toBe(2);
    expect(c.stderr).toContain('the classic builder cannot mount build secrets');
  });
});
