import { formatFieldPath } from '../../src/errors.js';
import { describe, expect, it } from 'vitest';
import { loadSupportData } from '../../src/support/load.js';
import { resolveRecipe } from '../../src/support/resolve.js';
import { parseRecipeText } from '../../src/recipe/parse.js';
import { locate } from '../../src/recipe/positions.js';

const data = loadSupportData();

interface Case {
  framework: string;
  engine: string;
  dynamo?: string;
  cuda?: string;
  python?: string;
  platforms?: string[];
  os?: string;
  source?: string;
}

function recipeText(c: Case): string {
  return [
    'apiVersion: dynamo-image/v1',
    'name: t',
    'version: 1.0.0',
    'base:',
    ...(c.cuda ? [`  cuda: "${c.cuda}"`] : []),
    ...(c.os ? [`  os: ${c.os}`] : []),
    `  platforms: [${(c.platforms ?? ['linux/amd64']).join(', ')}]`,
    `python: "${c.python ?? '3.12'}"`,
    ...(c.dynamo ? [`dynamo: "${c.dynamo}"`] : []),
    'engine:',
    `  framework: ${c.framework}`,
    `  version: "${c.engine}"`,
    `  ${c.source ?? 'image: {}'}`,
    'backend:',
    '  entrypoint: [python3, -m, dynamo.x]',
  ].join('\n');
}

function resolve(c: Case, allowUnsupported = false) {
  const p = parseRecipeText('r.yaml', recipeText(c));
  if (!p.ok) throw new Error(JSON.stringify(p.issues));
  const { doc, lines, recipe } = p.value;
  return resolveRecipe(recipe, data, { file: 'r.yaml', locate: (path) => locate(doc, lines, path), allowUnsupported });
}

describe('version resolution against the support matrix', () => {
  // framework, engine, dynamo, cuda, python -> engine pin, dynamo pin, status, base image
  it.each([
    ['vllm', '~0.19', '1.1.1', '12.9', '3.12', '0.19.0', '1.1.1', 'supported', 'vllm/vllm-openai:v0.19.0-cu129-ubuntu2404'],
    ['vllm', '~0.19', '~1.1', '13.0', '3.12', '0.19.0', '1.1.1', 'supported', 'vllm/vllm-openai:v0.19.0-cu130-ubuntu2404'],
    ['vllm', '0.16.0', '>=1.0,<1.1', '12.9', '3.12', '0.16.0', '1.0.2', 'supported', 'vllm/vllm-openai:v0.16.0-cu129-ubuntu2404'],
    ['vllm', '*', '0.9.1', '12.9', '3.12', '0.14.1', '0.9.1', 'supported', 'vllm/vllm-openai:v0.14.1-cu129-ubuntu2404'],
    ['sglang', '0.5.10.post1', '1.1.0', '13.0', '3.12', '0.5.10.post1', '1.1.0', 'supported', 'lmsysorg/sglang:v0.5.10.post1-cu130-runtime'],
    ['sglang', '~0.5', '0.8.1', '12.9', '3.12', '0.5.6.post2', '0.8.1', 'supported', 'lmsysorg/sglang:v0.5.6.post2-cu129-runtime'],
    ['trtllm', '1.3.0rc11', '1.1.1', '13.1', '3.12', '1.3.0rc11', '1.1.1', 'supported', 'nvcr.io/nvidia/tensorrt-llm/release:1.3.0rc11'],
    ['trtllm', '~1.3', '1.0.0', '13.1', '3.12', '1.3.0rc5.post1', '1.0.0', 'supported', 'nvcr.io/nvidia/tensorrt-llm/release:1.3.0rc5.post1'],
    ['trtllm', '1.3.0-RC3', '0.9.1', '13.0', '3.12', '1.3.0rc3', '0.9.1', 'supported', 'nvcr.io/nvidia/tensorrt-llm/release:1.3.0rc3'],
  ])('%s %s with Dynamo %s on CUDA %s, Python %s -> %s / %s', (framework, engine, dynamo, cuda, python, pin, dyn, status, image) => {
    const { resolution, issues } = resolve({ framework, engine, dynamo, cuda, python });
    expect(issues).toEqual([]);
    expect(resolution?.engineVersion).toBe(pin);
    expect(resolution?.dynamoVersion).toBe(dyn);
    expect(resolution?.status).toBe(status);
    expect(resolution?.base.runtime).toBe(image);
    expect(resolution?.minDriver).toBe(cuda === '12.9' ? '575' : '580');
  });

  // Refusals: the message names the problem and the hint the nearest supported combinations.
  it.each([
    [{ framework: 'trtllm', engine: '1.3.0rc11', dynamo: '1.1.1', cuda: '12.9' }, 'base.cuda', 'trtllm 1.3.0rc11 needs CUDA 13.1, not 12.9', 'supported:'],
    [
      { framework: 'trtllm', engine: '1.3.0rc11', dynamo: '1.1.1', cuda: '13.1', python: '3.11', source: 'index: {}' },
      'python',
      'trtllm 1.3.0rc11 does not support Python 3.11',
      'supported: Python 3.10, 3.12',
    ],
    [
      { framework: 'trtllm', engine: '1.3.0rc11', dynamo: '1.1.1', cuda: '13.1', python: '3.10' },
      'python',
      'trtllm 1.3.0rc11 does not support Python 3.10 in its upstream image',
      'supported: Python 3.12',
    ],
    [
      { framework: 'vllm', engine: '0.16.0', dynamo: '1.1.1', cuda: '12.9' },
      'engine.version',
      'that Dynamo release was tested with vllm 0.19.0',
      'vllm 0.16.0 (Dynamo 1.0.0-1.0.2',
    ],
    [{ framework: 'vllm', engine: '0.19.0', dynamo: '2.0.0', cuda: '12.9' }, 'dynamo', 'no Dynamo release matches "2.0.0"', 'vllm 0.19.0 (Dynamo 1.1.0-1.1.1'],
    [{ framework: 'sglang', engine: '0.5.9', dynamo: '1.0.0', cuda: '13.1' }, 'base.cuda', 'sglang 0.5.9 needs CUDA 12.9 or 13.0, not 13.1', 'supported'],
    [{ framework: 'vllm', engine: '~0.13', dynamo: '0.9.1', cuda: '12.9' }, 'engine.version', 'not a tested combination', 'vllm 0.14.1'],
    [{ framework: 'vllm', engine: '0.19.0', cuda: '12.9' }, 'engine.framework', 'needs the Dynamo runtime version', 'dynamo:'],
    [{ framework: 'vllm', engine: '0.19.0', dynamo: '1.1.1' }, 'base', 'needs base.cuda', 'CUDA 12.8, 12.9, 13.0'],
  ] as [Case, string, string, string][])('refuses %j at %s', (c, path, message, hint) => {
    const { resolution, issues } = resolve(c);
    expect(resolution).toBeNull();
    const issue = issues.find((i) => formatFieldPath(i.path ?? []) === path);
    expect(issue, JSON.stringify(issues)).toBeDefined();
    expect(issue!.message).toContain(message);
    expect(issue!.hint ?? '').toContain(hint);
    expect(issue!.line).toBeGreaterThan(0);
  });

  it('--allow-unsupported turns a refusal into a recorded warning and still pins', () => {
    const { resolution, issues } = resolve(
      { framework: 'trtllm', engine: '1.3.0rc11', dynamo: '1.1.1', cuda: '12.9', python: '3.12', source: 'index: {}' },
      true,
    );
    expect(resolution?.status, JSON.stringify(issues)).toBe('unsupported');
    expect(resolution?.engineVersion).toBe('1.3.0rc11');
    expect(issues).toHaveLength(1);
    expect(issues[0]!.severity).toBe('warning');
    expect(resolution?.warnings[0]?.message).toContain('needs CUDA 13.1, not 12.9');
    expect(resolution?.enginePackage).toBe('tensorrt-llm');
    expect(resolution?.engineIndex).toBe('https://pypi.nvidia.com');
  });

  it.each([
    [{ cuda: '12.9', python: '3.12' }, 'nvidia/cuda:12.9.1-runtime-ubuntu24.04', null],
    [{ cuda: '12.9', python: '3.10', os: 'ubuntu22.04' }, 'nvidia/cuda:12.9.1-runtime-ubuntu22.04', null],
    [{ cuda: '12.9', python: '3.11' }, null, 'ubuntu24.04 provides Python 3.12, not 3.11'],
    [{ cuda: '12.9', python: '3.10', os: 'ubuntu22.04', platforms: ['linux/arm64'] }, null, 'has no arm64 image'],
    [{ cuda: '11.8', python: '3.12' }, null, 'no base image for CUDA 11.8'],
  ] as [Partial<Case>, string | null, string | null][])('custom engine on the base table: %j', (c, image, error) => {
    const { resolution, issues } = resolve({ framework: 'custom', engine: '1.0.0', source: 'index: { requirement: my-backend }', ...c });
    if (image) expect(resolution?.base.runtime).toBe(image);
    if (error) expect(issues.map((i) => i.message).join('\n')).toContain(error);
  });
});
