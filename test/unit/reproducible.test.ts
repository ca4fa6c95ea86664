import { execFileSync } from 'node:child_process';
import { lstatSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerfileFromPlan } from '../../src/dockerfile/from-plan.js';
import { renderDockerfile } from '../../src/dockerfile/render.js';
import { clampCommand, clampStart } from '../../src/dockerfile/reproducible.js';
import { envSourceDateEpoch, planRecipe, sourceDateEpochIssue, tryPlanRecipe } from '../../src/plan/make-plan.js';
import { ROOT } from '../support/cli.js';

const EPOCH = 1700000000;
const EXAMPLE = path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml');

describe('SOURCE_DATE_EPOCH from the environment', () => {
  it.each([
    ['1700000000', 1700000000, false],
    ['0', 0, false],
    [undefined, undefined, false],
    ['', undefined, false],
    ['1700000000.5', undefined, true],
    ['-1', undefined, true],
    ['yesterday', undefined, true],
    ['17000000000000', undefined, true],
  ])('%j: epoch %j, an error: %j', (value, epoch, error) => {
    const env = value === undefined ? {} : { SOURCE_DATE_EPOCH: value };
    expect(envSourceDateEpoch(env)).toBe(epoch);
    expect(sourceDateEpochIssue(env) !== null).toBe(error);
  });

  it('a bad value stops the plan, naming the variable and what would be valid', async () => {
    process.env['SOURCE_DATE_EPOCH'] = 'soon';
    try {
      const r = await tryPlanRecipe(EXAMPLE);
      expect(r.ok).toBe(false);
      const issue = !r.ok ? r.issues.find((i) => i.code === 'env.source-date-epoch') : undefined;
      expect(issue?.path).toEqual(['SOURCE_DATE_EPOCH']);
      expect(issue?.message).toContain('whole seconds');
    } finally {
      delete process.env['SOURCE_DATE_EPOCH'];
    }
  });

  it('is part of the plan (another epoch, another plan digest); unset, the plan has no such key', async () => {
    const none = (await planRecipe(EXAMPLE)).plan;
    const a = (await planRecipe(EXAMPLE, { sourceDateEpoch: EPOCH })).plan;
    const b = (await planRecipe(EXAMPLE, { sourceDateEpoch: EPOCH + 1 })).plan;
    expect('sourceDateEpoch' in none).toBe(false);
    expect(new Set([none.digest, a.digest, b.digest]).size).toBe(3);
    const text = renderDockerfile(dockerfileFromPlan(none, 'runtime', { buildkit: true }));
    expect(text).not.toContain('SOURCE_DATE_EPOCH');
    expect(text).not.toContain('touch -h');
  });
});

// The clamp, run by a real shell on a real folder: what the RUN wrote gets the epoch, what was
// there before keeps its time (touching it would copy the base's files up into the layer).
describe('the clamp a RUN ends with', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-clamp-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('sets the epoch on files, folders and links made since the RUN began, and on nothing older', () => {
    const old = path.join(dir, 'from-the-base');
    writeFileSync(old, 'x');
    const then = new Date('2025-06-01T00:00:00Z');
    utimesSync(old, then, then);
    const script = [
      clampStart,
      `mkdir -p ${dir}/made/deep`,
      `echo y > ${dir}/made/deep/file`,
      `ln -s deep/file ${dir}/made/link`,
      clampCommand(EPOCH, '$_dynamo_t0', dir),
    ].join(' && ');
    execFileSync('sh', ['-c', script]);
    for (const p of ['made', 'made/deep', 'made/deep/file', 'made/link']) expect([p, lstatSync(path.join(dir, p)).mtimeMs / 1000]).toEqual([p, EPOCH]);
    expect(lstatSync(old).mtimeMs).toBe(then.getTime());
  });

  it('closing a tree: everything newer than the epoch gets it, whatever made it', () => {
    const tree = path.join(dir, 'tree');
    mkdirSync(path.join(tree, 'etc'), { recursive: true });
    writeFileSync(path.join(tree, 'etc', 'f'), 'z');
    symlinkSync('f', path.join(tree, 'etc', 'l'));
    execFileSync('sh', ['-c', clampCommand(EPOCH, String(EPOCH), tree)]);
    for (const p of ['.', 'etc', 'etc/f', 'etc/l']) expect([p, lstatSync(path.join(tree, p)).mtimeMs / 1000]).toEqual([p, EPOCH]);
  });

  it('from /, it leaves /proc, /sys, /dev and the files the builder binds in alone', () => {
    const c = clampCommand(EPOCH);
    expect(c).toContain('-xdev');
    expect(c).toContain('\\( -path /proc -o -path /sys -o -path /dev \\) -prune');
    for (const p of ['/etc/hosts', '/etc/resolv.conf', '/etc/hostname']) expect(c).toContain(`! -path ${p}`);
  });
});
