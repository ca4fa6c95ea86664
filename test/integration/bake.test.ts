import { execFileSync } from 'node:child_process';
import { mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';
import { docker, inspectImage, privateExample, removeImages } from '../support/docker.js';

// The bake file read by the real client: Debian's buildx binaries (fetched by
// scripts/newer-engine.sh; npm run env:up runs it). trixie's 0.13 reads the file; sid's (0.29 when
// written) also honours a target's `network`, which a bridge-less engine needs, and builds with it.

const STATE = process.env['DYNAMO_IMAGE_ENV_DIR'] ?? '/var/tmp/dynamo-image-env';
const buildx = (suite: 'trixie' | 'sid') => {
  execFileSync('bash', [path.join(ROOT, 'scripts/newer-engine.sh'), STATE], { stdio: 'ignore', timeout: 300_000 });
  return path.join(STATE, suite, 'docker-buildx');
};
const cleanups: (() => unknown)[] = [];
afterAll(async () => {
  for (const c of cleanups.reverse()) await c();
});

describe('docker buildx bake reads the bake file', () => {
  it.each(['trixie', 'sid'] as const)('buildx from %s: bake --print accepts every target of recipes/', async (suite) => {
    const r = await runCli(['matrix', 'recipes', '--format', 'bake']);
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(ROOT, '.dynamo-image', `bake-${suite}.json`);
    execFileSync('mkdir', ['-p', path.dirname(file)]);
    writeFileSync(file, r.stdout);
    cleanups.push(() => rmSync(file, { force: true }));
    const printed = JSON.parse(execFileSync(buildx(suite), ['bake', '-f', file, '--print'], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] }).toString()) as {
      target: Record<string, { labels: Record<string, string>; network?: string }>;
    };
    const ours = JSON.parse(r.stdout) as { target: Record<string, unknown> };
    expect(Object.keys(printed.target).sort()).toEqual(Object.keys(ours.target).sort());
    for (const t of Object.values(printed.target)) expect(t.labels['dev.dynamo-image.build-key']).toMatch(/^sha256:/);
    if (suite === 'sid') expect(printed.target['echo-python']!.network).toBe('none');
  });

  it('buildx (sid) builds a target on the bridge-less engine; `dynamo-image build` then finds it up to date', async () => {
    const ex = privateExample('recipes/examples/echo-binary', 'bake');
    cleanups.push(ex.cleanup);
    cleanups.push(() => removeImages(`${ex.name}:0.2.0`));
    ex.edit((t) => t.replace('backend:\n', 'backend:\n  env:\n    EXTRA_PATH: "/opt/extra/bin:${PATH}"\n'));
    const r = await runCli(['matrix', ex.dir, '--format', 'bake'], { cwd: ex.dir });
    expect(r.code, r.stderr).toBe(0);
    const file = path.join(ex.dir, 'docker-bake.json');
    writeFileSync(file, r.stdout);
    execFileSync(buildx('sid'), ['bake', '-f', file, '--progress', 'plain'], { cwd: ex.dir, stdio: 'pipe', timeout: 300_000 });
    const img = inspectImage(`${ex.name}:0.2.0`);
    // ${PATH} reached the builder as written (bake's templating did not eat it).
    expect(img.Config.Env.find((e) => e.startsWith('EXTRA_PATH='))).toMatch(/^EXTRA_PATH=\/opt\/extra\/bin:\/usr\/local\/sbin:/);
    const b = await runCli(['build', ex.recipe, '--no-test', '--json']);
    expect(b.code, b.stderr).toBe(0);
    expect(JSON.parse(b.stdout)).toMatchObject({ upToDate: true, image: img.Id });
    expect(docker(['ps', '-aq', '--filter', 'label=dev.dynamo-image.smoke']).stdout.trim()).toBe('');
  });
  it('buildx (sid) builds a per-platform binary (bin/{arch}/...): TARGETARCH reaches the Dockerfile through bake', async () => {
    const ex = privateExample('recipes/examples/echo-binary', 'bake-arch');
    cleanups.push(ex.cleanup);
    cleanups.push(() => removeImages(`${ex.name}:0.2.0`));
    mkdirSync(path.join(ex.dir, 'bin', 'amd64'));
    renameSync(path.join(ex.dir, 'bin', 'tokenecho'), path.join(ex.dir, 'bin', 'amd64', 'tokenecho'));
    ex.edit((t) =>
      t.replace(
        'path: bin/tokenecho\n    sha256: c4e62e8d0162d62a16bf022e8bac5e64a04c2cce001794dd20ebea69477ac408',
        'path: "bin/{arch}/tokenecho"\n    sha256: { amd64: c4e62e8d0162d62a16bf022e8bac5e64a04c2cce001794dd20ebea69477ac408 }',
      ),
    );
    expect(readFileSync(ex.recipe, 'utf8')).toContain('bin/{arch}/tokenecho');
    const r = await runCli(['matrix', ex.dir, '--format', 'bake'], { cwd: ex.dir });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toContain('COPY bin/$${TARGETARCH}/tokenecho');
    const file = path.join(ex.dir, 'docker-bake.json');
    writeFileSync(file, r.stdout);
    execFileSync(buildx('sid'), ['bake', '-f', file, '--progress', 'plain'], { cwd: ex.dir, stdio: 'pipe', timeout: 300_000 });
    expect(docker(['run', '--rm', '--network', 'none', '--entrypoint', 'sha256sum', `${ex.name}:0.2.0`, '/usr/local/bin/tokenecho']).stdout).toContain(
      'c4e62e8d0162d62a16bf022e8bac5e64a04c2cce001794dd20ebea69477ac408',
    );
  });
});
