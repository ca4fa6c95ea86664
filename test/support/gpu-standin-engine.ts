import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { randomBytes } from 'node:crypto';

// A second Docker engine, started by the test that needs it, whose PATH holds a stand-in for
// NVIDIA's `nvidia-container-runtime-hook`. dockerd registers its NVIDIA device driver when it
// finds that executable, so GPU requests (DeviceRequests, as `--gpus all` sends) are accepted and
// the engine runs the hook before each such container. The stand-in only records that it was
// called: this proves the request path reaches the engine, and nothing at all about a GPU.

export interface StandinEngine {
  host: string;
  hookCalls(): string[];
  stop(): Promise<void>;
}

export async function startGpuStandinEngine(images: string[]): Promise<StandinEngine> {
  const dir = mkdtempSync('/tmp/dig-gpu-');
  const bin = path.join(dir, 'bin');
  mkdirSync(bin);
  const hookLog = path.join(dir, 'hook.log');
  const hook = path.join(bin, 'nvidia-container-runtime-hook');
  writeFileSync(hook, `#!/bin/sh\n# stand-in: records the call, touches no GPU\ncat > /dev/null\necho "called: $*" >> ${hookLog}\nexit 0\n`);
  chmodSync(hook, 0o755);
  const sock = path.join(dir, 'docker.sock');
  const execRoot = `/run/dig-${randomBytes(4).toString('hex')}`;
  const child: ChildProcess = spawn(
    'dockerd',
    ['--data-root', path.join(dir, 'data'), '--exec-root', execRoot, '--pidfile', path.join(dir, 'dockerd.pid'), '--host', `unix://${sock}`, '--bridge=none', '--iptables=false', '--ip-masq=false'],
    { env: { ...process.env, PATH: `${bin}:${process.env['PATH']}` }, stdio: ['ignore', 'ignore', 'pipe'] },
  );
  let log = '';
  child.stderr?.on('data', (d: Buffer) => (log = (log + d.toString()).slice(-4000)));
  const host = `unix://${sock}`;
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
    rmSync(dir, { recursive: true, force: true });
    rmSync(execRoot, { recursive: true, force: true });
  };
  try {
    for (let i = 0; ; i++) {
      if (existsSync(sock)) {
        try {
          execFileSync('docker', ['-H', host, 'version'], { stdio: 'pipe', timeout: 5000 });
          break;
        } catch {
          /* not yet */
        }
      }
      if (child.exitCode !== null || i > 120) throw new Error(`the stand-in engine did not start: ${log}`);
      await new Promise((r) => setTimeout(r, 250));
    }
    for (const image of images) execFileSync('sh', ['-c', `docker save ${image} | docker -H ${host} load`], { stdio: 'pipe', timeout: 120_000 });
  } catch (e) {
    await stop();
    throw e;
  }
  return { host, hookCalls: () => (existsSync(hookLog) ? readFileSync(hookLog, 'utf8').split('\n').filter(Boolean) : []), stop };
}
