import { PassThrough, type Readable } from 'node:stream';
import type Dockerode from 'dockerode';
import { EnvironmentError, OperationError } from '../errors.js';
import { decodeTrace } from './buildkit-trace.js';
import { CappedOutput } from './capped-output.js';
import { forEachJsonLine } from './json-lines.js';
import { isLoopbackHost } from '../loopback.js';
import type { BuildEvent, BuildRequest, ContainerHandle, ContainerSpec, ContainerSummary, Engine, EngineInfo, ExecResult, FsEntry, ImageDetails, ImageSummary, PathStat, PushProgress } from './port.js';
import { localSocket, socketRequest } from './socket-http.js';
import { checkDockerHost, describeEndpoint, engineUnreachable, translateBuildFailure, translateContainerStartError, translatePushError } from './translate.js';

// The one module that talks to dockerode. Everything it returns is in the port's types.

/** The highest Engine API version this adapter was tested against. */
export const MAX_TESTED_API = '1.45';
const TAIL_LINES = 25;

/** Podman's service names itself in /version's components; Docker's engine never does. */
export function engineKindOf(version: { Components?: { Name?: string }[] | null }): 'docker' | 'podman' {
  return (version.Components ?? []).some((c) => /^podman/i.test(String(c.Name ?? ''))) ? 'podman' : 'docker';
}

function compareApi(a: string, b: string): number {
  const [am = 0, an = 0] = a.split('.').map(Number);
  const [bm = 0, bn = 0] = b.split('.').map(Number);
  return am - bm || an - bn;
}

/** A container id as the engine writes it (never a name: NetworkMode container:NAME would follow a rename). */
function containerId(id: string): string {
  if (!/^[0-9a-f]{12,64}$/.test(id)) throw new OperationError('container.bad-id', `"${id.slice(0, 80)}" is not a container id`);
  return id;
}

export async function connectDocker(): Promise<Engine> {
  const endpoint = describeEndpoint();
  const bad = checkDockerHost(process.env['DOCKER_HOST']);
  if (bad) throw new EnvironmentError('engine.config', `cannot use DOCKER_HOST=${process.env['DOCKER_HOST']}: ${bad}`);
  const sock = localSocket();
  if (sock) {
    // A local engine: version over Node's http, the full client only when a call needs it.
    let version: Dockerode.DockerVersion;
    try {
      const a = await socketRequest(sock, 'GET', '/version', { timeoutMs: 10_000 });
      if (a.status !== 200) throw new Error(`HTTP ${a.status}: ${a.body.slice(0, 200)}`);
      version = JSON.parse(a.body) as Dockerode.DockerVersion;
    } catch (e) {
      throw engineUnreachable(endpoint, e);
    }
    const api = compareApi(version.ApiVersion, MAX_TESTED_API) < 0 ? version.ApiVersion : MAX_TESTED_API;
    return new LocalEngine(sock, endpoint, version, api);
  }
  const { default: Docker } = await import('dockerode');
  let probe: Dockerode;
  try {
    probe = new Docker();
  } catch (e) {
    throw new EnvironmentError('engine.config', `cannot use DOCKER_HOST=${process.env['DOCKER_HOST']}: ${(e as Error).message}`, 'use unix:///path, tcp://host:port or ssh://user@host');
  }
  let version: Dockerode.DockerVersion;
  try {
    // The typings lack the options overload; the call accepts { abortSignal }.
    version = await (probe.version as unknown as (o: { abortSignal: AbortSignal }) => Promise<Dockerode.DockerVersion>).call(probe, { abortSignal: AbortSignal.timeout(10_000) });
  } catch (e) {
    throw engineUnreachable(endpoint, e);
  }
  const server = version.ApiVersion;
  const api = compareApi(server, MAX_TESTED_API) < 0 ? server : MAX_TESTED_API;
  const docker = new Docker({ version: `v${api}` });
  return new DockerodeEngine(docker, endpoint, version, api);
}

interface RawImageSummary {
  Id: string;
  RepoTags?: string[] | null;
  Labels?: Record<string, string> | null;
  Size: number;
  Created: number;
  ParentId?: string | null;
}

interface RawImage {
  Id: string;
  Parent?: string | null;
  RepoTags?: string[] | null;
  RepoDigests?: string[] | null;
  Size: number;
  Created: string;
  Architecture: string;
  Os: string;
  Config: { Labels?: Record<string, string> | null; User?: string; WorkingDir?: string; Env?: string[] | null; Entrypoint?: string[] | null; Cmd?: string[] | null; ExposedPorts?: Record<string, unknown> | null };
}

/**
 * The engine filters on one label; every label is checked here. Podman 4.3 answers a filter of two
 * labels with nothing at all, and what an engine lists is checked, not trusted, anyway.
 */
function labelFilter(labels: Record<string, string>): string[] {
  return Object.entries(labels).slice(0, 1).map(([k, v]) => `${k}=${v}`);
}

function withLabels(images: ImageSummary[], labels: Record<string, string>): ImageSummary[] {
  return images.filter((i) => Object.entries(labels).every(([k, v]) => i.labels[k] === v));
}

function imageSummaryFrom(i: RawImageSummary): ImageSummary {
  return { id: i.Id, tags: (i.RepoTags ?? []).filter((t) => t !== '<none>:<none>'), labels: i.Labels ?? {}, sizeBytes: i.Size, created: i.Created, parentId: i.ParentId ?? '' };
}

function imageDetailsFrom(i: RawImage): ImageDetails {
  const c = i.Config;
  return {
    id: i.Id,
    tags: i.RepoTags ?? [],
    labels: c.Labels ?? {},
    sizeBytes: i.Size,
    created: Date.parse(i.Created) / 1000,
    parentId: i.Parent ?? '',
    user: c.User ?? '',
    workdir: c.WorkingDir ?? '',
    env: c.Env ?? [],
    entrypoint: c.Entrypoint ?? null,
    cmd: c.Cmd ?? null,
    exposedPorts: Object.keys(c.ExposedPorts ?? {}),
    architecture: i.Architecture,
    os: i.Os,
    repoDigests: i.RepoDigests ?? [],
  };
}

/**
 * The engine on this machine's unix socket. Image lookups and tags go over Node's http; the rest
 * (builds, containers, pushes, info) through dockerode, loaded on the first call that needs it.
 */
class LocalEngine implements Engine {
  private full: Promise<DockerodeEngine> | null = null;
  private readonly base: string;

  constructor(
    private readonly sock: string,
    private readonly endpoint: string,
    private readonly version: Dockerode.DockerVersion,
    private readonly api: string,
  ) {
    this.base = `/v${api}`;
  }

  private client(): Promise<DockerodeEngine> {
    this.full ??= import('dockerode').then(({ default: Docker }) => new DockerodeEngine(new Docker({ socketPath: this.sock, version: `v${this.api}` }), this.endpoint, this.version, this.api));
    return this.full;
  }

  private async call(method: 'GET' | 'POST', path: string): Promise<{ status: number; body: string }> {
    try {
      return await socketRequest(this.sock, method, `${this.base}${path}`);
    } catch (e) {
      throw engineUnreachable(this.endpoint, e);
    }
  }

  async findImages(labels: Record<string, string>): Promise<ImageSummary[]> {
    const filters = encodeURIComponent(JSON.stringify({ label: labelFilter(labels) }));
    const a = await this.call('GET', `/images/json?filters=${filters}`);
    if (a.status !== 200) throw new OperationError('engine.error', `listing images: HTTP ${a.status}: ${a.body.slice(0, 300)}`);
    return withLabels((JSON.parse(a.body) as RawImageSummary[]).map(imageSummaryFrom), labels);
  }

  async inspectImage(ref: string): Promise<ImageDetails | null> {
    const a = await this.call('GET', `/images/${encodeURIComponent(ref)}/json`);
    if (a.status === 404) return null;
    if (a.status !== 200) throw new OperationError('engine.error', `inspecting ${ref}: HTTP ${a.status}: ${a.body.slice(0, 300)}`);
    return imageDetailsFrom(JSON.parse(a.body) as RawImage);
  }

  async imageHistory(ref: string): Promise<{ createdBy: string; size: number }[]> {
    return (await this.client()).imageHistory(ref);
  }

  async tagImage(id: string, repository: string, tag: string): Promise<void> {
    const a = await this.call('POST', `/images/${encodeURIComponent(id)}/tag?repo=${encodeURIComponent(repository)}&tag=${encodeURIComponent(tag)}`);
    if (a.status !== 201 && a.status !== 200) throw new OperationError('engine.error', `tagging ${id} as ${repository}:${tag}: HTTP ${a.status}: ${a.body.slice(0, 300)}`);
  }

  async info(): Promise<EngineInfo> {
    return (await this.client()).info();
  }
  async build(req: BuildRequest): Promise<{ imageId: string }> {
    return (await this.client()).build(req);
  }
  async removeImage(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<void> {
    return (await this.client()).removeImage(ref, opts);
  }
  async createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
    return (await this.client()).createContainer(spec);
  }
  async listContainers(labels: Record<string, string>): Promise<ContainerSummary[]> {
    return (await this.client()).listContainers(labels);
  }
  async removeContainer(id: string): Promise<void> {
    return (await this.client()).removeContainer(id);
  }
  async push(repository: string, tag: string, auth: Record<string, string> | null, signal: AbortSignal, progress?: PushProgress): Promise<{ digest: string }> {
    return (await this.client()).push(repository, tag, auth, signal, progress);
  }
}

/** A multiplexed container stream (exec, logs) read to its end through the output cap. */
async function readCapped(docker: Dockerode, stream: Readable, signal?: AbortSignal): Promise<{ stdout: string; stderr: string }> {
  const out = new PassThrough();
  const err = new PassThrough();
  const kept = { out: new CappedOutput(), err: new CappedOutput() };
  out.on('data', (d: Buffer) => kept.out.push(d));
  err.on('data', (d: Buffer) => kept.err.push(d));
  docker.modem.demuxStream(stream, out, err);
  await new Promise<void>((resolve, reject) => {
    stream.on('end', resolve);
    stream.on('close', resolve);
    stream.on('error', reject);
    signal?.addEventListener('abort', () => {
      stream.destroy();
      reject(signal.reason);
    }, { once: true });
  });
  return { stdout: kept.out.text(), stderr: kept.err.text() };
}

/** Follows one build's events and keeps per-step logs for the error message. */
const CLASSIC = '\u0000classic';

/** `a\rb\rc` -> `c`: what a terminal would show last on that line. */
function lastSegment(line: string): string {
  const s = line.replace(/\r$/, '');
  return s.slice(s.lastIndexOf('\r') + 1);
}

/** Turns the engine's build stream (BuildKit trace or classic) into our events. Exported for tests. */
export class BuildTracker {
  imageId: string | null = null;
  error: string | null = null;
  private readonly logs = new Map<string, string[]>();
  private readonly names = new Map<string, string>();
  private readonly reported = new Map<string, string>();
  private failedStep: string | null = null;
  private classicStep: { id: string; name: string; started: number; cached: boolean } | null = null;
  private readonly messages: string[] = [];
  /** The unfinished last line of each step's output: the engine's chunks split lines anywhere. */
  private readonly partial = new Map<string, string>();

  constructor(private readonly emit: (e: BuildEvent) => void) {}

  /** Appends output to a step and hands on each complete line (a progress bar's \r keeps its last state). */
  private chunk(id: string, text: string, line: (l: string) => void): void {
    const parts = ((this.partial.get(id) ?? '') + text).split('\n');
    this.partial.set(id, parts.pop()!);
    for (const p of parts) line(lastSegment(p));
  }

  /** The unfinished lines, at the end of the build. */
  flush(): void {
    for (const [id, rest] of this.partial) {
      const l = lastSegment(rest);
      if (id === CLASSIC) this.classicLine(l);
      else if (l.trim()) this.log(id, l);
    }
    this.partial.clear();
  }

  private log(id: string, line: string): void {
    const l = this.logs.get(id) ?? [];
    l.push(line);
    if (l.length > 200) l.shift();
    this.logs.set(id, l);
    this.emit({ type: 'log', id, line });
  }

  private finishClassicStep(state: 'done' | 'error'): void {
    const s = this.classicStep;
    if (!s) return;
    this.emit({ type: 'step', id: s.id, name: s.name, state: s.cached && state === 'done' ? 'cached' : state, durationMs: Date.now() - s.started });
    this.classicStep = null;
  }

  handle(item: Record<string, unknown> | string): void {
    if (typeof item === 'string') {
      this.messages.push(item);
      this.emit({ type: 'message', text: item });
      return;
    }
    const aux = item['aux'] as Record<string, unknown> | undefined;
    if (item['id'] === 'moby.buildkit.trace' && typeof aux === 'string') {
      this.handleTrace(aux);
      return;
    }
    if (item['id'] === 'moby.image.id' && aux && typeof aux['ID'] === 'string') {
      this.imageId = aux['ID'];
      return;
    }
    if (aux && typeof aux['ID'] === 'string') {
      this.imageId = aux['ID'];
      return;
    }
    const errorDetail = item['errorDetail'] as { message?: string } | undefined;
    if (typeof item['error'] === 'string' || errorDetail) {
      this.error = errorDetail?.message ?? String(item['error']);
      if (this.classicStep) {
        this.failedStep = this.classicStep.id;
        this.finishClassicStep('error');
      }
      return;
    }
    if (typeof item['stream'] === 'string') {
      this.chunk(CLASSIC, item['stream'], (l) => this.classicLine(l));
      return;
    }
    if (typeof item['status'] === 'string') this.emit({ type: 'message', text: `${item['id'] ? `${String(item['id'])}: ` : ''}${item['status']}` });
  }

  private classicLine(raw: string): void {
    const line = raw.trimEnd();
    if (!line) return;
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
    if (step) {
      this.finishClassicStep('done');
      const id = `step-${step[1]}`;
      this.names.set(id, `[${step[1]}/${step[2]}] ${step[3]}`);
      this.classicStep = { id, name: this.names.get(id)!, started: Date.now(), cached: false };
      this.emit({ type: 'step', id, name: this.classicStep.name, state: 'running' });
      return;
    }
    // buildah (Podman): `[STAGE/STAGES] STEP N/M: INSTRUCTION` (no stage prefix with one stage),
    // numbered per stage; `--> Using cache ID` for a cached step; `[STAGE/STAGES] COMMIT` ends a stage.
    const bstep = /^(?:\[(\d+)\/(\d+)\] )?STEP (\d+)\/(\d+): (.*)$/.exec(line);
    if (bstep) {
      this.finishClassicStep('done');
      const id = `stage-${bstep[1] ?? '1'}-step-${bstep[3]}`;
      this.names.set(id, `[${bstep[1] ? `stage${bstep[1]} ` : ''}${bstep[3]}/${bstep[4]}] ${bstep[5]}`);
      this.classicStep = { id, name: this.names.get(id)!, started: Date.now(), cached: false };
      this.emit({ type: 'step', id, name: this.classicStep.name, state: 'running' });
      return;
    }
    if (/^(?:\[\d+\/\d+\] )?COMMIT\b/.test(line)) {
      this.finishClassicStep('done');
      return;
    }
    if (/^--> Using cache [0-9a-f]{12,}$/.test(line) && this.classicStep) {
      this.classicStep.cached = true;
      return;
    }
    if (/^--> [0-9a-f]{6,}$/.test(line)) return;
    if (line.trim() === '---> Using cache' && this.classicStep) this.classicStep.cached = true;
    if (/^Successfully (built|tagged)/.test(line)) {
      this.finishClassicStep('done');
      return;
    }
    if (/^ ---> |^Removing intermediate container /.test(line)) return;
    this.log(this.classicStep?.id ?? 'build', line);
  }

  private handleTrace(b64: string): void {
    let trace;
    try {
      trace = decodeTrace(b64);
    } catch {
      return; // progress only: a message we cannot decode must not fail the build
    }
    for (const v of trace.vertexes) {
      if (v.name) this.names.set(v.digest, v.name);
      const name = this.names.get(v.digest) ?? v.digest;
      let state: 'running' | 'cached' | 'done' | 'error' | null = null;
      if (v.error) state = 'error';
      else if (v.cached) state = 'cached';
      else if (v.completedMs !== null) state = 'done';
      else if (v.startedMs !== null) state = 'running';
      if (!state || this.reported.get(v.digest) === state) continue;
      this.reported.set(v.digest, state);
      if (state === 'error') {
        this.failedStep ??= v.digest;
        this.error ??= v.error;
      }
      this.emit({
        type: 'step',
        id: v.digest,
        name,
        state,
        ...(v.startedMs !== null ? { startedMs: v.startedMs } : {}),
        ...(v.startedMs !== null && v.completedMs !== null ? { durationMs: v.completedMs - v.startedMs } : {}),
        ...(v.error ? { error: v.error } : {}),
      });
    }
    for (const l of trace.logs) {
      this.chunk(l.vertex, Buffer.from(l.data).toString('utf8'), (line) => {
        if (line.trim()) this.log(l.vertex, line.trimEnd());
      });
    }
  }

  failure(): OperationError {
    this.flush();
    const stepId = this.failedStep;
    const name = stepId ? (this.names.get(stepId) ?? stepId) : null;
    const tail = (stepId ? this.logs.get(stepId) : undefined) ?? this.messages;
    return new OperationError('build.failed', name ? `build step ${name} failed: ${this.error}` : `build failed: ${this.error}`, {
      tail: tail.slice(-TAIL_LINES),
    });
  }
}

function pushStallMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['DYNAMO_IMAGE_PUSH_STALL_S'] ?? 120);
  return (Number.isFinite(s) && s > 0 ? s : 120) * 1000;
}

class DockerodeEngine implements Engine {
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
        cdiDevices: ((info['DiscoveredDevices'] as { Source?: string; ID?: string }[] | null | undefined) ?? []).filter((d) => d.Source === 'cdi').map((d) => String(d.ID)),
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
      session = await openBuildSession(this.docker.modem as never, req.secrets, null);
      opts['version'] = 2;
      opts['session'] = session.id;
    }
    let stream: Readable;
    try {
      stream = (await this.docker.buildImage(req.context as never, opts as Dockerode.ImageBuildOptions)) as unknown as Readable;
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
      const alive = await (this.docker.ping({ abortSignal: AbortSignal.timeout(5000) } as never) as unknown as Promise<unknown>).then(() => true, () => false);
      if (!alive) throw new EnvironmentError('engine.gone', `the Docker engine at ${this.endpoint} went away during the build (${(e as Error).message}); nothing was tagged`, 'start the engine again and rerun the build', e);
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
    return withLabels(list.map((i) => imageSummaryFrom(i as unknown as RawImageSummary)), labels);
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
    const list = await this.docker.listContainers({ all: true, filters: JSON.stringify({ label: Object.entries(labels).map(([k, v]) => `${k}=${v}`) }) } as unknown as Dockerode.ContainerListOptions);
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
      out.push({ id: c.Id, state, exitCode: st.ExitCode, createdMs: c.Created * 1000, finishedMs: Number.isFinite(finished) && finished > 0 ? finished : null });
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

  async createContainer(spec: ContainerSpec): Promise<ContainerHandle> {
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
    const c = await this.docker.createContainer({
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
    const docker = this.docker;
    const execOnce = async (argv: string[], signal: AbortSignal, env?: string[]): Promise<ExecResult> => {
      let ex: Dockerode.Exec;
      let stream: Readable;
      try {
        ex = await c.exec({ Cmd: argv, AttachStdout: true, AttachStderr: true, ...(env?.length ? { Env: env } : {}) });
        stream = (await ex.start({ hijack: true, stdin: false, abortSignal: signal } as never)) as unknown as Readable;
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
        // Streamed (follow, up to now), so a huge log is read through the cap, never held whole.
        const stream = await (c.logs({ stdout: true, stderr: true, follow: true, until: Math.floor(Date.now() / 1000) + 1 }) as unknown as Promise<Readable>);
        return readCapped(docker, stream);
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
                type: t === 'file' || t === 'contiguous-file' ? 'file' : t === 'directory' ? 'directory' : t === 'symlink' ? 'symlink' : t === 'link' ? 'link' : 'other',
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
        try {
          await c.remove({ force: true, v: true });
        } catch (e) {
          if ((e as { statusCode?: number }).statusCode !== 404) throw e;
        }
      },
    };
  }

  async push(repository: string, tag: string, auth: Record<string, string> | null, signal: AbortSignal, progress?: PushProgress): Promise<{ digest: string }> {
    // A push that makes no progress (a registry that accepted the connection and went silent) is
    // abandoned after stallMs without any event from the engine.
    const stallMs = pushStallMs();
    const stall = new AbortController();
    let last = Date.now();
    const timer = setInterval(() => {
      if (Date.now() - last > stallMs) stall.abort();
    }, Math.min(1000, stallMs));
    const both = AbortSignal.any([signal, stall.signal]);
    try {
      return await this.pushOnce(repository, tag, auth, both, () => (last = Date.now()), progress);
    } catch (e) {
      if (stall.signal.aborted && !signal.aborted)
        throw new EnvironmentError('registry.unreachable', `the push of ${repository}:${tag} made no progress for ${Math.round(stallMs / 1000)} s (the registry stopped answering)`, 'DYNAMO_IMAGE_PUSH_STALL_S sets how long a push may stall');
      throw e;
    } finally {
      clearInterval(timer);
    }
  }

  private async pushOnce(repository: string, tag: string, auth: Record<string, string> | null, signal: AbortSignal, alive: () => void, progress?: PushProgress): Promise<{ digest: string }> {
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
