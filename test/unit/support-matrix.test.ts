import { describe, expect, it } from 'vitest';
import { loadSupportData } from '../../src/support/load.js';
import { resolveRecipe } from '../../src/support/resolve.js';
import { parseRecipeText } from '../../src/recipe/parse.js';
import { locate } from '../../src/recipe/positions.js';

// Issues 12 and 20: the support matrix as Dynamo's release data (releases.json, RJ) and docs
// (support-matrix.md, release-artifacts.md at 00552b23362935fcb6f85c23fdd87f03879db20d) give it.
// Every combination the issues name, accepted or refused, through the same resolution a recipe
// goes through. Where RJ and the pages disagree, RJ wins (issue 20) and the row's notes say so.

const data = loadSupportData();

function resolve(framework: string, engine: string, dynamo: string, cuda: string, opts: { python?: string; source?: string; platforms?: string[] } = {}) {
  const text = [
    'apiVersion: dynamo-image/v1',
    'name: t',
    'version: 1.0.0',
    'base:',
    `  cuda: "${cuda}"`,
    `  platforms: [${(opts.platforms ?? ['linux/amd64']).join(', ')}]`,
    `python: "${opts.python ?? '3.12'}"`,
    `dynamo: "${dynamo}"`,
    'engine:',
    `  framework: ${framework}`,
    `  version: "${engine}"`,
    `  ${opts.source ?? 'image: {}'}`,
    'backend:',
    '  entrypoint: [python3, -m, dynamo.x]',
  ].join('\n');
  const p = parseRecipeText('r.yaml', text);
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  return resolveRecipe(p.value.recipe, data, { file: 'r.yaml', locate: (path) => locate(p.value.doc, p.value.lines, path), allowUnsupported: false });
}

describe('accepted as the source says (status per CUDA toolkit)', () => {
  it.each([
    // 1. TRT-LLM on CUDA 13.0 for 0.7.0-0.9.1, 13.1 from 1.0.0.
    ['trtllm', '1.3.0rc3', '0.9.1', '13.0', 'supported'],
    ['trtllm', '1.3.0rc1', '0.9.0', '13.0', 'supported'],
    ['trtllm', '1.2.0rc6.post1', '0.8.0', '13.0', 'supported'],
    ['trtllm', '1.2.0rc2', '0.7.0', '13.0', 'supported'],
    ['trtllm', '1.3.0rc5.post1', '1.0.0', '13.1', 'supported'],
    // 2. vLLM / SGLang on CUDA 13.0: experimental in 0.8.x and 0.9.x, supported from 1.0.0.
    ['vllm', '0.12.0', '0.8.0', '13.0', 'experimental'],
    ['vllm', '0.12.0', '0.8.1', '13.0', 'experimental'],
    ['sglang', '0.5.6.post2', '0.8.1', '13.0', 'experimental'],
    ['vllm', '0.16.0', '1.0.0', '13.0', 'supported'],
    ['sglang', '0.5.10.post1', '1.1.1', '13.0', 'supported'],
    // 3. CUDA 12.8 for 0.7.0 vLLM; 0.7.1 swapped (RJ: vLLM 12.9, SGLang 12.8; RA said the reverse).
    ['vllm', '0.11.0', '0.7.0', '12.8', 'supported'],
    ['vllm', '0.11.0', '0.7.1', '12.9', 'supported'],
    ['sglang', '0.5.4.post3', '0.7.1', '12.8', 'supported'],
    // 4. 0.8.1 is TRT-LLM 1.2.0rc6.post1; the post releases carry post2 / post3.
    ['trtllm', '1.2.0rc6.post1', '0.8.1', '13.0', 'supported'],
    ['trtllm', '1.2.0rc6.post1', '0.8.1.post1', '13.0', 'supported'],
    ['trtllm', '1.2.0rc6.post2', '0.8.1.post2', '13.0', 'supported'],
    ['trtllm', '1.2.0rc6.post3', '0.8.1.post3', '13.0', 'supported'],
    // 5. Releases that were missing.
    ['vllm', '0.11.2', '0.7.0.post2', '12.8', 'supported'],
    ['trtllm', '1.2.0rc3', '0.7.0.post1', '13.0', 'supported'],
    ['sglang', '0.5.3.post2', '0.6.1', '12.9', 'supported'],
    ['sglang', '0.5.3.post2', '0.6.1.post1', '12.9', 'supported'],
    ['sglang', '0.5.3.post2', '0.6.0', '12.8', 'supported'],
    ['trtllm', '1.1.0rc5', '0.6.0', '12.9', 'supported'],
    ['vllm', '0.11.0', '0.6.1', '12.8', 'supported'],
    // 6. Issue 20: 1.2.0 to 1.7.0, every release.
    ['vllm', '0.20.1', '1.2.0', '12.9', 'supported'],
    ['vllm', '0.20.1', '1.2.1', '13.0', 'supported'],
    ['sglang', '0.5.11', '1.2.0', '13.0', 'supported'],
    ['trtllm', '1.3.0rc14', '1.2.1', '13.1', 'supported'],
    ['vllm', '0.23.0', '1.3.0', '13.0', 'supported'],
    ['sglang', '0.5.14', '1.3.1', '13.0', 'supported'],
    ['trtllm', '1.3.0rc19', '1.3.1', '13.1', 'supported'],
    ['vllm', '0.26.0', '1.4.0', '13.0', 'supported'],
    ['sglang', '0.5.16', '1.4.1', '13.0', 'supported'],
    ['trtllm', '1.3.0rc22', '1.4.2', '13.1', 'supported'],
    ['vllm', '0.28.0', '1.5.0', '13.0', 'supported'],
    ['sglang', '0.5.18', '1.5.1', '13.0', 'supported'],
    ['trtllm', '1.3.0rc25', '1.5.1', '13.1', 'supported'],
    ['vllm', '0.31.0', '1.6.0', '13.0', 'supported'],
    ['sglang', '0.5.21', '1.6.1', '13.0', 'supported'],
    ['trtllm', '1.3.0rc29', '1.6.2', '13.1', 'supported'],
    ['vllm', '0.33.0', '1.7.0', '13.0', 'supported'],
    ['sglang', '0.5.23', '1.7.0', '13.0', 'supported'],
    ['trtllm', '1.4.0rc2', '1.7.0', '13.1', 'supported'],
  ])('%s %s with Dynamo %s on CUDA %s: %s', (fw, engine, dynamo, cuda, status) => {
    const { resolution, issues } = resolve(fw, engine, dynamo, cuda);
    expect(
      issues.filter((i) => i.severity === 'error'),
      JSON.stringify(issues),
    ).toEqual([]);
    expect(resolution?.engineVersion).toBe(engine);
    expect(resolution?.dynamoVersion).toBe(dynamo);
    expect(resolution?.status).toBe(status);
    expect(resolution?.row?.source).toMatch(
      /ai-dynamo\/dynamo (fern\/assets\/releases\.json \(updated 2026-11-23\)|docs\/reference\/(support-matrix|release-artifacts)\.md@00552b233629)/,
    );
  });
});

describe('refused as the source says', () => {
  it.each([
    // 1. TRT-LLM 13.1 before 1.0.0 never shipped.
    ['trtllm', '1.3.0rc3', '0.9.1', '13.1', 'base.cuda', 'needs CUDA 13.0, not 13.1'],
    // 2. No CUDA 13 images of vLLM / SGLang for 0.7.x.
    ['vllm', '0.11.0', '0.7.0', '13.0', 'base.cuda', 'not 13.0'],
    ['sglang', '0.5.4.post3', '0.7.1', '13.0', 'base.cuda', 'not 13.0'],
    // 3. 0.7.x vLLM is CUDA 12.8, not 12.9.
    ['vllm', '0.11.0', '0.7.0', '12.9', 'base.cuda', 'needs CUDA 12.8, not 12.9'],
    // 4. 0.8.1 is not TRT-LLM post3.
    ['trtllm', '1.2.0rc6.post3', '0.8.1', '13.0', 'engine.version', 'not a tested combination'],
    // 5. 0.7.0.post2's vLLM is 0.11.2, 0.7.0's is 0.11.0.
    ['vllm', '0.11.2', '0.7.0', '12.8', 'engine.version', 'not a tested combination'],
    // 6. Issue 20: what never shipped. CUDA 12 images end at 1.2.1; 0.9.x vLLM/SGLang on 13.0 (RJ).
    ['vllm', '0.33.0', '1.7.0', '12.9', 'base.cuda', 'not 12.9'],
    ['sglang', '0.5.14', '1.3.0', '12.9', 'base.cuda', 'not 12.9'],
    ['vllm', '0.14.1', '0.9.1', '13.0', 'base.cuda', 'not 13.0'],
    ['sglang', '0.5.8', '0.9.0', '13.0', 'base.cuda', 'not 13.0'],
    ['trtllm', '1.4.0rc2', '1.7.0', '13.0', 'base.cuda', 'not 13.0'],
    ['vllm', '0.31.0', '1.7.0', '13.0', 'engine.version', 'not a tested combination'],
  ])('%s %s with Dynamo %s on CUDA %s: refused at %s', (fw, engine, dynamo, cuda, path, message) => {
    const { issues } = resolve(fw, engine, dynamo, cuda);
    const err = issues.find((i) => i.severity === 'error');
    expect(err, JSON.stringify(issues)).toBeDefined();
    expect(err!.path?.join('.')).toBe(path);
    expect(err!.message).toContain(message);
  });

  it('0.6.0 vLLM and SGLang images are AMD64 only', () => {
    const { issues } = resolve('vllm', '0.11.0', '0.6.0', '12.8', { platforms: ['linux/arm64'] });
    expect(issues.find((i) => i.severity === 'error')?.message).toContain('is not built for arm64');
  });

  // 6. The images are Python 3.12; 3.10-3.12 is the wheels' range.
  it('Python: an upstream-image recipe must be 3.12; a wheel install may be 3.10', () => {
    expect(resolve('vllm', '0.19.0', '1.1.1', '12.9', { python: '3.10' }).issues.find((i) => i.severity === 'error')?.message).toContain(
      'does not support Python 3.10 in its upstream image',
    );
    // (The base image table may still say which OS has Python 3.10: that is another check.)
    expect(resolve('vllm', '0.19.0', '1.1.1', '12.9', { python: '3.10', source: 'index: {}' }).issues.filter((i) => i.code === 'matrix.unsupported')).toEqual(
      [],
    );
  });
});

describe('upstream engine images, as each upstream names them per CUDA family (issue 20, point 4)', () => {
  it.each([
    ['vllm', '0.33.0', '1.7.0', '13.0', 'vllm/vllm-openai:v0.33.0'],
    ['vllm', '0.20.1', '1.2.0', '13.0', 'vllm/vllm-openai:v0.20.1'],
    ['vllm', '0.20.1', '1.2.1', '12.9', 'vllm/vllm-openai:v0.20.1-cu129'],
    ['vllm', '0.19.0', '1.1.1', '13.0', 'vllm/vllm-openai:v0.19.0-cu130-ubuntu2404'],
    ['vllm', '0.19.0', '1.1.1', '12.9', 'vllm/vllm-openai:v0.19.0-cu129-ubuntu2404'],
    ['sglang', '0.5.23', '1.7.0', '13.0', 'lmsysorg/sglang:v0.5.23-cu130-runtime'],
    ['sglang', '0.5.11', '1.2.0', '12.9', 'lmsysorg/sglang:v0.5.11-cu129-runtime'],
    ['trtllm', '1.4.0rc2', '1.7.0', '13.1', 'nvcr.io/nvidia/tensorrt-llm/release:1.4.0rc2'],
  ])('%s %s (Dynamo %s) on CUDA %s: %s', (fw, engine, dynamo, cuda, image) => {
    const { resolution, issues } = resolve(fw, engine, dynamo, cuda);
    expect(
      issues.filter((i) => i.severity === 'error'),
      JSON.stringify(issues),
    ).toEqual([]);
    expect(resolution?.base.runtime).toBe(image);
  });
});

describe('the data itself', () => {
  it("every release cites its sources (a commit, or the release data's date), and disagreements are written down", () => {
    for (const key of Object.keys(data.matrix.sources))
      expect(data.matrix.sources[key]!.commit ?? data.matrix.sources[key]!.updated).toMatch(/^([0-9a-f]{40}|\d{4}-\d{2}-\d{2})$/);
    for (const r of data.matrix.releases) {
      expect(data.matrix.sources[r.source], r.dynamo).toBeDefined();
      expect(data.matrix.sources[r.cudaSource], r.dynamo).toBeDefined();
    }
    const notes = (v: string) => data.matrix.releases.find((r) => r.dynamo === v)!.notes.join(' ');
    expect(notes('0.7.1')).toMatch(/RJ and SM say SGLang 12\.8 and vLLM 12\.9.*follows RJ/);
    expect(notes('0.8.1.post1')).toMatch(/RA's image .* 1\.2\.0rc6\.post2: follows RJ/);
    expect(notes('0.9.1')).toMatch(/RA lists -cuda13 images as Experimental: follows RJ/);
    expect(notes('0.7.0.post2')).toMatch(/Not in RJ/);
  });

  it('Ubuntu 22.04 is wheels-only; the images are Ubuntu 24.04', () => {
    expect(data.matrix.os).toMatchObject({ 'ubuntu24.04': { images: true, wheels: true }, 'ubuntu22.04': { images: false, wheels: true } });
  });

  it('EFA variants: AMD64 only, untagged, 1.0.0-1.1.1; multi-arch -efa tags from 1.3.0; none at 1.2.x', () => {
    const efa = data.matrix.releases.flatMap((r) => r.variants.map((v) => ({ dynamo: r.dynamo, ...v })));
    const older = new Set(['1.1.1', '1.1.0', '1.0.2', '1.0.1', '1.0.0']);
    const newer = new Set(['1.3.0', '1.3.1', '1.4.0', '1.4.1', '1.4.2', '1.5.0', '1.5.1', '1.6.0', '1.6.1', '1.6.2', '1.7.0']);
    expect(new Set(efa.map((v) => v.dynamo))).toEqual(new Set([...older, ...newer]));
    for (const v of efa) {
      expect(v).toMatchObject({ name: 'efa', status: 'experimental' });
      if (older.has(v.dynamo)) {
        expect(v).toMatchObject({ architectures: ['amd64'] });
        expect(v.tag).toBeUndefined();
      } else expect(v).toMatchObject({ architectures: ['amd64', 'arm64'], tag: '-efa' });
    }
    // Per release, the CUDA of the variant is one its framework ships on.
    for (const v of efa) expect(data.rows.some((r) => r.dynamo === v.dynamo && r.framework === v.framework && r.cuda === v.cuda)).toBe(true);
  });

  it('releases from 0.6.0 to 1.7.0, patch releases included; NIXL per framework and UCX from the release data', () => {
    const all = data.matrix.releases.map((r) => r.dynamo);
    for (const v of [
      '1.7.0',
      '1.6.2',
      '1.6.1',
      '1.6.0',
      '1.5.1',
      '1.5.0',
      '1.4.2',
      '1.4.1',
      '1.4.0',
      '1.3.1',
      '1.3.0',
      '1.2.1',
      '1.2.0',
      '0.6.0',
      '0.6.1',
      '0.6.1.post1',
      '0.7.0',
      '0.7.0.post1',
      '0.7.0.post2',
      '0.7.1',
      '0.8.0',
      '0.8.1',
      '0.8.1.post1',
      '0.8.1.post2',
      '0.8.1.post3',
      '0.9.0',
      '0.9.1',
      '1.0.0',
      '1.0.1',
      '1.0.2',
      '1.1.0',
      '1.1.1',
    ])
      expect(all).toContain(v);
    const r170 = data.rows.filter((r) => r.dynamo === '1.7.0');
    expect(Object.fromEntries(r170.map((r) => [r.framework, `${r.engine} cuda ${r.cuda} nixl ${r.nixl} ucx ${r.ucx}`]))).toEqual({
      vllm: '0.33.0 cuda 13.0 nixl 1.5.0 ucx 1.22.x',
      sglang: '0.5.23 cuda 13.0 nixl 1.5.2 ucx 1.22.x',
      trtllm: '1.4.0rc2 cuda 13.1 nixl 1.5.2 ucx 1.22.x',
    });
  });
});
