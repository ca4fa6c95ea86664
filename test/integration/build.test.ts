import { randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildImage } from '../../src/builder/run-build.js';
import { quietProgress } from '../../src/builder/progress.js';
import { connectDocker } from '../../src/engine/dockerode-engine.js';
import { OperationError } from '../../src/errors.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { ROOT, runCli } from '../support/cli.js';
import { allContainers, copyRecipeDir, imageExists, inspectImage, removeImages, runDefault, runIn } from '../support/docker.js';

// Real builds on the real engine. Each test that changes a recipe works on a private copy with a
// unique image name, and removes what it made.

const made: string[] = [];
const cleanups: (() => void)[] = [];
afterAll(() => {
  removeImages(...made);
  for (const c of cleanups) c();
});

function privateCopy(example: string): { dir: string; recipe: string; name: string } {
  const c = copyRecipeDir(example);
  cleanups.push(c.cleanup);
  const name = `it-${path.basename(example)}-${randomBytes(3).toString('hex')}`;
  const text = readFileSync(c.recipe, 'utf8').replace(/^name: .*$/m, `name: ${name}`);
  writeFileSync(c.recipe, text);
  return { dir: c.dir, recipe: c.recipe, name };
}

const EXAMPLES = [
  {
    dir: 'recipes/examples/echo-python',
    ref: 'echo-python:0.1.0',
    entrypoint: ['echo-engine'],
    probe: ['echo-engine', '--version'],
    expect: 'echo-engine 0.1.0',
  },
  {
    dir: 'recipes/examples/echo-binary',
    ref: 'echo-binary:0.2.0',
    entrypoint: ['/usr/local/bin/tokenecho'],
    probe: ['tokenecho', 'echo', 'a', 'b'],
    expect: '{"tokens":["a","b"]}',
  },
  {
    dir: 'recipes/examples/pip-wheel',
    ref: 'pip-runtime:23.0.1',
    entrypoint: ['pip'],
    probe: ['pip', '--version'],
    expect: 'pip 23.0.1 from /opt/dynamo/venv/',
  },
];

describe('the examples build for real', () => {
  it.each(EXAMPLES)('$dir', async (ex) => {
    const r = await runCli(['build', `${ex.dir}/recipe.yaml`, '--json', '--force']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.upToDate).toBe(false);
    expect(out.tags).toEqual([ex.ref]);
    expect(out.totalSteps).toBeGreaterThan(3);
    const plan = JSON.parse((await runCli(['plan', `${ex.dir}/recipe.yaml`, '--json'])).stdout);
    const img = inspectImage(ex.ref);
    expect(img.Id).toBe(out.image);
    expect(img.Config.User).toBe('1000:0');
    expect(img.Config.WorkingDir).toBe('/workspace');
    expect(img.Config.Entrypoint).toEqual(ex.entrypoint);
    expect(img.Config.Labels['dev.dynamo-image.plan-digest']).toBe(plan.digest);
    expect(img.Config.Labels['org.opencontainers.image.version']).toBe(plan.image.version);
    expect(img.Config.Labels['dev.dynamo-image.target']).toBe('runtime');
    const probe = runIn(ex.ref, ex.probe);
    expect(probe.stdout + probe.stderr).toContain(ex.expect);
    // Only what runs: no compiler, no pip cache, no wheelhouse, no installer venv.
    const look = runIn(ex.ref, [
      'sh',
      '-c',
      'id -u; for p in gcc cc g++ clang; do command -v $p; done; ls -d /opt/dynamo/wheelhouse /opt/dynamo/build-tools /root/.cache/pip /home/dynamo/.cache/pip 2>/dev/null; ls /opt/dynamo/venv/bin 2>/dev/null || echo no-venv',
    ]);
    expect(look.code).toBe(0);
    const lines = look.stdout.trim().split('\n');
    expect(lines[0]).toBe('1000');
    expect(look.stdout).not.toMatch(/gcc|\/cc$|g\+\+|clang|wheelhouse|build-tools|\.cache\/pip/m);
    if (ex.dir.endsWith('echo-python') || ex.dir.endsWith('echo-binary')) expect(look.stdout).not.toMatch(/^pip/m);
    // A binary engine installs no Python package: no venv at all (issue 10, point 5).
    expect(lines.at(-1) === 'no-venv').toBe(ex.dir.endsWith('echo-binary'));
  });

  it('a second build is up to date without uploading a context', async () => {
    const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = JSON.parse(r.stdout);
    expect(out.upToDate).toBe(true);
    expect(out.contextBytes).toBe(0);
    expect(out.builder).toBeNull();
    expect(out.image).toBe(inspectImage('echo-python:0.1.0').Id);
  });

  it('with no argument, build uses ./recipe.yaml (as docker build uses .)', async () => {
    const r = await runCli(['build', '--json', '--no-test'], { cwd: path.join(ROOT, 'recipes/examples/echo-python') });
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).tags).toEqual(['echo-python:0.1.0']);
  });

  it('an edit to the entrypoint, env or a small file does not rebuild the engine layer', async () => {
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    const first = await runCli(['build', c.recipe, '--no-test', '--builder', 'buildkit']);
    expect(first.code, first.stderr).toBe(0);
    // Content no earlier run had: its COPY cannot come from the cache.
    writeFileSync(path.join(c.dir, 'config', 'engine.json'), `{ "max_tokens": 8, "run": "${Date.now()}-${Math.random()}" }\n`);
    writeFileSync(
      c.recipe,
      readFileSync(c.recipe, 'utf8')
        .replace('command: [serve, --host, 0.0.0.0, --port, "8000"]', 'command: [serve, --host, 0.0.0.0, --port, "8001"]')
        .replace('ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json', 'ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json\n    EXTRA: "1"'),
    );
    const second = await runCli(['build', c.recipe, '--no-test', '--builder', 'buildkit']);
    expect(second.code, second.stderr).toBe(0);
    // The wheel's COPY and the pip install come from the cache; the small file's COPY does not.
    expect(second.stderr).toMatch(/CACHED \[framework \d\/\d+\] COPY wheels\/echo_engine/);
    expect(second.stderr).toMatch(/CACHED \[framework \d\/\d+\] RUN (--mount=\S+ )*\/opt\/dynamo\/build-tools\/bin\/pip/);
    expect(second.stderr).toMatch(/DONE [\d.]+m?s \[framework \d\/\d+\] COPY config\/engine\.json/);
  });

  it('--target dev carries the wheelhouse and pip; runtime does not', async () => {
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    const r = await runCli(['build', c.recipe, '--target', 'dev', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const look = runIn(`${c.name}:0.1.0`, ['sh', '-c', 'ls /opt/dynamo/wheelhouse; id -u']);
    expect(look.stdout).toContain('echo_engine-0.1.0-py3-none-any.whl');
    expect(look.stdout.trim().endsWith('0')).toBe(true);
  });

  it('values with quotes, $ and backslashes arrive in the image exactly as written', async () => {
    const r = await runCli(['build', 'test/fixtures/good/escaping/recipe.yaml', '--json']);
    made.push('escaping:0.0.1-test.1');
    expect(r.code, r.stderr).toBe(0);
    const img = inspectImage('escaping:0.0.1-test.1');
    expect(img.Config.Env).toEqual(
      expect.arrayContaining([
        'QUOTED=say "hi"',
        'DOLLAR=$HOME and $PATH stay literal, $ too, and ${1} and {braces}',
        // ${NAME} is a reference: expanded from what the image has (unset -> empty).
        'REFERENCE=/opt/extra/lib::/opt/dynamo/venv/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin',
        'BACKSLASH=C:\\path\\to\\thing\\',
        "MIXED=spaces  here 'single' `tick` #hash",
      ]),
    );
    expect(img.Config.Labels['com.example.note']).toBe('label with "quotes", $VARS and \\backslashes\\');
    expect(img.Config.Labels['org.opencontainers.image.description']).toBe('a "quoted" description with $HOME and a back\\slash');
    expect(img.Config.Cmd).toEqual(['a "b"', 'c\\d', '$PATH', 'x\ny']);
    const run = runDefault('escaping:0.0.1-test.1');
    expect(run.stdout).toBe('it\'s|a "b"|c\\d|$PATH|x\ny|home=/home/dynamo\n');
  });
});

describe('failures leave no tag', () => {
  it.each(['buildkit', 'classic'])('a failing RUN step exits 1 with its output tail (%s)', async (builder) => {
    const c = privateCopy('recipes/examples/echo-python');
    // The base image has Python 3.11; the venv step's check fails the build.
    writeFileSync(c.recipe, readFileSync(c.recipe, 'utf8').replace('python: "3.11"', 'python: "3.12"'));
    const r = await runCli(['build', c.recipe, '--builder', builder]);
    expect(r.code).toBe(1);
    expect(r.stderr).toMatch(/error\[build\.failed\]: build step .*python3 -m venv/);
    expect(r.stderr).toContain('--- last lines of output ---');
    expect(r.stderr).toContain('base image has Python 3.11, recipe says 3.12');
    expect(imageExists(`${c.name}:0.1.0`)).toBe(false);
  });

  it('a file changed after planning fails the build, names the file, and tags nothing', async () => {
    const c = privateCopy('recipes/examples/echo-python');
    const planned = await planRecipe(c.recipe);
    appendFileSync(path.join(c.dir, 'config', 'engine.json'), ' ');
    const engine = await connectDocker();
    const err = await buildImage(engine, planned, {
      target: 'runtime',
      builder: 'auto',
      signal: new AbortController().signal,
      progress: quietProgress,
      force: true,
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(OperationError);
    expect((err as OperationError).code).toBe('context.changed');
    expect((err as Error).message).toContain('config/engine.json changed after planning');
    // Same size, other bytes: caught by the digest check while streaming.
    writeFileSync(
      path.join(c.dir, 'config', 'engine.json'),
      readFileSync(path.join(ROOT, 'recipes/examples/echo-python/config/engine.json'), 'utf8').replace('hello', 'HELLO'),
    );
    const err2 = await buildImage(engine, planned, {
      target: 'runtime',
      builder: 'auto',
      signal: new AbortController().signal,
      progress: quietProgress,
      force: true,
    }).catch((e: unknown) => e);
    expect((err2 as OperationError).code).toBe('context.changed');
    expect((err2 as Error).message).toMatch(/planned sha256 [0-9a-f]{64}, sent [0-9a-f]{64}/);
    expect(imageExists(`${c.name}:0.1.0`)).toBe(false);
  });
});

describe('a base this project did not make (issue 22, point 6)', () => {
  it('echo-python builds and passes its smoke tests on a base with /usr/local/bin first in PATH (as python:3.11-slim has it)', async () => {
    const base = `it-slim-like-${randomBytes(3).toString('hex')}:1`;
    made.push(base);
    execFileSync('docker', ['build', '-q', '--network', 'none', '-t', base, '-'], {
      input: 'FROM dynamo-image-base/debian-python:bookworm\nENV PATH=/usr/local/bin:/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin\n',
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    const r = await runCli(['build', c.recipe, '--base-image', base, '--json']);
    expect(r.code, r.stderr).toBe(0);
    expect(JSON.parse(r.stdout).smoke).toMatchObject({ ran: true, failed: 0 });
  });
});

describe('a base rebuilt under the same tag (issue 22, point 3)', () => {
  it('is a change: the next build rebuilds and says which base moved; then it is up to date again, on the fast path too', async () => {
    const base = `it-rebuilt-base-${randomBytes(3).toString('hex')}:1`;
    made.push(base);
    const makeBase = (n: number) =>
      execFileSync('docker', ['build', '-q', '--network', 'none', '-t', base, '-'], {
        input: `FROM dynamo-image-base/debian-python:bookworm\nRUN echo ${n} > /etc/base-generation\n`,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    makeBase(1);
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    const args = ['build', c.recipe, '--base-image', base, '--no-test', '--json'];
    const first = await runCli(args);
    expect(first.code, first.stderr).toBe(0);
    const id1 = JSON.parse(first.stdout).image as string;
    const same = await runCli(args);
    expect(JSON.parse(same.stdout)).toMatchObject({ upToDate: true, image: id1 });
    const replay = await runCli(args); // the no-change fast path
    expect(JSON.parse(replay.stdout)).toMatchObject({ upToDate: true, image: id1 });

    makeBase(2);
    const after = await runCli(args);
    expect(after.code, after.stderr).toBe(0);
    const out = JSON.parse(after.stdout) as { upToDate: boolean; image: string };
    expect(out.upToDate).toBe(false);
    expect(out.image).not.toBe(id1);
    expect(after.stderr).toMatch(new RegExp(`not up to date: ${base.replace(/[.:]/g, '\\$&')} is now sha256:`));
    expect(runIn(`${c.name}:0.1.0`, ['cat', '/etc/base-generation']).stdout.trim()).toBe('2');
    const settled = await runCli(args);
    expect(JSON.parse(settled.stdout)).toMatchObject({ upToDate: true, image: out.image });
    const settledReplay = await runCli(args);
    expect(JSON.parse(settledReplay.stdout)).toMatchObject({ upToDate: true, image: out.image });
    // And the fast path does not replay over a base that moved again.
    makeBase(3);
    const third = await runCli(args);
    expect(JSON.parse(third.stdout).upToDate).toBe(false);
  });
});

describe('lock with a base made on this machine (issue 22, point 3)', () => {
  it('records its local image id; build --locked checks it and refuses a rebuilt base, naming both ids; lock again says what changed', async () => {
    const base = `it-locked-base-${randomBytes(3).toString('hex')}:1`;
    made.push(base);
    const makeBase = (n: number) =>
      execFileSync('docker', ['build', '-q', '--network', 'none', '-t', base, '-'], {
        input: `FROM dynamo-image-base/debian-python:bookworm\nRUN echo ${n} > /etc/base-generation\n`,
        stdio: ['pipe', 'pipe', 'pipe'],
      });
    const idOf = (ref: string) => execFileSync('docker', ['image', 'inspect', '--format', '{{.Id}}', ref]).toString().trim();
    makeBase(1);
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    writeFileSync(c.recipe, readFileSync(c.recipe, 'utf8').replace('image: dynamo-image-base/debian-python:bookworm', `image: ${base}`));
    const id1 = idOf(base);
    const lock = await runCli(['lock', c.recipe, '--json']);
    expect(lock.code, lock.stderr).toBe(0);
    expect(JSON.parse(lock.stdout)).toMatchObject({ images: {}, localImages: { [base]: id1 }, changes: [{ ref: base, kind: 'local', change: 'new' }] });
    expect(readFileSync(path.join(c.dir, 'recipe.lock.yaml'), 'utf8')).toContain(`localImages:\n  ${base}: ${id1}`);
    const built = await runCli(['build', c.recipe, '--locked', '--no-test', '--json']);
    expect(built.code, built.stderr).toBe(0);
    const image1 = JSON.parse(built.stdout).image as string;

    makeBase(2);
    const refused = await runCli(['build', c.recipe, '--locked', '--no-test']);
    expect(refused.code).toBe(2);
    expect(refused.stderr).toContain('error[lock.local-moved]');
    expect(refused.stderr).toContain(`--locked: ${base} is ${idOf(base).slice(0, 19)} on this engine; the lock pins ${id1.slice(0, 19)}`);
    expect(refused.stderr).toContain(`run dynamo-image lock`);
    expect(idOf(`${c.name}:0.1.0`)).toBe(image1); // nothing built, no tag moved

    const relock = await runCli(['lock', c.recipe]);
    expect(relock.code, relock.stderr).toBe(0);
    expect(relock.stderr).toContain(`${base} -> local image ${idOf(base)} (made here, in no registry: --locked checks the engine has it) (was ${id1})`);
    const rebuilt = await runCli(['build', c.recipe, '--locked', '--no-test', '--json']);
    expect(rebuilt.code, rebuilt.stderr).toBe(0);
    expect(JSON.parse(rebuilt.stdout).image).not.toBe(image1);
    expect(runIn(`${c.name}:0.1.0`, ['cat', '/etc/base-generation']).stdout.trim()).toBe('2');
  });
});

describe('why is this not up to date (issue 24, point 4)', () => {
  it('why names each change since the image was built (an input, a build argument, env); build says the same in one line', async () => {
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    expect((await runCli(['build', c.recipe, '--no-test', '-q'])).code).toBe(0);
    const same = await runCli(['why', c.recipe]);
    expect(same.code, same.stderr).toBe(0);
    expect(same.stdout).toContain(`${c.name}:0.1.0 (engine) is this build`);
    // The image carries its plan's summary, with no secret and no build-argument value in it.
    const label = inspectImage(`${c.name}:0.1.0`).Config.Labels['dev.dynamo-image.plan-summary']!;
    expect(JSON.parse(label)).toMatchObject({ v: 1, target: 'runtime' });
    appendFileSync(path.join(c.dir, 'config', 'engine.json'), ' ');
    writeFileSync(
      c.recipe,
      readFileSync(c.recipe, 'utf8').replace(
        'ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json',
        'ECHO_ENGINE_CONFIG: /etc/echo-engine/engine.json\n    EXTRA: "1"',
      ),
    );
    const why = await runCli(['why', c.recipe, '--build-arg', 'SECRETISH=hunter2', '--json']);
    expect(why.code).toBe(1);
    const out = JSON.parse(why.stdout) as { upToDate: boolean; changes: { field: string; line: string }[] };
    expect(out.upToDate).toBe(false);
    expect(out.changes.map((x) => x.field)).toEqual(['inputs.config/engine.json', 'buildArgs.SECRETISH', 'runtime']);
    expect(why.stdout).not.toContain('hunter2');
    const b = await runCli(['build', c.recipe, '--no-test']);
    expect(b.code, b.stderr).toBe(0);
    expect(b.stderr).toMatch(
      new RegExp(
        `not up to date: ${c.name}:0\\.1\\.0 was built from another plan: input config/engine\\.json: sha256 [0-9a-f]{16}… -> [0-9a-f]{16}…; runtime settings changed`,
      ),
    );
    expect((await runCli(['why', c.recipe])).code).toBe(0);
  });
});

describe('step counts (issue 22, point 4)', () => {
  it('a stage of 10 and more steps: every step counted, each cached one on a rebuild', async () => {
    const c = privateCopy('recipes/examples/echo-python');
    made.push(`${c.name}:0.1.0`);
    // Twelve steps of its own in the runtime stage: BuildKit numbers them [runtime  3/20] and up.
    const steps = Array.from({ length: 12 }, (_, i) => `  - name: step ${i + 1}\n    stage: runtime\n    run: echo ${i + 1} > /tmp/step-${i + 1}\n`).join('');
    writeFileSync(c.recipe, readFileSync(c.recipe, 'utf8').replace(/^backend:/m, `steps:\n${steps}\nbackend:`));
    const first = await runCli(['build', c.recipe, '--json', '--no-test', '--builder', 'buildkit']);
    expect(first.code, first.stderr).toBe(0);
    const a = JSON.parse(first.stdout) as { totalSteps: number; cachedSteps: number };
    expect(a.totalSteps).toBeGreaterThanOrEqual(12 + 5);
    const again = await runCli(['build', c.recipe, '--json', '--no-test', '--builder', 'buildkit', '--force']);
    expect(again.code, again.stderr).toBe(0);
    const b = JSON.parse(again.stdout) as { totalSteps: number; cachedSteps: number };
    expect(b).toEqual(expect.objectContaining({ totalSteps: a.totalSteps, cachedSteps: a.totalSteps }));
  });
});

describe('interruption', () => {
  // A wheel with a large payload makes the pip step last long enough to interrupt.
  function bigWheelRecipe(): { recipe: string; name: string } {
    const c = privateCopy('recipes/examples/echo-python');
    const script = `
import hashlib, os, zipfile, base64
p = os.path.join(${JSON.stringify(c.dir)}, 'wheels', 'big_engine-1.0.0-py3-none-any.whl')
with zipfile.ZipFile(p, 'w', zipfile.ZIP_STORED) as z:
    z.writestr('big_engine/__init__.py', '')
    for i in range(6):
        z.writestr(f'big_engine/blob{i}.bin', os.urandom(48 << 20))
    z.writestr('big_engine-1.0.0.dist-info/METADATA', 'Metadata-Version: 2.1\\nName: big-engine\\nVersion: 1.0.0\\n')
    z.writestr('big_engine-1.0.0.dist-info/WHEEL', 'Wheel-Version: 1.0\\nRoot-Is-Purelib: true\\nTag: py3-none-any\\n')
    z.writestr('big_engine-1.0.0.dist-info/RECORD', '')
print(hashlib.sha256(open(p, 'rb').read()).hexdigest())
`;
    const sha = execFileSync('python3', ['-c', script]).toString().trim();
    const text = readFileSync(c.recipe, 'utf8')
      .replace('path: wheels/echo_engine-0.1.0-py3-none-any.whl', 'path: wheels/big_engine-1.0.0-py3-none-any.whl')
      .replace(/sha256: [0-9a-f]{64}/, `sha256: ${sha}`)
      .replace(/^  version: 0\.1\.0$/m, '  version: 1.0.0');
    writeFileSync(c.recipe, text);
    return { recipe: c.recipe, name: c.name };
  }

  it.each([
    ['SIGINT', 'buildkit', 130],
    ['SIGTERM', 'classic', 143],
  ] as const)('%s during a %s build cancels it: exit %i, no container, no tag', async (sig, builder, code) => {
    const { recipe, name } = bigWheelRecipe();
    const before = allContainers();
    let sent = false;
    const r = await runCli(['build', recipe, '--builder', builder, '--force'], {
      onStderr: (all, kill) => {
        // Interrupt once the engine runs the pip step.
        if (!sent && /pip --python .*big_engine/.test(all)) {
          sent = true;
          setTimeout(() => kill(sig), 300);
        }
      },
    });
    expect(sent, r.stderr).toBe(true);
    expect(r.code, r.stderr).toBe(code);
    expect(r.stderr).toContain(`interrupted by ${sig}`);
    expect(imageExists(`${name}:0.1.0`)).toBe(false);
    // The engine may take a moment to remove the step's container after the cancel.
    let left = allContainers().filter((c) => !before.includes(c));
    for (let i = 0; i < 20 && left.length; i++) {
      await new Promise((res) => setTimeout(res, 500));
      left = allContainers().filter((c) => !before.includes(c));
    }
    expect(left).toEqual([]);
  });
});
