import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { inspectImage, privateExample, removeImages, removeImagesNamed, runIn } from '../support/docker.js';

// Issue 10, point 5: an engine that installs no Python package needs no Python in its base.
// dynamo-image-base/debian:bookworm (scripts/env-up.sh) is bookworm with Python purged.

const ex = privateExample('recipes/examples/echo-binary', 'nopy');
afterAll(() => {
  removeImagesNamed(ex.name);
  removeImages('acme-c:1.4.0');
  ex.cleanup();
});

describe('engines without Python', () => {
  it('a binary engine builds on a base with no python3 and passes its smoke tests; no venv, no python3 added', async () => {
    expect(runIn('dynamo-image-base/debian:bookworm', ['sh', '-c', 'command -v python3 || echo none']).stdout.trim()).toBe('none');
    // The serve test needs python3 or curl inside the image; this base has neither, so it goes.
    ex.edit((t) =>
      t.replace('dynamo-image-base/debian-python:bookworm', 'dynamo-image-base/debian:bookworm').replace(/    - kind: serve[\s\S]*?equals: ok \}\n/, ''),
    );
    const r = await runCli(['build', ex.recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.smoke.passed).toBeGreaterThanOrEqual(2);
    const look = runIn(`${ex.name}:0.2.0`, [
      'sh',
      '-c',
      'command -v python3 || echo no-python; ls /opt/dynamo/venv 2>/dev/null || echo no-venv; tokenecho --version',
    ]);
    expect(look.stdout).toBe('no-python\nno-venv\ntokenecho 0.2.0\n');
    const img = inspectImage(`${ex.name}:0.2.0`);
    expect(img.Config.Env.some((e) => e.startsWith('VIRTUAL_ENV='))).toBe(false);
    expect(img.Config.Labels['dev.dynamo-image.python-version']).toBeUndefined();
  });

  it('recipes/examples/acme-c: a C server with its shared library and a config folder, no Python; its smoke tests pass', async () => {
    const r = await runCli(['build', 'recipes/examples/acme-c/recipe.yaml', '--json', '--force']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.smoke).toMatchObject({ passed: 5, failed: 0 });
    // The library is found through the env value that extends the inherited one; the folder's
    // files keep their relative paths, mode and owner.
    const look = runIn('acme-c:1.4.0', ['sh', '-c', 'acme-server --show-config && stat -c "%n %a %u:%g" /etc/acme/acme.conf /etc/acme/models/default.conf']);
    expect(look.stdout).toBe(
      'acme.conf: greeting = hello from acme\nacme.conf: threads = 4\nmodels/default.conf: model = tiny-test\n/etc/acme/acme.conf 640 0:0\n/etc/acme/models/default.conf 640 0:0\n',
    );
  });
});
