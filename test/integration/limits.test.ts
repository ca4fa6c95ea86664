import { mkdirSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, privateExample, removeImagesNamed, runIn } from '../support/docker.js';

// Issue 19, point 7: limits before work. A folder is one COPY (a 140-file folder used to validate
// and then fail at COPY 130/145 with "max depth exceeded"); what would pass overlayfs' depth, too
// many steps or too many files is refused by validate, naming the field; smoke output is read as
// a stream with a cap, its head and tail kept, the drop said (bench/smoke-output.mjs measures RSS).

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
function example(prefix: string) {
  const ex = privateExample('recipes/examples/echo-python', prefix);
  cleanups.push(ex.cleanup);
  cleanups.push(() => removeImagesNamed(ex.name));
  return ex;
}

describe('limits before work', () => {
  it('a 140-file folder is one COPY: it builds, every file in place, one layer for all of them', async () => {
    const ex = example('folder140');
    mkdirSync(path.join(ex.dir, 'many'));
    for (let i = 0; i < 140; i++) writeFileSync(path.join(ex.dir, 'many', `f${String(i).padStart(3, '0')}.txt`), `file ${i}\n`);
    ex.edit((t) => t.replace('files:\n', 'files:\n  - source: many\n    destination: /etc/many\n'));
    const r = await runCli(['build', ex.recipe, '--no-test', '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(runIn(`${ex.name}:0.1.0`, ['sh', '-c', 'ls /etc/many | wc -l; cat /etc/many/f139.txt']).stdout).toBe('140\nfile 139\n');
    const render = await runCli(['render', ex.recipe]);
    expect(render.stdout.split('\n').filter((l) => l.startsWith('COPY many')).length).toBe(1);
    const layers = JSON.parse(docker(['image', 'inspect', '--format', '{{json .RootFS.Layers}}', `${ex.name}:0.1.0`]).stdout) as string[];
    expect(layers.length).toBeLessThan(20);
  });

  it('validate refuses what would not build: 140 single-file entries, 51 steps, a folder of 10001 files', async () => {
    const ex = example('limits');
    mkdirSync(path.join(ex.dir, 'single'));
    let entries = '';
    for (let i = 0; i < 140; i++) {
      writeFileSync(path.join(ex.dir, 'single', `f${i}.txt`), `${i}\n`);
      entries += `  - source: single/f${i}.txt\n    destination: /etc/single/f${i}.txt\n`;
    }
    ex.edit((t) => t.replace('files:\n', `files:\n${entries}`));
    const layers = await runCli(['validate', ex.recipe]);
    expect(layers.code, layers.stderr).toBe(2);
    expect(layers.stderr).toContain('error[recipe.too-many-layers]');
    expect(layers.stderr).toMatch(/the framework stage would add up to 15\d layers, more than 100/);
    expect(layers.stderr).toMatch(/recipe\.yaml:\d+:\d+: /);

    const steps = example('steps51');
    steps.edit((t) => `${t}\nsteps:\n${Array.from({ length: 51 }, (_, i) => `  - name: s${i}\n    run: "true"\n`).join('')}`);
    const many = await runCli(['validate', steps.recipe]);
    expect(many.code).toBe(2);
    expect(many.stderr).toContain('error[recipe.too-many-steps]');
    expect(many.stderr).toContain('51 steps, more than 50');

    const big = example('folder10001');
    mkdirSync(path.join(big.dir, 'tree'));
    for (let i = 0; i <= 10_000; i++) writeFileSync(path.join(big.dir, 'tree', String(i)), '');
    big.edit((t) => t.replace('files:\n', 'files:\n  - source: tree\n    destination: /opt/tree\n'));
    const tree = await runCli(['validate', big.recipe]);
    expect(tree.code).toBe(2);
    expect(tree.stderr).toContain('error[input.too-many-files]');
    expect(tree.stderr).toContain('"tree" holds more than 10000 files');
  });

  it('a test that prints 20 MB is read through the cap: head and tail kept, the drop said', async () => {
    const ex = example('output');
    ex.edit(
      (t) =>
        `${t.slice(0, t.indexOf('smoke:'))}smoke:\n  tests:\n    - kind: command\n      name: prints a lot and passes on its last line\n      command: [sh, -c, "echo FIRST; head -c 20M /dev/zero | tr '\\\\0' x; echo; echo LAST"]\n      stdout: { contains: LAST }\n    - kind: command\n      name: prints a lot and fails\n      command: [sh, -c, "echo FIRST; head -c 20M /dev/zero | tr '\\\\0' x; echo; echo LAST"]\n      stdout: { contains: NEVER }\n`,
    );
    expect((await runCli(['build', ex.recipe, '--no-test', '--quiet'])).code).toBe(0);
    const r = await runCli(['test', ex.recipe, '--json', '--gpu', 'off'], { env: { DYNAMO_IMAGE_SMOKE_OUTPUT_BYTES: '65536' } });
    expect(r.code, r.stderr).toBe(1);
    const report = JSON.parse(r.stdout);
    const [pass, fail] = report.results as { status: string; actual?: string }[];
    expect(pass!.status).toBe('passed');
    expect(fail!.status).toBe('failed');
    expect(fail!.actual).toMatch(/^FIRST\n/);
    expect(fail!.actual).toMatch(/\nLAST\n?$/);
    expect(fail!.actual).toContain(`bytes of output dropped here, of ${20 * 2 ** 20 + 12}; the first and last 65536 are kept`);
    expect(fail!.actual!.length).toBeLessThan(140_000);
    expect(r.stdout.length).toBeLessThan(300_000);
  });
});
