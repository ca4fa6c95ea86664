import tar from 'tar-stream';
import type { BuildRequest, ContainerHandle, ContainerSpec, ContainerSummary, Engine, EngineInfo, ImageDetails, ImageSummary } from '../../src/engine/port.js';

// The Engine port in memory, for unit tests of ordering rules (tags after tests, checks before
// pushes, containers removed on cancel). It records every call in order. Integration tests on the
// real engine remain the evidence that features work; this only shows what the pipeline asks for.

export interface FakeRun {
  exitCode?: number;
  stdout?: string;
  stderr?: string;
  /** Never exits on its own: only a cancel ends it. */
  hang?: boolean;
}

export class FakeEngine implements Engine {
  readonly calls: string[] = [];
  readonly images = new Map<string, ImageDetails>();
  readonly containers = new Map<string, ContainerSpec>();
  private n = 0;
  /** What a container does, by its spec. */
  run: (spec: ContainerSpec) => FakeRun = () => ({ exitCode: 0 });
  /** A build fails with this message when set. */
  failBuild: string | null = null;
  pushDigest = `sha256:${'d'.repeat(64)}`;

  async info(): Promise<EngineInfo> {
    return {
      endpoint: 'fake://',
      serverVersion: 'fake',
      kind: 'docker',
      apiVersion: '1.45',
      os: 'linux',
      arch: 'amd64',
      buildkit: true,
      runNetwork: true,
      local: false,
      gpu: { runtimes: [], nvidiaRuntime: false, cdiDevices: [], cdiSpecDirs: [] },
    };
  }

  async build(req: BuildRequest): Promise<{ imageId: string }> {
    this.calls.push(`build ${req.target ?? ''}`);
    // The context is read as the engine reads it: the Dockerfile's labels go on the image.
    let dockerfile = '';
    const extract = tar.extract();
    extract.on('entry', (header, stream, next) => {
      const chunks: Buffer[] = [];
      stream.on('data', (c: unknown) => chunks.push(c as Buffer));
      stream.on('end', () => {
        if (header.name === req.dockerfile) dockerfile = Buffer.concat(chunks).toString();
        next();
      });
    });
    await new Promise<void>((resolve, reject) => {
      extract.on('finish', resolve);
      extract.on('error', reject);
      req.context.on('error', reject);
      req.context.pipe(extract);
    });
    if (this.failBuild) throw new Error(this.failBuild);
    const fromDockerfile = Object.fromEntries([...dockerfile.matchAll(/"(dev\.dynamo-image\.plan-digest)"="([^"]+)"/g)].map((m) => [m[1]!, m[2]!]));
    const id = `sha256:${String(++this.n).padStart(64, '0')}`;
    this.images.set(id, {
      id,
      tags: [],
      labels: { ...fromDockerfile, ...req.labels },
      sizeBytes: 1000,
      created: 0,
      parentId: '',
      user: '1000:0',
      workdir: '/workspace',
      env: [],
      entrypoint: null,
      cmd: null,
      exposedPorts: [],
      architecture: 'amd64',
      os: 'linux',
      repoDigests: [],
    });
    req.onEvent({ type: 'step', id: 's1', name: 'RUN x', state: 'done' });
    return { imageId: id };
  }

  async findImages(labels: Record<string, string>): Promise<ImageSummary[]> {
    this.calls.push('findImages');
    return [...this.images.values()].filter((i) => Object.entries(labels).every(([k, v]) => i.labels[k] === v));
  }

  async imageHistory(): Promise<{ createdBy: string; size: number }[]> {
    return [];
  }

  async inspectImage(ref: string): Promise<ImageDetails | null> {
    return this.images.get(ref) ?? [...this.images.values()].find((i) => i.tags.includes(ref)) ?? null;
  }

  async tagImage(id: string, repository: string, tag: string): Promise<void> {
    this.calls.push(`tag ${repository}:${tag}`);
    this.images.get(id)?.tags.push(`${repository}:${tag}`);
  }

  async removeImage(ref: string): Promise<void> {
    this.calls.push(`rmi ${ref}`);
  }

  async listContainers(): Promise<ContainerSummary[]> {
    return [...this.containers.keys()].map((id) => ({ id, state: 'exited', exitCode: 0, createdMs: 0, finishedMs: null }));
  }

  async removeContainer(id: string): Promise<void> {
    this.calls.push(`rm ${id}`);
  }

  async push(repository: string, tag: string): Promise<{ digest: string }> {
    this.calls.push(`push ${repository}:${tag}`);
    return { digest: this.pushDigest };
  }

  async createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    const id = `c${++this.n}`;
    this.containers.set(id, spec);
    this.calls.push(`create ${id}`);
    const behaviour = this.run(spec);
    // eslint-disable-next-line @typescript-eslint/no-this-alias
    const engine = this;
    return {
      id,
      async start() {
        engine.calls.push(`start ${id}`);
      },
      async wait(signal: AbortSignal) {
        if (behaviour.hang) {
          await new Promise<never>((_, reject) => {
            if (signal.aborted) reject(signal.reason);
            signal.addEventListener('abort', () => reject(signal.reason), { once: true });
          });
        }
        return { exitCode: behaviour.exitCode ?? 0 };
      },
      async logs() {
        return { stdout: behaviour.stdout ?? '', stderr: behaviour.stderr ?? '' };
      },
      async inspect() {
        return { running: false, exitCode: behaviour.exitCode ?? 0, oomKilled: false, deviceRequests: spec.gpus ? 1 : 0 };
      },
      async exec() {
        return { exitCode: 0, stdout: '', stderr: '' };
      },
      async stat() {
        return { exists: false, type: null, mode: 0, uid: 0, gid: 0, size: 0, content: null };
      },
      async walkFiles() {},
      async remove() {
        engine.calls.push(`remove ${id}`);
        engine.containers.delete(id);
      },
    } as ContainerHandle;
  }
}
