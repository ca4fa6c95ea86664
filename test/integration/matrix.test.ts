import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { allContainers, docker, imageExists, inspectImage, privateExample, removeImages, removeImagesNamed } from '../support/docker.js';

const cleanups: (() => void)[] = [];
afterAll(() => cleanups.forEach((c) => c()));

describe('build --matrix on the real engine', () => {
  it('builds three variants of an example with --jobs 2; shared stages come from the cache', async () => {
    const ex = privateExample('recipes/examples/echo-matrix', 'mx');
    cleanups.push(ex.cleanup);
    // A build argument of the framework stage unique to this run: its layers cannot come from an
    // earlier run's cache, so only sharing between the variants can make them cached.
    ex.edit((t) => `${t}\nbuildArgs:\n  RUN_ID: "${Date.now()}-${Math.random()}"\n`);
    const refs = ['cuda12.9', 'cuda13.0', 'cuda13.1'].map((v) => `${ex.name}:0.1.0-${v}`);
    cleanups.push(() => removeImages(...refs));
    const before = allContainers();
    const r = await runCli(['build', '--matrix', ex.recipe, '--jobs', '2', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout) as { variants: { variant: string; result: string; cache: string; smoke: string }[]; failed: number };
    expect(out.failed).toBe(0);
    expect(out.variants.map((v) => v.variant)).toEqual([`${ex.name}/cuda12.9`, `${ex.name}/cuda13.0`, `${ex.name}/cuda13.1`]);
    for (const v of out.variants) {
      expect(v.result).toBe('built');
      expect(v.smoke).toBe('2 passed, 1 skipped');
    }
    // The first variant built the shared framework stage; the others found it cached.
    const cached = (v: { cache: string }) => Number(v.cache.split('/')[0]);
    // Variants 2 and 3 build at the same time (--jobs 2). Under load BuildKit may solve a shared step
    // once for both and report it to one build as done rather than cached: at least one of them
    // shows the shared stage from the cache, and neither rebuilt it from scratch.
    expect(Math.max(cached(out.variants[1]!), cached(out.variants[2]!))).toBeGreaterThan(cached(out.variants[0]!));
    for (const [i, ref] of refs.entries()) {
      const img = inspectImage(ref);
      expect(img.Config.Labels['dev.dynamo-image.variant']).toBe(['cuda12.9', 'cuda13.0', 'cuda13.1'][i]);
      expect(img.Config.Labels['dev.dynamo-image.cuda-version']).toBe(['12.9', '13.0', '13.1'][i]);
    }
    expect(r.stderr).toMatch(/variant\s+result\s+seconds\s+sizeMB\s+cache\s+smoke/);
    expect(r.stderr).toContain('3 of 3 variant(s) ok');
    expect(allContainers().filter((c) => !before.includes(c))).toEqual([]);
    // Nothing changed: every variant is up to date.
    const again = await runCli(['build', '--matrix', ex.recipe, '--jobs', '2', '--json']);
    expect(JSON.parse(again.stdout).variants.map((v: { result: string }) => v.result)).toEqual(['up to date', 'up to date', 'up to date']);
  });

  it('a failing variant exits 1 while the others still finish', async () => {
    const ex = privateExample('recipes/examples/echo-matrix', 'mxf');
    cleanups.push(ex.cleanup);
    // An extra variant on Python 3.12: the base has 3.11, so its build fails.
    ex.edit((t) => t.replace('  exclude:\n', '  include:\n    - { cuda: "13.1", python: "3.12" }\n  exclude:\n'));
    cleanups.push(() => removeImages(...['cuda12.9', 'cuda13.0', 'cuda13.1'].map((v) => `${ex.name}:0.1.0-${v}`)));
    const r = await runCli(['build', '--matrix', ex.recipe, '--jobs', '2', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { variants: { variant: string; result: string; error?: string }[]; failed: number };
    expect(out.failed).toBe(1);
    const failed = out.variants.find((v) => v.result === 'failed')!;
    expect(failed.variant).toBe(`${ex.name}/cuda13.1-py3.12`);
    expect(failed.error).toContain('failed');
    expect(out.variants.filter((v) => v.result === 'built' || v.result === 'up to date')).toHaveLength(3);
    expect(imageExists(`${ex.name}:0.1.0-cuda13.1-py3.12`)).toBe(false);
  });

  it('--fail-fast cancels the variants not yet built after the first failure', async () => {
    const ex = privateExample('recipes/examples/echo-matrix', 'mxff');
    cleanups.push(ex.cleanup);
    // cuda12.8-py3.12 sorts first, builds alone, and fails (the base has Python 3.11).
    ex.edit((t) => t.replace('  exclude:\n', '  include:\n    - { cuda: "12.8", python: "3.12" }\n  exclude:\n'));
    const r = await runCli(['build', '--matrix', ex.recipe, '--jobs', '1', '--fail-fast', '--json']);
    expect(r.code).toBe(1);
    const out = JSON.parse(r.stdout) as { variants: { variant: string; result: string }[] };
    expect(out.variants.map((v) => [v.variant.split('/')[1], v.result])).toEqual([
      ['cuda12.8-py3.12', 'failed'],
      ['cuda12.9', 'cancelled'],
      ['cuda13.0', 'cancelled'],
      ['cuda13.1', 'cancelled'],
    ]);
  });

  it('--variant builds one variant; an excluded one is refused with the reason', async () => {
    const ok = await runCli(['plan', 'recipes/vllm-runtime/recipe.yaml', '--variant', 'dynamo=1.6.2', '--json']);
    expect(ok.code, ok.stderr).toBe(0);
    expect(JSON.parse(ok.stdout)).toMatchObject({
      variant: { id: 'dynamo1.6.2' },
      platforms: ['linux/amd64', 'linux/arm64'],
      base: { runtime: 'vllm/vllm-openai:v0.31.0' },
      tags: ['vllm-runtime:1.6.2-dynamo1.6.2'],
      publish: { tags: ['{version}'] },
    });
    // A Dynamo release whose vLLM the recipe's engine range does not admit: that variant is dropped, with the reason.
    const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-excluded-'));
    try {
      const recipe = path.join(dir, 'recipe.yaml');
      writeFileSync(
        recipe,
        readFileSync(path.join(ROOT, 'recipes/vllm-runtime/recipe.yaml'), 'utf8').replace('dynamo: ["1.7.0", "1.6.2"]', 'dynamo: ["1.7.0", "1.6.2", "1.2.1"]'),
      );
      const bad = await runCli(['plan', recipe, '--variant', 'dynamo=1.2.1']);
      expect(bad.code).toBe(2);
      expect(bad.stderr).toContain(
        'variant dynamo1.2.1 is excluded: vllm >=0.31,<0.34 with Dynamo 1.2.1 is not a tested combination: that Dynamo release was tested with vllm 0.20.1',
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('init', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-init-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  it('scaffolds a wheel backend from flags; the result validates and builds', async () => {
    const target = path.join(dir, 'wheel-backend');
    const r = await runCli([
      'init',
      '--dir',
      target,
      '--wheel',
      'recipes/examples/echo-python/wheels/echo_engine-0.1.0-py3-none-any.whl',
      '--name',
      'init-echo',
      '--image-version',
      '2.0.0',
      '--entrypoint',
      'echo-engine',
      '--command',
      'serve --port 8000',
      '--port',
      '8000',
      '--base-image',
      'dynamo-image-base/debian-python:bookworm',
      '--python',
      '3.11',
    ]);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(target, 'recipe.yaml'), 'utf8');
    expect(text).toContain('name: init-echo');
    expect(text).toContain('version: 2.0.0');
    // A CPU engine on its own base: no GPU test scaffolded (issue 23, point 7).
    expect(text).not.toContain('gpu: true');
    expect((await runCli(['validate', path.join(target, 'recipe.yaml')])).code).toBe(0);
    const built = await runCli(['build', path.join(target, 'recipe.yaml'), '--json']);
    cleanups.push(() => removeImages('init-echo:2.0.0'));
    expect(built.code, built.stderr).toBe(0);
    expect(JSON.parse(built.stdout).smoke).toMatchObject({ ran: true, failed: 0 });
  });

  it('scaffolds a binary backend', async () => {
    const target = path.join(dir, 'binary-backend');
    const r = await runCli(['init', '--dir', target, '--binary', 'recipes/examples/echo-binary/bin/tokenecho', '--cuda', '12.9']);
    expect(r.code, r.stderr).toBe(0);
    const text = readFileSync(path.join(target, 'recipe.yaml'), 'utf8');
    expect(text).toContain('installPath: /usr/local/bin/tokenecho');
    expect(text).toContain('cuda: "12.9"');
    expect(text).toContain('gpu: true'); // a CUDA base: the GPU test is there (skipped where no GPU is)
    expect((await runCli(['validate', path.join(target, 'recipe.yaml')])).code).toBe(0);
  });

  it('without a terminal, missing flags are a usage error and nothing is written', async () => {
    const target = path.join(dir, 'nothing');
    const r = await runCli(['init', '--dir', target]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('init needs --wheel PATH or --binary PATH (no terminal to ask on)');
    const bad = await runCli([
      'init',
      '--dir',
      target,
      '--wheel',
      'recipes/examples/echo-python/wheels/echo_engine-0.1.0-py3-none-any.whl',
      '--cuda',
      '12.9',
      '--python',
      '3.11',
    ]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('ubuntu24.04 provides Python 3.12, not 3.11');
    expect(bad.stderr).toContain('nothing was written');
    expect(() => readFileSync(path.join(target, 'recipe.yaml'))).toThrow();
  });
});

describe('init on a terminal', () => {
  it('asks for what the flags did not say, and the result validates', async () => {
    const { spawn } = await import('node:child_process');
    const { ROOT } = await import('../support/cli.js');
    const target = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-init-tty-'));
    cleanups.push(() => rmSync(target, { recursive: true, force: true }));
    // `script` gives the command a pseudo-terminal; answers go in one at a time, after each prompt.
    const answers: [RegExp, string][] = [
      [/engine wheel \(empty for a binary\): /, 'recipes/examples/echo-python/wheels/echo_engine-0.1.0-py3-none-any.whl'],
      [/image name \[echo-engine\]: /, 'tty-echo'],
      [/image version \(semver\) \[0\.1\.0\]: /, ''],
      [/entrypoint command \[tty-echo\]: /, 'echo-engine'],
      [/default arguments \(CMD\): /, 'serve --port 8000'],
      // A bad answer is refused on the spot and asked again (issue 10, point 10).
      [/port it listens on \(empty for none\): /, '80x'],
      [/"80x" must be a port number from 1 to 65535; try again[\s\S]*port it listens on \(empty for none\): /, '8000'],
      [/base: a CUDA version .* \[12\.9\]: /, 'dynamo-image-base/debian-python:bookworm'],
      [/Python version \[3\.11\]: /, ''],
    ];
    const child = spawn('script', ['-qec', `${process.execPath} bin/dynamo-image.js init --dir ${target}`, '/dev/null'], {
      cwd: ROOT,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let screen = '';
    let next = 0;
    const done = new Promise<number | null>((resolve) => child.on('close', resolve));
    child.stdout.on('data', (d: Buffer) => {
      screen += d.toString();
      while (next < answers.length && answers[next]![0].test(screen)) {
        screen = '';
        child.stdin.write(`${answers[next]![1]}\r`);
        next++;
      }
    });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    const code = await done;
    clearTimeout(timer);
    expect(next).toBe(answers.length);
    expect(code).toBe(0);
    const text = readFileSync(path.join(target, 'recipe.yaml'), 'utf8');
    expect(text).toContain('name: tty-echo');
    expect(text).toContain('image: dynamo-image-base/debian-python:bookworm');
    expect((await runCli(['validate', path.join(target, 'recipe.yaml')])).code).toBe(0);
    // The $schema line names a file that exists, so editors get completion.
    const schema = /\$schema=(\S+)/.exec(text)![1]!;
    expect(existsSync(path.resolve(target, schema))).toBe(true);
  });
});

describe('build --matrix honours the build and publish flags (issue 11, point 2)', () => {
  it('--push --registry -t {variant} --junit: every variant published, tagged, and reported', async () => {
    const { startRegistry, skopeoDigest } = await import('../support/registry.js');
    const reg = await startRegistry();
    const ex = privateExample('recipes/examples/echo-matrix', 'mxpub');
    try {
      const junit = path.join(ex.dir, 'matrix-junit.xml');
      const r = await runCli([
        'build',
        '--matrix',
        ex.recipe,
        '--push',
        '--registry',
        reg.host,
        '-t',
        `${reg.host}/${ex.name}-extra:{variant}`,
        '--junit',
        junit,
        '--json',
        '--jobs',
        '2',
      ]);
      expect(r.code, r.stderr).toBe(0);
      const out = JSON.parse(r.stdout) as { variants: { variant: string; result: string; published?: string[] }[] };
      expect(out.variants).toHaveLength(3);
      for (const v of out.variants) {
        const id = v.variant.split('/')[1]!;
        expect(v.published!.join('\n')).toContain(`pushed ${reg.host}/${ex.name}:0.1.0-cuda${id.replace('cuda', '')}`);
        // skopeo (another client) reads each pushed tag; the extra tag is on the same image locally.
        const digest = skopeoDigest(`${reg.host}/${ex.name}:0.1.0-cuda${id.replace('cuda', '')}`);
        expect(digest).toMatch(/^sha256:/);
        expect(docker(['image', 'inspect', '--format', '{{.Id}}', `${reg.host}/${ex.name}-extra:${id}`]).stdout.trim()).toBe(
          docker(['image', 'inspect', '--format', '{{.Id}}', `${ex.name}:0.1.0-${id}`]).stdout.trim(),
        );
        // The -t tag is pushed too (issue 22, point 5), to the same manifest, and said so.
        expect(skopeoDigest(`${reg.host}/${ex.name}-extra:${id}`)).toBe(digest);
        expect(v.published).toContain(`pushed ${reg.host}/${ex.name}-extra:${id}@${digest}`);
        expect(r.stderr).toContain(`${v.variant}: pushed ${reg.host}/${ex.name}-extra:${id}@${digest}`);
      }
      // The JUnit file: one testsuite per variant, read by Python's own XML parser.
      const suites = execFileSync('python3', [
        '-c',
        'import sys, xml.etree.ElementTree as E; r = E.parse(sys.argv[1]).getroot(); print(len(r.findall("testsuite")), r.get("tests"))',
        junit,
      ])
        .toString()
        .trim();
      expect(suites).toBe('3 9');
      // Each suite names its variant and platform (issue 22, point 5).
      const names = () =>
        execFileSync('python3', [
          '-c',
          'import sys, xml.etree.ElementTree as E; print("\\n".join(s.get("name") for s in E.parse(sys.argv[1]).getroot().findall("testsuite")))',
          junit,
        ])
          .toString()
          .trim()
          .split('\n');
      expect(names()).toEqual(out.variants.map((v) => `${v.variant} (linux/amd64)`).sort());
      // Again, nothing changed: every variant up to date, the file written from the outcomes on record.
      rmSync(junit);
      const again = await runCli(['build', '--matrix', ex.recipe, '--junit', junit, '--json', '--jobs', '2']);
      expect(again.code, again.stderr).toBe(0);
      expect(names()).toHaveLength(3);
      for (const n of names()) expect(n).toMatch(/ \(linux\/amd64\) \(recorded \d{4}-\d\d-\d\dT[^;]+; not run again\)$/);
      expect(readFileSync(junit, 'utf8')).toContain('name="outcome" value="recorded ');
    } finally {
      removeImagesNamed(ex.name);
      ex.cleanup();
      await reg.dispose();
    }
  });

  it('--push with a -t that names no registry is refused before any build', async () => {
    const r = await runCli([
      'build',
      '--matrix',
      'recipes/examples/echo-matrix/recipe.yaml',
      '--push',
      '--registry',
      '127.0.0.1:9',
      '-t',
      'local-only:{variant}',
    ]);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('-t local-only:cuda');
    expect(r.stderr).toContain('with --push every -t is pushed, so it must name a registry');
    expect(r.stderr).not.toContain('building ');
  });

  it('-t without {variant} is refused when it would name several variants', async () => {
    const r = await runCli(['build', '--matrix', 'recipes/examples/echo-matrix/recipe.yaml', '-t', 'one:tag']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('would name all 3 variants');
  });
});
