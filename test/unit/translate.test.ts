import { describe, expect, it } from 'vitest';
import { checkDockerHost, isGpuUnavailable } from '../../src/engine/translate.js';

describe('DOCKER_HOST forms', () => {
  it.each([
    [undefined, true],
    ['unix:///var/run/docker.sock', true],
    ['tcp://127.0.0.1:2376', true],
    ['ssh://me@build-host', true],
    ['ssh://build-host:2222', true],
    ['nonsense', false],
    ['tcp://no-port', false],
    ['unix://relative.sock', false],
    ['http://127.0.0.1:2375', false],
  ])('%s accepted: %s', (host, ok) => {
    expect(checkDockerHost(host) === null).toBe(ok);
  });
});

describe('engine messages', () => {
  it.each([
    ['could not select device driver "" with capabilities: [[gpu]]', true],
    ['Unknown runtime specified nvidia', false],
    ['unknown or invalid runtime name: nvidia', true],
    ['OCI runtime create failed: exec: "x": executable file not found in $PATH', false],
  ])('%s -> GPU unavailable: %s', (msg, want) => expect(isGpuUnavailable(msg)).toBe(want));
});
