import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { docker, privateExample } from '../support/docker.js';
import { startSecondEngine, type SecondEngine } from '../support/second-engine.js';

// Issue 19, point 9: a classic build whose engine is killed mid-RUN leaves that RUN's container
// behind after the engine restarts. The next build removes it (classic builds label every stage,
// so their step containers carry dev.dynamo-image.builder=classic). A second Docker 20.10 engine,
// started by this test on its own socket and data root, is the one killed (SIGKILL) and restarted.

const BASE = 'dynamo-image-base/debian-python:bookworm';
let engine: SecondEngine;
const cleanups: (() => unknown)[] = [];

beforeAll(async () => {
  engine = await startSecondEngine([BASE], { gpuHook: false });
}, 300_000);
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  await engine?.stop();
});

const containers = (filter: string[] = []) =>
  docker(['-H', engine.host, 'ps', '-a', ...filter.flatMap((f) => ['--filter', f]), '--format', '{{.ID}} {{.Status}}'])
    .stdout.split('\n')
    .filter(Boolean);

describe('leftovers of a classic build whose engine died', () => {
  it('the next build removes the step container the crash left, and nothing else', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'crash');
    cleanups.push(ex.cleanup);
    const original = ex.edit.bind(ex);
    original((t) => `${t}\nsteps:\n  - name: long step\n    run: sleep 300\n`);
    const env = { DOCKER_HOST: engine.host };
    // A container of our own that is not a step container: it must survive the cleanup.
    docker(['-H', engine.host, 'create', '--name', 'bystander', '--network', 'none', BASE, 'true']);

    const building = runCli(['build', ex.recipe, '--builder', 'classic', '--no-test', '--progress', 'plain'], { env, timeoutMs: 240_000 });
    // Wait for the long step's container to run, then kill the engine under it.
    let running: string[] = [];
    for (let i = 0; i < 240 && !running.length; i++) {
      running = containers(['label=dev.dynamo-image.builder=classic', 'status=running']);
      if (!running.length) await new Promise((r) => setTimeout(r, 250));
    }
    expect(running, 'the long step never ran in a labelled container').toHaveLength(1);
    await engine.crashAndRestart();
    const failed = await building;
    expect(failed.code).not.toBe(0);
    const left = containers(['label=dev.dynamo-image.builder=classic']);
    expect(left).toHaveLength(1);
    expect(left[0]).toMatch(/Exited \(\d+\)/);

    // The next run (the recipe fixed) removes it, says so, and builds.
    original((t) => t.replace('run: sleep 300', 'run: "true"'));
    const next = await runCli(['build', ex.recipe, '--builder', 'classic', '--no-test', '--progress', 'plain'], { env, timeoutMs: 240_000 });
    expect(next.code, next.stderr).toBe(0);
    expect(next.stderr).toContain(`removed 1 container left by an interrupted classic build (${left[0]!.split(' ')[0]}`);
    expect(containers(['label=dev.dynamo-image.builder=classic'])).toEqual([]);
    expect(containers().map((c) => c.split(' ')[0])).toEqual([
      docker(['-H', engine.host, 'inspect', '--format', '{{.Id}}', 'bystander']).stdout.trim().slice(0, 12),
    ]);
  });
});
