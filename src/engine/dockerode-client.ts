import type { Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { EnvironmentError, OperationError } from '../errors.js';
import { BuildTracker } from './build-stream.js';
import { createContainerHandle } from './dockerode-containers.js';
import { imageDetailsFrom, imageSummaryFrom, labelFilter, withLabels, type RawImage, type RawImageSummary } from './dockerode-images.js';
import { forEachJsonLine } from './json-lines.js';
import { isLoopbackHost } from '../loopback.js';
import type { BuildRequest, ContainerHandle, ContainerSpec, ContainerSummary, Engine, EngineInfo, ImageDetails, ImageSummary, PushProgress } from './port.js';
import { translateBuildFailure, translatePushError } from './translate.js';

// The engine through dockerode: builds, images, containers (dockerode-containers.ts), pushes.
// Everything it returns is in the port's types.

/** The highest Engine API version this adapter was tested against. */
export const MAX_TESTED_API = '1.45';

/** Podman's service names itself in /version's components; Docker's engine never does. */
export function engineKindOf(version: { Components?: { Name?: string }[] | null }): 'docker' | 'podman' {
  return (version.Components ?? []).some((c) => /^podman/i.test(String(c.Name ?? ''))) ? 'podman' : 'docker';
}

export function compareApi(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

function pushStallMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['DYNAMO_IMAGE_PUSH_STALL_S'] ?? 120);
  return (Number.isFinite(s) && s > 0 ? s : 120) * 1000;
}

/** dockerode passes ping's options to the modem (an abort signal included); its types omit them. */
interface PingWithSignal {
  ping(opts: { abortSignal: AbortSignal }): Promise<unknown>;
}

export class DockerodeEngine implements Engine {
  constructor(
    private readonly docker: Dockerode,
    private readonly endpoint: string,
    private readonly version: Dockerode.DockerVersion,
    private readonly api: string,
  ) {}

  async info(): Promise<EngineInfo> {
    const info = (await this.docker.info()) as Record<string, unknown>;
    const runtimes = Object.keys((info['Runtimes'] as Record<string, unknown> | undefined) ?? {});
    return {
      endpoint: this.endpoint,
      serverVersion: this.version.Version,
      kind: engineKindOf(this.version),
      apiVersion: this.api,
      os: String(info['OSType'] ?? this.version.Os),
      arch: String(this.version.Arch),
      // BuildKit ships inside every Linux Docker engine since API 1.39 (Docker 18.09). Podman's
      // service reports API 1.41 but has no BuildKit session endpoint (its builder is buildah).
      buildkit: engineKindOf(this.version) === 'docker' && String(info['OSType'] ?? 'linux') === 'linux' && compareApi(this.api, '1.39') >= 0,
      // Docker 20.10 (API 1.41) answers `RUN --network` with "Unknown flag: network"; 23.0 (1.42) takes it.
      runNetwork: String(info['OSType'] ?? 'linux') === 'linux' && compareApi(this.api, '1.42') >= 0,
      gpu: {
        runtimes,
        nvidiaRuntime: runtimes.includes('nvidia'),
        cdiDevices: ((info['DiscoveredDevices'] as { Source?: string; ID?: string }[] | null | undefined) ?? [])
          .filter((d) => d.Source === 'cdi')
          .map((d) => String(d.ID)),
        cdiSpecDirs: ((info['CDISpecDirs'] as string[] | null | undefined) ?? []).map(String),
      },
      local: this.endpoint.startsWith('unix://'),
    };
  }

  async build(req: BuildRequest): Promise<{ imageId: string }> {
    const tracker = new BuildTracker(req.onEvent);
    // dockerode mutates the options object it is given: a fresh one per call.
    const opts: Record<string, unknown> = {
      dockerfile: req.dockerfile,
      rm: true,
      forcerm: true,
      buildargs: req.buildArgs,
      labels: req.labels,
      abortSignal: req.signal,
      networkmode: req.network,
      ...(req.target ? { target: req.target } : {}),
      ...(req.noCache ? { nocache: true } : {}),
      ...(req.platform ? { platform: req.platform } : {}),
      ...(req.cacheFrom.length ? { cachefrom: [...req.cacheFrom] } : {}),
      ...(req.builder === 'buildkit' ? { version: '2' } : {}),
    };
    // Secrets need our own session (dockerode's serves registry credentials only): `version: 2` as
    // a number keeps dockerode from opening its own, and the build joins ours.
    let session: { id: string; close: () => void } | null = null;
    if (req.builder === 'buildkit' && req.secrets?.size) {
      const { openBuildSession } = await import('./build-session.js');
      session = await openBuildSession(this.docker.modem, req.secrets, null);
      opts['version'] = 2;
      opts['session'] = session.id;
    }
    let stream: Readable;
    try {
      stream = (await this.docker.buildImage(req.context, opts as Dockerode.ImageBuildOptions)) as unknown as Readable;
    } catch (e) {
      session?.close();
      if (req.signal.aborted) throw req.signal.reason;
      const err = e as { statusCode?: number; json?: { message?: string }; message?: string };
      throw new OperationError('build.rejected', `the engine refused the build: ${err.json?.message ?? err.message}`);
    }
    try {
      try {
        await forEachJsonLine(stream, (item) => tracker.handle(item));
      } finally {
        session?.close();
      }
      tracker.flush();
    } catch (e) {
      if (req.signal.aborted) throw req.signal.reason;
      // The stream breaks when the engine goes away: say so when it no longer answers.
      const alive = await (this.docker as PingWithSignal).ping({ abortSignal: AbortSignal.timeout(5000) }).then(
        () => true,
        () => false,
      );
      if (!alive)
        throw new EnvironmentError(
          'engine.gone',
          `the Docker engine at ${this.endpoint} went away during the build (${(e as Error).message}); nothing was tagged`,
          'start the engine again and rerun the build',
          e,
        );
      throw new OperationError('build.stream', `the build's output stream broke: ${(e as Error).message}`, { cause: e });
    }
    if (req.signal.aborted) throw req.signal.reason;
    // A 200 answer with an error inside the stream is a failed build: never trust the status alone.
    if (tracker.error !== null) throw translateBuildFailure(tracker.failure(), req.fromImages ?? []);
    if (!tracker.imageId) throw new OperationError('build.no-image', 'the build ended without reporting an image id');
    return { imageId: tracker.imageId };
  }

  async findImages(labels: Record<string, string>): Promise<ImageSummary[]> {
    const list = await this.docker.listImages({ filters: JSON.stringify({ label: labelFilter(labels) }) } as unknown as Dockerode.ListImagesOptions);
    return withLabels(
      list.map((i) => imageSummaryFrom(i as unknown as RawImageSummary)),
      labels,
    );
  }

  async inspectImage(ref: string): Promise<ImageDetails | null> {
    try {
      return imageDetailsFrom((await this.docker.getImage(ref).inspect()) as unknown as RawImage);
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode === 404) return null;
      throw e;
    }
  }

  async imageHistory(ref: string): Promise<{ createdBy: string; size: number }[]> {
    const h = (await this.docker.getImage(ref).history()) as { CreatedBy?: string; Size?: number }[];
    return h.map((x) => ({ createdBy: String(x.CreatedBy ?? ''), size: Number(x.Size ?? 0) }));
  }

  async tagImage(id: string, repository: string, tag: string): Promise<void> {
    await this.docker.getImage(id).tag({ repo: repository, tag });
  }

  async removeImage(ref: string, opts: { force?: boolean; noprune?: boolean } = {}): Promise<void> {
    try {
      await this.docker.getImage(ref).remove({ force: opts.force ?? false, noprune: opts.noprune ?? false });
    } catch (e) {
      if ((e as { statusCode?: number }).statusCode !== 404) throw e;
    }
  }

  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    const list = await this.docker.listContainers({
      all: true,
      filters: JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }),
    } as unknown as Dockerode.ContainerListOptions);
    const out: ContainerSummary[] = [];
    for (const c of list) {
      // The list has no exit code or finish time: each (few) container is inspected.
      let st: Dockerode.ContainerInspectInfo['State'];
      try {
        st = (await this.docker.getContainer(c.Id).inspect()).State;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) continue;
        throw e;
      }
      const finished = Date.parse(st.FinishedAt);
      const state = String(st.Status) as ContainerSummary['state'];
      out.push({
        id: c.Id,
        state,
        exitCode: st.ExitCode,
        createdMs: c.Created * 1000,
        finishedMs: Number.isFinite(finished) && finished > 0 ? finished : null,
      });
    }
    return out;
  }

  async removeContainer(id: string): Promise<void> {
    try {
      await this.docker.getContainer(id).remove({ force: true, v: true });
    } catch (e) {
      const code = (e as { statusCode?: number }).statusCode;
      // 404: gone already; 409: being removed by someone else.
      if (code !== 404 && code !== 409) throw e;
    }
  }

  createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    return createContainerHandle(this.docker, spec);
  }

  async push(repository: string, tag: string, auth: Record<string, string> | null, signal: AbortSignal, progress?: PushProgress): Promise<{ digest: string }> {
    // A push that makes no progress (a registry that accepted the connection and went silent) is
    // abandoned after stallMs without any event from the engine.
    const stallMs = pushStallMs();
    const stall = new AbortController();
    let last = Date.now();
    const timer = setInterval(
      () => {
        if (Date.now() - last > stallMs) stall.abort();
      },
      Math.min(1000, stallMs),
    );
    const both = AbortSignal.any([signal, stall.signal]);
    try {
      return await this.pushOnce(repository, tag, auth, both, () => (last = Date.now()), progress);
    } catch (e) {
      if (stall.signal.aborted && !signal.aborted)
        throw new EnvironmentError(
          'registry.unreachable',
          `the push of ${repository}:${tag} made no progress for ${Math.round(stallMs / 1000)} s (the registry stopped answering)`,
          'DYNAMO_IMAGE_PUSH_STALL_S sets how long a push may stall',
        );
      throw e;
    } finally {
      clearInterval(timer);
    }
  }

  private async pushOnce(
    repository: string,
    tag: string,
    auth: Record<string, string> | null,
    signal: AbortSignal,
    alive: () => void,
    progress?: PushProgress,
  ): Promise<{ digest: string }> {
    // Docker pushes to a loopback registry over plain http (127.0.0.0/8 is an insecure registry by
    // default); Podman verifies TLS unless told not to (its `tlsVerify` parameter, which Docker ignores).
    const host = repository.split('/')[0]!.replace(/:\d+$/, '');
    const plain = engineKindOf(this.version) === 'podman' && repository.includes('/') && isLoopbackHost(host);
    const opts: Record<string, unknown> = { tag, abortSignal: signal, ...(plain ? { tlsVerify: false } : {}), ...(auth ? { authconfig: { ...auth } } : {}) };
    let stream: Readable;
    try {
      // The name without the tag, the tag as its parameter (the API's documented form; Podman appends
      // the parameter to a name that already has one).
      stream = (await this.docker.getImage(repository).push(opts as object)) as unknown as Readable;
    } catch (e) {
      const msg = (e as { json?: { message?: string } }).json?.message ?? (e as Error).message;
      throw translatePushError(msg, `${repository}:${tag}`);
    }
    let digest: string | null = null;
    let error: string | null = null;
    await forEachJsonLine(stream, (item) => {
      alive();
      if (typeof item === 'string') return progress?.onLine?.(item);
      const aux = item['aux'] as { Digest?: string } | undefined;
      if (aux?.Digest) digest = aux.Digest;
      const ed = item['errorDetail'] as { message?: string } | undefined;
      if (item['error'] || ed) error = ed?.message ?? String(item['error']);
      if (typeof item['status'] === 'string') {
        // Podman reports the digest only in this status line (Docker sends it as aux too).
        const m = /^(\S+): digest: (sha256:[0-9a-f]{64}) size: \d+$/.exec(item['status']);
        if (m && m[1] === tag) digest ??= m[2]!;
        progress?.onLine?.(`${item['id'] ? `${String(item['id'])}: ` : ''}${item['status']}`);
      }
    });
    if (error !== null) throw translatePushError(error, `${repository}:${tag}`);
    // Success is the digest in the stream, not the end of the stream.
    if (!digest) throw new OperationError('publish.no-digest', `push of ${repository}:${tag} ended without reporting a digest`);
    return { digest };
  }
}
