import { describe, expect, it } from 'vitest';
import { parseRequirements } from '../../src/plan/requirements.js';

const H = (c: string) => `sha256:${c.repeat(64)}`;

describe('requirements files for hash-checking mode', () => {
  it('reads pinned lines, continuations, extras, markers and comments', () => {
    const r = parseRequirements(
      `# a comment\nTally_Count==0.3.1 \\\n    --hash=${H('a')} \\\n    --hash=${H('b')}\n\nfoo[bar,baz]==1.0 ; python_version >= "3.10" --hash=${H('c')}  # trailing comment\n`,
    );
    expect(r.problems).toEqual([]);
    expect(r.packages).toEqual([
      { name: 'tally-count', version: '0.3.1', hashes: ['a'.repeat(64), 'b'.repeat(64)], line: 2 },
      { name: 'foo', version: '1.0', hashes: ['c'.repeat(64)], line: 6 },
    ]);
  });

  it.each([
    ['foo>=1.0', 1, /is not pinned/],
    ['foo==1.0', 1, /has no --hash=sha256/],
    [`foo==1.0 --hash=md5:abc`, 1, /only sha256 digests/],
    ['--index-url https://x/simple', 1, /options belong in the recipe/],
    [`\n-e git+https://x`, 2, /options belong in the recipe/],
    [`foo==1.0 --hash=${H('a')}\nFoo==2.0 --hash=${H('b')}`, 2, /listed twice \(also line 1\)/],
    ['https://example.com/foo.whl', 1, /is not pinned/],
  ] as const)('%j: problem at line %i', (text, line, message) => {
    const r = parseRequirements(text);
    expect(r.problems).toHaveLength(1);
    expect(r.problems[0]!.line).toBe(line);
    expect(r.problems[0]!.message).toMatch(message);
  });
});
