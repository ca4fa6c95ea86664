import { mkdtempSync, rmSync, statSync, utimesSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { DigestCache } from '../../src/plan/digest-cache.js';

describe('the digest cache', () => {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-dc-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const file = path.join(dir, 'input.bin');

  it('reads a file once while size, mtime and inode stay the same, and again when they change', async () => {
    writeFileSync(file, 'one');
    const c1 = await DigestCache.open(path.join(dir, 'cache'));
    const a = await c1.digest(file, statSync(file));
    expect(a).toBe('7692c3ad3540bb803c020b3aee66cd8887123234ea0c6e7143c0add73ff431ed');
    await c1.save();
    const c2 = await DigestCache.open(path.join(dir, 'cache'));
    expect(await c2.digest(file, statSync(file))).toBe(a);
    expect([c2.hits, c2.misses]).toEqual([1, 0]);
    writeFileSync(file, 'two');
    utimesSync(file, new Date(), new Date(Date.now() + 5000));
    expect(await c2.digest(file, statSync(file))).not.toBe(a);
    expect(c2.misses).toBe(1);
  });

  it('a corrupt cache file only costs a re-hash', async () => {
    writeFileSync(path.join(dir, 'cache', 'digests.json'), '{not json');
    const c = await DigestCache.open(path.join(dir, 'cache'));
    await c.digest(file, statSync(file));
    expect(c.misses).toBe(1);
  });
});
