import { describe, expect, it } from 'vitest';
import { changedBases } from '../../src/builder/run-build.js';

// Issue 22, point 3: the local bases an image was built on, against the ones there now.
describe('changedBases', () => {
  const now = { 'base:1': 'sha256:bbbb', 'other:2': 'sha256:cccc' };
  it.each([
    ['nothing recorded (an image from before)', undefined, []],
    ['the same ids', JSON.stringify(now), []],
    ['one base moved', JSON.stringify({ ...now, 'base:1': 'sha256:aaaa' }), ['base:1 is now sha256:bbbb (this image was built on sha256:aaaa)']],
    ['a base recorded that is not here now', JSON.stringify({ ...now, 'gone:3': 'sha256:dddd' }), []],
    ['a label that is not JSON', '{not json', []],
    ['a label that is a list', '["base:1"]', []],
    ['a recorded id that is not a string', JSON.stringify({ 'base:1': 7 }), []],
  ] as const)('%s', (_, label, want) => {
    expect(changedBases(label, now)).toEqual(want);
  });
});
