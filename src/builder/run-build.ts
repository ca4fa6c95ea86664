import { realpath } from 'node:fs/promises';
import { DigestCache } from '../plan/digest-cache.js';
import { dockerfileFromPlan, type Target } from '../dockerfile/from-plan.js';
import { renderDockerfile } from '../dockerfile/render.js';
import { contextEntries, contextMtime } from '../context/files.js';
import type { BuildEvent, Engine } from '../engine/port.js';
import { InputError, OperationError, UsageError } from '../errors.js';
import { lockPathFor } from '../plan/lock-file.js';
import { BASE_IDS_LABEL, BUILD_KEY_LABEL, buildKeyOf, PLAN_DIGEST_LABEL, planFetches, planSecrets, TARGET_LABEL } from '../plan/build-plan.js';
import type { PlannedRecipe } from '../plan/make-plan.js';
import { finalImages } from './final-image.js';
import { diffSummaries, planSummary, readSummary, SUMMARY_LABEL } from '../plan/summary.js';
import { countSteps, type ProgressSink } from './progress.js';
import { registerClassicBuild, removeLeftovers } from './leftovers.js';
import { chooseNetwork } from './step-network.js';

// plan -> image on the engine. Tags are applied only after everything that can fail has passed
// (the build, then the smoke tests through `beforeTag`): a broken image never carries a tag.

export { BUILD_KEY_LABEL, buildKeyOf, planFetches };

export interface BuildOptions {
  target: Target;
  noCache?: boolean;
  force?: boolean;
  buildArgs?: Record<string, string>;
  extraTags?: string[];
  /** Build secrets by id (`--secret`): BuildKit only, never part of the image or the build key. */
  secrets?: Map<string, Buffer>;
  /** Local tags instead of the plan's (one platform of a multi-platform recipe: NAME:VERSION-ARCH). */
  tags?: string[];
  platform?: string;
  /** Other builds run on this engine at the same time (build --matrix --jobs N). */
  concurrent?: boolean;
  cacheFrom?: string[];
  builder: 'auto' | 'buildkit' | 'classic';
  /** Default: `none` when the plan fetches nothing (hermetic), else the engine's default. */
  network?: 'none' | 'default' | 'host';
  signal: AbortSignal;
  progress: ProgressSink;
  /** Runs after the image exists and before any tag is applied; throw to refuse the tags. */
  beforeTag?: (imageId: string, upToDate: boolean) => Promise<void>;
}

export interface BuildOutcome {
  image: string;
  tags: string[];
  upToDate: boolean;
  durationMs: number;
  cachedSteps: number;
  totalSteps: number;
  sizeBytes: number;
  builder: 'buildkit' | 'classic' | null;
  target: Target;
  planDigest: string;
  buildKey: string;
  contextBytes: number;
}

export function splitTag(ref: string): { repository: string; tag: string } {
  const at = ref.lastIndexOf(':');
  const slash = ref.lastIndexOf('/');
  if (at > slash && at > 0) return { repository: ref.slice(0, at), tag: ref.slice(at + 1) };
  return { repository: ref, tag: 'latest' };
}

/** API version a < b ("1.41" < "1.42"). */
function apiBelow(a: string, b: string): boolean {
  const [x, y] = [a.split('.').map(Number), b.split('.').map(Number)];
  return (x[0] ?? 0) < (y[0] ?? 0) || ((x[0] ?? 0) === (y[0] ?? 0) && (x[1] ?? 0) < (y[1] ?? 0));
}

/** The local image id of each image the plan builds from by tag (a digest-pinned one cannot move). */
export async function localBaseIds(engine: Engine, plan: PlannedRecipe['plan']): Promise<Record<string, string>> {
  const refs = [...new Set([plan.base.runtime, plan.base.builder, ...plan.imports.map((i) => i.image)])].filter((r) => !r.includes('@')).sort();
  const out: Record<string, string> = {};
  for (const ref of refs) {
    const img = await engine.inspectImage(ref);
    if (img) out[ref] = img.id;
  }
  return out;
}

/** Which of the recorded bases is now another local image (a base not here now is not a change). */
export function changedBases(recorded: string | undefined, now: Record<string, string>): string[] {
  let was: Record<string, unknown> = {};
  try {
    const parsed: unknown = recorded ? JSON.parse(recorded) : {};
    if (parsed && typeof parsed === 'object' && !Array.isArray(parsed)) was = parsed as Record<string, unknown>;
  } catch {
    return [];
  }
  return Object.entries(now)
    .filter(([ref, id]) => typeof was[ref] === 'string' && was[ref] !== id)
    .map(([ref, id]) => `${ref} is now ${id.slice(0, 19)} (this image was built on ${String(was[ref]).slice(0, 19)})`);
}

export async function buildImage(engine: Engine, planned: Pick<PlannedRecipe, 'plan' | 'recipeDir'>, opts: BuildOptions): Promise<BuildOutcome> {
  const started = Date.now();
  const { plan } = planned;
  if (opts.platform && !plan.platforms.includes(opts.platform))
    throw new UsageError(`--platform ${opts.platform} is not one of the recipe's platforms (${plan.platforms.join(', ')})`);
  const buildKey = buildKeyOf(plan.digest, opts);
  const summary = planSummary(plan, { target: opts.target, buildArgs: opts.buildArgs ?? {}, platform: opts.platform });
  const tags = [...new Set([...(opts.tags ?? plan.tags), ...(opts.extraTags ?? [])])];

  const applyTags = async (imageId: string) => {
    for (const t of tags) {
      const { repository, tag } = splitTag(t);
      await engine.tagImage(imageId, repository, tag);
    }
  };

  // The local images the build starts from, by id: a base rebuilt under the same tag is a change
  // the build key (references only) cannot see. Recorded on the image; compared on the next build.
  const baseIds = await localBaseIds(engine, plan);
  // --locked with a local image pinned by id: the tag must still name that image.
  const moved = Object.entries(plan.lockedLocalImages ?? {}).filter(([ref, id]) => baseIds[ref] !== id);
  if (moved.length)
    throw new InputError(
      moved.map(([ref, id]) => ({
        code: 'lock.local-moved' as const,
        severity: 'error' as const,
        file: lockPathFor(plan.recipe.file),
        path: ['localImages', ref],
        message: baseIds[ref]
          ? `--locked: ${ref} is ${baseIds[ref]!.slice(0, 19)} on this engine; the lock pins ${id.slice(0, 19)} (rebuilt since it was locked)`
          : `--locked: ${ref} is not on this engine; the lock pins the local image ${id.slice(0, 19)}`,
        hint: `run dynamo-image lock ${plan.recipe.file} to take the image there now, or restore the locked one`,
      })),
      'the locked local images changed; nothing was built',
    );
  if (!opts.force && !opts.noCache) {
    // Several images may carry the key (one per base it was built on): the one on today's bases.
    const candidates = finalImages(await engine.findImages({ [BUILD_KEY_LABEL]: buildKey }), plan.digest);
    const found = candidates.find((c) => changedBases(c.labels[BASE_IDS_LABEL], baseIds).length === 0) ?? candidates[0];
    const changed = found ? changedBases(found.labels[BASE_IDS_LABEL], baseIds) : [];
    if (found && changed.length) opts.progress.note(`not up to date: ${changed.join('; ')}; rebuilding`);
    const existing = changed.length ? undefined : found;
    if (!existing && !found) {
      // The tag holds another build: say in one line what made the build key differ (`why` says more).
      const under = await engine.inspectImage(tags[0]!);
      const was = readSummary(under?.labels[SUMMARY_LABEL]);
      if (under && was) {
        const lines = diffSummaries(was, summary).map((c) => c.line);
        if (lines.length)
          opts.progress.note(
            `not up to date: ${tags[0]} was built from another plan: ${lines.slice(0, 4).join('; ')}${lines.length > 4 ? `; and ${lines.length - 4} more (dynamo-image why)` : ''}`,
          );
      }
    }
    if (existing) {
      opts.progress.note(`up to date: ${existing.id.slice(0, 19)} already built from plan ${plan.digest.slice(0, 19)} (use --force to rebuild)`);
      await opts.beforeTag?.(existing.id, true);
      await applyTags(existing.id);
      return {
        image: existing.id,
        tags,
        upToDate: true,
        durationMs: Date.now() - started,
        cachedSteps: 0,
        totalSteps: 0,
        sizeBytes: existing.sizeBytes,
        builder: null,
        target: opts.target,
        planDigest: plan.digest,
        buildKey,
        contextBytes: 0,
      };
    }
  }

  const info = await engine.info();
  let builder: 'buildkit' | 'classic';
  if (opts.builder === 'auto') {
    builder = info.buildkit ? 'buildkit' : 'classic';
    if (info.kind === 'podman')
      opts.progress.note(`builder: classic (auto: Podman ${info.serverVersion} builds with buildah through its Docker-compatible API; it has no BuildKit)`);
    else if (!info.buildkit) opts.progress.note(`builder: classic (auto: the engine at ${info.endpoint}, API ${info.apiVersion}, offers no BuildKit)`);
  } else if (opts.builder === 'buildkit' && !info.buildkit)
    throw new UsageError(
      `the engine at ${info.endpoint} (${info.kind === 'podman' ? `Podman ${info.serverVersion}` : `API ${info.apiVersion}`}) does not offer BuildKit`,
      'use --builder classic (or auto)',
    );
  else builder = opts.builder;

  // A recipe for one platform builds for it: an arm64-only recipe on an amd64 engine asks for
  // linux/arm64 (the engine's own platform needs no flag: the classic builder of old engines
  // refuses one). Several platforms: one build per platform, each with --platform (pipeline).
  const own = `${info.os}/${info.arch}`;
  const platform = opts.platform ?? (plan.platforms.length === 1 && plan.platforms[0] !== own ? plan.platforms[0] : undefined);

  // An engine that died under a classic build left that build's step container behind: it goes first.
  await removeLeftovers(engine, info.endpoint, (t) => opts.progress.note(t));

  const wanted = planSecrets(plan);
  const missing = wanted.filter((id) => !opts.secrets?.has(id));
  if (missing.length)
    throw new UsageError(
      `the recipe reads the secret${missing.length > 1 ? 's' : ''} ${missing.join(', ')}, not given`,
      `--secret id=${missing[0]},src=FILE or --secret id=${missing[0]},env=VARIABLE`,
    );
  if (wanted.length && builder === 'classic')
    throw new UsageError('the classic builder cannot mount build secrets', 'use --builder buildkit (or auto on an engine with BuildKit)');
  // Before any work: a step that asked for no network is never put on one.
  const net = chooseNetwork(plan, opts.network, { builder, runNetwork: info.runNetwork, engine: info.serverVersion });
  const dockerfile = renderDockerfile(dockerfileFromPlan(plan, opts.target, { buildkit: builder === 'buildkit', stepNetwork: net.stepNetwork }));
  const entries = contextEntries(plan, planned.recipeDir, dockerfile);
  // Loaded here, not at the top: an up-to-date build never packs a context (nor loads tar-stream).
  const { packContext } = await import('../context/pack.js');
  const packed = packContext(entries, plan.sourceDateEpoch !== undefined ? new Date(plan.sourceDateEpoch * 1000) : contextMtime());
  const events: BuildEvent[] = [];
  // A changed input file aborts the build on the engine, not only our side of the stream.
  const ac = new AbortController();
  const onAbort = () => ac.abort(opts.signal.reason);
  opts.signal.addEventListener('abort', onAbort, { once: true });
  packed.done.catch((e: unknown) => ac.abort(e));
  let imageId: string;
  const release = builder === 'classic' ? await registerClassicBuild(info.endpoint) : null;
  try {
    // Docker 20.10's BuildKit (0.8) crashes the whole engine when concurrent builds export inline
    // cache ("concurrent map iteration and map write" in remotecache normalize; moby/buildkit#2041,
    // seen in CI with build --matrix --jobs 2): such builds go without it, and say so.
    const inlineRace = opts.concurrent === true && info.kind === 'docker' && apiBelow(info.apiVersion, '1.42');
    // A reproducible build (SOURCE_DATE_EPOCH) goes without it too: BuildKit's cache metadata
    // differs between two builders of the same layers (measured: bench/reproducible.sh).
    const reproducible = plan.sourceDateEpoch !== undefined;
    const inline = builder === 'buildkit' && !inlineRace && !reproducible;
    if (builder === 'buildkit' && reproducible)
      opts.progress.note(
        'inline cache off for this build: SOURCE_DATE_EPOCH is set, and the cache metadata BuildKit writes into the image differs from one builder to the next; this image cannot serve as --cache-from',
      );
    else if (builder === 'buildkit' && inlineRace)
      opts.progress.note(
        `inline cache off for this build: Docker ${info.serverVersion}'s BuildKit crashes when concurrent builds export it (moby/buildkit#2041); this image cannot serve as --cache-from (build it alone, or on Docker 23+, for that)`,
      );
    const r = await engine.build({
      context: packed.stream,
      dockerfile: 'Dockerfile',
      target: opts.target,
      noCache: opts.noCache ?? false,
      // BuildKit writes its cache metadata into the image (inline cache), so a pushed image can
      // serve as --cache-from for a fresh runner. Not part of the build key: it changes no layer.
      // A per-platform input: the classic builder does not set TARGETARCH itself.
      buildArgs: {
        ...(opts.buildArgs ?? {}),
        // BuildKit (0.11+) sets the config's `created` and history times from it.
        ...(reproducible ? { SOURCE_DATE_EPOCH: String(plan.sourceDateEpoch) } : {}),
        ...(inline ? { BUILDKIT_INLINE_CACHE: '1' } : {}),
        ...(builder === 'classic' && plan.inputs.some((i) => i.platform) ? { TARGETARCH: (opts.platform ?? plan.platforms[0]!).split('/')[1]! } : {}),
      },
      labels: {
        [BUILD_KEY_LABEL]: buildKey,
        [TARGET_LABEL]: opts.target,
        ...(Object.keys(baseIds).length ? { [BASE_IDS_LABEL]: JSON.stringify(baseIds) } : {}),
        [SUMMARY_LABEL]: JSON.stringify(summary),
      },
      ...(platform ? { platform } : {}),
      cacheFrom: opts.cacheFrom ?? [],
      builder,
      network: net.network,
      signal: ac.signal,
      fromImages: [plan.base.runtime, plan.base.builder, ...plan.imports.map((i) => i.image)],
      ...(opts.secrets?.size ? { secrets: opts.secrets } : {}),
      onEvent: (e) => {
        events.push(e);
        opts.progress.event(e);
      },
    });
    imageId = r.imageId;
  } catch (e) {
    // Report the root cause: a changed file beats the broken stream it caused.
    const packErr = await packed.done.then(
      () => null,
      (err: unknown) => err,
    );
    if (packErr instanceof OperationError && packErr.code.startsWith('context.')) {
      // The digests this plan was made from cannot be trusted: the next run reads the files again.
      const files = entries.flatMap((x) => ('file' in x ? [x.file] : []));
      await DigestCache.forgetFiles(await Promise.all(files.map((f) => realpath(f).catch(() => f))));
    }
    if (opts.signal.aborted) throw opts.signal.reason;
    throw packErr ?? e;
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
    opts.progress.close();
    await release?.();
  }
  const { bytes } = await packed.done;
  const img = await engine.inspectImage(imageId);
  if (!img) throw new OperationError('build.image-missing', `the engine reported image ${imageId} but does not have it`);
  // What the engine reports is checked, not trusted: the result carries this build's key and plan.
  if (img.labels[BUILD_KEY_LABEL] !== buildKey) throw new OperationError('build.label-missing', `image ${imageId} lacks its build key label`);
  if (img.labels[PLAN_DIGEST_LABEL] !== plan.digest)
    throw new OperationError(
      'build.label-missing',
      `the engine reported ${imageId.slice(0, 19)} as the build's result, but it lacks the plan digest label of the ${opts.target} stage (a stage's image, not the result)`,
    );
  await opts.beforeTag?.(imageId, false);
  await applyTags(imageId);
  const stats = countSteps(events);
  return {
    image: imageId,
    tags,
    upToDate: false,
    durationMs: Date.now() - started,
    cachedSteps: stats.cached,
    totalSteps: stats.total,
    sizeBytes: img.sizeBytes,
    builder,
    target: opts.target,
    planDigest: plan.digest,
    buildKey,
    contextBytes: bytes,
  };
}
