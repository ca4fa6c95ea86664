import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT, runCli } from '../support/cli.js';

// Issue 20: `support import` merges Dynamo's release data into the support matrix. The fixture is
// in releases.json's shape, written from the facts (test/fixtures/release-data). Run as
// the real CLI on copies of the committed data (no engine needed).

const FIXTURE = path.join(ROOT, 'test/fixtures/release-data/releases.json');
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-support-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function dataDir(name: string): { dir: string; file: string; sha: () => string } {
  const dir = path.join(tmp, name);
  mkdirSync(dir, { recursive: true });
  copyFileSync(path.join(ROOT, 'base-images/support-matrix.yaml'), path.join(dir, 'support-matrix.yaml'));
  copyFileSync(path.join(ROOT, 'base-images/base-images.yaml'), path.join(dir, 'base-images.yaml'));
  const file = path.join(dir, 'support-matrix.yaml');
  return { dir, file, sha: () => createHash('sha256').update(readFileSync(file)).digest('hex') };
}

const fixture = () =>
  JSON.parse(readFileSync(FIXTURE, 'utf8')) as { releases: Record<string, unknown>[]; cudaHistory: Record<string, unknown>[] } & Record<string, unknown>;
function variant(name: string, edit: (j: ReturnType<typeof fixture>) => unknown): string {
  const f = path.join(tmp, `${name}.json`);
  writeFileSync(f, JSON.stringify(edit(fixture())));
  return f;
}

describe('dynamo-image support import', () => {
  it('the committed data is current with the fixture: importing it changes no byte; --check passes', async () => {
    const d = dataDir('current');
    const before = d.sha();
    const r = await runCli(['support', 'import', FIXTURE, '--data', d.dir]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stderr).toContain('is current with');
    expect(d.sha()).toBe(before);
    expect(readFileSync(d.file)).toEqual(readFileSync(path.join(ROOT, 'base-images/support-matrix.yaml')));
    expect((await runCli(['support', 'import', FIXTURE, '--data', d.dir, '--check'])).code).toBe(0);
  });

  it('one more release: --check exits 1 and --dry-run writes nothing; the import adds it, keeps the notes, and a second import changes no byte', async () => {
    const d = dataDir('newer');
    const newer = variant('newer', (j) => {
      j.releases.unshift({
        version: 'v1.7.1',
        kind: 'patch',
        pins: { sglang: '0.5.23', trtllm: '1.4.0rc3', vllm: '0.33.1', nixlSglang: '1.5.2', nixlTrtllm: '1.5.2', nixlVllm: '1.5.0' },
        ucx: '1.22.x',
      });
      for (const [backend, toolkit] of [
        ['SGLang', '13.0'],
        ['TensorRT-LLM', '13.1'],
        ['vLLM', '13.0'],
      ])
        j.cudaHistory.unshift({ version: '1.7.1', backend, toolkit, minDriver: '580.xx+' });
      return j;
    });
    const before = d.sha();
    const check = await runCli(['support', 'import', newer, '--data', d.dir, '--check']);
    expect(check.code).toBe(1);
    expect(check.stdout).toContain('+ 1.7.1: {"engines":{"vllm":"0.33.1 13.0","sglang":"0.5.23 13.0","trtllm":"1.4.0rc3 13.1"}');
    expect(check.stderr).toContain('is behind');
    const dry = await runCli(['support', 'import', newer, '--data', d.dir, '--dry-run']);
    expect(dry.code).toBe(0);
    expect(d.sha()).toBe(before);
    const done = await runCli(['support', 'import', newer, '--data', d.dir]);
    expect(done.code, done.stderr).toBe(0);
    const text = readFileSync(d.file, 'utf8');
    // Newest first; the hand-written notes are still there.
    expect(text.indexOf('dynamo: "1.7.1"')).toBeLessThan(text.indexOf('dynamo: "1.7.0"'));
    expect(text).toContain('vllm: { version: "0.33.1", cuda: { "13.0": supported } }');
    expect(text).toContain('Not in RJ: support import leaves this row as written');
    const after = d.sha();
    expect((await runCli(['support', 'import', newer, '--data', d.dir])).code).toBe(0);
    expect(d.sha()).toBe(after);
    const plan = await runCli(['support', 'show', '1.7.0', '--json']);
    expect(JSON.parse(plan.stdout)).toMatchObject({ dynamo: '1.7.0', ucx: '1.22.x' });
  });

  const big = path.join(tmp, 'big.json');
  it.each([
    [
      'not JSON',
      () => variant('notjson', () => 0).replace(/$/, '') && (writeFileSync(path.join(tmp, 'notjson.json'), '{"releases": ['), path.join(tmp, 'notjson.json')),
      '$: is not JSON',
    ],
    ['releases not an array', () => variant('notarray', (j) => ({ ...j, releases: {} })), '$.releases: must be an array'],
    [
      'a pin of the wrong type',
      () => variant('type', (j) => (((j.releases[0]!['pins'] as Record<string, unknown>)['vllm'] = 5), j)),
      '$.releases[0].pins.vllm: 5 is not a PEP 440 version',
    ],
    [
      'an unknown framework',
      () => variant('fw', (j) => ((j.cudaHistory[0]!['backend'] = 'MagicLLM'), j)),
      '$.cudaHistory[0].backend: "MagicLLM" is not a framework this tool knows',
    ],
    [
      'an unknown pin',
      () => variant('pin', (j) => (((j.releases[0]!['pins'] as Record<string, unknown>)['nixlMagic'] = '1.0'), j)),
      '$.releases[0].pins.nixlMagic: is not a framework or NIXL pin',
    ],
    [
      'a version that is not PEP 440',
      () => variant('pep440', (j) => ((j.releases[0]!['version'] = 'v1.x-final'), j)),
      '$.releases[0].version: "v1.x-final" is not a PEP 440 version',
    ],
    [
      'a duplicated release',
      () => variant('dup', (j) => (j.releases.splice(1, 0, { ...j.releases[0]! }), j)),
      '$.releases[1].version: 1.7.0 is listed twice (also $.releases[0])',
    ],
    [
      'a toolkit that is not MAJOR.MINOR',
      () => variant('tk', (j) => ((j.cudaHistory[0]!['toolkit'] = '13'), j)),
      '$.cudaHistory[0].toolkit: "13" is not a CUDA toolkit version',
    ],
    [
      'a new release with no CUDA',
      () =>
        variant(
          'nocuda',
          (j) => (
            j.releases.unshift({
              version: 'v2.0.0',
              kind: 'stable',
              pins: { sglang: '1', trtllm: '1', vllm: '1', nixlSglang: '1', nixlTrtllm: '1', nixlVllm: '1' },
            }),
            j
          ),
        ),
      '$.cudaHistory: has no CUDA toolkit for vllm, sglang, trtllm in 2.0.0',
    ],
    ['an unknown kind', () => variant('kind', (j) => ((j.releases[0]!['kind'] = 'nightly'), j)), '$.releases[0].kind: "nightly" is not a release kind'],
    ['a 50 MB file', () => (writeFileSync(big, Buffer.alloc(50 << 20, 0x20)), big), '$: is 52428800 bytes, more than release data ever is'],
  ])('refuses %s, naming the JSON path, and changes nothing', async (_name, make, says) => {
    const d = dataDir(`bad-${_name.replace(/\W+/g, '-')}`);
    const before = d.sha();
    const r = await runCli(['support', 'import', make(), '--data', d.dir]);
    expect(r.code, r.stderr).toBe(2);
    expect(r.stderr).toContain('error[support.bad-release-data]');
    expect(r.stderr).toContain(says);
    expect(d.sha()).toBe(before);
  });
});

describe('dynamo-image support list / show', () => {
  it('lists every release, newest first, and shows one with its sources', async () => {
    const l = await runCli(['support', 'list', '--framework', 'vllm']);
    expect(l.code, l.stderr).toBe(0);
    const lines = l.stdout.trim().split('\n');
    expect(lines[0]).toMatch(/^1\.7\.0\s+vllm 0\.33\.0 \(CUDA 13\.0\)$/);
    expect(lines.some((x) => /^0\.8\.0\s+vllm 0\.12\.0 \(CUDA 12\.9, 13\.0\*\)$/.test(x))).toBe(true);
    const s = await runCli(['support', 'show', '1.7.0']);
    expect(s.stdout).toContain('trtllm  1.4.0rc2       CUDA 13.1 (driver >= 580) supported  NIXL 1.5.2');
    const missing = await runCli(['support', 'show', '9.9.9']);
    expect(missing.code).toBe(2);
    expect(missing.stderr).toContain('newest: 1.7.0');
  });

  it('find: which Dynamo fits this engine and CUDA', async () => {
    const f = await runCli(['support', 'find', '--engine', 'vllm==0.31.0', '--cuda', '13.0', '--json']);
    expect(f.code, f.stderr).toBe(0);
    expect((JSON.parse(f.stdout) as { dynamo: string }[]).map((r) => r.dynamo)).toEqual(['1.6.2', '1.6.1', '1.6.0']);
    const none = await runCli(['support', 'find', '--engine', 'vllm==0.33.0', '--cuda', '12.9']);
    expect(none.code).toBe(1);
    expect(none.stderr).toContain('no Dynamo release shipped vllm ==0.33.0 on CUDA 12.9; newest vllm on CUDA 12.9: 0.20.1 (Dynamo 1.2.1)');
    const range = await runCli(['support', 'find', '--engine', 'sglang>=0.5.21']);
    expect(
      range.stdout
        .trim()
        .split('\n')
        .map((l) => l.split(/\s+/)[1]),
    ).toEqual(['1.7.0', '1.6.2', '1.6.1', '1.6.0']);
    expect((await runCli(['support', 'find', '--engine', 'magic==1'])).code).toBe(2);
  });
});
