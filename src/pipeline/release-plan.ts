import { buildKeyOf } from '../plan/build-plan.js';
import { OperationError, UsageError } from '../errors.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { findCredentials, type Credentials } from '../publish/credentials.js';
import { buildIndex, checkIndexTags, platformTarget, type IndexManifest } from '../publish/manifest-list.js';
import { extraTagTargets, planPublish, publishTarget, refusal, type PublishStep, type PublishTarget } from '../publish/publish.js';
import { RegistryClient, retryPolicy } from '../publish/registry-client.js';
import { platformBuilds } from './platforms.js';

// planRelease: the registry asked (read-only) and the release decided, as data (`ReleasePlan`,
// versioned; `publish --dry-run --json` prints it). pipeline/publish.ts applies it.

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
  return target.tags.map((t) => ({
    tag: t.tag,
    reference: t.reference,
    current: current.get(t.tag) ?? null,
    action: expected !== null && current.get(t.tag) === expected ? 'unchanged' : 'put',
  }));
}

export function listRefusal(refused: string[], hint: string): OperationError {
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
  if (extras.length && multi)
    throw new UsageError(
      '-t names one image; a recipe for several platforms publishes one per platform and a manifest list',
      'leave -t out, or publish one platform with --platform',
    );
  const target = publishTarget(plan, { registry: req.registry, gitSha: req.gitSha ?? null });
  const creds = await findCredentials(target.registry, req.env ?? process.env, { publish: true });
  const client = new RegistryClient(target.registry, creds, retryPolicy(), req.note);
  await client.ping();
  const base = {
    version: RELEASE_PLAN_VERSION,
    registry: target.registry,
    repository: target.repository,
    credentials: creds.source,
    force: req.force,
  } as const;
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
    if (missing.length)
      throw new OperationError('publish.platforms-missing', `cannot assemble the manifest lists: not pushed yet: ${missing.join(', ')}`, {
        hint: 'run publish --platform P for each of them first',
      });
    const index = await buildIndex(client, target.repository, found);
    const check = await checkIndexTags(client, target, index.digest, req.force);
    if (check.refused.length) throw listRefusal(check.refused, 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway');
    return {
      plan: { ...base, kind: 'merge', platforms: found, manifestList: index.digest, lists: listSteps(target, check.current, index.digest) },
      target,
      creds,
      client,
      index,
    };
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
    const known = platforms.every((p) => p.upToDate)
      ? await buildIndex(
          client,
          target.repository,
          platforms.map((p) => ({ platform: p.platform, digest: p.steps[0]!.current! })),
        )
      : null;
    const early = await checkIndexTags(client, target, known?.digest ?? null, req.force);
    if (early.refused.length)
      throw listRefusal(early.refused, 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway. Nothing was built or pushed.');
    return {
      plan: { ...base, kind: 'platforms', platforms, lists: listSteps(target, early.current, known?.digest ?? null), tests },
      target,
      creds,
      client,
      index: known,
    };
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
  return plan.kind === 'single'
    ? refusal({ registry: plan.registry, repository: plan.repository, buildKey: plan.buildKey, steps: plan.steps, upToDate: false })
    : null;
}
