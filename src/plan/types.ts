import type { Recipe, SmokeTest } from '../recipe/schema.js';
import type { MatrixRow } from '../support/schema.js';

// The resolved build plan: everything a build needs, nothing left to look up. Versioned: tools
// that read `plan --json` check planVersion. Changing a field's meaning bumps it.

export const PLAN_VERSION = 2;

export interface PlanInput {
  /** What the file is for. */
  role: 'engine-wheel' | 'engine-binary' | 'dependency-wheel' | 'dynamo-wheel' | 'requirements' | 'apt-key' | 'file';
  /** Path as written in the recipe, relative to the recipe's folder. */
  source: string;
  /** Path inside the build context. */
  contextPath: string;
  sha256: string;
  size: number;
  /** Octal mode the file gets in the image, when the recipe sets one. */
  mode?: string;
  /** UID:GID the file is owned by in the image (default root). */
  owner?: string;
  /** For files: where it lands in the image. */
  destination?: string;
  /** A per-platform engine binary: the platform it is for. */
  platform?: string;
  /** An apt key: the fingerprints of its primary OpenPGP keys (upper-case hex). */
  fingerprints?: string[];
  /** A file of a `files` folder entry: the folder (its path in the context) and where it lands. One COPY takes the folder. */
  folder?: { source: string; destination: string };
  /** A per-platform file (`files` with {arch}): the source in the context with {arch}; rendered once, as ${TARGETARCH}. */
  archSource?: string;
}

export interface PlanStage {
  name: 'framework' | 'runtime' | 'dev';
  from: string;
  purpose: string;
}

export interface Plan {
  planVersion: typeof PLAN_VERSION;
  tool: { name: 'dynamo-image'; version: string };
  recipe: { file: string; sha256: string; apiVersion: string };
  image: { name: string; version: string; description: string | null };
  platforms: string[];
  /** The matrix variant this plan builds, or null for the recipe as written. */
  variant: { id: string; axes: Partial<Record<'cuda' | 'platform' | 'python', string>> } | null;
  /** The venv's Python (MAJOR.MINOR); null when the recipe installs no Python package and sets none. */
  python: string | null;
  cuda: { version: string; minDriver: string | null } | null;
  base: { runtime: string; builder: string; source: 'table' | 'explicit' | 'engine-image'; os: string; pythonIncluded: boolean };
  engine: {
    framework: Recipe['engine']['framework'];
    requested: string;
    version: string;
    source:
      | { kind: 'wheel'; input: string }
      | { kind: 'index'; requirement: string; indexUrl: string; secret: string | null }
      | { kind: 'binary'; input: string; installPath: string }
      | { kind: 'image'; ref: string };
  };
  /**
   * The Dynamo distributions (`name[extras]==version` each), from an index (indexUrl, with a netrc
   * secret) or, when indexUrl is null, from the recipe's pinned wheels (inputs with role dynamo-wheel,
   * installed with the dependencies, hash-checked).
   */
  dynamo: {
    version: string;
    requirements: string[];
    indexUrl: string | null;
    secret: string | null;
    /** The release's NIXL for this framework and its UCX series (support matrix), where it says. */
    nixl: string | null;
    ucx: string | null;
  } | null;
  support: {
    status: 'supported' | 'experimental' | 'unsupported' | 'not-applicable';
    row: MatrixRow | null;
    warnings: string[];
  };
  inputs: PlanInput[];
  systemPackages: string[];
  /** apt-get -o options for every apt step the tool renders; absent when the recipe sets none. */
  aptOptions?: string[];
  /** Extra apt repositories for systemPackages, each signed by a pinned key (an input with role apt-key). */
  /** `fingerprints`: the key file's primary keys; `priority`: apt's pin priority for the repository's host. */
  aptRepositories: { name: string; uri: string; suite: string; components: string[]; key: string; fingerprints: string[]; priority: number }[];
  /** Paths copied from other images into the runtime image (image references resolved: "devel" is the toolkit's devel image). */
  imports: { image: string; paths: { source: string; destination: string }[] }[];
  steps: { name: string; run: string; stage: 'framework' | 'runtime'; network: boolean; secrets: string[]; caches: string[] }[];
  /** Python dependencies installed with the engine (name, version, sha256 from the pinned wheels). */
  dependencies: { name: string; version: string; input: string; sha256: string }[];
  /** A requirements file with hashes (dependencies.requirements): its packages, and the index they come from (null: offline). */
  requirements: { input: string; index: { url: string; secret: string | null } | null; packages: { name: string; version: string }[] } | null;
  stages: PlanStage[];
  runtime: {
    user: { name: string; uid: number; gid: number; replaceExisting: boolean };
    /** null: the base image's is kept (an upstream engine image). */
    workdir: string | null;
    /** null: the base image's is kept. */
    entrypoint: string[] | null;
    command: string[] | null;
    env: Record<string, string>;
    ports: number[];
    healthcheck: Recipe['backend']['healthcheck'] | null;
    /** Venv and workdir group-writable, umask 002 for login shells. */
    groupWritable: boolean;
    /** The runtime venv; null when the recipe installs no Python package (no Python needed in the base). */
    venv: string | null;
  };
  buildArgs: Record<string, string>;
  /**
   * SOURCE_DATE_EPOCH (seconds) the build clamps every timestamp to: file times in each RUN's
   * layer, the context's files, the image config's `created` (BuildKit). Absent when not set.
   */
  sourceDateEpoch?: number;
  labels: Record<string, string>;
  tags: string[];
  /** probeImage: sends serve tests' requests from the server's network namespace (an image without python3 or curl). */
  smoke: { timeout: string; limits: { memory: string; cpus: number; pids: number }; tests: SmokeTest[]; probeImage?: string };
  /** The recipe's publish section with the tags that apply to this variant (conditions resolved). */
  publish: { registry?: string; repository?: string; tags: string[]; mutableTags: string[] } | null;
  /**
   * `--locked` with images the lock pins by local image id (made on this machine, in no registry):
   * reference -> id. The build refuses another image under the tag. Absent when there are none.
   */
  lockedLocalImages?: Record<string, string>;
  /** sha256 over everything above (canonical JSON, recipe.file left out): the image's identity. */
  digest: string;
}
