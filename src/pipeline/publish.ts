import type { Engine } from '../engine/port.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { findCredentials, type Credentials } from '../publish/credentials.js';
import { buildIndex, checkIndexTags, platformTarget, putIndex } from '../publish/manifest-list.js';
import { applyPublish, extraTagTargets, PublishFailure, publishImage, publishTarget, type PublishTarget, type PushedTag } from '../publish/publish.js';
import { retryPolicy } from '../publish/registry-client.js';
import { recordSkippedTests } from '../smoke/records.js';
import { testsDigest, type BuildAndTestOptions, type SmokeSummary } from './build-and-test.js';
import type { BuildOutcome } from '../builder/run-build.js';
import { buildPlatforms, type PlatformBuild } from './platforms.js';
import { listRefusal, releaseRefusal, type PreparedRelease } from './release-plan.js';

export * from './release-plan.js';

// plan -> a release in a registry, in two steps as changesets does it: `planRelease` asks the
// registry (read-only) and decides everything; `applyRelease` builds what is missing, tests it and
// pushes. Three kinds: one image (`single`), one image per platform and a manifest list per tag
// (`platforms`), and the manifest lists of platforms other jobs pushed (`merge`). The plan is data
// (versioned; `publish --dry-run --json` prints it), and `build --matrix --push` pushes each
// variant through the same `pushBuilt`.

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
  | {
      kind: 'single';
      build: BuildOutcome | null;
      smoke: SmokeSummary;
      testsSkipped: boolean;
      credentials: string;
      pushed: PushedTag[];
      buildKey: string;
      registryUpToDate: boolean;
    }
  | {
      kind: 'platforms';
      manifestList: string;
      platforms: { platform: string; image: string | null; digest: string; action: 'pushed' | 'unchanged'; smoke: SmokeSummary | null }[];
      lists: PushedTag[];
      testsSkipped: boolean;
      credentials: string;
      registryUpToDate: boolean;
    }
  | { kind: 'merge'; manifestList: string; platforms: { platform: string; digest: string }[]; lists: PushedTag[] };

/** Pushes a built image to its targets in turn (the publish tags, then each `-t` registry). */
export async function pushBuilt(
  engine: Engine,
  args: {
    imageId: string;
    buildKey: string;
    targets: PublishTarget[];
    force: boolean;
    signal: AbortSignal;
    note: (t: string) => void;
    creds?: Credentials;
    env?: NodeJS.ProcessEnv;
  },
): Promise<PushedTag[]> {
  const out: PushedTag[] = [];
  for (const [i, target] of args.targets.entries()) {
    const creds = i === 0 && args.creds ? args.creds : await findCredentials(target.registry, args.env ?? process.env, { publish: true });
    out.push(
      ...(await publishImage({
        engine,
        imageId: args.imageId,
        target,
        creds,
        buildKey: args.buildKey,
        force: args.force,
        policy: retryPolicy(),
        signal: args.signal,
        note: args.note,
      })),
    );
  }
  return out;
}

/** The targets a variant of `build --matrix --push` goes to: its publish tags, then its `-t`. */
export function releaseTargets(
  plan: PlannedRecipe['plan'],
  opts: { registry?: string | undefined; gitSha?: string | null; extraTags?: string[] },
): PublishTarget[] {
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
    const publishPlan = {
      registry: plan.registry,
      repository: plan.repository,
      buildKey: plan.buildKey,
      steps: plan.steps,
      upToDate: plan.steps.every((s) => s.action === 'unchanged'),
    };
    if (!plan.build) {
      // Nothing to upload: every tag holds this build already, or gets its manifest copied.
      const pushed = await applyPublish(publishPlan, { target, creds, client, policy: retryPolicy(), signal: opts.signal, note: opts.note });
      return {
        kind: 'single',
        build: null,
        smoke: { ran: false, reason: 'not built: the registry holds this build' },
        testsSkipped: !plan.tests.run,
        credentials: creds.source,
        pushed,
        buildKey: plan.buildKey,
        registryUpToDate: true,
      };
    }
    const engine = await opts.connect();
    const [r] = await buildPlatforms(engine, opts.planned, [{ platform: plan.platform, tags: plan.localTags }], opts.buildOptions);
    if (!plan.tests.run) await skipRecord(r!.build.image, opts.planned);
    opts.note(`publishing ${r!.build.image.slice(0, 19)} to ${plan.registry}/${plan.repository} (credentials: ${creds.source})`);
    try {
      const pushed = await pushBuilt(engine, {
        imageId: r!.build.image,
        buildKey: plan.buildKey,
        targets: [target, ...plan.extras],
        force: plan.force,
        creds,
        signal: opts.signal,
        note: opts.note,
        ...(opts.env ? { env: opts.env } : {}),
      });
      return {
        kind: 'single',
        build: r!.build,
        smoke: r!.smoke,
        testsSkipped: !plan.tests.run,
        credentials: creds.source,
        pushed,
        buildKey: plan.buildKey,
        registryUpToDate: false,
      };
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
    const pushed = await publishImage({
      engine,
      imageId: r!.build.image,
      target: pt,
      creds,
      buildKey: p.buildKey,
      force: plan.force,
      policy: retryPolicy(),
      signal: opts.signal,
      note: opts.note,
    });
    results.push({ platform: p.platform, image: r!.build.image, digest: pushed[0]!.digest, action: pushed[0]!.action, smoke: r!.smoke });
  }
  const index = await buildIndex(
    client,
    target.repository,
    results.map((r) => ({ platform: r.platform, digest: r.digest })),
  );
  const check = await checkIndexTags(client, target, index.digest, plan.force);
  if (check.refused.length) throw listRefusal(check.refused, 'the platform images were pushed under their own tags; the publish tags were not moved');
  const lists = await putIndex(client, target, index, check.current);
  return {
    kind: 'platforms',
    manifestList: index.digest,
    platforms: results,
    lists,
    testsSkipped: !plan.tests.run,
    credentials: creds.source,
    registryUpToDate: results.every((r) => r.action === 'unchanged') && lists.every((t) => t.action === 'unchanged'),
  };
}
