import { execFileSync } from 'node:child_process';
import { appendFileSync, cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
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

  it("files[].sha256 (issue 23, point 3): a file's digest, a folder's over its listing as sha256sum writes it; validate checks both and names pin", async () => {
    const d = path.join(dir, 'acme');
    cpSync(path.join(ROOT, 'recipes/examples/acme-c'), d, { recursive: true });
    const recipe = path.join(d, 'recipe.yaml');
    const zero = 'a'.repeat(64);
    writeFileSync(
      recipe,
      readFileSync(recipe, 'utf8')
        .replace('    destination: /opt/acme/lib/libacme.so.1\n', `    destination: /opt/acme/lib/libacme.so.1\n    sha256: ${zero}\n`)
        .replace('    destination: /etc/acme\n', `    destination: /etc/acme\n    sha256: ${zero}\n`),
    );
    const bad = await runCli(['validate', recipe]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/files\[0\]\.sha256: sha256 mismatch for lib\/libacme\.so\.1/);
    expect(bad.stderr).toMatch(/files\[1\]\.sha256: sha256 mismatch for the folder conf\.d\/ \(\d+ files\)/);
    expect(bad.stderr).toContain(`dynamo-image pin ${recipe}`);
    const r = await runCli(['pin', recipe, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect((JSON.parse(r.stdout) as { changes: { field: string }[] }).changes.map((c) => c.field)).toEqual(['files.0.sha256', 'files.1.sha256']);
    // The folder digest is what coreutils computes over the same listing.
    const shell = execFileSync('sh', ['-c', 'find . -type f -printf "%P\\n" | LC_ALL=C sort | xargs sha256sum | sha256sum'], { cwd: path.join(d, 'conf.d') })
      .toString()
      .split(' ')[0];
    expect(readFileSync(recipe, 'utf8')).toContain(`sha256: ${shell}`);
    expect(readFileSync(recipe, 'utf8')).toContain(
      `sha256: ${
        execFileSync('sha256sum', [path.join(d, 'lib/libacme.so.1')])
          .toString()
          .split(' ')[0]
      }`,
    );
    expect((await runCli(['validate', recipe])).code).toBe(0);
    // One byte in one config file: the folder's digest no longer matches.
    const conf = readdirSync(path.join(d, 'conf.d'), { recursive: true, withFileTypes: true }).find((e) => e.isFile())!;
    appendFileSync(path.join(conf.parentPath, conf.name), '#');
    const changed = await runCli(['validate', recipe]);
    expect(changed.code).toBe(2);
    expect(changed.stderr).toMatch(/files\[1\]\.sha256: sha256 mismatch for the folder conf\.d\//);
  });
});
