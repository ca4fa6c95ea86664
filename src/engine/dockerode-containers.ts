import type { Readable } from 'node:stream';
import { PassThrough } from 'node:stream';
import type Dockerode from 'dockerode';
import { OperationError } from '../errors.js';
import { CappedOutput } from './capped-output.js';
import type { ContainerHandle, ContainerSpec, ExecResult, FsEntry, PathStat } from './port.js';
import { translateContainerStartError } from './translate.js';

// Containers through dockerode: create, start, exec, logs, file walks, removal; a ContainerHandle
// in the port's types. Part of the dockerode adapter (dockerode-client.ts).

/** A container id as the engine writes it (never a name: NetworkMode container:NAME would follow a rename). */
export function containerId(id: string): string {
  if (!/^[0-9a-f]{12,64}$/.test(id)) throw new OperationError('container.bad-id', `"${id.slice(0, 80)}" is not a container id`);
  return id;
}

/** A multiplexed container stream (exec, logs) read to its end through the output cap. */
export async function readCapped(
  docker: Dockerode,
  stream: Readable,
  signal?: AbortSignal,
  /** Ends the read once `at` has passed and nothing came for `idleMs` (a follow the engine never ends). */
  settle?: { at: number; idleMs: number },
): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const kept = { out: new CappedOutput(), err: new CappedOutput() };
  let last = Date.now();
  out.on('data', (d: Buffer) => ((last = Date.now()), kept.out.push(d)));
  err.on('data', (d: Buffer) => ((last = Date.now()), kept.err.push(d)));
  docker.modem.demuxStream(stream, out, err);
  const watch = settle
    ? setInterval(() => {
        const now = Date.now();
        if (now > settle.at && now - last > settle.idleMs) stream.destroy();
      }, 100)
    : null;
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', (e) => (stream.destroyed && settle ? resolve() : reject(e)));
    signal?.addEventListener(
      'abort',
      () => {
        stream.destroy();
        reject(signal.reason);
      },
      { once: true },
    );
  }).finally(() => {
    if (watch) clearInterval(watch);
  });
  return { stdout: kept.out.text(), stderr: kept.err.text() };
}

/** Creates the container the spec describes (not started) and hands back its handle. */
export async function createContainerHandle(docker: Dockerode, spec: ContainerSpec): Promise<ContainerHandle> {
  const g = spec.gpus;
  const deviceRequests = g
    ? [
        g.via === 'cdi'
          ? { Driver: 'cdi', DeviceIDs: [...g.devices] }
          : g.devices === 'all'
            ? { Driver: '', Count: -1, Capabilities: [['gpu']] }
            : { Driver: '', DeviceIDs: [...g.devices], Capabilities: [['gpu']] },
      ]
    : undefined;
  const c = await docker.createContainer({
    Image: spec.image,
    ...(spec.entrypoint ? { Entrypoint: spec.entrypoint } : {}),
    ...(spec.cmd ? { Cmd: spec.cmd } : {}),
    ...(spec.env ? { Env: spec.env } : {}),
    ...(spec.user ? { User: spec.user } : {}),
    Labels: spec.labels,
    NetworkDisabled: false,
    HostConfig: {
      NetworkMode: spec.networkOf ? `container:${containerId(spec.networkOf)}` : 'none',
      ...(spec.memoryBytes ? { Memory: spec.memoryBytes, MemorySwap: spec.memoryBytes } : {}),
      ...(spec.nanoCpus ? { NanoCpus: spec.nanoCpus } : {}),
      ...(spec.pidsLimit ? { PidsLimit: spec.pidsLimit } : {}),
      ...(deviceRequests ? { DeviceRequests: deviceRequests } : {}),
    },
  } as Dockerode.ContainerCreateOptions);
  const execOnce = async (argv: string[], signal: AbortSignal, env?: string[]): Promise<ExecResult> => {
    let ex: Dockerode.Exec;
    let stream: Readable;
    try {
      ex = await c.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, ...(env?.length ? { Env: env } : {}) });
      stream = await ex.start({ hijack: true, stdin: false, abortSignal: signal });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 409) throw new OperationError('container.not-running', `container ${c.id.slice(0, 12)} is not running`);
      throw e;
    }
    const kept = await readCapped(docker, stream, signal);
    const info = await ex.inspect();
    return { exitCode: info.ExitCode ?? -1, ...kept };
  };
  return {
    id: c.id,
    async start() {
      try {
        await c.start();
      } catch (e) {
        const msg = (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;
        throw translateContainerStartError(msg, spec.image);
      }
    },
    async wait(signal) {
      const r = (await c.wait({ abortSignal: signal } as Dockerode.ContainerWaitOptions)) as { StatusCode: number };
      return { exitCode: r.StatusCode };
    },
    async logs() {
      // Streamed (follow, up to now), so a huge log is read through the cap, never held whole. The
      // engine ends a follow at `until` only when the next line arrives (moby#37391): a server that
      // logs nothing more would hold the read open (28 s seen), so it ends once `until` has passed
      // and nothing came for half a second.
      const until = Math.floor(Date.now() / 1000) + 1;
      const stream = await (c.logs({ stdout: true, stderr: true, follow: true, until }) as unknown as Promise<Readable>);
      return readCapped(docker, stream, undefined, { at: until * 1000, idleMs: 500 });
    },
    async inspect() {
      const i = await c.inspect();
      return { running: i.State.Running, exitCode: i.State.ExitCode, oomKilled: i.State.OOMKilled, deviceRequests: (i.HostConfig.DeviceRequests ?? []).length };
    },
    async exec(argv, parent, env): Promise<ExecResult> {
      // One listener on the caller's signal, removed when this exec ends: a readiness loop that
      // execs hundreds of times must not pile listeners up (MaxListenersExceededWarning).
      const child = new AbortController();
      const forward = () => child.abort(parent.reason);
      if (parent.aborted) forward();
      else parent.addEventListener('abort', forward, { once: true });
      try {
        return await execOnce(argv, child.signal, env);
      } finally {
        parent.removeEventListener('abort', forward);
      }
    },
    async stat(path, maxContentBytes) {
      let stream: Readable;
      try {
        stream = (await c.getArchive({ path })) as unknown as Readable;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return { exists: false, type: null, mode: 0, uid: 0, gid: 0, size: 0, content: null };
        throw e;
      }
      const { default: tar } = await import('tar-stream');
      const extract = tar.extract();
      let first: PathStat | null = null;
      const done = new Promise<void>((resolve, reject) => {
        extract.on('entry', (header, body, next) => {
          const chunks: Buffer[] = [];
          let kept = 0;
          body.on('data', (chunk: unknown) => {
            const d = chunk as Buffer;
            if (!first && kept < maxContentBytes) {
              chunks.push(d.subarray(0, maxContentBytes - kept));
              kept += Math.min(d.length, maxContentBytes - kept);
            }
          });
          body.on('end', () => {
            if (!first) {
              const t = header.type;
              first = {
                exists: true,
                type: t === 'file' ? 'file' : t === 'directory' ? 'directory' : t === 'symlink' ? 'symlink' : 'other',
                mode: (header.mode ?? 0) & 0o7777,
                uid: header.uid ?? 0,
                gid: header.gid ?? 0,
                size: header.size ?? 0,
                content: t === 'file' ? Buffer.concat(chunks) : null,
              };
            }
            next();
          });
          body.resume();
        });
        extract.on('finish', resolve);
        extract.on('error', reject);
      });
      stream.pipe(extract as unknown as NodeJS.WritableStream);
      await done;
      return first ?? { exists: false, type: null, mode: 0, uid: 0, gid: 0, size: 0, content: null };
    },
    async walkFiles(want, visit, signal) {
      const stream = (await c.export()) as unknown as Readable;
      const { default: tar } = await import('tar-stream');
      const extract = tar.extract();
      const onAbort = () => stream.destroy(new Error('aborted'));
      signal.addEventListener('abort', onAbort, { once: true });
      try {
        await new Promise<void>((resolve, reject) => {
          extract.on('entry', (header, body, next) => {
            const t = header.type;
            const entry: FsEntry = {
              path: header.name.replace(/^\.?\/+/, ''),
              type:
                t === 'file' || t === 'contiguous-file'
                  ? 'file'
                  : t === 'directory'
                    ? 'directory'
                    : t === 'symlink'
                      ? 'symlink'
                      : t === 'link'
                        ? 'link'
                        : 'other',
              size: header.size ?? 0,
              linkname: header.linkname ?? null,
            };
            const n = want(entry);
            const chunks: Buffer[] = [];
            let got = 0;
            body.on('data', (chunk: unknown) => {
              const d = chunk as Buffer;
              if (n && got < n) {
                chunks.push(d.subarray(0, n - got));
                got += Math.min(d.length, n - got);
              }
            });
            body.on('end', () => {
              try {
                if (n !== null) visit(entry, Buffer.concat(chunks));
              } catch (e) {
                stream.destroy(e as Error);
                return;
              }
              next();
            });
            body.resume();
          });
          extract.on('finish', resolve);
          extract.on('error', reject);
          stream.on('error', reject);
          stream.pipe(extract as unknown as NodeJS.WritableStream);
        });
      } finally {
        signal.removeEventListener('abort', onAbort);
      }
    },
    async remove() {
      // Podman 4.3 answers 500 "container state improper: stopped" (or 409 "removal in progress")
      // when a force-remove meets a container that is exiting on its own; a moment later it goes.
      for (let attempt = 1; ; attempt++) {
        try {
          await c.remove({ force: true, v: true });
          return;
        } catch (e) {
          const { statusCode, message } = e as { statusCode?: number; message?: string };
          if (statusCode === 404) return;
          if (attempt >= REMOVE_ATTEMPTS || !isRemoveRace(statusCode, String(message ?? ''))) throw e;
          await new Promise((r) => setTimeout(r, 150 * attempt));
        }
      }
    },
  };
}

const REMOVE_ATTEMPTS = 6;

/** A removal that lost a race with the container's own exit (Podman 4.3), worth another try. */
export function isRemoveRace(statusCode: number | undefined, message: string): boolean {
  if (statusCode === 409) return /in progress/i.test(message);
  return statusCode === 500 && /state improper|could not be stopped|in progress/i.test(message);
}
