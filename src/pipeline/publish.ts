import type { Engine } from '../engine/port.js';
import { OperationError } from '../errors.js';
import { BUILD_KEY_LABEL } from '../plan/labels.js';
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
import { attestRelease, signOnly, type Attached } from './attest.js';
import type { Signer } from '../attest/keys.js';
import type { RegistryClient } from '../publish/registry-client.js';

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
  /** `--sign-key`: sign each pushed image and attach its SBOM, provenance and test outcome. */
  signer?: Signer;
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
      attached?: Attached[];
    }
  | {
      kind: 'platforms';
      manifestList: string;
      platforms: { platform: string; image: string | null; digest: string; action: 'pushed' | 'unchanged'; smoke: SmokeSummary | null }[];
      lists: PushedTag[];
      testsSkipped: boolean;
      credentials: string;
      registryUpToDate: boolean;
      attached?: { platform: string | null; digest: string; attached: Attached[] }[];
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
      const attached = opts.signer
        ? await signPushed(opts, client, target.repository, {
            digest: pushed[0]!.digest,
            imageId: null,
            platform: plan.platform,
            buildKey: plan.buildKey,
            builder: null,
          })
        : undefined;
      return {
        kind: 'single',
        ...(attached ? { attached } : {}),
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
      const attached = opts.signer
        ? await signPushed(opts, client, target.repository, {
            digest: pushed[0]!.digest,
            imageId: r!.build.image,
            platform: plan.platform,
            buildKey: plan.buildKey,
            builder: r!.build.builder,
            engine,
          })
        : undefined;
      return {
        kind: 'single',
        ...(attached ? { attached } : {}),
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
  const attached: NonNullable<Extract<ReleaseResult, { kind: 'platforms' }>['attached']> = [];
  if (opts.signer)
    for (const r of results) {
      const p = plan.platforms.find((x) => x.platform === r.platform)!;
      attached.push({
        platform: r.platform,
        digest: r.digest,
        attached: await signPushed(opts, client, target.repository, {
          digest: r.digest,
          imageId: r.image,
          platform: r.platform,
          buildKey: p.buildKey,
          builder: null,
          ...(engine ? { engine } : {}),
        }),
      });
    }
  const index = await buildIndex(
    client,
    target.repository,
    results.map((r) => ({ platform: r.platform, digest: r.digest })),
  );
  const check = await checkIndexTags(client, target, index.digest, plan.force);
  if (check.refused.length) throw listRefusal(check.refused, 'the platform images were pushed under their own tags; the publish tags were not moved');
  const lists = await putIndex(client, target, index, check.current);
  if (opts.signer)
    attached.push({ platform: null, digest: index.digest, attached: await signOnly(client, target.repository, index.digest, opts.signer, opts.note) });
  return {
    kind: 'platforms',
    ...(opts.signer ? { attached } : {}),
    manifestList: index.digest,
    platforms: results,
    lists,
    testsSkipped: !plan.tests.run,
    credentials: creds.source,
    registryUpToDate: results.every((r) => r.action === 'unchanged') && lists.every((t) => t.action === 'unchanged'),
  };
}

/**
 * Signs one pushed image and attaches its statements. The SBOM is read from the image itself: an
 * image the registry already held is looked up on the engine by its build key.
 */
async function signPushed(
  opts: ApplyReleaseOptions,
  client: RegistryClient,
  repository: string,
  p: { digest: string; imageId: string | null; platform: string | null; buildKey: string; builder: 'buildkit' | 'classic' | null; engine?: Engine },
): Promise<Attached[]> {
  const engine = p.engine ?? (await opts.connect());
  let imageId = p.imageId;
  if (!imageId) {
    const found = await engine.findImages({ [BUILD_KEY_LABEL]: p.buildKey });
    imageId = found[0]?.id ?? null;
  }
  if (!imageId)
    throw new OperationError(
      'sign.failed',
      `${client.domain}/${repository}@${p.digest.slice(0, 19)} holds this build, but this engine has no image of it to read the SBOM from`,
      { hint: 'build it here first (dynamo-image build), then publish --sign-key again' },
    );
  const info = p.platform || opts.planned.plan.platforms[0] ? null : await engine.info();
  return attestRelease(engine, {
    planned: opts.planned,
    client,
    repository,
    digest: p.digest,
    imageId,
    platform: p.platform ?? opts.planned.plan.platforms[0] ?? `${info!.os}/${info!.arch}`,
    buildKey: p.buildKey,
    buildArgs: {},
    builder: p.builder,
    signer: opts.signer!,
    signal: opts.signal,
    note: opts.note,
  });
}
