import { copyFileSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import vm, { type Script } from 'node:vm';
import { afterAll, describe, expect, it } from 'vitest';
// @ts-expect-error plain JavaScript, no types
import { BUNDLE_DIR, loadBundle } from '../../bin/bundle-loader.js';

// The bundled CLI and its V8 code cache (scripts/bundle.mjs, bin/bundle-loader.js), as `npm run
// build` writes them. V8 itself checks a cache only against the source's length, the V8 version
// and the flags; the loader also checks the sha256 of the source.

type Load = (name: string, o?: { useCache?: boolean; dir?: string; script?: (s: Script) => void }) => Record<string, unknown>;
const load = loadBundle as Load;
const tmp = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-bundle-'));
afterAll(() => rmSync(tmp, { recursive: true, force: true }));

function compiled(name: string, o: { useCache?: boolean; dir?: string } = {}) {
  let script: Script | undefined;
  const exports = load(name, { ...o, script: (s) => (script = s) });
  return { exports, script: script! };
}

describe('bundle loader', () => {
  it.each(['cli', 'no-change'])('%s: the build made a code cache that this Node accepts', (name) => {
    const { exports, script } = compiled(name);
    // undefined would mean no cache was given, true that V8 refused it.
    expect(script.cachedDataRejected).toBe(false);
    expect(typeof (name === 'cli' ? exports['main'] : exports['tryNoChange'])).toBe('function');
  });

  it('runs without a cache', () => {
    const { exports, script } = compiled('no-change', { useCache: false });
    expect(script.cachedDataRejected).toBeUndefined();
    expect(typeof exports['tryNoChange']).toBe('function');
  });

  it('does not use the cache of other bytes of the same length (V8 alone would)', () => {
    const dir = path.join(tmp, 'changed');
    rmSync(dir, { recursive: true, force: true });
    const src = readFileSync(path.join(BUNDLE_DIR as string, 'no-change.cjs'), 'utf8');
    const at = src.indexOf('tryNoChange');
    expect(at).toBeGreaterThan(0);
    // One character changed in a name: same length, other code.
    const changed = `${src.slice(0, at)}TryNoChange${src.slice(at + 'tryNoChange'.length)}`;
    expect(changed.length).toBe(src.length);
    mkdirSync(dir);
    writeFileSync(path.join(dir, 'no-change.cjs'), changed);
    copyFileSync(path.join(BUNDLE_DIR as string, 'no-change.cjs.v8cache'), path.join(dir, 'no-change.cjs.v8cache'));
    const { script } = compiled('no-change', { dir });
    expect(script.cachedDataRejected).toBeUndefined();
    // Why the loader checks: given the cache, V8 takes it for the changed bytes.
    const cache = readFileSync(path.join(dir, 'no-change.cjs.v8cache')).subarray(32);
    const wrapped = `(function (exports, require, module, __filename, __dirname) {${changed}\n})`;
    expect(new vm.Script(wrapped, { filename: path.join(dir, 'no-change.cjs'), cachedData: cache }).cachedDataRejected).toBe(false);
  });
});
