// A small syntax tree for Dockerfiles. Every value from a recipe reaches the output through one of
// the escaping functions in render.ts, never by string pasting.

export type Instruction =
  | { kind: 'comment'; text: string }
  | { kind: 'blank' }
  | { kind: 'arg'; name: string; default?: string }
  | { kind: 'from'; image: string; as: string }
  | { kind: 'run'; shell: string[]; mounts?: Mount[]; network?: RunNetwork }
  /**
   * `sourceForm`: `glob` lets a source end in a `*` pattern (a path in another image); `arch` turns
   * `{arch}` in a source into the builder's `${TARGETARCH}` (a per-platform input). Otherwise every
   * source is a plain path.
   */
  | { kind: 'copy'; sources: string[]; dest: string; from?: string; chown?: string; sourceForm?: 'glob' | 'arch' }
  | { kind: 'env'; vars: EnvVar[] }
  /** RUN in exec form (JSON): for scripts from the recipe, shown under a comment naming the step. */
  | { kind: 'run-exec'; argv: string[]; comment: string; mounts?: Mount[]; network?: RunNetwork }
  | { kind: 'label'; labels: [string, string][] }
  | { kind: 'workdir'; path: string }
  | { kind: 'user'; user: string }
  | { kind: 'expose'; ports: number[] }
  | { kind: 'healthcheck'; command: string[]; interval: string; timeout: string; startPeriod: string; retries: number }
  | { kind: 'entrypoint'; argv: string[] }
  | { kind: 'cmd'; argv: string[] };

/**
 * `RUN --network` (BuildKit, Dockerfile frontend 1.3+): `none` keeps the step offline whatever the
 * build's network is; `default` gives it the build's network. Absent: the build's network.
 */
export type RunNetwork = 'none' | 'default';

/**
 * `RUN --mount` (BuildKit only): a cache folder that outlives the build (package downloads), or a
 * secret, readable for this one step and never in a layer.
 */
export type Mount = { type: 'cache'; id: string; target: string } | { type: 'secret'; id: string; target?: string };

/** `raw`: a tool-made value with `${NAME}` references; `refs`: a recipe's value, `${NAME}` expanded, the rest literal. */
export type EnvVar = { name: string; value: string; raw?: boolean; refs?: boolean };

export interface Stage {
  name: string;
  from: string;
  body: Instruction[];
}

export interface DockerfileAst {
  header: string[];
  globalArgs: { name: string; default?: string }[];
  stages: Stage[];
}
