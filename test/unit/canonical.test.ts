import { describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/plan/canonical.js';

// canonicalJson writes the text itself; plan digests (and every golden file's digest) depend on it
// being exactly what JSON.stringify gives with a replacer that sorts each object's keys.
const reference = (value: unknown): string =>
  JSON.stringify(value, (_k, v: unknown) =>
    v && typeof v === 'object' && !Array.isArray(v)
      ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0)))
      : v,
  );

const cases: [string, unknown][] = [
  ['scalars', [null, true, false, 0, -0, 1.5, 1e21, 1e-7, -12, 'x', '']],
  ['not finite', [NaN, Infinity, -Infinity]],
  ['strings that need escapes', ['a"b', 'back\\slash', 'line\nbreak', '\u0000\u001f', '\u2028\u2029', 'é', '😀', '\ud800']],
  ['keys sorted by code unit', { b: 1, a: 2, B: 3, é: 4, _: 5, 'a b': 6 }],
  ['index-like keys first, by value', { b: 1, 10: 'ten', 9: 'nine', '01': 'not an index', 4294967295: 'not an index', 4294967294: 'last index', a: 0 }],
  ['undefined, functions and symbols left out of objects', { a: undefined, b: () => 1, c: Symbol('s'), d: 1 }],
  ['and null in arrays', [undefined, () => 1, Symbol('s'), 1]],
  ['nested', { z: [{ y: 1, x: [2, { w: null, v: 'u' }] }], a: { c: {}, b: [] } }],
  ['toJSON', { when: new Date(0), inner: { toJSON: () => ({ b: 1, a: 2 }) } }],
  ['boxed values are objects to the replacer', [Object(1), Object('s'), Object(true)]],
  ['a Map and a Set are {}', { m: new Map([[1, 2]]), s: new Set([1]) }],
  ['a sparse array', [1, , 3]],
  ['empty', [{}, [], [[]], [{}]]],
];

describe('canonicalJson', () => {
  it.each(cases)('%s: the same text as JSON.stringify with sorted keys', (_name, value) => {
    expect(canonicalJson(value)).toBe(reference(value));
  });

  it('top-level undefined gives undefined, as JSON.stringify does', () => {
    expect(canonicalJson(undefined)).toBe(reference(undefined));
  });

  it('a bigint throws, as JSON.stringify does', () => {
    expect(() => canonicalJson({ n: 1n })).toThrow(TypeError);
  });
});
