import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerfileFromPlan } from '../../src/dockerfile/from-plan.js';
import { renderDockerfile } from '../../src/dockerfile/render.js';
import { planFetches } from '../../src/plan/build-plan.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { ROOT } from '../support/cli.js';

// Golden files for every recipe in recipes/ and every good test fixture: the rendered Dockerfile
// and the plan. Review changes to them like code. Update with: npx vitest run -u

function recipesUnder(dir: string): string[] {
  const out: string[] = [];
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = path.join(dir, e.name);
    if (e.isDirectory()) out.push(...recipesUnder(p));
    else if (e.name === 'recipe.yaml') out.push(p);
  }
  return out.sort();
}

const recipes = [...recipesUnder(path.join(ROOT, 'recipes')), ...recipesUnder(path.join(ROOT, 'test', 'fixtures', 'good'))].map((p) => path.relative(ROOT, p));

function goldenName(rel: string): string {
  return path.dirname(rel).replace(/^recipes\//, '').replace(/^test\/fixtures\/good\//, 'fixtures/').replaceAll('/', '__');
}

describe('golden Dockerfiles and plans', () => {
  it('covers every recipe', () => {
    expect(recipes.length).toBeGreaterThanOrEqual(5);
    for (const r of recipes) expect(statSync(path.join(ROOT, r)).isFile()).toBe(true);
  });

  it('has no golden file left from a recipe that is gone or renamed', () => {
    const names = new Set(recipes.map(goldenName));
    const stale = [
      ...readdirSync(path.join(ROOT, 'test', 'golden')).filter((f) => /\.(Dockerfile|plan\.json)$/.test(f)).map((f) => f.replace(/(\.classic)?\.(Dockerfile|plan\.json)$/, '')),
      ...readdirSync(path.join(ROOT, 'test', 'golden', 'variants')).map((f) => f.replace(/__[^_]+\.Dockerfile$/, '')),
    ].filter((n) => !names.has(n));
    expect(stale).toEqual([]);
  });

  // Every variant of every recipe with a matrix (the built-in vllm, sglang, trtllm runtimes).
  it.each(recipes)('%s: every matrix variant', async (rel) => {
    const base = await planRecipe(path.join(ROOT, rel));
    const { expandMatrix } = await import('../../src/matrix/expand.js');
    const { loadSupportData } = await import('../../src/support/load.js');
    if (!base.recipe.matrix) return;
    const exp = expandMatrix(base.recipe, loadSupportData());
    expect(exp.variants.length).toBeGreaterThan(0);
    for (const v of exp.variants) {
      const { plan } = await planRecipe(path.join(ROOT, rel), { variant: v.axes });
      await expect(renderDockerfile(dockerfileFromPlan(plan, 'runtime', { buildkit: true, stepNetwork: planFetches(plan) }))).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', 'variants', `${goldenName(rel)}__${v.id}.Dockerfile`));
    }
  });

  it.each(recipes)('%s', async (rel) => {
    const { plan } = await planRecipe(path.join(ROOT, rel), { cache: undefined });
    const name = goldenName(rel);
    // As BuildKit gets it (cache mounts, each RUN's network where the build has one); the classic
    // builder's differs only in those (below).
    await expect(renderDockerfile(dockerfileFromPlan(plan, 'dev', { buildkit: true, stepNetwork: planFetches(plan) }))).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', `${name}.Dockerfile`));
    const classic = renderDockerfile(dockerfileFromPlan(plan, 'dev', { buildkit: false }));
    expect(classic).not.toContain('--mount=type=cache');
    expect(classic).not.toContain('--network=');
    if (rel.includes('python-deps')) await expect(classic).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', `${name}.classic.Dockerfile`));
    // Machine paths normalised: the plan names the recipe by its path from the repository root.
    const normalised = { ...plan, recipe: { ...plan.recipe, file: rel } };
    await expect(`${JSON.stringify(normalised, null, 2)}\n`).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', `${name}.plan.json`));
  });
});
