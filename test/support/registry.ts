import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import os from 'node:os';
import path from 'node:path';

// A real registry (Debian's docker-registry, the CNCF distribution registry) on 127.0.0.1, started
// by the test that needs it and stopped by its process id.

export interface TestRegistry {
  host: string;
  storage: string;
  stop(): Promise<void>;
  start(): Promise<void>;
  dispose(): Promise<void>;
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

export async function startRegistry(
  opts: { auth?: { username: string; password: string }; token?: { realm: string; service: string; issuer: string; certFile: string } } = {},
): Promise<TestRegistry> {
  const dir = mkdtempSync(path.join(os.tmpdir(), 'dynamo-image-registry-'));
  const port = await freePort();
  const storage = path.join(dir, 'storage');
  let auth = '';
  if (opts.auth) {
    const line = execFileSync('htpasswd', ['-Bbn', opts.auth.username, opts.auth.password]).toString().trim();
    writeFileSync(path.join(dir, 'htpasswd'), `${line}\n`);
    auth = `auth:\n  htpasswd:\n    realm: dynamo-image-test\n    path: ${path.join(dir, 'htpasswd')}\n`;
  }
  if (opts.token) {
    const t = opts.token;
    auth = `auth:\n  token:\n    realm: ${t.realm}\n    service: ${t.service}\n    issuer: ${t.issuer}\n    rootcertbundle: ${t.certFile}\n`;
  }
  const config = path.join(dir, 'config.yml');
  writeFileSync(
    config,
    `version: 0.1\nlog:\n  level: warn\nstorage:\n  filesystem:\n    rootdirectory: ${storage}\n  delete:\n    enabled: true\nhttp:\n  addr: 127.0.0.1:${port}\n${auth}`,
  );
  let child: ChildProcess | null = null;
  const host = `127.0.0.1:${port}`;
  const start = async () => {
    child = spawn('docker-registry', ['serve', config], { stdio: ['ignore', 'ignore', 'ignore'] });
    for (let i = 0; i < 80; i++) {
      try {
        const r = await fetch(`http://${host}/v2/`, { signal: AbortSignal.timeout(1000) });
        if (r.status === 200 || r.status === 401) return;
      } catch {
        /* not up yet */
      }
      if (child.exitCode !== null) break;
      await new Promise((res) => setTimeout(res, 100));
    }
    throw new Error(`the registry did not start on ${host}`);
  };
  const stop = async () => {
    const c = child;
    if (!c || c.exitCode !== null) return;
    c.kill('SIGKILL');
    await new Promise<void>((res) => (c.exitCode !== null ? res() : c.once('exit', () => res())));
  };
  await start();
  return {
    host,
    storage,
    stop,
    start,
    dispose: async () => {
      await stop();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

/** What an independent client (Debian's skopeo) reads for a reference. */
export function skopeoDigest(ref: string, creds?: { username: string; password: string }): string {
  const out = execFileSync(
    'skopeo',
    ['inspect', '--tls-verify=false', ...(creds ? ['--creds', `${creds.username}:${creds.password}`] : []), `docker://${ref}`],
    { timeout: 60_000 },
  ).toString();
  return (JSON.parse(out) as { Digest: string }).Digest;
}

/** skopeoDigest without blocking the event loop: needed when this process serves the token realm. */
export async function skopeoDigestAsync(ref: string, creds?: { username: string; password: string }): Promise<string> {
  const { execFile } = await import('node:child_process');
  const { promisify } = await import('node:util');
  const { stdout } = await promisify(execFile)(
    'skopeo',
    ['inspect', '--tls-verify=false', ...(creds ? ['--creds', `${creds.username}:${creds.password}`] : []), `docker://${ref}`],
    { timeout: 60_000 },
  );
  return (JSON.parse(stdout) as { Digest: string }).Digest;
}
