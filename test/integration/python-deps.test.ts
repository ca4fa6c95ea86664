import { afterAll, describe, expect, it } from 'vitest';
import { runCli } from '../support/cli.js';
import { inspectImage, privateExample, removeImagesNamed, runIn } from '../support/docker.js';

// Issue 10, point 1: an engine wheel with dependency wheels, pinned and installed offline in pip's
// hash-checking mode (recipes/examples/python-deps).

const made: string[] = [];
afterAll(() => made.forEach(removeImagesNamed));

describe('Python dependencies', () => {
  it('the example builds; its smoke tests import the dependencies; the plan and a label record them', async () => {
    const ex = privateExample('recipes/examples/python-deps', 'deps');
    made.push(ex.name);
    try {
      const r = await runCli(['build', ex.recipe, '--json']);
      expect(r.code, r.stderr).toBe(0);
      expect(JSON.parse(r.stdout).smoke).toMatchObject({ ran: true, passed: 3, failed: 0 });
      const plan = JSON.parse((await runCli(['plan', ex.recipe, '--json'])).stdout);
      expect(plan.dependencies.map((d: { name: string; version: string }) => `${d.name}==${d.version}`)).toEqual(['tally-words==1.2.0', 'tally-count==0.3.1']);
      expect(inspectImage(`${ex.name}:2.0.0`).Config.Labels['dev.dynamo-image.python-dependencies']).toBe('tally-words==1.2.0,tally-count==0.3.1');
      // The runtime image carries no installer and no wheelhouse.
      expect(runIn(`${ex.name}:2.0.0`, ['sh', '-c', 'ls /opt/dynamo; ls /opt/dynamo/venv/bin | grep -c "^pip" || true']).stdout).toBe('venv\n0\n');
    } finally {
      ex.cleanup();
    }
  });

  it('a dependency left out of the list fails the build (every dependency must be pinned)', async () => {
    const ex = privateExample('recipes/examples/python-deps', 'depmiss');
    made.push(ex.name);
    try {
      ex.edit((t) => t.replace(/    - path: wheels\/tally_count-0\.3\.1-py3-none-any\.whl\n      sha256: \w+\n/, ''));
      const r = await runCli(['build', ex.recipe, '--no-test']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error[build.failed]');
      expect(r.stderr).toMatch(/tally-count/);
    } finally {
      ex.cleanup();
    }
  });
});
