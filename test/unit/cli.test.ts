import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { recipeJsonSchemaText } from '../../src/recipe/json-schema.js';
import { ROOT, runCli } from '../support/cli.js';

// The built CLI, run as a user runs it (npm test builds dist/ first).

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-cli-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));
const EXAMPLE = 'recipes/examples/echo-python/recipe.yaml';

describe('render', () => {
  it('gives identical bytes twice, and from another working directory', async () => {
    const a = await runCli(['render', EXAMPLE]);
    const b = await runCli(['render', EXAMPLE]);
    const c = await runCli(['render', path.join(ROOT, EXAMPLE)], { cwd: tmp });
    const d = await runCli(['render', 'recipe.yaml'], { cwd: path.join(ROOT, 'recipes/examples/echo-python') });
    expect(a.code).toBe(0);
    expect(a.stdout.length).toBeGreaterThan(500);
    expect(b.stdout).toBe(a.stdout);
    expect(c.stdout).toBe(a.stdout);
    expect(d.stdout).toBe(a.stdout);
  });

  it('writes -o FILE and --target runtime leaves out the dev stage', async () => {
    const out = path.join(tmp, 'Dockerfile');
    const r = await runCli(['render', EXAMPLE, '-o', out, '--target', 'runtime']);
    expect(r.code).toBe(0);
    const text = readFileSync(out, 'utf8');
    expect(text).toContain(' AS runtime');
    expect(text).not.toContain(' AS dev');
  });

  it('loads no engine client and no tar library on its path', async () => {
    const trace = path.join(tmp, 'loads.txt');
    const r = await runCli(['render', EXAMPLE], {
      env: { TRACE_LOADS_FILE: trace, NODE_OPTIONS: `--import ${path.join(ROOT, 'test/support/trace-loads.mjs')}` },
    });
    expect(r.code).toBe(0);
    const loaded = readFileSync(trace, 'utf8');
    expect(loaded).toContain('/dist/bundle/cli.cjs');
    for (const heavy of ['dockerode', 'docker-modem', 'tar-stream', 'ssh2', '@grpc']) expect(loaded).not.toContain(heavy);
    // The tracer itself works: it sees a CommonJS package loaded with require, as the bundle
    // loads the engine client.
    const trace2 = path.join(tmp, 'loads-require.txt');
    execFileSync(process.execPath, ['--import', path.join(ROOT, 'test/support/trace-loads.mjs'), '-e', "require('dockerode')"], {
      cwd: ROOT,
      env: { ...process.env, TRACE_LOADS_FILE: trace2 },
    });
    expect(readFileSync(trace2, 'utf8')).toContain('/node_modules/dockerode/');
  });
});

describe('exit codes and usage', () => {
  it.each([
    [['--version'], 0],
    [['--help'], 0],
    [['frobnicate'], 2],
    [['render', EXAMPLE, '--target', 'nope'], 2],
    [['validate'], 2],
    [['plan', 'does/not/exist.yaml'], 2],
  ])('dynamo-image %j exits %i', async (args, code) => {
    const r = await runCli(args);
    expect(r.code).toBe(code);
  });

  it('verify --variant without --recipe is a usage error, said before any key is read', async () => {
    const r = await runCli(['verify', 'localhost:5000/x:1', '--key', 'does/not/exist.pub', '--variant', 'cuda=12.9']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('--variant chooses a variant of --recipe');
  });

  it('every planning command reads --variant through one parser: a bad one is exit 2 with the same words', async () => {
    for (const cmd of ['plan', 'render', 'build', 'publish']) {
      const r = await runCli([cmd, EXAMPLE, '--variant', 'cuda']);
      expect(r.code, cmd).toBe(2);
      expect(r.stderr, cmd).toContain('--variant cuda:');
    }
  });

  it('plan --json prints planVersion 2 with every input digest', async () => {
    const r = await runCli(['plan', EXAMPLE, '--json']);
    expect(r.code).toBe(0);
    const plan = JSON.parse(r.stdout);
    expect(plan.planVersion).toBe(2);
    expect(plan.digest).toMatch(/^sha256:[0-9a-f]{64}$/);
    expect(plan.inputs.map((i: { contextPath: string; sha256: string }) => [i.contextPath, i.sha256.length])).toEqual([
      ['config/engine.json', 64],
      ['wheels/echo_engine-0.1.0-py3-none-any.whl', 64],
    ]);
    expect(plan.stages.map((s: { name: string }) => s.name)).toEqual(['framework', 'runtime', 'dev']);
  });

  it('a recipe that cannot be rendered changes nothing: -o is not written', async () => {
    const out = path.join(tmp, 'never.Dockerfile');
    const r = await runCli(['render', 'test/fixtures/bad/env-newline.yaml', '-o', out]);
    expect(r.code).toBe(2);
    expect(() => readFileSync(out)).toThrow();
  });

  it('builds fail with exit 3 and a hint when no engine answers', async () => {
    const r = await runCli(['build', EXAMPLE], { env: { DOCKER_HOST: `unix://${tmp}/no-such.sock` } });
    expect(r.code).toBe(3);
    expect(r.stderr).toContain(`no Docker engine answers at unix://${tmp}/no-such.sock`);
    expect(r.stderr).toContain('hint:');
  });
});

describe('every recipe in recipes/ validates', () => {
  it('validate recipes/**/recipe.yaml', async () => {
    const { readdirSync } = await import('node:fs');
    const walk = (d: string): string[] =>
      readdirSync(d, { withFileTypes: true }).flatMap((e) =>
        e.isDirectory() ? walk(path.join(d, e.name)) : e.name === 'recipe.yaml' ? [path.join(d, e.name)] : [],
      );
    const all = walk(path.join(ROOT, 'recipes'));
    expect(all.length).toBeGreaterThanOrEqual(3);
    const r = await runCli(['validate', ...all]);
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
  });
});

describe('the committed JSON Schema', () => {
  it('is what the zod schema generates (run `npm run schema` after changing it)', () => {
    expect(readFileSync(path.join(ROOT, 'schema', 'recipe.schema.json'), 'utf8')).toBe(recipeJsonSchemaText());
  });
});
