// Loads one of the CLI's bundles (dist/bundle/NAME.cjs, written by scripts/bundle.mjs) with the V8
// code cache the build made for it, so that a command neither parses nor compiles what it runs.
// Node 20 has no compile cache of its own. The cache is used only when it was made from these exact
// bytes (its first 32 bytes are their sha256); V8 refuses it itself for another Node or other
// flags, and the bundle is then compiled as usual. Nothing is written here: the cache is part of the
// package, made by the build and trusted as the code next to it is.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import vm from 'node:vm';

export const BUNDLE_DIR = fileURLToPath(new URL('../dist/bundle/', import.meta.url));

/**
 * The exports of bundle `name` (in `dir`, dist/bundle/ unless told); `script` is given the compiled
 * script (the build makes the cache from it).
 */
export function loadBundle(name, { useCache = true, script: onScript, dir = BUNDLE_DIR } = {}) {
  const file = path.join(dir, `${name}.cjs`);
  const source = readFileSync(file);
  let cachedData;
  if (useCache) {
    try {
      const cache = readFileSync(`${file}.v8cache`);
      if (cache.subarray(0, 32).equals(createHash('sha256').update(source).digest())) cachedData = cache.subarray(32);
    } catch {
      // No cache: compiled as usual.
    }
  }
  // The bundle has no `import()` (scripts/bundle.mjs turns it into `require`), so no dynamic-import
  // callback is needed.
  const script = new vm.Script(`(function (exports, require, module, __filename, __dirname) {${source.toString('utf8')}\n})`, { filename: file, cachedData });
  const module = { exports: {} };
  script.runInThisContext()(module.exports, createRequire(file), module, file, path.dirname(file));
  onScript?.(script);
  return module.exports;
}
