import { mkdirSync, symlinkSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { imageExists, privateExample, removeImagesNamed, runIn } from '../support/docker.js';

// Issue 10, point 3: a `files` entry may name a folder (a backend's config tree); each file lands
// below the destination with the entry's mode and owner.

const ex = privateExample('recipes/examples/echo-python', 'folders');
afterAll(() => {
  removeImagesNamed(ex.name);
  ex.cleanup();
});

describe('files: folders, mode and owner', () => {
  it('copies every file below a folder, with its mode and owner, and nothing else moves', async () => {
    mkdirSync(path.join(ex.dir, 'conf.d', 'models'), { recursive: true });
    writeFileSync(path.join(ex.dir, 'conf.d', 'a.toml'), 'a = 1\n');
    writeFileSync(path.join(ex.dir, 'conf.d', 'models', 'b.json'), '{"b": 2}\n');
    ex.edit((t) => t.replace('files:\n', 'files:\n  - source: ./conf.d/\n    destination: /etc/backend\n    mode: "0640"\n    owner: "1000:0"\n'));
    const plan = JSON.parse((await runCli(['plan', ex.recipe, '--json'])).stdout);
    const dests = plan.inputs.filter((i: { role: string }) => i.role === 'file').map((i: { destination: string }) => i.destination);
    expect(dests).toEqual(['/etc/backend/a.toml', '/etc/backend/models/b.json', '/etc/echo-engine/engine.json']);
    const r = await runCli(['build', ex.recipe, '--no-test']);
    expect(r.code, r.stderr).toBe(0);
    const out = runIn(`${ex.name}:0.1.0`, [
      'sh',
      '-c',
      'cd /etc/backend && stat -c "%n %a %u:%g" a.toml models/b.json /etc/echo-engine/engine.json && cat models/b.json',
    ]);
    expect(out.stdout).toBe('a.toml 640 1000:0\nmodels/b.json 640 1000:0\n/etc/echo-engine/engine.json 644 0:0\n{"b": 2}\n');
  });

  it('an empty folder is an error that names the field, and nothing is built', async () => {
    const bad = privateExample('recipes/examples/echo-python', 'emptyfolder');
    try {
      mkdirSync(path.join(bad.dir, 'empty'));
      bad.edit((t) => t.replace('files:\n', 'files:\n  - source: empty\n    destination: /etc/empty\n'));
      const r = await runCli(['build', bad.recipe, '--no-test']);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/recipe\.yaml:\d+:\d+: error\[input\.empty-folder\]: files\[0\]\.source: "empty" is a folder with no files in it/);
      expect(imageExists(`${bad.name}:0.1.0`)).toBe(false);
    } finally {
      removeImagesNamed(bad.name);
      bad.cleanup();
    }
  });

  it('a link to a folder inside a folder entry is not followed (no loop): it is named as not a file', async () => {
    const bad = privateExample('recipes/examples/echo-python', 'folderloop');
    try {
      mkdirSync(path.join(bad.dir, 'conf'));
      writeFileSync(path.join(bad.dir, 'conf', 'a.txt'), 'x\n');
      symlinkSync('.', path.join(bad.dir, 'conf', 'loop'));
      bad.edit((t) => t.replace('files:\n', 'files:\n  - source: conf\n    destination: /etc/c\n'));
      const r = await runCli(['validate', bad.recipe]);
      expect(r.code).toBe(2);
      expect(r.stderr).toMatch(/error\[input\.not-a-file\]: files\[0\]\.source: "conf\/loop" is a directory/);
    } finally {
      bad.cleanup();
    }
  });
});
