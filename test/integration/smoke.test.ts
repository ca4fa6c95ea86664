import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { SmokeReport, TestResult } from '../../src/smoke/types.js';
import { runCli } from '../support/cli.js';
import { allContainers, copyRecipeDir, docker, imageExists, privateExample, removeImages, removeImagesNamed } from '../support/docker.js';
import { startSecondEngine } from '../support/second-engine.js';

// Smoke tests on the real engine, against the echo example's image.

const IMAGE = 'echo-python:0.1.0';
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-smoke-'));
let before: string[] = [];

beforeAll(async () => {
  const r = await runCli(['build', 'recipes/examples/echo-python/recipe.yaml', '--no-test', '--quiet']);
  if (r.code !== 0) throw new Error(r.stderr);
  before = allContainers();
});
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

describe('every kind, passing and failing (test/fixtures/smoke/mixed.yaml)', () => {
  let report: SmokeReport;
  let byName: Map<string, TestResult>;
  let junit: string;

  beforeAll(async () => {
    const junitFile = path.join(tmp, 'mixed.xml');
    const r = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/mixed.yaml', '--json', '--junit', junitFile, '--jobs', '3']);
    expect(r.code).toBe(1);
    report = JSON.parse(r.stdout);
    byName = new Map(report.results.map((x) => [x.name, x]));
    junit = readFileSync(junitFile, 'utf8');
  });

  it('passes what should pass and fails what should fail', () => {
    for (const res of report.results) {
      const want = res.name.split(':')[0];
      expect(`${res.name} -> ${res.status}`).toBe(`${res.name} -> ${want === 'pass' ? 'passed' : want === 'fail' ? 'failed' : 'skipped'}`);
    }
    expect(report.passed + report.failed + report.skipped).toBe(report.results.length);
    expect(report.results.length).toBe(22);
  });

  it.each([
    ['fail: exit code', /exit code 3, expected 0/, { exitCode: 3, tail: ['out-line', 'err-line'] }],
    ['fail: not found 127', /exit code 127/, { exitCode: 127, exitExplained: '127: command not found in the image' }],
    ['fail: not executable 126', /exit code 126/, { exitCode: 126 }],
    ['fail: stdout', /stdout does not contain "goodbye"/, { expected: 'stdout contains "goodbye"', actual: 'hello' }],
    ['fail: version', /version 0\.1\.0 does not satisfy >=1\.0/, {}],
    ['fail: python import', /import torch failed: ModuleNotFoundError/, {}],
    ['fail: python distribution', /echo-engine 0\.1\.0 does not satisfy >=2/, {}],
    ['fail: file mode', /mode 0600, got mode 0644/, {}],
    ['fail: file missing', /\/etc\/nothing-here does not exist/, {}],
    ['fail: metadata', /expected user "root", got "1000:0"; expected env MISSING=x, got MISSING unset/, {}],
    ['fail: serve 404 is not a pass', /expected status 200, got status 404/, {}],
    ['fail: serve crash', /the server exited before it was ready \(exit code 2\)/, { exitCode: 2 }],
    ['fail: serve json', /expected text = "x y", got text = "x"/, {}],
    ['fail: timeout', /timed out after 2s; the container was removed/, {}],
    ['skip: gpu', /^no GPU runtime or CDI GPU device on this Docker host$/, {}],
  ] as [string, RegExp, Partial<TestResult>][])('%s reports %s', (name, reason, extra) => {
    const res = byName.get(name)!;
    expect(res.reason).toMatch(reason);
    expect(res).toMatchObject(extra);
  });

  it('a crashed server shows its log tail', () => {
    expect(byName.get('fail: serve crash')!.tail!.join('\n')).toContain("invalid int value: 'not-a-number'");
  });

  it('the JUnit file parses and its counts match the summary', () => {
    // Read by an independent XML parser (Python's), not by our own code.
    const counts = execFileSync(
      'python3',
      [
        '-c',
        `
import sys, xml.etree.ElementTree as ET
root = ET.fromstring(sys.stdin.read())
cases = root.findall('.//testcase')
print(len(cases), sum(1 for c in cases if c.find('failure') is not None), sum(1 for c in cases if c.find('skipped') is not None), root.get('tests'), root.get('failures'), root.get('skipped'))
print(root.find('.//testcase[@name="skip: gpu"]/skipped').get('message'))
`,
      ],
      { input: junit },
    )
      .toString()
      .trim()
      .split('\n');
    expect(counts[0]).toBe(`${report.results.length} ${report.failed} ${report.skipped} ${report.results.length} ${report.failed} ${report.skipped}`);
    expect(counts[1]).toBe('no GPU runtime or CDI GPU device on this Docker host');
  });

  it('leaves no container behind, the timed-out one included', () => {
    expect(allContainers().filter((c) => !before.includes(c))).toEqual([]);
  });
});

describe('limits and GPUs', () => {
  it('an out-of-memory kill is explained', async () => {
    const r = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/oom.yaml', '--json']);
    expect(r.code).toBe(1);
    const res = (JSON.parse(r.stdout) as SmokeReport).results[0]!;
    expect(res.exitCode).toBe(137);
    expect(res.exitExplained).toContain('out of memory');
  });

  it('no GPU runtime: skipped under --gpu auto, a failure under --gpu require, skipped under --gpu off', async () => {
    const auto = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/gpu-only.yaml', '--json']);
    expect(auto.code).toBe(0);
    expect(JSON.parse(auto.stdout).results[0]).toMatchObject({ status: 'skipped', reason: 'no GPU runtime or CDI GPU device on this Docker host' });
    const req = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/gpu-only.yaml', '--gpu', 'require', '--json']);
    expect(req.code).toBe(1);
    expect(JSON.parse(req.stdout).results[0]).toMatchObject({
      status: 'failed',
      reason: '--gpu require: no GPU runtime or CDI GPU device on this Docker host',
    });
    const off = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/gpu-only.yaml', '--gpu', 'off', '--json']);
    expect(JSON.parse(off.stdout).results[0]).toMatchObject({ status: 'skipped', reason: 'GPU tests are off (--gpu off)' });
    // The human report says why, too.
    const human = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/gpu-only.yaml']);
    expect(human.stderr).toContain('SKIP gpu: request reaches the engine (command, gpu, 0.00s): no GPU runtime or CDI GPU device on this Docker host');
    expect(human.stderr).toContain('0 passed, 0 failed, 1 skipped');
  });

  it('stand-in hook: the GPU request reaches the engine (plumbing only; no GPU was used)', async () => {
    // This proves that GPU tests request devices the way `docker run --gpus all` does and that an
    // engine with an NVIDIA device driver accepts and acts on the request. The "driver" here is a
    // stand-in script; no GPU exists on this machine and none was used.
    const standin = await startSecondEngine([IMAGE], { gpuHook: true });
    try {
      const r = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/gpu-only.yaml', '--json', '--gpu', 'require'], {
        env: { DOCKER_HOST: standin.host },
      });
      expect(r.code, r.stderr).toBe(0);
      const rep = JSON.parse(r.stdout) as SmokeReport;
      expect(rep.gpu.available).toBe(true);
      expect(rep.results[0]).toMatchObject({ status: 'passed', gpu: true });
      // The probe container and the test container each made the engine run the hook.
      expect(standin.hookCalls().filter((c) => c === 'called: prestart').length).toBeGreaterThanOrEqual(2);
      expect(docker(['-H', standin.host, 'ps', '-aq']).stdout.trim()).toBe('');
      // --gpu-devices asks for some devices by id; the engine's NVIDIA driver hands the ids to the
      // container as NVIDIA_VISIBLE_DEVICES (again: what was requested, not a GPU).
      const some = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/gpu-devices.yaml', '--json', '--gpu-devices', '1,3'], {
        env: { DOCKER_HOST: standin.host },
      });
      expect(some.code, some.stdout + some.stderr).toBe(0);
      expect(JSON.parse(some.stdout).results[0]).toMatchObject({ status: 'passed' });
    } finally {
      await standin.stop();
    }
  });
});

describe('interruption', () => {
  it('SIGINT while tests run removes their containers and exits 130', async () => {
    const started = Date.now();
    let sent = false;
    let kill: (sig: NodeJS.Signals) => void = () => undefined;
    const p = runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/slow.yaml', '--jobs', '2'], { onStart: (k) => (kill = k) });
    // Wait until both test containers run, then interrupt.
    while (!sent && Date.now() - started < 30_000) {
      await new Promise((r) => setTimeout(r, 250));
      const running = docker(['ps', '-q', '--filter', 'label=dev.dynamo-image.smoke']).stdout.trim().split('\n').filter(Boolean);
      if (running.length >= 2) {
        kill('SIGINT');
        sent = true;
      }
    }
    const r = await p;
    expect(sent).toBe(true);
    expect(r.code, r.stderr).toBe(130);
    expect(r.stderr).toContain('interrupted by SIGINT');
    expect(allContainers().filter((c) => !before.includes(c))).toEqual([]);
  });
});

describe('build runs the smoke tests before tagging', () => {
  it('a failing smoke test exits 1 and applies no tag', async () => {
    const c = copyRecipeDir('recipes/examples/echo-python');
    try {
      const name = `it-smoke-fail-${Date.now().toString(36)}`;
      const text = readFileSync(c.recipe, 'utf8')
        .replace(/^name: .*$/m, `name: ${name}`)
        .replace('version: { constraint: "==0.1.0" }', 'version: { constraint: "==9.9.9" }');
      writeFileSync(c.recipe, text);
      const r = await runCli(['build', c.recipe, '--quiet']);
      expect(r.code).toBe(1);
      expect(r.stderr).toContain('error[smoke.failed]: 1 of 7 smoke test(s) failed');
      expect(r.stderr).toContain('version 0.1.0 does not satisfy ==9.9.9');
      expect(imageExists(`${name}:0.1.0`)).toBe(false);
      // The image exists untagged; a second build finds it and refuses again without rebuilding.
      const again = await runCli(['build', c.recipe, '--quiet']);
      expect(again.code).toBe(1);
      expect(imageExists(`${name}:0.1.0`)).toBe(false);
      const skipped = await runCli(['build', c.recipe, '--no-test', '--json']);
      expect(skipped.code).toBe(0);
      expect(JSON.parse(skipped.stdout).smoke).toEqual({ ran: false, reason: '--no-test' });
      removeImages(`${name}:0.1.0`);
    } finally {
      c.cleanup();
    }
  });

  it('passing smoke tests are recorded: an up-to-date build does not run them again', async () => {
    // A private copy with its own image name: other test files build the shared example (with
    // --force) at the same time, which would move its tag between the two builds.
    const ex = privateExample('recipes/examples/echo-python', 'record');
    try {
      const first = await runCli(['build', ex.recipe, '--json']);
      expect(first.code, first.stderr).toBe(0);
      const second = await runCli(['build', ex.recipe, '--json']);
      const out = JSON.parse(second.stdout);
      expect(out.upToDate).toBe(true);
      expect(out.smoke.ran).toBe(false);
      expect(out.smoke.reason).toMatch(/^passed before/);
    } finally {
      removeImagesNamed(ex.name);
      ex.cleanup();
    }
  });

  it('bad test definitions are validation errors with file and line', async () => {
    const r = await runCli(['test', IMAGE, '--tests', 'test/fixtures/smoke/bad-tests.yaml']);
    expect(r.code).toBe(2);
    expect(r.stderr).toContain(
      'test/fixtures/smoke/bad-tests.yaml:5:24: error[recipe.schema]: tests[0].stdout.matches: "([" is not a valid regular expression',
    );
    expect(r.stderr).toMatch(/bad-tests\.yaml:6:\d+: error\[recipe\.schema\]: tests\[1\]\.kind: Invalid discriminator value/);
    expect(r.stderr).toMatch(/bad-tests\.yaml:11:\d+: error\[recipe\.schema\]: tests\[2\]\.timeout: "0s" must be greater than zero/);
    expect(r.stderr).toMatch(/bad-tests\.yaml:14:\d+: error\[recipe\.schema\]: tests\[3\]\.distributions\.pip: "=>1" is not a version/);
  });
});
