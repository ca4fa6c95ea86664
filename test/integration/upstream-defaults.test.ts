import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, inspectImage, removeImages, runIn } from '../support/docker.js';

// Issue 10, point 8: building on an upstream engine image keeps what the recipe does not set: its
// ENTRYPOINT and CMD, its WORKDIR, and its own UID-1000 user with that user's home.

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-upstream-'));
const UPSTREAM = `upstream-engine-${process.pid}:1.0`;
const NAME = `kept-${process.pid}`;
afterAll(() => {
  removeImages(`${NAME}:1.0.0`, UPSTREAM);
  rmSync(tmp, { recursive: true, force: true });
});

describe('upstream defaults', () => {
  it('ENTRYPOINT, CMD, WORKDIR and the UID-1000 user of the engine image are kept', async () => {
    // A stand-in upstream engine image: the local base, a user `engine` (UID 1000) with a file in
    // its home, its own WORKDIR, ENTRYPOINT and CMD.
    const ctx = path.join(tmp, 'upstream');
    execFileSync('mkdir', ['-p', ctx]);
    writeFileSync(
      path.join(ctx, 'Dockerfile'),
      'FROM dynamo-image-base/debian-python:bookworm\nRUN useradd --uid 1000 --create-home engine && echo cfg > /home/engine/.enginerc && mkdir -p /srv/upstream\nWORKDIR /srv/upstream\nENTRYPOINT ["/bin/echo", "upstream-entrypoint"]\nCMD ["--default-arg"]\n',
    );
    execFileSync('docker', ['build', '-q', '--network', 'none', '-t', UPSTREAM, ctx], { env: { ...process.env, DOCKER_BUILDKIT: '0' }, stdio: 'pipe' });
    const dir = path.join(tmp, 'recipe');
    execFileSync('mkdir', ['-p', dir]);
    writeFileSync(
      path.join(dir, 'recipe.yaml'),
      `apiVersion: dynamo-image/v1\nname: ${NAME}\nversion: 1.0.0\nbase:\n  platforms: [linux/amd64]\npython: "3.11"\nengine:\n  framework: custom\n  version: "1.0"\n  image:\n    ref: ${UPSTREAM}\nbackend:\n  env:\n    EXTRA: "1"\n`,
    );
    const r = await runCli(['build', path.join(dir, 'recipe.yaml'), '--no-test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const img = inspectImage(`${NAME}:1.0.0`);
    expect(img.Config.Entrypoint).toEqual(['/bin/echo', 'upstream-entrypoint']);
    expect(img.Config.Cmd).toEqual(['--default-arg']);
    expect(img.Config.WorkingDir).toBe('/srv/upstream');
    expect(img.Config.User).toBe('1000:0');
    // The upstream user and its home survive; no `dynamo` user was made in its place.
    const who = runIn(`${NAME}:1.0.0`, ['sh', '-c', 'id -un; cat "$HOME/.enginerc"; getent passwd dynamo || echo no-dynamo']);
    expect(who.stdout.trim().split('\n')).toEqual(['engine', 'cfg', 'no-dynamo']);
    expect(docker(['run', '--rm', '--network', 'none', `${NAME}:1.0.0`]).stdout.trim()).toBe('upstream-entrypoint --default-arg');
  });
});

describe('layers (issue 10, point 3)', () => {
  it("editing a small config file leaves the engine binary's layer byte-identical", async () => {
    const { privateExample, removeImagesNamed } = await import('../support/docker.js');
    const { mkdirSync } = await import('node:fs');
    const ex = privateExample('recipes/examples/echo-binary', 'layers');
    try {
      mkdirSync(path.join(ex.dir, 'config'), { recursive: true });
      writeFileSync(path.join(ex.dir, 'config', 'tokenecho.conf'), 'greeting = hello\n');
      ex.edit((t) => `${t}\nfiles:\n  - source: config/tokenecho.conf\n    destination: /etc/tokenecho.conf\n`);
      const a = await runCli(['build', ex.recipe, '--no-test', '--json']);
      expect(a.code, a.stderr).toBe(0);
      const before = inspectImage(`${ex.name}:0.2.0`) as unknown as { RootFS: { Layers: string[] } };
      writeFileSync(path.join(ex.dir, 'config', 'tokenecho.conf'), 'greeting = hi\n');
      const b = await runCli(['build', ex.recipe, '--no-test', '--json']);
      expect(b.code, b.stderr).toBe(0);
      const after = inspectImage(`${ex.name}:0.2.0`) as unknown as { RootFS: { Layers: string[] } };
      // Same number of layers; every layer up to and including the binary's is the same; only the
      // files' layer (and what follows it) differs.
      expect(after.RootFS.Layers.length).toBe(before.RootFS.Layers.length);
      const firstDiff = before.RootFS.Layers.findIndex((l, i) => l !== after.RootFS.Layers[i]);
      expect(firstDiff).toBeGreaterThan(0);
      const binaryLayer = runIn(`${ex.name}:0.2.0`, ['sh', '-c', 'test -x /usr/local/bin/tokenecho && echo ok']).stdout.trim();
      expect(binaryLayer).toBe('ok');
      // Runtime layers: the base (1), the user (2), the engine binary (3), the files (4) (a binary
      // engine has no venv): the first difference is the files' layer, index 3. (Binary and files in
      // one layer: 2.)
      expect(firstDiff).toBe(3);
    } finally {
      removeImagesNamed(ex.name);
      ex.cleanup();
    }
  });
});
