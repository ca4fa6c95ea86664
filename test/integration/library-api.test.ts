import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { docker, privateExample, removeImages } from '../support/docker.js';

// The library API as a user of the published package meets it: `import ... from 'dynamo-image'`
// (package.json "exports"), its type declarations, and the example script that builds the bundled
// example through the API on the real engine.

const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-api-'));
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
  rmSync(tmp, { recursive: true, force: true });
});
const trace = (file: string) => ({ TRACE_LOADS_FILE: file, NODE_OPTIONS: `--import ${path.join(ROOT, 'test/support/trace-loads.mjs')}` });

describe('import from "dynamo-image"', () => {
  it('resolves through package.json exports, and loading it loads no Docker client', () => {
    const t = path.join(tmp, 'loads.txt');
    const out = execFileSync(
      process.execPath,
      ['--input-type=module', '-e', "const m = await import('dynamo-image'); console.log(JSON.stringify(Object.keys(m).sort()))"],
      { cwd: ROOT, env: { ...process.env, ...trace(t) } },
    ).toString();
    const names = JSON.parse(out) as string[];
    for (const n of [
      'planRecipe',
      'renderDockerfile',
      'dockerfileFromPlan',
      'connectDocker',
      'buildAndTest',
      'testImage',
      'publishImage',
      'planRelease',
      'applyRelease',
      'buildPlatforms',
      'expandRecipes',
      'InputError',
      'ISSUE_CODES',
    ])
      expect(names).toContain(n);
    const loaded = readFileSync(t, 'utf8');
    expect(loaded).toContain('/dist/index.js');
    for (const heavy of ['node_modules/dockerode', 'docker-modem', '@grpc', 'protobufjs']) expect(loaded).not.toContain(heavy);
  });

  it('ships type declarations a TypeScript consumer compiles against', () => {
    const consumer = path.join(ROOT, '.api-consumer-check.ts');
    cleanups.push(() => rmSync(consumer, { force: true }));
    writeFileSync(
      consumer,
      "import { planRecipe, renderDockerfile, dockerfileFromPlan, type Plan, type IssueCode, InputError } from 'dynamo-image';\n" +
        "const code: IssueCode = 'recipe.unknown-key';\n" +
        "export async function f(file: string): Promise<string> {\n  try {\n    const { plan }: { plan: Plan } = await planRecipe(file);\n    return renderDockerfile(dockerfileFromPlan(plan, 'runtime'));\n  } catch (e) {\n    if (e instanceof InputError) return e.issues.filter((i) => i.code === code).length.toString();\n    throw e;\n  }\n}\n",
    );
    const tsc = path.join(ROOT, 'node_modules/typescript/bin/tsc');
    const r = (() => {
      try {
        execFileSync(
          process.execPath,
          [tsc, '--noEmit', '--strict', '--module', 'nodenext', '--moduleResolution', 'nodenext', '--target', 'es2022', '--types', 'node', consumer],
          { cwd: ROOT, stdio: 'pipe' },
        );
        return '';
      } catch (e) {
        return (e as { stdout: Buffer }).stdout.toString();
      }
    })();
    expect(r).toBe('');
  });

  it('the package ships a LICENSE, and no source map that points at unshipped sources', () => {
    expect(readFileSync(path.join(ROOT, 'LICENSE'), 'utf8')).toContain('Apache License');
    const files = execFileSync('find', [path.join(ROOT, 'dist'), '-name', '*.map'])
      .toString()
      .trim();
    expect(files).toBe('');
  });
});

describe('the example script builds the bundled example through the API', () => {
  it('plans, renders, builds, runs the smoke tests and tags, on the real engine', async () => {
    const ex = privateExample('recipes/examples/echo-python', 'api');
    cleanups.push(ex.cleanup);
    cleanups.push(() => removeImages(`${ex.name}:0.1.0`));
    const out = execFileSync(process.execPath, [path.join(ROOT, 'recipes/examples/echo-python/build-with-api.mjs'), ex.recipe], {
      cwd: ROOT,
      timeout: 300_000,
    }).toString();
    const r = JSON.parse(out);
    expect(r.upToDate).toBe(false);
    expect(r.tags).toEqual([`${ex.name}:0.1.0`]);
    expect(r.smoke).toMatchObject({ ran: true, failed: 0 });
    expect(r.results.map((x: { status: string }) => x.status)).toContain('passed');
    expect(docker(['image', 'inspect', '--format', '{{.Id}}', `${ex.name}:0.1.0`]).stdout.trim()).toBe(r.image);
    // The CLI agrees: the same recipe is up to date.
    const cli = await runCli(['build', ex.recipe, '--json']);
    expect(cli.code, cli.stderr).toBe(0);
    expect(JSON.parse(cli.stdout)).toMatchObject({ image: r.image, upToDate: true });
  });
});

describe('a no-change build loads no gRPC, protobuf, tar or dockerode', () => {
  it('one label lookup over the socket', async () => {
    const t = path.join(tmp, 'nochange.txt');
    const first = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml', '--no-test', '--quiet']);
    expect(first.code, first.stderr).toBe(0);
    const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml', '--no-test', '--json'], { env: trace(t) });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).upToDate).toBe(true);
    const loaded = readFileSync(t, 'utf8');
    for (const heavy of ['node_modules/dockerode', 'docker-modem', '@grpc', 'protobufjs', 'tar-stream']) expect(loaded, heavy).not.toContain(heavy);
  });
});
