import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { shard } from '../../src/matrix/expand.js';
import { runMain } from '../support/capture.js';
import { ROOT } from '../support/cli.js';

// Issue 15: GitHub Actions runs at most 256 jobs from one matrix. A generated tree of 75 copies of
// recipes/vllm-runtime (2 CUDA variants, each built on 2 platforms: 4 jobs) makes 300 jobs.

const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-300-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const source = readFileSync(path.join(ROOT, 'recipes/vllm-runtime/recipe.yaml'), 'utf8');
for (let i = 0; i < 75; i++) {
  mkdirSync(path.join(dir, `r${i}`));
  writeFileSync(path.join(dir, `r${i}`, 'recipe.yaml'), source.replace(/^name: .*$/m, `name: vllm-runtime-${i}`));
}

describe('matrix --format github and the 256-job limit', () => {
  it('refuses 300 jobs with exit 2, naming the count and the shards that fit', async () => {
    const r = await runMain(['matrix', dir, '--format', 'github']);
    expect(r.code).toBe(2);
    expect(r.out).toBe('');
    expect(r.err).toContain('300 jobs (150 variants');
    expect(r.err).toContain('GitHub Actions runs at most 256 jobs from one matrix');
    expect(r.err).toContain('--shard 1/2 ... --shard 2/2');
  });

  it('each suggested shard fits, and together they cover all 300', async () => {
    const ids = new Set<string>();
    for (const s of ['1/2', '2/2']) {
      const r = await runMain(['matrix', dir, '--format', 'github', '--shard', s]);
      expect(r.code, r.err).toBe(0);
      const { include } = JSON.parse(r.out) as { include: { id: string }[] };
      expect(include.length).toBeLessThanOrEqual(256);
      for (const e of include) ids.add(e.id);
    }
    expect(ids.size).toBe(300);
  });

  it('json and bake have no such limit', async () => {
    const j = await runMain(['matrix', dir, '--format', 'json']);
    expect(j.code).toBe(0);
    expect(JSON.parse(j.out).variants).toHaveLength(150);
    const b = await runMain(['matrix', dir, '--format', 'bake']);
    expect(b.code).toBe(0);
    expect(Object.keys(JSON.parse(b.out).target)).toHaveLength(150);
  });

  it('round-robin shards of ceil(n/256) never exceed 256 (table)', () => {
    for (const n of [257, 300, 512, 513, 1000, 5000]) {
      const items = Array.from({ length: n }, (_, i) => ({ id: `v${String(i).padStart(5, '0')}` }));
      const k = Math.ceil(n / 256);
      for (let s = 1; s <= k; s++) expect(shard(items, s, k).length).toBeLessThanOrEqual(256);
    }
  });
});
