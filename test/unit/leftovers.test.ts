import { describe, expect, it } from 'vitest';
import { LIVE_GRACE_MS, staleStepContainers } from '../../src/builder/leftovers.js';
import type { ContainerSummary } from '../../src/engine/port.js';

// Issue 19, point 9: which containers a classic build left behind are removed.

const now = 10 * LIVE_GRACE_MS;
const c = (state: ContainerSummary['state'], exitCode: number, ageMs: number): ContainerSummary => ({
  id: `${state}-${exitCode}-${ageMs}`,
  state,
  exitCode,
  createdMs: now - ageMs,
  finishedMs: state === 'exited' ? now - ageMs : null,
});

describe('staleStepContainers', () => {
  it.each([
    // container, another build in flight, removed
    ['running', c('running', 0, 1000), false, false],
    ['running, old', c('running', 0, 2 * LIVE_GRACE_MS), true, false],
    ['paused', c('paused', 0, 1000), false, false],
    ['exited 0 (a crash may give 0), no other build', c('exited', 0, 1000), false, true],
    ['exited 0, another build may be committing it', c('exited', 0, 1000), true, false],
    ['exited 0 for over an hour, another build in flight', c('exited', 0, LIVE_GRACE_MS + 1), true, true],
    ['exited 255 (engine restarted under it)', c('exited', 255, 1000), true, true],
    ['exited 137', c('exited', 137, 1000), true, true],
    ['dead', c('dead', 0, 1000), true, true],
    ['created, no other build', c('created', 0, 1000), false, true],
    ['created, another build may start it', c('created', 0, 1000), true, false],
    ['created over an hour ago', c('created', 0, LIVE_GRACE_MS + 1), true, true],
  ] as const)('%s', (_name, container, others, removed) => {
    expect(staleStepContainers([container], now, others)).toEqual(removed ? [container] : []);
  });
});
