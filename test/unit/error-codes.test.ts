import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ERROR_CODES, ISSUE_CODES } from '../../src/errors.js';
import { ROOT } from '../support/cli.js';

// The error codes are a closed list (errors.ts): the compiler refuses a code that is not in it;
// this checks the list has no code nothing throws any more.

const files = (d: string): string[] =>
  readdirSync(d).flatMap((n) => (statSync(path.join(d, n)).isDirectory() ? files(path.join(d, n)) : n.endsWith('.ts') ? [path.join(d, n)] : []));
const source = files(path.join(ROOT, 'src'))
  .filter((f) => !f.endsWith(`${path.sep}errors.ts`))
  .map((f) => readFileSync(f, 'utf8'))
  .join('\n');

describe('error codes', () => {
  it('every code in ERROR_CODES is thrown somewhere, and none is also an issue code', () => {
    const thrown = new Set(['input.invalid', 'usage', 'interrupted']);
    expect(ERROR_CODES.filter((c) => !thrown.has(c) && !source.includes(`'${c}'`))).toEqual([]);
    expect(ERROR_CODES.filter((c) => (ISSUE_CODES as readonly string[]).includes(c))).toEqual([]);
  });

  it('codes are area.kebab-case', () => {
    for (const c of ERROR_CODES) expect(c).toMatch(/^[a-z]+(\.[a-z0-9]+(-[a-z0-9]+)*)?$/);
  });
});
