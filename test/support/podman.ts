import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { ROOT } from './cli.js';

// Podman's Docker-compatible service for the tests, started by scripts/podman-up.sh on its own
// socket and storage (.ci/run starts it before the tests; a developer's `npm test` starts it here).
// Stopped by its process id, and only when this helper started it.

export interface TestPodman {
  host: string;
  /** The podman CLI on this service's storage. */
  podman(args: string[]): string;
  stop(): void;
}

const STATE = path.join(process.env['DYNAMO_IMAGE_ENV_DIR'] ?? '/var/tmp/dynamo-image-env', 'podman');

function answers(sock: string): boolean {
  try {
    execFileSync('curl', ['-sf', '--max-time', '3', '--unix-socket', sock, 'http://localhost/_ping'], { stdio: 'pipe' });
    return true;
  } catch {
    return false;
  }
}

export function startPodman(images: string[]): TestPodman {
  const sock = path.join(STATE, 'podman.sock');
  const before = answers(sock);
  const host = execFileSync('bash', [path.join(ROOT, 'scripts/podman-up.sh'), STATE, ...images], { stdio: ['ignore', 'pipe', 'inherit'], timeout: 300_000 })
    .toString()
    .trim()
    .split('\n')
    .pop()!;
  const env = { ...process.env, CONTAINERS_CONF: path.join(STATE, 'containers.conf') };
  return {
    host,
    podman: (args) =>
      execFileSync('podman', ['--root', path.join(STATE, 'root'), '--runroot', path.join(STATE, 'run'), ...args], {
        env,
        stdio: ['ignore', 'pipe', 'pipe'],
      }).toString(),
    stop: () => {
      if (before) return;
      const pid = Number(readFileSync(path.join(STATE, 'podman.pid'), 'utf8'));
      try {
        process.kill(pid, 'SIGTERM');
      } catch {
        /* already gone */
      }
    },
  };
}
