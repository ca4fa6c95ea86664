import { mkdtempSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';
import { runMain } from '../support/capture.js';

// Every file in test/fixtures/bad/ is a broken recipe. Its first line says which error code and
// field path it must produce; the line marked "# <-- error" is where the error must point.

const BAD = path.join(ROOT, 'test', 'fixtures', 'bad');
const fixtures = readdirSync(BAD)
  .filter((f) => f.endsWith('.yaml'))
  .sort();

function expectation(file: string) {
  const text = readFileSync(path.join(BAD, file), 'utf8');
  const m = /^# expect: (\S+) (\S+)/.exec(text);
  if (!m) throw new Error(`${file} has no "# expect:" header`);
  const line = text.split('\n').findIndex((l) => l.includes('# <-- error')) + 1;
  return { code: m[1]!, path: m[2] === '-' ? null : m[2]!, line };
}

describe('malformed recipes: exit 2, the field path and the line', () => {
  it('has at least 40 of them', () => {
    expect(fixtures.length).toBeGreaterThanOrEqual(40);
  });

  it.each(fixtures)('%s', async (file) => {
    const want = expectation(file);
    const rel = path.relative(ROOT, path.join(BAD, file));
    const r = await runMain(['validate', rel]);
    expect(r.code).toBe(2);
    // FILE:LINE:COL: field.path: message
    const lines = r.err.split('\n').filter((l) => l.startsWith(`${rel}:`));
    expect(lines.length, r.err).toBeGreaterThan(0);
    const hit = lines.find((l) => {
      const m = /^[^:]+:(\d+):(\d+): (?:error|warning)\[([a-z0-9.-]+)\]: (.*)$/.exec(l);
      if (!m) return false;
      const pathOk = want.path === null || m[4]!.startsWith(`${want.path}: `) || m[4]!.startsWith(`${want.path}.`);
      return pathOk && Number(m[1]) === want.line && m[3] === want.code;
    });
    expect(hit, `wanted ${want.path ?? '(no path)'} at line ${want.line}, got:\n${r.err}`).toBeDefined();
    expect(r.err).not.toMatch(/at .*\.(ts|js):\d+/); // no stack trace
  });
});

describe('files that are not recipes: one clear line and exit 2', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-bad-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const make = (name: string, content: Buffer | string) => {
    const p = path.join(dir, name);
    writeFileSync(p, content);
    return p;
  };
  mkdirSync(path.join(dir, 'a-directory'));

  it.each([
    ['empty file', () => make('empty.yaml', ''), 'is empty'],
    ['whitespace only', () => make('blank.yaml', '\n   \n\t\n'), 'is empty'],
    ['comments only', () => make('comments.yaml', '# nothing here\n'), 'holds no YAML document'],
    ['binary file', () => make('binary.yaml', Buffer.from([0x7f, 0x45, 0x4c, 0x46, 0x00, 0x01, 0x02])), 'binary file'],
    ['invalid UTF-8', () => make('latin1.yaml', Buffer.from([0x6e, 0x61, 0x6d, 0x65, 0x3a, 0x20, 0xe9, 0xff, 0x0a])), 'not valid UTF-8'],
    ['huge file', () => make('huge.yaml', `name: x\n${'# padding\n'.repeat(120_000)}`), 'a recipe may be at most'],
    ['a directory', () => path.join(dir, 'a-directory'), 'is a directory'],
    ['a missing path', () => path.join(dir, 'nope.yaml'), 'no such file'],
  ])('%s', async (_name, makePath, message) => {
    const p = makePath();
    const r = await runMain(['validate', p]);
    expect(r.code).toBe(2);
    const problem = r.err.split('\n').filter((l) => l.startsWith(p));
    expect(problem).toHaveLength(1);
    expect(problem[0]).toContain(message);
  });

  it('reports every problem of every file in one run', async () => {
    const a = path.relative(ROOT, path.join(BAD, 'name-uppercase.yaml'));
    const b = path.relative(ROOT, path.join(BAD, 'port-out-of-range.yaml'));
    const r = await runMain(['validate', a, b, path.join(dir, 'nope.yaml')]);
    expect(r.code).toBe(2);
    expect(r.err).toContain(`${a}:`);
    expect(r.err).toContain(`${b}:`);
    expect(r.err).toMatch(/3 errors in 3 of 3 files/);
  });

  it('suggests the key the user meant', async () => {
    const r = await runMain(['validate', path.join(BAD, 'unknown-nested-key.yaml')]);
    expect(r.err).toContain('unknown key "entrypont" (did you mean "entrypoint"?)');
  });

  it('names both digests on a sha256 mismatch', async () => {
    const r = await runMain(['validate', path.join(BAD, 'sha256-mismatch.yaml')]);
    expect(r.err).toContain(`the recipe says ${'0'.repeat(64)}, the file is 50b96f4d4af76df4d00e552aa721b043228e020bcecd4638b0c483348f5afa28`);
  });

  it('names the nearest supported combinations for an unsupported one', async () => {
    const r = await runMain(['validate', path.join(BAD, 'unsupported-combination.yaml')]);
    expect(r.err).toMatch(/base\.cuda: trtllm 1\.3\.0rc11 needs CUDA 13\.1, not 12\.9 \(supported: .*--allow-unsupported builds it anyway\)/);
  });
});
