import { buildKeyOf } from '../plan/build-plan.js';
import type { Engine } from '../engine/port.js';
import { OperationError, UsageError } from '../errors.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { findCredentials, type Credentials } from '../publish/credentials.js';
import { buildIndex, checkIndexTags, platformTarget, putIndex, type IndexManifest } from '../publish/manifest-list.js';
import { applyPublish, extraTagTargets, planPublish, PublishFailure, publishImage, publishTarget, refusal, type PublishStep, type PublishTarget, type PushedTag } from '../publish/publish.js';
import { RegistryClient, retryPolicy } from '../publish/registry-client.js';
import { recordSkippedTests } from '../smoke/records.js';
import { testsDigest, type BuildAndTestOptions, type SmokeSummary } from './build-and-test.js';
import type { BuildOutcome } from '../builder/run-build.js';
import { buildPlatforms, platformBuilds, type PlatformBuild } from './platforms.js';

// plan -> a release in a registry, in two steps as changesets does it: `planRelease` asks the
// registry (read-only) and decides everything; `applyRelease` builds what is missing, tests it and
// pushes. Three kinds: one image (`single`), one image per platform and a manifest list per tag
// (`platforms`), and the manifest lists of platforms other jobs pushed (`merge`). The plan is data
// (versioned; `publish --dry-run --json` prints it), and `build --matrix --push` pushes each
// variant through the same `pushBuilt`.

export const RELEASE_PLAN_VERSION = 1;

export interface ReleaseRequest {
  /** `--registry HOST[:PORT][/NAMESPACE]` instead of publish.registry. */
  registry?: string | undefined;
  gitSha?: string | null;
  /** A plan of several platforms: this one only (its image under TAG-ARCH; `merge` later). */
  platform?: string | undefined;
  merge?: boolean;
  /** `-t REF`: pushed too, each naming its registry. */
  extraTags?: string[];
  buildArgs: Record<string, string>;
  /** Move existing immutable tags. */
  force: boolean;
  skipTests: boolean;
  env?: NodeJS.ProcessEnv;
  note: (text: string) => void;
}

/** What one publish tag's manifest list will do. */
export interface ListStep {
  tag: string;
  reference: string;
  current: string | null;
  action: 'unchanged' | 'put';
}

interface ReleaseBase {
  version: typeof RELEASE_PLAN_VERSION;
  registry: string;
  repository: string;
  /** Where the credentials came from (never the secret). */
  credentials: string;
  /** `--force`: existing immutable tags are moved. */
  force: boolean;
}

export interface SingleRelease extends ReleaseBase {
  kind: 'single';
  platform: string | null;
  /** The local tags its build gets (null: the plan's). */
  localTags: string[] | null;
  buildKey: string;
  steps: PublishStep[];
  /** `-t` targets, pushed after the publish tags unless they hold this build. */
  extras: PublishTarget[];
  /** An image has to be built (or found up to date) and pushed. */
  build: boolean;
  tests: { run: boolean; count: number };
}

export interface PlatformsRelease extends ReleaseBase {
  kind: 'platforms';
  platforms: { platform: string; buildKey: string; reference: string; localTags: string[]; steps: PublishStep[]; upToDate: boolean }[];
  lists: ListStep[];
  tests: { run: boolean; count: number };
}

export interface MergeRelease extends ReleaseBase {
  kind: 'merge';
  platforms: { platform: string; reference: string; digest: string }[];
  manifestList: string;
  lists: ListStep[];
}

export type ReleasePlan = SingleRelease | PlatformsRelease | MergeRelease;

/** A plan and what applying it needs (the registry client, the credentials, a known index). */
export interface PreparedRelease {
  plan: ReleasePlan;
  target: PublishTarget;
  creds: Credentials;
  client: RegistryClient;
  index: IndexManifest | null;
}

function listSteps(target: PublishTarget, current: Map<string, string | null>, expected: string | null): ListStep[] {
  return target.tags.map((t) => ({ tag: t.tag, reference: t.reference, current: current.get(t.tag) ?? null, action: expected !== null && current.get(t.tag) === expected ? 'unchanged' : 'put' }));
}

function listRefusal(refused: string[], hint: string): OperationError {
  return new OperationError('publish.tag-exists', `refusing to move existing tags to another manifest list: ${refused.join('; ')}`, { hint });
}

/**
 * Reads the registry and decides the release. Usage problems (no registry, `-t` with several
 * platforms, `--merge` with one) and refused manifest lists throw here, before anything changes;
 * refused tags of a single image are steps (`refused`), for the dry run to show.
 */
export async function planRelease(planned: Pick<PlannedRecipe, 'plan'>, req: ReleaseRequest): Promise<PreparedRelease> {
  const { plan } = planned;
  const multi = plan.platforms.length > 1;
  if (req.merge && !multi) throw new UsageError('--merge assembles manifest lists of a recipe for several platforms; this one has one', 'leave --merge out');
  const extras = req.extraTags?.length ? extraTagTargets(req.extraTags) : [];
  if (extras.length && multi) throw new UsageError('-t names one image; a recipe for several platforms publishes one per platform and a manifest list', 'leave -t out, or publish one platform with --platform');
  const target = publishTarget(plan, { registry: req.registry, gitSha: req.gitSha ?? null });
  const creds = await findCredentials(target.registry, req.env ?? process.env, { publish: true });
  const client = new RegistryClient(target.registry, creds, retryPolicy(), req.note);
  await client.ping();
  const base = { version: RELEASE_PLAN_VERSION, registry: target.registry, repository: target.repository, credentials: creds.source, force: req.force } as const;
  const tests = { run: !req.skipTests, count: plan.smoke.tests.length };
  const keyOf = (platform: string | null) => buildKeyOf(plan.digest, { target: 'runtime', buildArgs: req.buildArgs, ...(platform ? { platform } : {}) });

  if (multi && req.merge) {
    const found: MergeRelease['platforms'] = [];
    const missing: string[] = [];
    for (const platform of plan.platforms) {
      const pt = platformTarget(target, platform);
      const m = await client.manifestDigest(target.repository, pt.tags[0]!.tag);
      if (m) found.push({ platform, reference: pt.tags[0]!.reference, digest: m.digest });
      else missing.push(`${pt.tags[0]!.reference} (${platform})`);
    }
    if (missing.length) throw new OperationError('publish.platforms-missing', `cannot assemble the manifest lists: not pushed yet: ${missing.join(', ')}`, { hint: 'run publish --platform P for each of them first' });
    const index = await buildIndex(client, target.repository, found);
    const check = await checkIndexTags(client, target, index.digest, req.force);
    if (check.refused.length) throw listRefusal(check.refused, 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway');
    return { plan: { ...base, kind: 'merge', platforms: found, manifestList: index.digest, lists: listSteps(target, check.current, index.digest) }, target, creds, client, index };
  }

  if (multi && !req.platform) {
    const builds = platformBuilds(plan, { for: 'publish' });
    const platforms = [];
    for (const b of builds) {
      const pt = platformTarget(target, b.platform!);
      const buildKey = keyOf(b.platform);
      const before = await planPublish(client, pt, { buildKey, force: req.force });
      const r = refusal(before);
      if (r) throw r;
      platforms.push({ platform: b.platform!, buildKey, reference: pt.tags[0]!.reference, localTags: b.tags!, steps: before.steps, upToDate: before.upToDate });
    }
    // Every platform already there: the lists they make are known before anything is built.
    const known = platforms.every((p) => p.upToDate) ? await buildIndex(client, target.repository, platforms.map((p) => ({ platform: p.platform, digest: p.steps[0]!.current! }))) : null;
    const early = await checkIndexTags(client, target, known?.digest ?? null, req.force);
    if (early.refused.length) throw listRefusal(early.refused, 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway. Nothing was built or pushed.');
    return { plan: { ...base, kind: 'platforms', platforms, lists: listSteps(target, early.current, known?.digest ?? null), tests }, target, creds, client, index: known };
  }

  // One image: the recipe's only platform, or the one picked for this job (under TAG-ARCH).
  const [b] = platformBuilds(plan, { platform: req.platform, for: 'publish' });
  const own = multi && req.platform ? platformTarget(target, req.platform) : target;
  const buildKey = keyOf(b!.platform);
  const before = await planPublish(client, own, { buildKey, force: req.force });
  const build = before.steps.some((s) => s.action === 'push') || extras.length > 0;
  const plan1: SingleRelease = { ...base, kind: 'single', platform: b!.platform, localTags: b!.tags, buildKey, steps: before.steps, extras, build, tests };
  return { plan: plan1, target: own, creds, client, index: null };
}

/** The refusal a single release's steps hold (null: none). */
export function releaseRefusal(plan: ReleasePlan): OperationError | null {
  return plan.kind === 'single' ? refusal({ registry: plan.registry, repository: plan.repository, buildKey: plan.buildKey, steps: plan.steps, upToDate: false }) : null;
}

export interface ApplyReleaseOptions {
  planned: Pick<PlannedRecipe, 'plan' | 'recipeDir'>;
  /** The engine, connected only when something has to be built. */
  connect: () => Promise<Engine>;
  /** The build-and-test options of one platform's build (progress, events, flags). */
  buildOptions: (b: PlatformBuild) => BuildAndTestOptions;
  signal: AbortSignal;
  note: (text: string) => void;
  env?: NodeJS.ProcessEnv;
}

export type ReleaseResult =
  | { kind: 'single'; build: BuildOutcome | null; smoke: SmokeSummary; testsSkipped: boolean; credentials: string; pushed: PushedTag[]; buildKey: string; registryUpToDate: boolean }
  | { kind: 'platforms'; manifestList: string; platforms: { platform: string; image: string | null; digest: string; action: 'pushed' | 'unchanged'; smoke: SmokeSummary | null }[]; lists: PushedTag[]; testsSkipped: boolean; credentials: string; registryUpToDate: boolean }
  | { kind: 'merge'; manifestList: string; platforms: { platform: string; digest: string }[]; lists: PushedTag[] };

/** Pushes a built image to its targets in turn (the publish tags, then each `-t` registry). */
export async function pushBuilt(engine: Engine, args: { imageId: string; buildKey: string; targets: PublishTarget[]; force: boolean; signal: AbortSignal; note: (t: string) => void; creds?: Credentials; env?: NodeJS.ProcessEnv }): Promise<PushedTag[]> {
  const out: PushedTag[] = [];
  for (const [i, target] of args.targets.entries()) {
    const creds = i === 0 && args.creds ? args.creds : await findCredentials(target.registry, args.env ?? process.env, { publish: true });
    out.push(...(await publishImage({ engine, imageId: args.imageId, target, creds, buildKey: args.buildKey, force: args.force, policy: retryPolicy(), signal: args.signal, note: args.note })));
  }
  return out;
}

/** The targets a variant of `build --matrix --push` goes to: its publish tags, then its `-t`. */
export function releaseTargets(plan: PlannedRecipe['plan'], opts: { registry?: string | undefined; gitSha?: string | null; extraTags?: string[] }): PublishTarget[] {
  return [publishTarget(plan, { registry: opts.registry, gitSha: opts.gitSha ?? null }), ...(opts.extraTags?.length ? extraTagTargets(opts.extraTags) : [])];
}

async function skipRecord(image: string, planned: ApplyReleaseOptions['planned']): Promise<void> {
  await recordSkippedTests(image, testsDigest(planned.plan.smoke));
}

/** Applies a prepared release: builds and tests what the registry lacks, pushes, puts the lists. */
export async function applyRelease(prepared: PreparedRelease, opts: ApplyReleaseOptions): Promise<ReleaseResult> {
  const { plan, target, creds, client } = prepared;
  if (plan.kind === 'merge') {
    const check = await checkIndexTags(client, target, prepared.index!.digest, plan.force);
    const lists = await putIndex(client, target, prepared.index!, check.current);
    return { kind: 'merge', manifestList: plan.manifestList, platforms: plan.platforms.map(({ platform, digest }) => ({ platform, digest })), lists };
  }
  if (plan.kind === 'single') {
    const refused = releaseRefusal(plan);
    if (refused) throw refused;
    const publishPlan = { registry: plan.registry, repository: plan.repository, buildKey: plan.buildKey, steps: plan.steps, upToDate: plan.steps.every((s) => s.action === 'unchanged') };
    if (!plan.build) {
      // Nothing to upload: every tag holds this build already, or gets its manifest copied.
      const pushed = await applyPublish(publishPlan, { target, creds, client, policy: retryPolicy(), signal: opts.signal, note: opts.note });
      return { kind: 'single', build: null, smoke: { ran: false, reason: 'not built: the registry holds this build' }, testsSkipped: !plan.tests.run, credentials: creds.source, pushed, buildKey: plan.buildKey, registryUpToDate: true };
    }
    const engine = await opts.connect();
    const [r] = await buildPlatforms(engine, opts.planned, [{ platform: plan.platform, tags: plan.localTags }], opts.buildOptions);
    if (!plan.tests.run) await skipRecord(r!.build.image, opts.planned);
    opts.note(`publishing ${r!.build.image.slice(0, 19)} to ${plan.registry}/${plan.repository} (credentials: ${creds.source})`);
    try {
      const pushed = await pushBuilt(engine, { imageId: r!.build.image, buildKey: plan.buildKey, targets: [target, ...plan.extras], force: plan.force, creds, signal: opts.signal, note: opts.note, ...(opts.env ? { env: opts.env } : {}) });
      return { kind: 'single', build: r!.build, smoke: r!.smoke, testsSkipped: !plan.tests.run, credentials: creds.source, pushed, buildKey: plan.buildKey, registryUpToDate: false };
    } catch (e) {
      if (e instanceof PublishFailure) e.image = r!.build.image;
      throw e;
    }
  }
  const results: Extract<ReleaseResult, { kind: 'platforms' }>['platforms'] = [];
  let engine: Engine | null = null;
  for (const p of plan.platforms) {
    if (p.upToDate) {
      results.push({ platform: p.platform, image: null, digest: p.steps[0]!.current!, action: 'unchanged', smoke: null });
      continue;
    }
    engine ??= await opts.connect();
    opts.note(`building ${p.platform}`);
    const [r] = await buildPlatforms(engine, opts.planned, [{ platform: p.platform, tags: p.localTags }], opts.buildOptions);
    if (!plan.tests.run) await skipRecord(r!.build.image, opts.planned);
    const pt = platformTarget(target, p.platform);
    const pushed = await publishImage({ engine, imageId: r!.build.image, target: pt, creds, buildKey: p.buildKey, force: plan.force, policy: retryPolicy(), signal: opts.signal, note: opts.note });
    results.push({ platform: p.platform, image: r!.build.image, digest: pushed[0]!.digest, action: pushed[0]!.action, smoke: r!.smoke });
  }
  const index = await buildIndex(client, target.repository, results.map((r) => ({ platform: r.platform, digest: r.digest })));
  const check = await checkIndexTags(client, target, index.digest, plan.force);
  if (check.refused.length) throw listRefusal(check.refused, 'the platform images were pushed under their own tags; the publish tags were not moved');
  const lists = await putIndex(client, target, index, check.current);
  return { kind: 'platforms', manifestList: index.digest, platforms: results, lists, testsSkipped: !plan.tests.run, credentials: creds.source, registryUpToDate: results.every((r) => r.action === 'unchanged') && lists.every((t) => t.action === 'unchanged') };
}
