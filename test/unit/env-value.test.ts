import { describe, expect, it } from 'vitest';
import { parseEnvValue } from '../../src/recipe/env-value.js';
import { quoteEnvValue } from '../../src/dockerfile/render.js';

// What a recipe's env value becomes in the Dockerfile. The builder's own expansion of these forms is
// shown on the real engine by the acme-c example (metadata smoke test: LD_LIBRARY_PATH without a
// trailing ":" on a base that sets none) and the echo-python example (PATH extended).
describe('env values', () => {
  it.each([
    ['/opt/acme/lib:${LD_LIBRARY_PATH}', '"/opt/acme/lib:${LD_LIBRARY_PATH}"'],
    ['/opt/acme/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}', '"/opt/acme/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}}"'],
    ['${CUDA_HOME:-/usr/local/cuda}/bin', '"${CUDA_HOME:-/usr/local/cuda}/bin"'],
    ['$HOME stays literal', '"\\$HOME stays literal"'],
    ['a "quoted" \\ value', '"a \\"quoted\\" \\\\ value"'],
    ['${1} and {x}', '"\\${1} and {x}"'],
    ['${A:-two words}', '"${A:-two words}"'],
  ])('%s -> %s', (value, rendered) => {
    expect(quoteEnvValue(value)).toBe(rendered);
  });

  it.each([
    ['${X:=y}', /a reference is/],
    ['${X', /a reference is/],
    ['${not a name}', /a reference is/],
    ['${X:-$HOME}', /cannot appear in the word/],
    ['${X:-${Y:-z}}', /nested reference must be/],
    ['${X:+a', /not closed/],
    ['${X:-"}', /cannot appear in the word/],
  ])('%s is refused', (value, message) => {
    const r = parseEnvValue(value);
    expect('error' in r && r.error).toMatch(message);
    expect(() => quoteEnvValue(value)).toThrow(message);
  });
});
