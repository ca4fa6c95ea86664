import { describe, expect, it } from 'vitest';
import { isRemoveRace } from '../../src/engine/dockerode-containers.js';

// Podman 4.3 (CI, 2026-12-02): a force-remove that meets a container exiting on its own answers
// 500 "cannot remove container … as it could not be stopped: … container state improper: stopped".
describe('isRemoveRace: which removal failures are worth another try', () => {
  it.each([
    [500, 'cannot remove container fc60 as it could not be stopped: sending SIGKILL to container fc60: container state improper: stopped', true],
    [409, 'removal of container fc60 is already in progress', true],
    [500, 'driver "overlay" failed to remove root filesystem: device or resource busy', false],
    [409, 'conflict: unable to remove repository reference', false],
    [403, 'container state improper', false],
    [undefined, 'connect ENOENT /run/podman.sock', false],
  ])('%s %s → %s', (code, message, want) => {
    expect(isRemoveRace(code, message)).toBe(want);
  });
});
