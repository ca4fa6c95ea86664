import { execFileSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, realpathSync, rmSync, statSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { testsDigest } from '../../src/pipeline/build-and-test.js';
import { planRecipe } from '../../src/plan/make-plan.js';
import { runCli } from '../support/cli.js';
import { docker, privateExample, removeImagesNamed } from '../support/docker.js';

// Issue 19, point 3: a forged "passed" record must never let a failing image be tagged. The image
// here fails a smoke test; a second user (nobody, through setpriv) forges a passed record for its
// exact image id and test definitions in a cache folder anyone can write; the build must run the
// tests anyway and tag nothing. In a private folder, a record whose seal does not verify is ignored.

const ex = privateExample('recipes/examples/echo-python', 'forge');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-forge-'));
let imageId = '';
let digest = '';
beforeAll(async () => {
  ex.edit((t) =>
    t.replace('smoke:\n  tests:\n', 'smoke:\n  tests:\n    - kind: command\n      name: always fails\n      command: [python3, -c, "raise SystemExit(7)"]\n'),
  );
  const r = await runCli(['build', ex.recipe, '--no-test', '--json'], { env: { DYNAMO_IMAGE_CACHE_DIR: path.join(tmp, 'setup-cache') } });
  expect(r.code, r.stderr).toBe(0);
  imageId = (JSON.parse(r.stdout) as { image: string }).image;
  digest = testsDigest((await planRecipe(ex.recipe)).plan.smoke);
});
afterAll(() => {
  removeImagesNamed(ex.name);
  ex.cleanup();
  rmSync(tmp, { recursive: true, force: true });
});

const forged = () =>
  JSON.stringify({
    imageId,
    testsDigest: digest,
    passed: true,
    gpuTested: false,
    summary: { passed: 9, failed: 0, skipped: 0 },
    at: '2026-01-01T00:00:00.000Z',
  });
const tagExists = (ref: string) => docker(['image', 'inspect', ref], { allowFail: true }).code === 0;

describe('a cache folder another user can write is not trusted (point 3)', () => {
  it('nobody forges a passed record in a world-writable cache: the tests run, the build fails, no tag', async () => {
    chmodSync(tmp, 0o755); // nobody must reach the shared folder
    const cache = path.join(tmp, 'shared-cache');
    mkdirSync(path.join(cache, 'test-records'), { recursive: true });
    chmodSync(cache, 0o777);
    chmodSync(path.join(cache, 'test-records'), 0o777);
    const file = path.join(cache, 'test-records', `${imageId.replace(/^sha256:/, '')}.json`);
    execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', `cat > '${file}'`], { input: forged() });
    const tag = `${ex.name}:forged-1`;
    const r = await runCli(['build', ex.recipe, '-t', tag], { env: { DYNAMO_IMAGE_CACHE_DIR: cache } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/warning: the smoke-test record .* is ignored: .* writable by every user/);
    expect(r.stderr).toContain('always fails');
    expect(tagExists(tag)).toBe(false);
  });

  it('in a private cache, a record whose seal does not verify is ignored too', async () => {
    const cache = path.join(tmp, 'private-cache');
    // A real record first (the tests fail, so it says "failed"), then turned into "passed" by hand.
    const first = await runCli(['build', ex.recipe], { env: { DYNAMO_IMAGE_CACHE_DIR: cache } });
    expect(first.code, first.stderr).toBe(1);
    const dir = path.join(cache, 'test-records');
    const name = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const sealed = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { record: { passed: boolean }; mac: string };
    expect(sealed.record.passed).toBe(false);
    expect(sealed.mac).toMatch(/^[0-9a-f]{64}$/);
    sealed.record.passed = true;
    writeFileSync(path.join(dir, name), JSON.stringify(sealed));
    const tag = `${ex.name}:forged-2`;
    const r = await runCli(['build', ex.recipe, '-t', tag], { env: { DYNAMO_IMAGE_CACHE_DIR: cache } });
    expect(r.code, r.stderr).toBe(1);
    expect(r.stderr).toMatch(/seal does not verify/);
    expect(tagExists(tag)).toBe(false);
    // The temporary files were O_EXCL with random names and are gone; the key is 0600.
    expect(readdirSync(dir).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect((await import('node:fs')).statSync(path.join(cache, 'record-key')).mode & 0o777).toBe(0o600);
  });

  it('nobody plants a digest for a swapped wheel in a world-writable cache: the cache is not used (warning), the swap is caught', async () => {
    const cache = path.join(tmp, 'shared-digests');
    mkdirSync(cache, { recursive: true });
    chmodSync(cache, 0o777);
    const other = privateExample('recipes/examples/echo-python', 'swap');
    try {
      const wheel = path.join(other.dir, 'wheels', 'echo_engine-0.1.0-py3-none-any.whl');
      const declared = /sha256: ([0-9a-f]{64})/.exec(readFileSync(other.recipe, 'utf8'))![1]!;
      const bytes = readFileSync(wheel);
      bytes.writeUInt8(bytes.readUInt8(bytes.length - 1) ^ 1, bytes.length - 1); // the swapped file
      writeFileSync(wheel, bytes);
      const st = statSync(realpathSync(wheel));
      const planted = {
        version: 1,
        entries: { [realpathSync(wheel)]: { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256: declared } },
      };
      execFileSync('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'sh', '-c', `cat > '${path.join(cache, 'digests.json')}'`], {
        input: JSON.stringify(planted),
      });
      const r = await runCli(['validate', other.recipe], { env: { DYNAMO_IMAGE_CACHE_DIR: cache } });
      expect(r.code, r.stderr).toBe(2);
      expect(r.stderr).toContain('error[input.sha256-mismatch]');
      expect(r.stderr).toMatch(/warning\[cache\.untrusted\]: the digest cache is not used: .* writable by every user/);
      // Nothing was written into the shared folder either.
      expect(readdirSync(cache).sort()).toEqual(['digests.json']);
    } finally {
      other.cleanup();
    }
  });

  it('in a private cache, the no-change record is sealed: an edited record is not replayed', async () => {
    const cache = path.join(tmp, 'private-nochange');
    const env = { DYNAMO_IMAGE_CACHE_DIR: cache };
    expect((await runCli(['build', ex.recipe, '--no-test'], { env })).code).toBe(0);
    // The second run finds it up to date and records what it printed.
    expect((await runCli(['build', ex.recipe, '--no-test'], { env })).code).toBe(0);
    const dir = path.join(cache, 'no-change');
    const name = readdirSync(dir).find((f) => f.endsWith('.json'))!;
    const sealed = JSON.parse(readFileSync(path.join(dir, name), 'utf8')) as { body: string; mac: string };
    expect(sealed.mac).toMatch(/^[0-9a-f]{64}$/);
    const body = JSON.parse(sealed.body) as { summary: string };
    writeFileSync(path.join(dir, name), JSON.stringify({ body: JSON.stringify({ ...body, summary: 'FORGED SUMMARY' }), mac: sealed.mac }));
    const r = await runCli(['build', ex.recipe, '--no-test'], { env });
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).not.toContain('FORGED SUMMARY');
    expect(r.stderr).toContain('up to date');
  });
});
