import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

// A second Docker engine, started by the test that needs it, whose PATH holds a stand-in for
// NVIDIA's `nvidia-container-runtime-hook`. dockerd registers its NVIDIA device driver when it
// finds that executable, so GPU requests (DeviceRequests, as `--gpus all` sends) are accepted and
// the engine runs the hook before each such container. The stand-in only records that it was
// called: this proves the request path reaches the engine, and nothing at all about a GPU.

export interface SecondEngine {
  host: string;
  /** With `tls`: tcp://127.0.0.1:PORT and the client's DOCKER_CERT_PATH. */
  tcp?: { host: string; certPath: string; otherCaCertPath: string };
  hookCalls(): string[];
  /** The engine's own version, as `docker version` reports it. */
  version: string;
  /** SIGKILL to dockerd (as a crash or an OOM kill would), then the same engine started again on its data root. */
  crashAndRestart(): Promise<void>;
  stop(): Promise<void>;
}

/** A CA, a server certificate for 127.0.0.1 and a client certificate, as `docker` expects them. */
function makeCerts(dir: string): { server: string; client: string; otherClient: string } {
  const sh = (cmd: string) => execFileSync('sh', ['-c', cmd], { cwd: dir, stdio: 'pipe', timeout: 60_000 });
  const server = path.join(dir, 'server');
  const client = path.join(dir, 'client');
  const otherClient = path.join(dir, 'other-client');
  for (const d of [server, client, otherClient]) mkdirSync(d);
  sh(`openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=test-ca -keyout ca-key.pem -out ca.pem
openssl req -newkey rsa:2048 -nodes -subj /CN=127.0.0.1 -keyout server/key.pem -out server.csr
printf 'subjectAltName = IP:127.0.0.1\nextendedKeyUsage = serverAuth\n' > server.cnf
openssl x509 -req -days 2 -in server.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out server/cert.pem -extfile server.cnf
openssl req -newkey rsa:2048 -nodes -subj /CN=client -keyout client/key.pem -out client.csr
printf 'extendedKeyUsage = clientAuth\n' > client.cnf
openssl x509 -req -days 2 -in client.csr -CA ca.pem -CAkey ca-key.pem -CAcreateserial -out client/cert.pem -extfile client.cnf
cp ca.pem server/ca.pem && cp ca.pem client/ca.pem
openssl req -x509 -newkey rsa:2048 -nodes -days 2 -subj /CN=other-ca -keyout other-ca-key.pem -out other-client/ca.pem
cp client/cert.pem client/key.pem other-client/`);
  return { server, client, otherClient };
}

async function freePort(): Promise<number> {
  const { createServer } = await import('node:net');
  return new Promise((resolve) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

export async function startSecondEngine(
  images: string[],
  opts: { gpuHook?: boolean; tls?: boolean; dockerd?: string; daemonConfig?: Record<string, unknown> } = { gpuHook: true },
): Promise<SecondEngine> {
  const dir = mkdtempSync('/tmp/dig-gpu-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const hookLog = path.join(dir, 'hook.log');
  if (opts.gpuHook) {
    const hook = path.join(bin, 'nvidia-container-runtime-hook');
    writeFileSync(hook, `#!/bin/sh\n# stand-in: records the call, touches no GPU\ncat > /dev/null\necho "called: $*" >> ${hookLog}\nexit 0\n`);
    chmodSync(hook, 0o755);
  }
  const sock = path.join(dir, 'docker.sock');
  const execRoot = `/run/dig-${randomBytes(4).toString('hex')}`;
  let tcp: SecondEngine['tcp'];
  const tlsArgs: string[] = [];
  if (opts.tls) {
    const certs = makeCerts(dir);
    const port = await freePort();
    tcp = { host: `tcp://127.0.0.1:${port}`, certPath: certs.client, otherCaCertPath: certs.otherClient };
    tlsArgs.push(
      '--tlsverify',
      `--tlscacert=${certs.server}/ca.pem`,
      `--tlscert=${certs.server}/cert.pem`,
      `--tlskey=${certs.server}/key.pem`,
      '--host',
      `tcp://127.0.0.1:${port}`,
    );
  }
  const configArgs: string[] = [];
  if (opts.daemonConfig) {
    writeFileSync(path.join(dir, 'daemon.json'), JSON.stringify(opts.daemonConfig));
    configArgs.push('--config-file', path.join(dir, 'daemon.json'));
  }
  const launch = (): ChildProcess => {
    const c = spawn(
      opts.dockerd ?? 'dockerd',
      [
        ...configArgs,
        '--data-root',
        path.join(dir, 'data'),
        '--exec-root',
        execRoot,
        '--pidfile',
        path.join(dir, 'dockerd.pid'),
        '--host',
        `unix://${sock}`,
        ...tlsArgs,
        '--bridge=none',
        '--iptables=false',
        '--ip-masq=false',
      ],
      { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` }, stdio: ['ignore', 'ignore', 'pipe'] },
    );
    c.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
    return c;
  };
  let log = '';
  let child = launch();
  const host = `unix://${sock}`;
  const waitReady = async () => {
    for (let i = 0; ; i++) {
      if (existsSync(sock)) {
        try {
          execFileSync('docker', ['-H', host, 'version'], { stdio: 'pipe', timeout: 5000 });
          return;
        } catch {
          /* not yet */
        }
      }
      if (child.exitCode !== null || i > 120) throw new Error(`the stand-in engine did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
  };
  const alive = (pid: number) => {
    try {
      process.kill(pid, 0);
      return true;
    } catch {
      return false;
    }
  };
  const crashAndRestart = async () => {
    // dockerd's own containerd goes down with it, but not at once: a new dockerd that starts while
    // it still holds its socket gives up ("timeout waiting for containerd to start").
    const containerdPid = Number(readFileSync(path.join(execRoot, 'containerd', 'containerd.pid'), 'utf8').trim());
    const exited = new Promise<void>((resolve) => (child.exitCode !== null ? resolve() : child.once('exit', () => resolve())));
    child.kill('SIGKILL');
    await exited;
    for (let i = 0; i < 120 && containerdPid > 0 && alive(containerdPid); i++) await new Promise((r) => setTimeout(r, 250));
    rmSync(path.join(dir, 'dockerd.pid'), { force: true });
    for (let attempt = 1; ; attempt++) {
      child = launch();
      try {
        await waitReady();
        return;
      } catch (e) {
        if (attempt >= 2) throw e;
      }
    }
  };
  const stop = async () => {
    if (child.exitCode === null) {
      child.kill('SIGTERM');
      await new Promise<void>((resolve) => {
        const t = setTimeout(() => {
          child.kill('SIGKILL');
          resolve();
        }, 30_000);
        child.once('exit', () => {
          clearTimeout(t);
          resolve();
        });
      });
    }
    // A crashed engine leaves its mounts (the data root's own bind mount among them): undone first.
    for (const m of readFileSync('/proc/self/mounts', 'utf8')
      .split('\n')
      .map((l) => l.split(' ')[1] ?? '')
      .filter((p) => p.startsWith(dir) || p.startsWith(execRoot))
      .sort()
      .reverse()) {
      try {
        execFileSync('umount', ['-l', m], { stdio: 'pipe' });
      } catch {
        /* gone with its parent */
      }
    }
    rmSync(dir, { recursive: true, force: true });
    rmSync(execRoot, { recursive: true, force: true });
  };
  try {
    await waitReady();
    for (const image of images) execFileSync('sh', ['-c', `docker save ${image} | docker -H ${host} load`], { stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    await stop();
    throw e;
  }
  const version = execFileSync('docker', ['-H', host, 'version', '--format', '{{.Server.Version}} API {{.Server.APIVersion}}'], { stdio: 'pipe' })
    .toString()
    .trim();
  return {
    host,
    version,
    crashAndRestart,
    ...(tcp ? { tcp } : {}),
    hookCalls: () => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8').split('\n').filter(Boolean) : []),
    stop,
  };
}
