// What build, build --matrix and publish share on the command line: the flags, their parsing, the
// progress view, and the pipeline's build-and-test with the CLI's reports.
import type { BuildOutcome } from '../builder/run-build.js';
import { jsonProgress, plainProgress, quietProgress, ttyProgress, type ProgressSink } from '../builder/progress.js';
import type { Target } from '../dockerfile/from-plan.js';
import { readFileSync } from 'node:fs';
import { InputError, UsageError, type Issue } from '../errors.js';
import { smokeEvents, smokeRunOptions } from './smoke-output.js';
import type { BuildAndTestOptions, TestEvents } from '../pipeline/build-and-test.js';
import { referenceProblem } from '../refs/reference.js';
import { parseSecretSpec } from '../domain/secrets.js';
import { holdSecret, type Output } from './output.js';
import { cleanText, netrcPasswords } from './output-guard.js';

export interface BuildCliOptions {
  target: Target;
  noCache?: boolean;
  force?: boolean;
  buildArg: string[];
  tag: string[];
  platform?: string;
  cacheFrom: string[];
  builder: 'auto' | 'buildkit' | 'classic';
  network?: 'none' | 'default' | 'host';
  json?: boolean;
  quiet?: boolean;
  allowUnsupported?: boolean;
  test: boolean;
  gpu: 'auto' | 'require' | 'off';
  gpuDevices?: string;
  gpuRequest?: 'auto' | 'nvidia' | 'cdi';
  jobs: number;
  junit?: string;
  locked?: boolean;
  /** `build --variant cuda=12.9,platform=linux/arm64`: one variant of the recipe's matrix. */
  variant?: string;
  /** `build --matrix`: every variant of every recipe given. */
  matrix?: boolean;
  failFast?: boolean;
  /** `build --push`: publish after the build. */
  push?: boolean;
  registry?: string;
  /** `--base-image REF` instead of the recipe's base.image. */
  baseImage?: string;
  /** `--secret id=NAME,src=FILE` / `id=NAME,env=VAR` (repeatable). */
  secret?: string[];
  /** Local tags instead of the plan's (one platform of a multi-platform recipe). */
  tags?: string[];
  /** `--progress auto|tty|plain|json`. */
  progress?: ProgressMode;
  /** The command line as given (for the no-change fast path's record). */
  invocation?: string[];
  /** Shown instead of --no-test when tests are skipped for another reason (publish --skip-tests). */
  skipTestsReason?: string;
}

export interface PublishCliOptions extends BuildCliOptions {
  registry?: string;
  skipTests?: boolean;
  dryRun?: boolean;
  /** publish --force: move existing immutable tags. */
  forceTags?: boolean;
  /** publish --merge: put the manifest lists together from the platforms' pushed images. */
  merge?: boolean;
  /** publish --sign-key FILE: sign the pushed images, attach SBOM, provenance and test outcome. */
  signKey?: string;
}

/** What commander hands `build` (its --no-cache arrives as cache: false). */
export type BuildFlags = Omit<BuildCliOptions, 'noCache' | 'invocation' | 'tags' | 'skipTestsReason'> & { cache?: boolean };

/** What commander hands `publish`: no target, build args, tags or --no-test; its --force moves tags. */
export type PublishFlags = Omit<
  PublishCliOptions,
  'target' | 'buildArg' | 'tag' | 'test' | 'forceTags' | 'noCache' | 'invocation' | 'tags' | 'skipTestsReason'
>;

export function parseBuildArgs(list: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const a of list) {
    const eq = a.indexOf('=');
    const name = eq < 0 ? a : a.slice(0, eq);
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
      issues.push({ code: 'usage.build-arg', severity: 'error', path: ['--build-arg'], message: `"${a}" is not NAME=VALUE` });
    else out[name] = eq < 0 ? (process.env[name] ?? '') : a.slice(eq + 1);
  }
  if (issues.length) throw new InputError(issues, 'bad --build-arg');
  return out;
}

export function checkTags(tags: string[]): void {
  const issues = tags.flatMap((t) => {
    const p = t.includes('@') ? `"${t}" names a digest; a tag cannot` : referenceProblem(t);
    return p
      ? [{ code: 'usage.tag' as const, severity: 'error' as const, path: ['--tag'], message: p, hint: 'e.g. registry.example.com/team/image:1.0.0' }]
      : [];
  });
  if (issues.length) throw new InputError(issues, 'bad --tag');
}

export type ProgressMode = 'auto' | 'tty' | 'plain' | 'json';

/** Which view `--progress auto` means here: a live view only on a real terminal that can draw one. */
export function progressMode(
  mode: ProgressMode | undefined,
  env: NodeJS.ProcessEnv = process.env,
  isTTY = Boolean(process.stderr.isTTY),
): Exclude<ProgressMode, 'auto'> {
  if (mode && mode !== 'auto') return mode;
  if (!isTTY || env['CI'] || env['TERM'] === 'dumb' || env['GITHUB_ACTIONS'] === 'true') return 'plain';
  return 'tty';
}

export function makeProgress(o: Output, opts: { quiet?: boolean; json?: boolean; progress?: ProgressMode }): ProgressSink {
  if (opts.quiet) return quietProgress;
  const mode = progressMode(opts.progress);
  if (mode === 'tty') return ttyProgress(process.stderr, { clean: cleanText });
  if (mode === 'json') return jsonProgress((l) => o.err(l));
  return plainProgress((l) => o.err(l), { github: process.env['GITHUB_ACTIONS'] === 'true', ...(o.command ? { command: (l: string) => o.command!(l) } : {}) });
}

export function summarize(r: BuildOutcome): string {
  if (r.upToDate) return `${r.tags.join(', ')}: up to date (${r.image.slice(0, 19)}, ${(r.sizeBytes / 1e6).toFixed(1)} MB)`;
  return `built ${r.image.slice(0, 19)} in ${(r.durationMs / 1000).toFixed(1)}s with ${r.builder} (${r.cachedSteps}/${r.totalSteps} steps cached, ${(r.sizeBytes / 1e6).toFixed(1)} MB); tagged ${r.tags.join(', ')}`;
}

/**
 * The CLI's build-and-test options: the flags, the progress view, the smoke reports (JUnit files
 * written as reports arrive; `settle` waits for them). Shared by `build`, `build --matrix` and
 * `publish`, whose pipelines call `optionsFor` for each image they build.
 */
export function cliBuildSession(
  o: Output,
  signal: AbortSignal,
  capture?: { notes: string[] },
): { optionsFor: (opts: BuildCliOptions) => BuildAndTestOptions; settle: () => Promise<void> } {
  const written: Promise<void>[] = [];
  return {
    optionsFor: (opts) => {
      const shown = makeProgress(o, opts);
      // The notes an up-to-date build printed are what the no-change fast path replays.
      const progress: ProgressSink = capture ? { ...shown, note: (t) => (capture.notes.push(t), shown.note(t)) } : shown;
      const events = smokeEvents({ quiet: opts.quiet || opts.json, json: false, ...(opts.junit ? { junit: opts.junit } : {}) }, o, written);
      return buildAndTestOptions(opts, { progress, events: { ...events, note: (t) => progress.note(t) }, signal });
    },
    settle: async () => void (await Promise.all(written)),
  };
}

/** The build flags as the pipeline takes them. */
export function buildAndTestOptions(opts: BuildCliOptions, with_: { progress: ProgressSink; events?: TestEvents; signal: AbortSignal }): BuildAndTestOptions {
  checkTags(opts.tag);
  return {
    target: opts.target,
    noCache: opts.noCache ?? false,
    force: opts.force ?? false,
    buildArgs: parseBuildArgs(opts.buildArg),
    extraTags: opts.tag,
    ...(opts.tags ? { tags: opts.tags } : {}),
    ...(opts.secret?.length ? { secrets: parseSecrets(opts.secret) } : {}),
    ...(opts.platform ? { platform: opts.platform } : {}),
    cacheFrom: opts.cacheFrom,
    builder: opts.builder,
    ...(opts.network ? { network: opts.network } : {}),
    signal: with_.signal,
    progress: with_.progress,
    test: opts.test,
    ...(opts.skipTestsReason ? { skipTestsReason: opts.skipTestsReason } : {}),
    smoke: smokeRunOptions(opts),
    ...(with_.events ? { events: with_.events } : {}),
  };
}

/** `--secret id=NAME,src=FILE` or `id=NAME,env=VAR`, as buildx takes them: read now, kept in memory. */
export function parseSecrets(list: string[]): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const text of list) {
    const parsed = parseSecretSpec(text);
    if (!parsed.ok) throw new UsageError(parsed.problem, parsed.hint);
    const { spec } = parsed;
    if ('src' in spec) {
      let value: Buffer;
      try {
        value = readFileSync(spec.src);
      } catch {
        throw new UsageError(`--secret id=${spec.id}: cannot read the file given as src`);
      }
      out.set(spec.id, value);
    } else {
      const v = process.env[spec.env];
      if (v === undefined) throw new UsageError(`--secret id=${spec.id}: the environment variable ${spec.env} is not set`);
      out.set(spec.id, Buffer.from(v));
    }
  }
  // Held, so never printed: each value, and the passwords of a netrc secret on their own.
  for (const v of out.values()) {
    const text = v.toString('utf8');
    holdSecret(text);
    for (const p of netrcPasswords(text)) holdSecret(p);
  }
  return out;
}
