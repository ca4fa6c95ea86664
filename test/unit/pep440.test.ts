import { describe, expect, it } from 'vitest';
import { comparePep440, normalizePep440, parsePep440, parseSpecifier, pickHighest, satisfies } from '../../src/versions/pep440.js';

const cmp = (a: string, b: string) => Math.sign(comparePep440(parsePep440(a)!, parsePep440(b)!));

describe('PEP 440 ordering', () => {
  it.each([
    ['1.3.0rc11', '1.3.0rc5', 1],
    ['1.3.0rc5.post1', '1.3.0rc5', 1],
    ['1.3.0rc5.post1', '1.3.0rc11', -1],
    ['1.3.0', '1.3.0rc16', 1],
    ['0.5.10.post1', '0.5.10', 1],
    ['0.5.10.post1', '0.5.9', 1],
    ['0.5.6.post2', '0.5.10', -1],
    ['1.2.0rc6.post3', '1.2.0rc6.post1', 1],
    ['1.0.dev1', '1.0a1', -1],
    ['1.0a1', '1.0b1', -1],
    ['1.0', '1.0.0', 0],
    ['1.0.post1.dev1', '1.0.post1', -1],
    ['1!0.1', '2.0', 1],
    ['0.19.0+cu129', '0.19.0', 1],
    ['0.14.1', '0.14.0', 1],
  ])('%s vs %s -> %i', (a, b, want) => {
    expect(cmp(a, b)).toBe(want);
  });

  it.each([
    ['1.3.0-RC11', '1.3.0rc11'],
    ['0.5.10-post1', '0.5.10.post1'],
    ['1.0.0alpha2', '1.0.0a2'],
    ['v0.19.0', '0.19.0'],
  ])('normalizes %s to %s', (raw, want) => {
    expect(normalizePep440(parsePep440(raw)!)).toBe(want);
  });

  it.each(['', 'latest-ish', '1..2', '1.0-foo', 'abc'])('rejects %j', (bad) => {
    expect(parsePep440(bad)).toBeNull();
  });
});

const VERSIONS = ['0.11.0', '0.12.0', '0.14.1', '0.16.0', '0.19.0', '0.20.0rc1'];
const TRT = ['1.2.0rc2', '1.2.0rc3', '1.2.0rc6.post1', '1.2.0rc6.post3', '1.3.0rc1', '1.3.0rc3', '1.3.0rc5.post1', '1.3.0rc11'];

describe('specifiers pick one exact pin', () => {
  it.each([
    [VERSIONS, '~0.19', '0.19.0'],
    [VERSIONS, '~0.14', '0.14.1'],
    [VERSIONS, '>=0.14,<0.17', '0.16.0'],
    [VERSIONS, '~=0.16.0', '0.16.0'],
    [VERSIONS, '^0.12', '0.12.0'],
    [VERSIONS, '0.16.0', '0.16.0'],
    [VERSIONS, '==0.14.*', '0.14.1'],
    [VERSIONS, '*', '0.19.0'],
    [VERSIONS, '>=0.20.0rc1', '0.20.0rc1'],
    [VERSIONS, '!=0.19.0', '0.16.0'],
    [VERSIONS, '~0.13', null],
    [[...VERSIONS, '0.19.0rc1', '0.19.1rc1'], '~0.19', '0.19.0'],
    [VERSIONS, '>0.20', null],
    // TensorRT-LLM ships release candidates: when nothing final matches, the highest pre-release wins.
    [TRT, '~1.3', '1.3.0rc11'],
    [TRT, '>=1.2.0rc1,<1.3.0rc1', '1.2.0rc6.post3'],
    // PEP 440: >=1.2 excludes 1.2's release candidates.
    [TRT, '>=1.2,<1.3', null],
    [TRT, '~1.2', '1.2.0rc6.post3'],
    [TRT, '1.3.0rc5.post1', '1.3.0rc5.post1'],
    [TRT, '<1.3.0rc5', '1.3.0rc3'],
  ])('%j %s -> %s', (candidates, spec, want) => {
    const s = parseSpecifier(spec);
    expect(s.ok).toBe(true);
    if (s.ok) expect(pickHighest(candidates, s.spec)).toBe(want);
  });

  it.each([
    ['0.19.1', '<0.19', false],
    ['0.19.0rc1', '<0.19', false],
    ['1.7.post1', '>1.7', false],
    ['1.8', '>1.7', true],
    ['0.19.0+cu129', '==0.19.0', true],
    ['2.2', '~=2.2', true],
    ['3.0', '~=2.2', false],
  ])('%s satisfies %s: %s', (v, spec, want) => {
    const s = parseSpecifier(spec);
    if (!s.ok) throw new Error(s.reason);
    expect(satisfies(v, s.spec)).toBe(want);
  });

  it.each(['', '>=abc', '~=1', '>=1.0.*', '==1.0,>=x'])('refuses %j', (bad) => {
    expect(parseSpecifier(bad).ok).toBe(false);
  });
});
