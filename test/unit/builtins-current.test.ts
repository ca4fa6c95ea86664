import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { applyVariant, expandMatrix, parseVariant } from '../../src/matrix/expand.js';
import { loadSupportData } from '../../src/support/load.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { fillSmokePins, pinValues } from '../../src/plan/smoke-pins.js';
import { Recipe } from '../../src/recipe/schema.js';
import { ROOT } from '../support/cli.js';

// Issue 20, point 5: the built-ins at Dynamo's newest release, their matrices the current and the
// previous minor release (a `dynamo` axis), every pin the smoke tests check taken from the plan.

const data = loadSupportData();
const newest = data.matrix.releases[0]!.dynamo;

describe('the built-ins follow the support data', () => {
  // [recipe, framework, 1.7.0 engine, 1.6.2 engine, engine image of 1.7.0, CUDA]
  it.each([
    ['vllm-runtime', 'vllm', '0.33.0', '0.31.0', 'vllm/vllm-openai:v0.33.0', '13.0'],
    ['sglang-runtime', 'sglang', '0.5.23', '0.5.21', 'lmsysorg/sglang:v0.5.23-cu130-runtime', '13.0'],
    ['tensorrtllm-runtime', 'trtllm', '1.4.0rc2', '1.3.0rc29', 'nvcr.io/nvidia/tensorrt-llm/release:1.4.0rc2', '13.1'],
  ])('%s: the newest release as written, the previous minor as a variant', async (name, fw, eng, prevEng, image, cuda) => {
    const file = path.join(ROOT, 'recipes', name, 'recipe.yaml');
    const { plan, recipe } = await planRecipe(file);
    expect(newest).toBe('1.7.0');
    expect(plan.dynamo?.version).toBe(newest);
    expect(plan.image.version).toBe(newest);
    expect(plan.engine.version).toBe(eng);
    expect(plan.base.runtime).toBe(image);
    expect(plan.cuda?.version).toBe(cuda);
    expect(plan.support.status).toBe('supported');
    const row = data.rows.find((r) => r.dynamo === newest && r.framework === fw && r.cuda === cuda)!;
    expect(plan.labels['dev.dynamo-image.support-row']).toBe(`dynamo=1.7.0 ${fw}=${eng} cuda=${cuda} nixl=${row.nixl} ucx=1.22.x`);
    // The smoke tests check the plan's own pins, filled in.
    const py = plan.smoke.tests.find((t) => t.kind === 'python')!;
    expect(py.kind === 'python' && py.distributions).toMatchObject({ 'ai-dynamo': '==1.7.0', 'ai-dynamo-runtime': '==1.7.0' });
    expect(JSON.stringify(plan.smoke.tests)).not.toMatch(/\{[a-z_]+_version\}/);

    // The matrix: the newest release and the previous minor's newest patch.
    const exp = expandMatrix(recipe, data);
    expect(exp.variants.map((v) => v.id)).toEqual(['dynamo1.6.2', 'dynamo1.7.0']);
    expect(exp.excluded).toEqual([]);
    const prev = await planRecipe(file, { variant: { dynamo: '1.6.2' } });
    expect(prev.plan.dynamo?.version).toBe('1.6.2');
    expect(prev.plan.image.version).toBe('1.6.2');
    expect(prev.plan.engine.version).toBe(prevEng);
    expect(prev.plan.tags[0]).toBe(`${name}:1.6.2-dynamo1.6.2`);
    // NIXL/UCX come from the same release's image, wherever the recipe takes them from one.
    for (const im of prev.plan.imports.filter((i) => i.image.includes('ai-dynamo/'))) expect(im.image).toBe(`nvcr.io/nvidia/ai-dynamo/${name}:1.6.2`);
    const ucx = prev.plan.smoke.tests.find((t) => t.kind === 'command' && t.version);
    if (ucx && ucx.kind === 'command') expect(ucx.version?.constraint).toBe('==1.21.*');
  });

  it('refuses what never shipped: vLLM at 1.7.0 on CUDA 12.9', async () => {
    const { resolveRecipe } = await import('../../src/support/resolve.js');
    const { recipe } = await planRecipe(path.join(ROOT, 'recipes', 'vllm-runtime', 'recipe.yaml'));
    const r = resolveRecipe(applyVariant(recipe, { cuda: '12.9' }), data, { file: 'r.yaml', locate: () => ({ line: 1, col: 1 }) });
    expect(r.resolution).toBeNull();
    expect(r.issues[0]?.code).toBe('matrix.unsupported');
  });
});

describe('the dynamo axis', () => {
  it.each([
    ['dynamo=1.6.2', { dynamo: '1.6.2' }],
    ['dynamo=0.7.0.post1,platform=linux/arm64', { dynamo: '0.7.0.post1', platform: 'linux/arm64' }],
  ])('--variant %s', (text, axes) => {
    expect(parseVariant(text)).toEqual({ ok: true, axes });
  });
  it.each(['dynamo=~1.6', 'dynamo=1.6', 'dynamo=latest'])('--variant %s is refused: a variant names one release', (text) => {
    const r = parseVariant(text);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.reason).toContain('exact Dynamo release');
  });
  it('the image version follows the release only where it is the release', () => {
    const base = { version: '1.7.0', dynamo: '1.7.0' } as Recipe;
    expect(applyVariant(base, { dynamo: '1.6.2' })).toMatchObject({ version: '1.6.2', dynamo: '1.6.2' });
    expect(applyVariant({ ...base, version: '2.0.0' }, { dynamo: '1.6.2' })).toMatchObject({ version: '2.0.0', dynamo: '1.6.2' });
  });
});

describe("smoke tests that check the plan's pins", () => {
  const at = () => ({ line: 7, col: 3 });
  const tests = Recipe.shape.smoke.unwrap().shape.tests.parse([
    { kind: 'python', name: 'pins', distributions: { 'ai-dynamo': '=={dynamo_version}', vllm: '=={engine_version}', nixl: '>={nixl_version}' } },
    { kind: 'command', name: 'ucx', command: ['ucx_info', '-v'], version: { constraint: '=={ucx_version}' } },
    { kind: 'python', name: 'plain', distributions: { x: '==1.0' } },
  ]);
  it.each([
    [
      'every pin known',
      { dynamo: '1.7.0', engine: '0.33.0', nixl: '1.5.0', ucx: '1.22.x' },
      [{ 'ai-dynamo': '==1.7.0', vllm: '==0.33.0', nixl: '>=1.5.0' }, '==1.22.*'],
      [],
    ],
    [
      'no Dynamo, no row',
      { dynamo: null, engine: '0.1.0', nixl: null, ucx: null },
      [{ 'ai-dynamo': '=={dynamo_version}', vllm: '==0.1.0', nixl: '>={nixl_version}' }, '=={ucx_version}'],
      ['dynamo_version', 'nixl_version', 'ucx_version'],
    ],
  ] as const)('%s', (_, pins, want, missing) => {
    const r = fillSmokePins(tests, pinValues(pins), 'r.yaml', at);
    expect(r.tests[0]!.kind === 'python' && r.tests[0]!.distributions).toEqual(want[0]);
    expect(r.tests[1]!.kind === 'command' && r.tests[1]!.version?.constraint).toBe(want[1]);
    expect(r.tests[2]).toEqual(tests[2]);
    expect(r.issues.map((i) => /\{(\w+)\}/.exec(i.message)![1]).sort()).toEqual([...missing]);
    for (const i of r.issues) expect(i).toMatchObject({ code: 'smoke.pin-unknown', file: 'r.yaml', line: 7 });
  });
  it.each([
    ['=={dynamo}', 'names {dynamo}'],
    ['=={ENGINE_VERSION}', 'names {ENGINE_VERSION}'],
    ['{engine_version}!!', 'is not a version'],
  ])('%s is refused with a message that names the valid placeholders', (c, msg) => {
    const r = Recipe.shape.smoke.unwrap().shape.tests.safeParse([{ kind: 'python', name: 'x', distributions: { vllm: c } }]);
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toContain(msg);
  });
});

describe('an unsupported recipe names the newest release that fits (issue 20, point 6)', () => {
  const recipe = (dynamo: string, engine: string, cuda: string) =>
    Recipe.parse({
      apiVersion: 'dynamo-image/v1',
      name: 't',
      version: '1.0.0',
      base: { cuda },
      python: '3.12',
      dynamo,
      engine: { framework: 'vllm', version: engine, index: {} },
      backend: { entrypoint: ['x'] },
    });
  it.each([
    ['1.6.2', '0.33.0', '13.0', 'the newest release that fits vllm 0.33.0 on CUDA 13.0: dynamo: "1.7.0" (vllm 0.33.0)'],
    ['1.7.0', '0.33.0', '12.9', 'no release fits vllm 0.33.0 on CUDA 12.9; the newest on CUDA 12.9: dynamo: "1.2.1" with vllm 0.20.1'],
    ['1.7.0', '0.19.0', '12.9', 'the newest release that fits vllm 0.19.0 on CUDA 12.9: dynamo: "1.1.1" (vllm 0.19.0)'],
    ['9.9.9', '0.31.0', '13.0', 'the newest release that fits vllm 0.31.0 on CUDA 13.0: dynamo: "1.6.2" (vllm 0.31.0)'],
  ])('dynamo %s, vllm %s, CUDA %s', async (dynamo, engine, cuda, want) => {
    const { resolveRecipe } = await import('../../src/support/resolve.js');
    const r = resolveRecipe(recipe(dynamo, engine, cuda), data, { file: 'r.yaml', locate: () => ({ line: 1, col: 1 }) });
    expect(r.resolution).toBeNull();
    expect(r.issues[0]?.hint).toContain(want);
  });
});
