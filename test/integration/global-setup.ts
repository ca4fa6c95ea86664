import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';

// Integration tests need the real engine and the locally made base image. They fail (not skip)
// when either is missing: .ci/run starts them with `npm run env:up -- --all`. What only the tests
// need (the stand-ins' OS, the arm64 base, a newer engine) the quick start does not make: it is made
// here, once, when any of it is missing (`env-up.sh --all`, idempotent).
export default function setup(): void {
  try {
    execFileSync('docker', ['version', '--format', '{{.Server.Version}}'], { stdio: 'pipe', timeout: 15_000 });
  } catch (e) {
    throw new Error(`integration tests need a Docker engine; start one with \`npm run env:up\` (${(e as Error).message.split('\n')[0]})`);
  }
  try {
    execFileSync('docker', ['image', 'inspect', 'dynamo-image-base/debian-python:bookworm'], { stdio: 'pipe', timeout: 15_000 });
  } catch {
    throw new Error('integration tests need the base image dynamo-image-base/debian-python:bookworm; make it with `npm run env:up`');
  }
  const state = process.env['DYNAMO_IMAGE_ENV_DIR'] ?? '/var/tmp/dynamo-image-env';
  const has = (ref: string) => {
    try {
      execFileSync('docker', ['image', 'inspect', ref], { stdio: 'pipe', timeout: 15_000 });
      return true;
    } catch {
      return false;
    }
  };
  const missing = [
    ...['dynamo-image-standin/os:bookworm', 'dynamo-image-base/debian-python:bookworm-arm64', 'dynamo-image-base/debian-llamacpp:sid'].filter((r) => !has(r)),
    ...(existsSync(path.join(state, 'trixie', 'dockerd')) ? [] : ['a newer engine']),
    ...(existsSync(path.join(state, 'audit', 'bin', 'pyspdxtools')) ? [] : ['cosign, oras, pyspdxtools']),
  ];
  if (missing.length) {
    process.stderr.write(`integration setup: making what only the tests need (${missing.join(', ')}): env-up.sh --all\n`);
    execFileSync('bash', [path.join(__dirname, '..', '..', 'scripts', 'env-up.sh'), '--all'], { stdio: ['ignore', 'inherit', 'inherit'], timeout: 1_200_000 });
  }
}
