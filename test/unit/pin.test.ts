import { appendFileSync, cpSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';

// Issue 10, point 9: `dynamo-image pin` re-pins local inputs after they were rebuilt, changing only
// the sha256 values and keeping everything else of the recipe as written.

const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-pin-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('pin', () => {
  it('rewrites only the changed sha256; comments and layout stay; the recipe validates again', async () => {
    cpSync(path.join(ROOT, 'recipes/examples/echo-python'), dir, { recursive: true });
    const recipe = path.join(dir, 'recipe.yaml');
    const before = readFileSync(recipe, 'utf8');
    appendFileSync(path.join(dir, 'wheels', 'echo_engine-0.1.0-py3-none-any.whl'), Buffer.from('rebuilt'));
    expect((await runCli(['validate', recipe])).stderr).toContain('error[input.sha256-mismatch]');
    const r = await runCli(['pin', recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    const { changes } = JSON.parse(r.stdout) as { changes: { field: string }[] };
    expect(changes.map((c) => c.field)).toEqual(['engine.wheel.sha256']);
    const after = readFileSync(recipe, 'utf8');
    const a = before.split('\n');
    const b = after.split('\n');
    expect(b.length).toBe(a.length);
    const differing = a.map((l, i) => [l, b[i]]).filter(([x, y]) => x !== y);
    expect(differing).toHaveLength(1);
    expect(differing[0]![1]).toMatch(/^    sha256: [0-9a-f]{64}$/);
    expect(after).toContain('# yaml-language-server: $schema=');
    expect((await runCli(['validate', recipe])).code).toBe(0);
    // Nothing to do the second time.
    const again = await runCli(['pin', recipe, '--json']);
    expect(JSON.parse(again.stdout).changes).toEqual([]);
  });
});
