import { describe, expect, it } from 'vitest';
import { driverAtLeast, newestRunnable } from '../../src/support/compat.js';
import { loadSupportData } from '../../src/support/load.js';

// Issue 24, point 5: driver arithmetic and the newest line a driver runs, on the shipped data.
describe('compat', () => {
  it.each([
    ['580.65.06', '580', true],
    ['575.57.08', '580', false],
    ['580', '580.0.0', true],
    ['1000.1', '580', true],
    ['570.195.03', '575', false],
  ])('%s >= %s: %s', (a, b, want) => expect(driverAtLeast(a, b)).toBe(want));

  const rows = loadSupportData().rows;
  it('a 575 driver: the newest line it runs is on a CUDA whose minimum is at most 575, newest Dynamo first', () => {
    const r = newestRunnable(rows, '575.57.08', 'vllm')!;
    expect(r.framework).toBe('vllm');
    expect(driverAtLeast('575.57.08', r.minDriver)).toBe(true);
    const newer = rows.filter((x) => x.framework === 'vllm' && driverAtLeast('575.57.08', x.minDriver) && x.dynamo !== r.dynamo);
    for (const x of newer) expect(x.dynamo.localeCompare(r.dynamo, undefined, { numeric: true })).toBeLessThan(0);
  });
  it('a driver older than every line: none', () => {
    expect(newestRunnable(rows, '400', 'vllm')).toBeNull();
  });
});

// What nvidia-smi prints is read from outside: only a driver version counts as one.
describe('hostDriver (a stand-in nvidia-smi first in PATH)', () => {
  const withSmi = async (script: string) => {
    const { mkdtempSync, rmSync, writeFileSync } = await import('node:fs');
    const os = await import('node:os');
    const path = await import('node:path');
    const { hostDriver } = await import('../../src/pipeline/compat.js');
    const dir = mkdtempSync(path.join(os.tmpdir(), 'smi-'));
    writeFileSync(path.join(dir, 'nvidia-smi'), `#!/bin/sh\n${script}\n`, { mode: 0o755 });
    const before = process.env['PATH'];
    process.env['PATH'] = `${dir}:${before}`;
    try {
      return hostDriver();
    } finally {
      process.env['PATH'] = before;
      rmSync(dir, { recursive: true, force: true });
    }
  };
  it.each([
    ['575.57.08', "printf '575.57.08\\n580.65.06\\n'"],
    [null, "echo 'NVIDIA-SMI has failed because it could not communicate with the NVIDIA driver.'"],
    [null, "printf '575.57.08; rm -rf /\\n'"],
    [null, 'exit 9'],
  ])('gives %s for: %s', async (want, script) => {
    expect(await withSmi(script)).toBe(want);
  });
});
