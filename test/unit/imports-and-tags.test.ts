import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { requirementsLock, variantTags } from '../../src/plan/build-plan.js';
import { loadRecipe, planLoaded, planRecipe, tryPlanRecipe } from '../../src/plan/make-plan.js';
import { ROOT } from '../support/cli.js';

// Pure parts of issue 12's recipe features: which tags a variant gets, how imports resolve and lock,
// and the hash-checked requirements when the Dynamo wheels come from the recipe's folder.

describe('publish.tags with when', () => {
  const tags = [
    '{version}-cuda{cuda_major}',
    { tag: '{version}', when: { cuda: '12.9' } },
    { tag: '{version}-py', when: { python: '3.11' } },
    { tag: 'x', when: { cuda: '13.0', python: '3.12' } },
  ];
  it.each([
    ['12.9', '3.12', ['{version}-cuda{cuda_major}', '{version}']],
    ['13.0', '3.12', ['{version}-cuda{cuda_major}', 'x']],
    ['13.0', '3.11', ['{version}-cuda{cuda_major}', '{version}-py']],
    [null, '3.12', ['{version}-cuda{cuda_major}']],
  ] as const)('cuda %s, python %s -> %j', (cuda, python, want) => {
    expect(variantTags(tags, cuda, python).map((t) => t.tag)).toEqual(want);
  });
  it("keeps each tag's index in the recipe (for issue positions)", () => {
    expect(variantTags(tags, '13.0', '3.12').map((t) => t.index)).toEqual([0, 3]);
  });
});

describe('imports', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-imports-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const recipe = path.join(dir, 'recipe.yaml');
  // The vLLM built-in at Dynamo 1.2.1, the last release with both CUDA 12.9 and 13.0 images, and a
  // CUDA axis: "devel" then names a different image per variant.
  const source = readFileSync(path.join(ROOT, 'recipes/vllm-runtime/recipe.yaml'), 'utf8');
  const at121 = source
    .replace(/^version: 1\.7\.0$/m, 'version: 1.2.1')
    .replace(/^dynamo: "1\.7\.0"$/m, 'dynamo: "1.2.1"')
    .replace(/^  version: ">=0\.31,<0\.34"$/m, '  version: "0.20.1"')
    .replace(/^matrix:\n  dynamo: .*$/m, 'matrix:\n  cuda: ["12.9", "13.0"]');
  for (const line of ['version: 1.2.1', 'dynamo: "1.2.1"', '  version: "0.20.1"', '  cuda: ["12.9", "13.0"]']) expect(at121.split('\n')).toContain(line);
  writeFileSync(recipe, at121);

  it('"devel" is the devel image of each variant\'s CUDA; a glob lands in its folder; a mapping keeps its destination', async () => {
    const a = (await planRecipe(recipe, { variant: { cuda: '12.9' } })).plan;
    const b = (await planRecipe(recipe, { variant: { cuda: '13.0' } })).plan;
    expect(a.imports[0]!.image).toBe('nvidia/cuda:12.9.1-devel-ubuntu24.04');
    expect(b.imports[0]!.image).toBe('nvidia/cuda:13.0.2-devel-ubuntu24.04');
    expect(a.imports[0]!.paths).toContainEqual({ source: '/usr/local/cuda/lib64/libcudart.so*', destination: '/usr/local/cuda/lib64/' });
    expect(a.imports[1]!.paths).toEqual([{ source: '/nats-server', destination: '/usr/bin/nats-server' }]);
  });

  it('--locked pins every imported image from recipe.lock.yaml, and names one it lacks at its line', async () => {
    const plain = (await planRecipe(recipe, { variant: { cuda: '12.9' } })).plan;
    const refs = [plain.base.runtime, ...plain.imports.map((i) => i.image)];
    const digest = (i: number) => `sha256:${String(i).repeat(64).slice(0, 64)}`;
    const images = Object.fromEntries(refs.map((r, i) => [r, digest(i + 1)]));
    writeFileSync(
      path.join(dir, 'recipe.lock.yaml'),
      `lockVersion: 1\nimages:\n${Object.entries(images)
        .map(([k, v]) => `  "${k}": "${v}"`)
        .join('\n')}\n`,
    );
    const locked = (await planRecipe(recipe, { variant: { cuda: '12.9' }, locked: true })).plan;
    expect(locked.imports.map((i) => i.image)).toEqual(plain.imports.map((i) => `${i.image}@${images[i.image]}`));
    expect(locked.digest).not.toBe(plain.digest);

    const nats = plain.imports[1]!.image;
    writeFileSync(
      path.join(dir, 'recipe.lock.yaml'),
      `lockVersion: 1\nimages:\n${Object.entries(images)
        .filter(([k]) => k !== nats)
        .map(([k, v]) => `  "${k}": "${v}"`)
        .join('\n')}\n`,
    );
    const r = await tryPlanRecipe(recipe, { variant: { cuda: '12.9' }, locked: true });
    expect(r.ok).toBe(false);
    const issue = !r.ok ? r.issues.find((i) => i.code === 'lock.missing') : undefined;
    expect(issue?.path).toEqual(['imports', 1, 'image']);
    expect(issue?.line).toBe(
      readFileSync(recipe, 'utf8')
        .split('\n')
        .findIndex((l) => l.includes(nats)) + 1,
    );
  });
});

describe("Dynamo wheels from the recipe's folder", () => {
  it('go into the hash-checked requirements with their extras', async () => {
    const { plan } = await planRecipe(path.join(ROOT, 'recipes/examples/python-deps/recipe.yaml'));
    const forged = {
      ...plan,
      dynamo: { version: '1.1.1', requirements: ['ai-dynamo[vllm]==1.1.1', 'ai-dynamo-runtime==1.1.1'], indexUrl: null, secret: null, nixl: null, ucx: null },
      inputs: [
        ...plan.inputs,
        {
          role: 'dynamo-wheel' as const,
          source: 'w/ai_dynamo-1.1.1-py3-none-any.whl',
          contextPath: 'w/ai_dynamo-1.1.1-py3-none-any.whl',
          sha256: 'a'.repeat(64),
          size: 1,
        },
        {
          role: 'dynamo-wheel' as const,
          source: 'w/ai_dynamo_runtime-1.1.1-py3-none-any.whl',
          contextPath: 'w/ai_dynamo_runtime-1.1.1-py3-none-any.whl',
          sha256: 'b'.repeat(64),
          size: 1,
        },
      ],
    };
    const lock = requirementsLock(forged)!;
    expect(lock).toContain(`ai-dynamo[vllm]==1.1.1 --hash=sha256:${'a'.repeat(64)}`);
    expect(lock).toContain(`ai-dynamo-runtime==1.1.1 --hash=sha256:${'b'.repeat(64)}`);
    expect(lock).toContain('tally-engine==2.0.0 --hash=sha256:');
  });
});

describe('a per-platform binary under a platform axis', () => {
  it("each variant planned from one loaded recipe gets its own platform's file", async () => {
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-per-arch-axis-'));
    try {
      const sha: Record<string, string> = {};
      for (const arch of ['amd64', 'arm64']) {
        mkdirSync(path.join(dir, 'bin', arch), { recursive: true });
        writeFileSync(path.join(dir, 'bin', arch, 'engine'), `#!/bin/sh\necho ${arch}\n`);
        sha[arch] = createHash('sha256').update(`#!/bin/sh\necho ${arch}\n`).digest('hex');
      }
      const recipe = path.join(dir, 'recipe.yaml');
      writeFileSync(
        recipe,
        `apiVersion: dynamo-image/v1\nname: axis\nversion: 1.0.0\nbase:\n  image: dynamo-image-base/debian:bookworm\n  os: debian12\npython: "3.11"\nengine:\n  framework: custom\n  version: 1.0.0\n  binary: { path: "bin/{arch}/engine", sha256: { amd64: ${sha.amd64}, arm64: ${sha.arm64} }, installPath: /opt/e }\nbackend:\n  entrypoint: [/opt/e]\nmatrix:\n  platform: [linux/amd64, linux/arm64]\n`,
      );
      const loaded = await loadRecipe(recipe);
      if (!loaded.ok) throw new Error(JSON.stringify(loaded.issues));
      for (const arch of ['amd64', 'arm64']) {
        const r = await planLoaded(loaded.loaded, { variant: { platform: `linux/${arch}` } });
        if (!r.ok) throw new Error(JSON.stringify(r.issues));
        expect(r.planned.plan.inputs.map((i) => [i.contextPath, i.platform, i.sha256])).toEqual([[`bin/${arch}/engine`, `linux/${arch}`, sha[arch]]]);
      }
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
