import { readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { privateExample, removeImagesNamed, runIn } from '../support/docker.js';

// Issue 10, point 6: build steps. Framework steps run after the engine is installed (their output
// ships through /opt/dynamo/staging), runtime steps in the runtime image before the user switch;
// each says whether it needs the network, so hermetic builds keep `--network none`.

const ex = privateExample('recipes/examples/echo-python', 'steps');
afterAll(() => {
  removeImagesNamed(ex.name);
  ex.cleanup();
});

describe('build steps', () => {
  it('run in order, in their stage, as written (quotes, $, several lines), with no network unless asked', async () => {
    ex.edit(
      (t) =>
        `${t}\nsteps:\n  - name: make a file the image ships\n    run: |\n      mkdir -p /opt/dynamo/staging/etc/built\n      printf 'built "at" build time: %s\\n' "$((6*7))" > /opt/dynamo/staging/etc/built/info.txt\n  - name: no network here\n    run: "! getent hosts example.com && test ! -e /sys/class/net/eth0"\n  - name: in the runtime image
    stage: runtime\n    run: echo "runtime step ran as $(id -u)" > /etc/runtime-step.txt\n`,
    );
    const plan = JSON.parse((await runCli(['plan', ex.recipe, '--json'])).stdout);
    expect(plan.steps.map((s: { stage: string; network: boolean }) => `${s.stage}:${s.network}`)).toEqual([
      'framework:false',
      'framework:false',
      'runtime:false',
    ]);
    const r = await runCli(['build', ex.recipe, '--no-test', '--json', '--builder', 'buildkit']);
    expect(r.code, r.stderr).toBe(0);
    const out = runIn(`${ex.name}:0.1.0`, ['sh', '-c', 'cat /etc/built/info.txt /etc/runtime-step.txt']);
    expect(out.stdout).toBe('built "at" build time: 42\nruntime step ran as 0\n');
    // A config edit does not re-run the steps before it (they come from the cache).
    const cfg = path.join(ex.dir, 'config', 'engine.json');
    writeFileSync(cfg, readFileSync(cfg, 'utf8').replace('{', '{ '));
    const again = await runCli(['build', ex.recipe, '--no-test', '--progress', 'plain', '--builder', 'buildkit']);
    expect(again.code, again.stderr).toBe(0);
    expect(again.stderr).toMatch(/CACHED .*make a file the image ships|CACHED \[framework \d+\/\d+\] RUN \["\/bin\/sh","-ec","mkdir/);
  });

  it('a failing step names itself', async () => {
    const bad = privateExample('recipes/examples/echo-python', 'stepfail');
    try {
      bad.edit((t) => `${t}\nsteps:\n  - name: fails on purpose\n    run: "echo about to fail; exit 7"\n`);
      const r = await runCli(['build', bad.recipe, '--no-test']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error[build.failed]');
      expect(r.stderr).toContain('exit 7');
      expect(r.stderr).toContain('about to fail');
    } finally {
      removeImagesNamed(bad.name);
      bad.cleanup();
    }
  });
});
