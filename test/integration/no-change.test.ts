import { readFileSync, rmSync, utimesSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { replayable } from '../../src/fast/no-change.js';
import { ROOT, runCli } from '../support/cli.js';
import { docker, privateExample, removeImages } from '../support/docker.js';

// The no-change fast path (src/fast/no-change.ts): an identical `build` after an up-to-date one is
// answered from a record without loading the CLI, and only while nothing it read has changed.
// Which path answered is read from a trace of the modules the process loaded.

const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});
const traceEnv = (file: string) => ({ TRACE_LOADS_FILE: file, NODE_OPTIONS: `--import ${path.join(ROOT, 'test/support/trace-loads.mjs')}` });

async function build(recipe: string, args: string[], trace: string) {
  rmSync(trace, { force: true });
  const r = await runCli(['build', recipe, ...args], { env: traceEnv(trace) });
  const fullPath = readFileSync(trace, 'utf8').includes('/dist/bundle/cli.cjs');
  return { ...r, fullPath };
}

describe('no-change fast path', () => {
  const ex = privateExample('recipes/examples/echo-python', 'fast');
  cleanups.push(ex.cleanup);
  cleanups.push(() => removeImages(`${ex.name}:0.1.0`));
  const trace = path.join(ex.dir, '..', `${path.basename(ex.dir)}-loads.txt`);
  cleanups.push(() => rmSync(trace, { force: true }));

  it('answers the third identical build (after a build and an up-to-date run) with the same result', async () => {
    const first = await build(ex.recipe, ['--no-test', '--json'], trace);
    expect(first.code, first.stderr).toBe(0);
    expect(JSON.parse(first.stdout).upToDate).toBe(false);
    const second = await build(ex.recipe, ['--no-test', '--json'], trace);
    expect(second.fullPath).toBe(true);
    const full = JSON.parse(second.stdout);
    expect(full.upToDate).toBe(true);
    const third = await build(ex.recipe, ['--no-test', '--json'], trace);
    expect(third.code, third.stderr).toBe(0);
    expect(third.fullPath).toBe(false);
    const fast = JSON.parse(third.stdout);
    expect({ ...fast, durationMs: 0 }).toEqual({ ...full, durationMs: 0 });
    expect(third.stderr).toContain('up to date:');
  });

  it('an edit of the recipe (even with mtime set back) goes to the full path', async () => {
    const text = readFileSync(ex.recipe, 'utf8');
    const { mtime, atime } = await import('node:fs').then((fs) => fs.statSync(ex.recipe));
    writeFileSync(ex.recipe, text.replace('description: ', 'description: X'));
    utimesSync(ex.recipe, atime, mtime);
    const r = await build(ex.recipe, ['--no-test', '--json'], trace);
    expect(r.code, r.stderr).toBe(0);
    expect(r.fullPath).toBe(true);
    expect(JSON.parse(r.stdout).upToDate).toBe(false);
    writeFileSync(ex.recipe, text);
  });

  it('a removed tag goes to the full path, which tags again', async () => {
    for (let i = 0; i < 2; i++) expect((await build(ex.recipe, ['--no-test', '--quiet'], trace)).code).toBe(0);
    expect((await build(ex.recipe, ['--no-test', '--quiet'], trace)).fullPath).toBe(false);
    docker(['image', 'rm', `${ex.name}:0.1.0`], { allowFail: true });
    const r = await build(ex.recipe, ['--no-test', '--quiet'], trace);
    expect(r.fullPath).toBe(true);
    expect(docker(['image', 'inspect', `${ex.name}:0.1.0`], { allowFail: true }).code).toBe(0);
  });

  it('an edited input file goes to the full path', async () => {
    for (let i = 0; i < 2; i++) await build(ex.recipe, ['--no-test', '--quiet'], trace);
    const cfg = path.join(ex.dir, 'config', 'engine.json');
    writeFileSync(cfg, readFileSync(cfg, 'utf8'));
    expect((await build(ex.recipe, ['--no-test', '--quiet'], trace)).fullPath).toBe(true);
  });

  it('smoke tests: replayed only as "passed before", and never under --gpu require', async () => {
    const a = await build(ex.recipe, [], trace);
    expect(a.code, a.stderr).toBe(0);
    const b = await build(ex.recipe, [], trace);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toContain('not run again');
    const r = await build(ex.recipe, [], trace);
    expect(r.fullPath, r.stderr).toBe(false);
    expect(r.stderr).toContain('not run again');
    expect((await build(ex.recipe, ['--gpu', 'require'], trace)).fullPath).toBe(true);
  });
});

describe('which invocations may be replayed (table)', () => {
  it.each([
    [['build', 'r.yaml', '--no-test'], true],
    [['build', '--json', '-q'], true],
    [['build', 'r.yaml', '--variant', 'cuda=12.9', '-t', 'x:1'], true],
    [['build', 'r.yaml', '--force'], false],
    [['build', 'r.yaml', '--no-cache'], false],
    [['build', 'r.yaml', '--push'], false],
    [['build', '--matrix', 'recipes'], false],
    [['build', 'r.yaml', '--junit', 'x.xml'], false],
    [['build', 'r.yaml', '--gpu', 'require'], false],
    [['build', 'a.yaml', 'b.yaml'], false],
    [['publish', 'r.yaml'], false],
    [['render', 'r.yaml'], false],
  ])('%j -> %s', (argv, want) => {
    expect(replayable(argv)).toBe(want);
  });
});
