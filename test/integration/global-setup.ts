import { execFileSync } from 'node:child_process';

// Integration tests need the real engine and the locally made base image. They fail (not skip)
// when either is missing: .ci/run starts them with `npm run env:up`.
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
}
