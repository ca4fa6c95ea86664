import { describe, expect, it } from 'vitest';
import { diffSummaries, readSummary, type PlanSummary } from '../../src/plan/summary.js';

// Issue 24, point 4: what changed the build key, one line each, from two plan summaries.
const base: PlanSummary = {
  v: 1,
  tool: '0.1.0',
  recipe: 'r1',
  plan: 'sha256:p1',
  target: 'runtime',
  platform: null,
  buildArgs: { A: 'aaa' },
  base: { runtime: 'img:1', builder: 'img:1' },
  engine: 'custom==1.0 (wheel)',
  dynamo: null,
  python: '3.12',
  inputs: { 'wheels/e.whl': '1111', 'conf/a.json': '2222' },
  inputsDigest: 'd1',
  deps: ['tok==1.0'],
  systemPackages: ['curl'],
  imports: [],
  steps: 's1',
  runtime: 'rt1',
};

describe('diffSummaries', () => {
  it.each<[string, Partial<PlanSummary>, string[]]>([
    ['the same plan', {}, []],
    ['the tool', { tool: '0.2.0', plan: 'sha256:p2' }, ['dynamo-image version: 0.1.0 -> 0.2.0']],
    ['an input', { inputs: { 'wheels/e.whl': '1111', 'conf/a.json': '3333' }, plan: 'sha256:p2' }, ['input conf/a.json: sha256 2222… -> 3333…']],
    [
      'an input added and one removed',
      { inputs: { 'wheels/e.whl': '1111', 'conf/b.json': '4444' }, plan: 'sha256:p2' },
      ['input conf/b.json: added (sha256 4444…)', 'input conf/a.json: removed'],
    ],
    ['a pin', { deps: ['tok==1.1'], plan: 'sha256:p2' }, ['Python dependency tok: 1.0 -> 1.1']],
    ['a base', { base: { runtime: 'img:2', builder: 'img:2' }, plan: 'sha256:p2' }, ['base image (runtime stage): img:1 -> img:2']],
    ['a flag', { buildArgs: { A: 'bbb' }, platform: 'linux/arm64' }, ['platform: (none) -> linux/arm64', 'build argument A: another value']],
    ['packages', { systemPackages: ['wget'], plan: 'sha256:p2' }, ['system package wget: added', 'system package curl: removed']],
    [
      'only the recipe bytes',
      { recipe: 'r2', plan: 'sha256:p2' },
      ["the recipe file's bytes changed (the plan digest covers them: a comment or layout edit makes a new image)"],
    ],
  ])('%s', (_what, change, lines) => {
    expect(diffSummaries(base, { ...base, ...change }).map((c) => c.line)).toEqual(lines);
  });

  it('reads back only a summary it understands', () => {
    expect(readSummary(JSON.stringify(base))).toEqual(base);
    expect(readSummary(JSON.stringify({ ...base, v: 2 }))).toBeNull();
    expect(readSummary('not json')).toBeNull();
    expect(readSummary(undefined)).toBeNull();
  });
});
