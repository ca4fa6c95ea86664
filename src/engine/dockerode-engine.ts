import type Dockerode from 'dockerode';
import { EnvironmentError, OperationError } from '../errors.js';
import { compareApi, DockerodeEngine, MAX_TESTED_API } from './dockerode-client.js';
import { imageDetailsFrom, imageSummaryFrom, labelFilter, withLabels, type RawImage, type RawImageSummary } from './dockerode-images.js';
import type { BuildRequest, ContainerHandle, ContainerSpec, ContainerSummary, Engine, EngineInfo, ImageDetails, ImageSummary, PushProgress } from './port.js';
import { localSocket, socketRequest } from './socket-http.js';
import { checkDockerHost, describeEndpoint, engineUnreachable } from './translate.js';

// The engine adapter's entry: connectDocker. A local engine answers image lookups and tags over
// Node's http (LocalEngine); dockerode (dockerode-client.ts, the files dockerode-*.ts are the only
// ones that import it) loads on the first call that needs it.

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
    throw new EnvironmentError(
      'engine.config',
      `cannot use DOCKER_HOST=${process.env['DOCKER_HOST']}: ${(e as Error).message}`,
      'use unix:///path, tcp://host:port or ssh://user@host',
    );
  }
  let version: Dockerode.DockerVersion;
  try {
    // The typings lack the options overload; the call accepts { abortSignal }.
    version = await (probe.version as unknown as (o: { abortSignal: AbortSignal }) => Promise<Dockerode.DockerVersion>).call(probe, {
      abortSignal: AbortSignal.timeout(10_000),
    });
  } catch (e) {
    throw engineUnreachable(endpoint, e);
  }
  const server = version.ApiVersion;
  const api = compareApi(server, MAX_TESTED_API) < 0 ? server : MAX_TESTED_API;
  const docker = new Docker({ version: `v${api}` });
  return new DockerodeEngine(docker, endpoint, version, api);
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
    this.full ??= import('dockerode').then(
      ({ default: Docker }) => new DockerodeEngine(new Docker({ socketPath: this.sock, version: `v${this.api}` }), this.endpoint, this.version, this.api),
    );
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
    if (a.status !== 201 && a.status !== 200)
      throw new OperationError('engine.error', `tagging ${id} as ${repository}:${tag}: HTTP ${a.status}: ${a.body.slice(0, 300)}`);
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
