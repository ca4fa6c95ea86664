import type { Readable } from 'node:stream';

// The container engine as dynamo-image needs it, in our own types. One real adapter
// (dockerode-engine.ts, the only module that imports dockerode); tests of logic may use a fake.

export interface EngineInfo {
  /** How we reached it, e.g. unix:///var/run/docker.sock. */
  endpoint: string;
  serverVersion: string;
  /**
   * Whose engine answers: Docker's, or Podman's Docker-compatible service (`podman system service`),
   * which builds with buildah (no BuildKit session), labels every stage's image with the build's
   * labels and drops GPU device requests.
   */
  kind: 'docker' | 'podman';
  /** The API version we talk (the lower of the server's and the highest we tested). */
  apiVersion: string;
  os: string;
  arch: string;
  buildkit: boolean;
  /**
   * BuildKit's Dockerfile frontend in this engine takes `RUN --network` (stable since frontend 1.3;
   * Docker 23.0, API 1.42, ships 1.4 or later; Docker 20.10's built-in frontend refuses the flag).
   */
  runNetwork: boolean;
  /**
   * GPU plumbing the engine offers: registered runtimes, the CDI devices it reports
   * (`DiscoveredDevices`, newer engines) and the folders it reads CDI specs from (`CDISpecDirs`).
   */
  gpu: { runtimes: string[]; nvidiaRuntime: boolean; cdiDevices: string[]; cdiSpecDirs: string[] };
  /** The engine runs on this machine (a unix socket): its CDI spec files can be read here. */
  local: boolean;
}

export type BuildEvent =
  | { type: 'step'; id: string; name: string; state: 'running' | 'cached' | 'done' | 'error'; startedMs?: number; durationMs?: number; error?: string }
  | { type: 'log'; id: string; line: string }
  | { type: 'message'; text: string };

export interface BuildRequest {
  context: Readable;
  dockerfile: string;
  target?: string;
  noCache?: boolean;
  buildArgs: Record<string, string>;
  labels: Record<string, string>;
  platform?: string;
  cacheFrom: string[];
  builder: 'buildkit' | 'classic';
  /** Network of RUN steps: `none` for builds that fetch nothing. */
  network: 'none' | 'default' | 'host';
  signal: AbortSignal;
  onEvent: (e: BuildEvent) => void;
  /** Build secrets by id, served to `RUN --mount=type=secret` through a BuildKit session. */
  secrets?: Map<string, Buffer>;
  /** The images the Dockerfile starts from, to tell a missing base image from a failing step. */
  fromImages?: string[];
}

export interface ImageSummary {
  id: string;
  tags: string[];
  labels: Record<string, string>;
  sizeBytes: number;
  created: number;
  /** The image this one was committed on ('' when none: BuildKit, imported, pulled). */
  parentId: string;
}

export interface ImageDetails extends ImageSummary {
  user: string;
  workdir: string;
  env: string[];
  entrypoint: string[] | null;
  cmd: string[] | null;
  exposedPorts: string[];
  architecture: string;
  os: string;
  repoDigests: string[];
}

/**
 * How a container asks for GPUs. `nvidia`: what `docker run --gpus` sends (a registered NVIDIA
 * runtime or hook serves it). `cdi`: what `docker run --device nvidia.com/gpu=0` sends (the engine
 * applies the CDI spec itself; no NVIDIA toolkit needed at run time).
 */
export type GpuRequest = { via: 'nvidia'; devices: 'all' | string[] } | { via: 'cdi'; devices: string[] };

export interface ContainerSpec {
  image: string;
  entrypoint?: string[];
  cmd?: string[];
  env?: string[];
  user?: string;
  labels: Record<string, string>;
  memoryBytes?: number;
  nanoCpus?: number;
  pidsLimit?: number;
  /** GPUs for the container, by the way the engine can give them. */
  gpus?: GpuRequest;
  /**
   * Join this container's network namespace (and nothing else) instead of having none: a probe
   * that sends requests to a server which itself runs without a network.
   */
  networkOf?: string;
}

export interface ContainerRunResult {
  exitCode: number;
  oomKilled: boolean;
  stdout: string;
  stderr: string;
}

export interface ExecResult {
  exitCode: number;
  stdout: string;
  stderr: string;
}

export interface PathStat {
  exists: boolean;
  type: 'file' | 'directory' | 'symlink' | 'other' | null;
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** The first bytes of a regular file (up to the limit asked for). */
  content: Buffer | null;
}

/** A container; `remove()` is always called by whoever created it, in a `finally`. */
/** One entry of a container's filesystem: its path (no leading /), type, size and link target. */
export interface FsEntry {
  path: string;
  type: 'file' | 'directory' | 'symlink' | 'link' | 'other';
  size: number;
  linkname: string | null;
}

export interface ContainerHandle {
  id: string;
  start(): Promise<void>;
  wait(signal: AbortSignal): Promise<{ exitCode: number }>;
  logs(): Promise<{ stdout: string; stderr: string }>;
  /** deviceRequests: how many device requests (GPUs) the engine kept on the container. */
  inspect(): Promise<{ running: boolean; exitCode: number; oomKilled: boolean; deviceRequests: number }>;
  /** Runs argv in the started container; `env` (NAME=VALUE) adds to the container's environment. */
  exec(argv: string[], signal: AbortSignal, env?: string[]): Promise<ExecResult>;
  /** Reads a path from the container's filesystem (started or not), without any tool in the image. */
  stat(path: string, maxContentBytes: number): Promise<PathStat>;
  /**
   * Walks the container's whole filesystem (the engine's export; no tool in the image): `want`
   * says for each entry whether to look at it (null: skip) and how many of its first bytes to read;
   * `visit` gets each such entry with those bytes, one at a time (nothing is kept: a 30 GB image
   * with thousands of libraries streams through in bounded memory).
   */
  walkFiles(want: (e: FsEntry) => number | null, visit: (e: FsEntry, head: Buffer) => void, signal: AbortSignal): Promise<void>;
  remove(): Promise<void>;
}

/** A container as the engine lists it (with its last exit). */
export interface ContainerSummary {
  id: string;
  state: 'created' | 'running' | 'paused' | 'restarting' | 'removing' | 'exited' | 'dead';
  exitCode: number;
  createdMs: number;
  /** When it last stopped; null when it never ran. */
  finishedMs: number | null;
}

export interface PushProgress {
  onLine?: (line: string) => void;
}

export interface Engine {
  info(): Promise<EngineInfo>;
  /** Resolves with the image id; rejects with an OperationError carrying the failing step. */
  build(req: BuildRequest): Promise<{ imageId: string }>;
  findImages(labels: Record<string, string>): Promise<ImageSummary[]>;
  inspectImage(ref: string): Promise<ImageDetails | null>;
  /** The image's layers' history, newest first (as the engine reports it): what made each, its bytes. */
  imageHistory(ref: string): Promise<{ createdBy: string; size: number }[]>;
  tagImage(id: string, repository: string, tag: string): Promise<void>;
  removeImage(ref: string, opts?: { force?: boolean; noprune?: boolean }): Promise<void>;
  createContainer(spec: ContainerSpec): Promise<ContainerHandle>;
  /** Every container (running or not) with these labels. */
  listContainers(labels: Record<string, string>): Promise<ContainerSummary[]>;
  /** Removes a container (and its anonymous volumes); one that is already gone is not an error. */
  removeContainer(id: string): Promise<void>;
  push(repository: string, tag: string, auth: Record<string, string> | null, signal: AbortSignal, progress?: PushProgress): Promise<{ digest: string }>;
}
