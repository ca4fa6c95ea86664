import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { dockerfileFromPlan } from '../../src/dockerfile/from-plan.js';
import { renderDockerfile } from '../../src/dockerfile/render.js';
import { InputError } from '../../src/errors.js';
import { planRecipe } from '../../src/plan/make-plan.js';

// Issue 23, points 2 and 6: an engine already in the base image needs no Python; `python` is
// needed only where something Python is installed; base.os knows Debian 13 and sid, and an image
// the tool did not choose is "custom", never guessed as Ubuntu.

const dir = mkdtempSync(path.join(os.tmpdir(), 'py-optional-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
async function plan(body: string) {
  const file = path.join(dir, `r${n++}.yaml`);
  writeFileSync(file, `apiVersion: dynamo-image/v1\nname: t\nversion: 1.0.0\n${body}\nbackend:\n  entrypoint: [llama-server]\n`);
  return planRecipe(file);
}
async function issues(body: string) {
  try {
    await plan(body);
    return [];
  } catch (e) {
    if (!(e instanceof InputError)) throw e;
    return e.issues.map((i) => `${i.code} ${(i.path ?? []).join('.')}`);
  }
}
const engineInBase = 'engine:\n  framework: custom\n  version: 0.7.0\n  image: { ref: "dynamo-image-base/debian-llamacpp:sid" }';

describe('python is optional when nothing Python is installed', () => {
  it('an engine in its base image, no python: no venv, no python3 in the Dockerfile, os custom', async () => {
    const { plan: p } = await plan(engineInBase);
    expect(p.python).toBeNull();
    expect(p.runtime.venv).toBeNull();
    expect(p.base).toMatchObject({ source: 'engine-image', os: 'custom' });
    const text = renderDockerfile(dockerfileFromPlan(p, 'runtime'));
    expect(text).not.toMatch(/python3|venv/);
  });

  it('with base.os debian-sid the plan records it', async () => {
    const { plan: p } = await plan(`base:\n  os: debian-sid\n${engineInBase}`);
    expect(p.base.os).toBe('debian-sid');
  });

  it.each([
    [
      'a wheel engine',
      'base:\n  image: dynamo-image-base/debian-python:bookworm\nengine:\n  framework: custom\n  version: 1.0.0\n  wheel: { path: e-1.0.0-py3-none-any.whl, sha256: "' +
        'a'.repeat(64) +
        '" }',
    ],
    [
      'dependency wheels on an engine in its base',
      `${engineInBase}\ndependencies:\n  wheels:\n    - { path: d-1.0-py3-none-any.whl, sha256: "${'b'.repeat(64)}" }`,
    ],
    ['vllm (matched by Python version)', 'base:\n  cuda: "12.9"\ndynamo: "1.1.1"\nengine:\n  framework: vllm\n  version: "0.19.0"\n  image: {}'],
  ])('%s without python: recipe.python-missing at python', async (_what, body) => {
    expect(await issues(body)).toContain('recipe.python-missing python');
  });

  it('an unknown os names the valid ones', async () => {
    expect((await issues(`base:\n  os: debian99\n${engineInBase}`)).join()).toContain('base.os');
  });
});
