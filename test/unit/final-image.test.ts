import { describe, expect, it } from 'vitest';
import { finalImages } from '../../src/builder/final-image.js';

const PLAN = 'sha256:plan';
const img = (id: string, parentId: string, planDigest?: string) => ({
  id,
  parentId,
  labels: { 'dev.dynamo-image.build-key': 'k', ...(planDigest ? { 'dev.dynamo-image.plan-digest': planDigest } : {}) },
});

// Issue 22, point 1: buildah (Podman) labels every stage's image and every step's commit with the
// build's labels; only the target stage's last commit is the build's result.
describe('which listed image is the build result', () => {
  it.each([
    ['Docker: the final image only', [img('r', '', PLAN)], ['r']],
    ['Podman, listed as it lists them: the framework stage first, then the result', [img('fw', 'f4'), img('r', 'r4', PLAN)], ['r']],
    [
      'Podman, every commit listed: only the last of the runtime chain',
      [img('fw', 'f4'), img('r1', 'base', PLAN), img('r2', 'r1', PLAN), img('r3', 'r2', PLAN)],
      ['r3'],
    ],
    ['dev target: the runtime stage it starts from is not the result', [img('rt', 'x', PLAN), img('dev', 'rt', PLAN)], ['dev']],
    ['another plan with the same key label is not this one', [img('o', '', 'sha256:other')], []],
    ['two results on two bases: both (the caller picks by base)', [img('a', '', PLAN), img('b', '', PLAN)], ['a', 'b']],
  ] as const)('%s', (_name, candidates, want) => {
    expect(finalImages(candidates, PLAN).map((c) => c.id)).toEqual(want);
  });
});
