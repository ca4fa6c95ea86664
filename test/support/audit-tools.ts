import { execFile, type ExecFileException } from 'node:child_process';
import { mkdtempSync } from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// The clients that check a signed release, as scripts/audit-tools.sh unpacked them (Debian sid's
// cosign 3.1, oras 1.3, pyspdxtools 0.8). cosign runs offline: it may try Sigstore's TUF mirror,
// so every request it makes beyond loopback goes to a proxy on 127.0.0.1 that is not there (Go
// never sends loopback requests through a proxy; nothing leaves the machine, not even a DNS query).

export const AUDIT_BIN = path.join(process.env['DYNAMO_IMAGE_ENV_DIR'] ?? '/var/tmp/dynamo-image-env', 'audit', 'bin');
const TUF_HOME = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-cosign-home-'));
export const OFFLINE_ENV = {
  HTTPS_PROXY: 'http://127.0.0.1:9',
  HTTP_PROXY: 'http://127.0.0.1:9',
  NO_PROXY: '',
  HOME: TUF_HOME,
  TUF_ROOT: path.join(TUF_HOME, 'tuf'),
};

export interface ToolResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function tool(name: 'cosign' | 'oras' | 'pyspdxtools', args: string[], env: Record<string, string> = {}): Promise<ToolResult> {
  return new Promise((resolve) => {
    execFile(
      path.join(AUDIT_BIN, name),
      args,
      { env: { ...process.env, ...OFFLINE_ENV, ...env }, timeout: 120_000, maxBuffer: 64 << 20 },
      (err: ExecFileException | null, stdout, stderr) => resolve({ code: err ? (typeof err.code === 'number' ? err.code : 1) : 0, stdout, stderr }),
    );
  });
}

/** cosign's flags for a plain-http registry on loopback and no transparency log. */
export const COSIGN_OFFLINE = ['--insecure-ignore-tlog', '--allow-http-registry', '--allow-insecure-registry'];
