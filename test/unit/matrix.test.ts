import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';
import { expandMatrix, shard, variantId } from '../../src/matrix/expand.js';
import { loadSupportData } from '../../src/support/load.js';
import { parseRecipeText } from '../../src/recipe/parse.js';
import { runMain } from '../support/capture.js';
import { normaliseDigests } from '../support/golden.js';
import { ROOT } from '../support/cli.js';

const data = loadSupportData();

function recipe(framework: string, engine: string, matrix: string, extra = '') {
  const text = `apiVersion: dynamo-image/v1
name: t
version: 1.0.0
base: { cuda: "12.9" }
python: "3.12"
dynamo: "1.1.1"
engine: { framework: ${framework}, version: "${engine}", image: {} }
backend: { entrypoint: [x] }
matrix: ${matrix}
${extra}`;
  const p = parseRecipeText('r.yaml', text);
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  return p.value.recipe;
}

describe('matrix expansion through the support matrix', () => {
  it.each([
    ['vllm', '0.19.0', '{ cuda: ["12.8", "12.9", "13.0", "13.1"] }', ['cuda12.9', 'cuda13.0'], ['cuda12.8', 'cuda13.1']],
    [
      'trtllm',
      '1.3.0rc11',
      '{ cuda: ["12.9", "13.0", "13.1"], platform: [linux/amd64, linux/arm64] }',
      ['cuda13.1-amd64', 'cuda13.1-arm64'],
      ['cuda12.9-amd64', 'cuda12.9-arm64', 'cuda13.0-amd64', 'cuda13.0-arm64'],
    ],
    // The upstream images are Python 3.12 only (3.10-3.12 is the wheels' range).
    ['trtllm', '1.3.0rc11', '{ cuda: ["13.1"], python: ["3.10", "3.11", "3.12"] }', ['cuda13.1-py3.12'], ['cuda13.1-py3.10', 'cuda13.1-py3.11']],
    ['sglang', '0.5.10.post1', '{ cuda: ["12.9", "13.0"], exclude: [{ cuda: "13.0" }] }', ['cuda12.9'], ['cuda13.0']],
    ['sglang', '0.5.10.post1', '{ cuda: ["12.9"], include: [{ cuda: "13.0" }, { cuda: "13.1" }] }', ['cuda12.9', 'cuda13.0'], ['cuda13.1']],
  ])('%s %s %s', (fw, engine, matrix, variants, excluded) => {
    const exp = expandMatrix(recipe(fw, engine, matrix), data);
    expect(exp.variants.map((v) => v.id)).toEqual(variants);
    expect(exp.excluded.map((v) => v.id)).toEqual(excluded);
  });

  it('says why a combination is excluded', () => {
    const exp = expandMatrix(recipe('trtllm', '1.3.0rc11', '{ cuda: ["12.9", "13.1"], python: ["3.11", "3.12"] }'), data);
    const reasons = Object.fromEntries(exp.excluded.map((x) => [x.id, x.reason]));
    expect(reasons['cuda12.9-py3.12']).toContain('trtllm 1.3.0rc11 needs CUDA 13.1, not 12.9');
    expect(reasons['cuda13.1-py3.11']).toContain('does not support Python 3.11');
    const ex = expandMatrix(recipe('vllm', '0.19.0', '{ cuda: ["12.9", "13.0"], exclude: [{ cuda: "13.0" }] }'), data);
    expect(ex.excluded[0]).toMatchObject({ by: 'exclude', reason: 'matrix.exclude {"cuda":"13.0"}' });
  });

  it('--allow-unsupported keeps what the support matrix would drop', () => {
    const exp = expandMatrix(recipe('vllm', '0.19.0', '{ cuda: ["12.8", "12.9"] }'), data, { allowUnsupported: true });
    expect(exp.variants.map((v) => v.id)).toEqual(['cuda12.8', 'cuda12.9']);
  });

  it.each([
    [{ cuda: '12.9', platform: 'linux/arm64', python: '3.12' }, 'cuda12.9-arm64-py3.12'],
    [{ platform: 'linux/amd64' }, 'amd64'],
    [{}, ''],
  ])('variant id of %j is %j', (axes, id) => expect(variantId(axes)).toBe(id));

  it.each([1, 2, 3, 5, 7])('%i shards are disjoint, cover everything, and do not depend on order', (n) => {
    const items = Array.from({ length: 13 }, (_, i) => ({ id: `v${String(i).padStart(2, '0')}` }));
    const shards = Array.from({ length: n }, (_, i) => shard(items, i + 1, n).map((x) => x.id));
    expect(shards.flat().sort()).toEqual(items.map((x) => x.id));
    expect(new Set(shards.flat()).size).toBe(items.length);
    expect(Array.from({ length: n }, (_, i) => shard([...items].reverse(), i + 1, n).map((x) => x.id))).toEqual(shards);
    const sizes = shards.map((s) => s.length);
    expect(Math.max(...sizes) - Math.min(...sizes)).toBeLessThanOrEqual(1);
  });
});

describe('matrix outputs for recipes/ (golden files)', () => {
  it('github: the shape a GitHub Actions strategy.matrix takes', async () => {
    const r = await runMain(['matrix', 'recipes', '--format', 'github']);
    expect(r.code, r.err).toBe(0);
    const m = JSON.parse(r.out) as { include: Record<string, unknown>[] };
    expect(Object.keys(m)).toEqual(['include']);
    expect(m.include.length).toBeGreaterThan(0);
    expect(m.include.length).toBeLessThanOrEqual(256); // Actions' limit of jobs per matrix
    const keys = Object.keys(m.include[0]!).sort();
    for (const e of m.include) {
      expect(Object.keys(e).sort()).toEqual(keys);
      for (const v of Object.values(e)) expect(typeof v).toBe('string');
    }
    expect(new Set(m.include.map((e) => e.id)).size).toBe(m.include.length);
    // The built-ins publish manifest lists: one job per CUDA variant and platform, merged after.
    expect(m.include.find((e) => e.id === 'vllm-runtime/dynamo1.6.2@arm64')).toMatchObject({
      runner: 'ubuntu-24.04-arm',
      command: 'npx dynamo-image publish recipes/vllm-runtime/recipe.yaml --variant dynamo=1.6.2 --platform linux/arm64',
    });
    await expect(`${JSON.stringify(m, null, 2)}\n`).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', 'matrix.github.json'));
  });

  it('bake: targets and a default group, rendered from the plans', async () => {
    const r = await runMain(['matrix', 'recipes', '--format', 'bake']);
    expect(r.code, r.err).toBe(0);
    const bake = JSON.parse(r.out) as {
      group: { default: { targets: string[] } };
      target: Record<string, { context: string; 'dockerfile-inline': string; platforms: string[]; tags: string[] }>;
    };
    expect(bake.group.default.targets).toEqual(Object.keys(bake.target));
    for (const name of Object.keys(bake.target)) expect(name).toMatch(/^[A-Za-z0-9_-]+$/);
    const t = bake.target['vllm-runtime_dynamo1_6_2']!;
    expect(t.context).toBe('recipes/vllm-runtime');
    expect(t['dockerfile-inline']).toContain('FROM vllm/vllm-openai:v0.31.0 AS runtime');
    expect(t.platforms).toEqual(['linux/amd64', 'linux/arm64']);
    // Plan digests and build keys as placeholders: their values are in test/golden/digests.json.
    const labels = Object.values(bake.target).map((x) => (x as unknown as { labels: Record<string, string> }).labels);
    let text = r.out;
    for (const l of labels) text = normaliseDigests(text, { plan: l['dev.dynamo-image.plan-digest']!, buildKey: l['dev.dynamo-image.build-key'] });
    expect(text).not.toMatch(/plan-digest[^,]*sha256:[0-9a-f]{64}/);
    await expect(text).toMatchFileSnapshot(path.join(ROOT, 'test', 'golden', 'matrix.bake.json'));
  });

  it('--shard splits the variants and --explain names the exclusions', async () => {
    const all = JSON.parse((await runMain(['matrix', 'recipes'])).out).variants.map((v: { id: string }) => v.id);
    const parts = await Promise.all(
      [1, 2, 3].map(async (i) => JSON.parse((await runMain(['matrix', 'recipes', '--shard', `${i}/3`])).out).variants.map((v: { id: string }) => v.id)),
    );
    expect(parts.flat().sort()).toEqual([...all].sort());
    const ex = await runMain(['matrix', 'recipes/examples/echo-matrix', '--explain']);
    expect(ex.err).toMatch(/excluded echo-matrix\/\S+ \(recipes\/examples\/echo-matrix\/recipe.yaml\): /);
    expect((await runMain(['matrix', 'recipes', '--shard', '4/3'])).code).toBe(2);
  });

  it('the example workflow uses the github output with fail-fast off', () => {
    const wf = parse(readFileSync(path.join(ROOT, '.github', 'workflows', 'dynamo-images.yml'), 'utf8'));
    expect(wf.jobs.matrix.steps.at(-1).run).toContain('dynamo-image matrix $RECIPES --base-image "$BASE_IMAGE" --format github');
    expect(wf.jobs.image.strategy['fail-fast']).toBe(false);
    expect(wf.jobs.image.strategy.matrix).toBe('${{ fromJSON(needs.matrix.outputs.matrix) }}');
    expect(wf.jobs.image['runs-on']).toBe('${{ matrix.runner }}');
  });
});
