import { IMAGE_REF_RE, referencePathIsLowercase } from '../refs/image-ref.js';

// Each option that more than one command takes, and every option of `build`, declared once: its
// spelling, help, choices, default, value check, and whether an up-to-date `build` given it prints
// the same every time (`replay`: the no-change fast path may answer it from its record). Commands
// pick options by name (cli/flags.ts makes commander's from these); fast/no-change.ts reads its
// lists from here. Node's built-ins only, as the fast path loads it first.

export interface FlagSpec {
  /** As commander spells it: `-t, --tag <ref>`; `<...>` takes a value. */
  flags: string;
  help: string;
  choices?: readonly string[];
  default?: string | number;
  /** Repeatable: the values are collected into a list (default []). */
  repeatable?: true;
  /** The value check: the parsed value, or an Error whose message says what is valid. */
  parse?: (value: string) => unknown;
  /** An up-to-date build given this flag prints the same every time (the fast path may replay it). */
  replay: boolean;
}

export function positiveInteger(v: string): number {
  const n = Number(v);
  if (!Number.isInteger(n) || n < 1) throw new Error('must be a positive whole number');
  return n;
}

export function imageReference(v: string): string {
  if (!IMAGE_REF_RE.test(v) || !referencePathIsLowercase(v)) throw new Error('is not a valid image reference (e.g. python:3.11-slim-bookworm)');
  return v;
}

export const FLAGS = {
  // What to build
  target: { flags: '--target <target>', help: 'stage to build', choices: ['runtime', 'dev'], default: 'runtime', replay: true },
  variant: { flags: '--variant <axes>', help: "one variant of the recipe's matrix, e.g. cuda=12.9,platform=linux/arm64", replay: true },
  baseImage: {
    flags: '--base-image <ref>',
    help: "base image instead of the recipe's base.image (e.g. a mirror, or what a CI runner can pull)",
    parse: imageReference,
    replay: true,
  },
  platform: { flags: '--platform <platform>', help: "one of the recipe's platforms, e.g. linux/amd64", replay: true },
  buildArg: { flags: '--build-arg <NAME=VALUE>', help: 'build argument (repeatable)', repeatable: true, replay: true },
  allowUnsupported: {
    flags: '--allow-unsupported',
    help: 'build combinations the support matrix does not list (recorded in the plan as a warning)',
    replay: true,
  },
  locked: { flags: '--locked', help: 'use the digests in recipe.lock.yaml for every image named by tag (refuse names it lacks)', replay: true },
  // How to build
  noCache: { flags: '--no-cache', help: "do not use the engine's layer cache (implies a rebuild)", replay: false },
  force: { flags: '--force', help: 'rebuild even when an image of this plan exists', replay: false },
  tag: { flags: '-t, --tag <ref>', help: 'extra tag (repeatable)', repeatable: true, replay: true },
  cacheFrom: { flags: '--cache-from <ref>', help: 'image to use as a cache source (repeatable)', repeatable: true, replay: false },
  secret: {
    flags: '--secret <spec>',
    help: 'build secret for steps that read it: id=NAME,src=FILE or id=NAME,env=VARIABLE (repeatable; BuildKit)',
    repeatable: true,
    replay: false,
  },
  builder: { flags: '--builder <builder>', help: 'builder to use', choices: ['auto', 'buildkit', 'classic'], default: 'auto', replay: true },
  network: {
    flags: '--network <mode>',
    help: 'network of RUN steps (default: none when the plan downloads nothing)',
    choices: ['none', 'default', 'host'],
    replay: true,
  },
  // Smoke tests
  noTest: { flags: '--no-test', help: "do not run the recipe's smoke tests before tagging", replay: true },
  gpu: {
    flags: '--gpu <mode>',
    help: 'GPU tests: auto (run where GPUs can be requested), require, off',
    choices: ['auto', 'require', 'off'],
    default: 'auto',
    replay: true,
  },
  gpuDevices: {
    flags: '--gpu-devices <ids>',
    help: 'GPU ids for GPU tests, comma-separated: 0,1 (or CDI names, nvidia.com/gpu=0) (default: all)',
    replay: true,
  },
  gpuRequest: {
    flags: '--gpu-request <way>',
    help: 'how GPU tests ask for GPUs: auto (NVIDIA runtime when registered, else CDI), nvidia (as --gpus), cdi (as --device nvidia.com/gpu=N)',
    choices: ['auto', 'nvidia', 'cdi'],
    default: 'auto',
    replay: true,
  },
  jobs: { flags: '-j, --jobs <n>', help: 'smoke tests in parallel', parse: positiveInteger, default: 2, replay: true },
  junit: { flags: '--junit <file>', help: "write the smoke tests' JUnit XML report", replay: false },
  // Output
  json: { flags: '--json', help: 'print one JSON object with the result on stdout', replay: true },
  quiet: { flags: '-q, --quiet', help: 'no progress output', replay: true },
  progress: {
    flags: '--progress <mode>',
    help: 'build progress: auto (a live view on a terminal, plain lines elsewhere or with TERM=dumb), tty, plain, json (one object per event)',
    choices: ['auto', 'tty', 'plain', 'json'],
    default: 'auto',
    replay: false,
  },
  // Publishing and matrices
  push: { flags: '--push', help: 'publish after building (as `dynamo-image publish`)', replay: false },
  registry: { flags: '--registry <host>', help: 'registry HOST[:PORT][/NAMESPACE] instead of publish.registry', replay: false },
  matrix: { flags: '--matrix', help: 'build every variant of every recipe given (files or folders); --jobs builds in parallel', replay: false },
  failFast: { flags: '--fail-fast', help: 'with --matrix: cancel the other builds at the first failure', replay: false },
} as const satisfies Record<string, FlagSpec>;

export type FlagName = keyof typeof FLAGS;

/** The spellings (`-t`, `--tag`) of the flags the fast path may replay, split by whether they take a value. */
export function replayableSpellings(): { bare: Set<string>; withValue: Set<string> } {
  const bare = new Set<string>();
  const withValue = new Set<string>();
  for (const spec of Object.values(FLAGS) as FlagSpec[]) {
    if (!spec.replay) continue;
    const names = spec.flags.split(/[ ,]+/).filter((w) => w.startsWith('-'));
    for (const n of names) (spec.flags.includes('<') ? withValue : bare).add(n);
  }
  return { bare, withValue };
}
