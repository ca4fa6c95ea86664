import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { dockerfileFromPlan } from '../../src/dockerfile/from-plan.js';
import { renderDockerfile } from '../../src/dockerfile/render.js';
import { planFetches } from '../../src/plan/build-plan.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { ROOT } from '../support/cli.js';
import { DIGEST_TABLE, digestTable, normaliseDigests } from '../support/golden.js';

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
  return path
    .dirname(rel)
    .replace(/^recipes\//, '')
    .replace(/^test\/fixtures\/good\//, 'fixtures/')
    .replaceAll('/', '__');
}

// Each golden's plan digest, by golden name: the identities, in one table (normalised out of the
// goldens themselves, so a new Plan key changes this table and no rendered file).
const digests = new Map<string, string>();

describe('golden Dockerfiles and plans', () => {
  it('covers every recipe', () => {
    expect(recipes.length).toBeGreaterThanOrEqual(5);
    for (const r of recipes) expect(statSync(path.join(ROOT, r)).isFile()).toBe(true);
  });

  it('has no golden file left from a recipe that is gone or renamed', () => {
    const names = new Set(recipes.map(goldenName));
    const stale = [
      ...readdirSync(path.join(ROOT, 'test', 'golden'))
        .filter((f) => /\.(Dockerfile|plan\.json)$/.test(f))
        .map((f) => f.replace(/(\.classic|\.reproducible)?\.(Dockerfile|plan\.json)$/, '')),
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
      digests.set(`variants/${goldenName(rel)}__${v.id}`, plan.digest);
      await expect(
        normaliseDigests(renderDockerfile(dockerfileFromPlan(plan, 'runtime', { buildkit: true, stepNetwork: planFetches(plan) })), { plan: plan.digest }),
      ).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', 'variants', `${goldenName(rel)}__${v.id}.Dockerfile`));
    }
  });

  it.each(recipes)('%s', async (rel) => {
    const { plan } = await planRecipe(path.join(ROOT, rel), { cache: undefined });
    const name = goldenName(rel);
    digests.set(name, plan.digest);
    const norm = (text: string) => normaliseDigests(text, { plan: plan.digest });
    // As BuildKit gets it (cache mounts, each RUN's network where the build has one); the classic
    // builder's differs only in those (below).
    await expect(norm(renderDockerfile(dockerfileFromPlan(plan, 'dev', { buildkit: true, stepNetwork: planFetches(plan) })))).toMatchFileSnapshot(
      path.join(ROOT, 'test', 'golden', `${name}.Dockerfile`),
    );
    const classic = renderDockerfile(dockerfileFromPlan(plan, 'dev', { buildkit: false }));
    expect(classic).not.toContain('--mount=type=cache');
    expect(classic).not.toContain('--network=');
    if (rel.includes('python-deps')) await expect(norm(classic)).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', `${name}.classic.Dockerfile`));
    // Machine paths normalised: the plan names the recipe by its path from the repository root.
    const normalised = { ...plan, recipe: { ...plan.recipe, file: rel } };
    await expect(norm(`${JSON.stringify(normalised, null, 2)}\n`)).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', `${name}.plan.json`));
  });

  // SOURCE_DATE_EPOCH: each RUN clamps what it wrote, the framework's trees are closed at the
  // epoch, the venv and each large file are copied as trees onto existing folders.
  it.each(['recipes/examples/echo-python/recipe.yaml', 'recipes/examples/llamacpp-server/recipe.yaml'])('%s, reproducible', async (rel) => {
    const { plan } = await planRecipe(path.join(ROOT, rel), { sourceDateEpoch: 1700000000 });
    expect(plan.sourceDateEpoch).toBe(1700000000);
    const text = normaliseDigests(renderDockerfile(dockerfileFromPlan(plan, 'runtime', { buildkit: true, stepNetwork: planFetches(plan) })), {
      plan: plan.digest,
    });
    await expect(text).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', `${goldenName(rel)}.reproducible.Dockerfile`));
  });

  it("keeps every golden's plan digest in one table (test/golden/digests.json)", async () => {
    expect(digests.size).toBeGreaterThanOrEqual(recipes.length);
    await expect(digestTable(digests)).toMatchFileSnapshot(DIGEST_TABLE);
  });

  it('a new Plan key changes the digest, and no rendered golden', async () => {
    const { plan } = await planRecipe(path.join(ROOT, 'recipes/examples/echo-python/recipe.yaml'));
    const { canonicalJson, sha256Hex } = await import('../../src/plan/canonical.js');
    const rest: Record<string, unknown> = { ...plan };
    delete rest['digest'];
    const grown = { ...plan, digest: `sha256:${sha256Hex(canonicalJson({ ...rest, aNewKey: 'its default' }))}` };
    expect(grown.digest).not.toBe(plan.digest);
    const render = (p: typeof plan) =>
      normaliseDigests(renderDockerfile(dockerfileFromPlan(p, 'dev', { buildkit: true, stepNetwork: planFetches(p) })), { plan: p.digest });
    expect(render(grown)).toBe(render(plan));
    expect(renderDockerfile(dockerfileFromPlan(grown, 'dev', { buildkit: true }))).toContain(grown.digest);
  });
});
