import type { Engine } from '../engine/port.js';
import { EnvironmentError, OperationError, UsageError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { engineAuth, type Credentials } from './credentials.js';
import { registryHostProblem } from '../recipe/schema.js';
import { parseReference, referenceProblem } from '../refs/reference.js';
import { RegistryClient, TransientError, withRetries, type RetryPolicy } from './registry-client.js';
import { renderTags, tagVariables } from '../refs/tags.js';
import { BUILD_KEY_LABEL } from '../plan/build-plan.js';

// image on the engine -> verified tags in a registry. Every tag is checked before the first push,
// so a refused publish changes nothing; a push succeeded only when the engine reported its digest,
// and every tag is then read back from the registry over its HTTP API.

export interface PublishTarget {
  registry: string;
  repository: string;
  /** Tags in push order: immutable ones first, mutable ones (e.g. latest) last. */
  tags: { tag: string; reference: string; mutable: boolean }[];
}

export function publishTarget(plan: Plan, opts: { registry?: string | undefined; gitSha?: string | null }): PublishTarget {
  const registry = opts.registry ?? plan.publish?.registry;
  if (!registry) throw new UsageError('no registry to publish to', 'set publish.registry in the recipe or pass --registry HOST[:PORT]');
  const hostProblem = registryHostProblem(registry);
  if (hostProblem) throw new UsageError(`registry "${registry}": ${hostProblem}`, 'e.g. --registry registry.example.com or --registry 127.0.0.1:5000');
  // `HOST[:PORT]/NAMESPACE` (ghcr.io/OWNER): the namespace goes in front of the repository.
  const [host, ...ns] = registry.split('/');
  const repository = [...ns, plan.publish?.repository ?? plan.image.name].join('/');
  const vars = tagVariables(plan, { gitSha: opts.gitSha ?? null });
  const fixed = renderTags(plan.publish?.tags ?? ['{version}'], vars);
  const mutable = renderTags(plan.publish?.mutableTags ?? [], vars);
  const problems = [...(fixed.ok ? [] : fixed.problems), ...(mutable.ok ? [] : mutable.problems)];
  if (problems.length || !fixed.ok || !mutable.ok) throw new UsageError(`cannot render the publish tags: ${problems.join('; ')}`);
  const tags = [
    ...fixed.tags.filter((t) => !mutable.tags.includes(t)).map((tag) => ({ tag, mutable: false })),
    ...mutable.tags.map((tag) => ({ tag, mutable: true })),
  ].map((t) => ({ ...t, reference: `${host}/${repository}:${t.tag}` }));
  const bad = tags.map((t) => referenceProblem(t.reference)).filter((p): p is string => p !== null);
  if (bad.length) throw new UsageError(`cannot publish: ${bad.join('; ')}`, 'shorten publish.repository, the registry or the tag templates');
  return { registry: host!, repository, tags };
}

/**
 * `-t REF` with `--push`: each extra tag is pushed too, so each must name its registry
 * (`HOST[:PORT]/REPO:TAG`). One target per registry and repository, its tags immutable as the
 * publish tags are (`--force` moves them). Refused before any build when a reference names no
 * registry or no tag.
 */
export function extraTagTargets(refs: string[]): PublishTarget[] {
  const out = new Map<string, PublishTarget>();
  for (const ref of refs) {
    const r = parseReference(ref);
    if (!r || r.digest || !r.tag || !ref.startsWith(`${r.domain}/`))
      throw new UsageError(
        `-t ${ref}: with --push every -t is pushed, so it must name a registry, a repository and a tag`,
        'e.g. -t registry.example.com/team/image:1.0.0 (or leave out --push to tag locally)',
      );
    const key = `${r.domain}/${r.path}`;
    const t = out.get(key) ?? { registry: r.domain, repository: r.path, tags: [] };
    if (!t.tags.some((x) => x.tag === r.tag)) t.tags.push({ tag: r.tag, reference: `${key}:${r.tag}`, mutable: false });
    out.set(key, t);
  }
  return [...out.values()];
}

export interface PushedTag {
  reference: string;
  digest: string;
  /** `pushed`, or `unchanged` when the registry already had this exact image under the tag. */
  action: 'pushed' | 'unchanged';
  previous: string | null;
}

/** A publish that failed partway: what it had pushed before, for the JSON result. */
export class PublishFailure extends OperationError {
  constructor(
    failure: OperationError,
    readonly pushed: PushedTag[],
    /** The image that was being pushed (set by the caller that built it). */
    public image: string | null = null,
  ) {
    super(failure.code, failure.message, { ...(failure.hint ? { hint: failure.hint } : {}), tail: failure.tail, cause: failure });
  }
}

/** What publishing will do to one tag, decided before anything changes. */
export interface PublishStep {
  tag: string;
  reference: string;
  mutable: boolean;
  /** The digest the registry has under the tag now, or null. */
  current: string | null;
  /**
   * `push`: the tag is absent, or mutable, or moved by --force. `unchanged`: the registry already
   * has this image (or this exact build, by its build key) under the tag. `copy`: another tag holds
   * this build; its manifest is put under this tag, nothing is uploaded. `refused`: an immutable
   * tag holds another image.
   */
  action: 'push' | 'unchanged' | 'copy' | 'refused';
  /** For `copy`: the digest that holds this build. */
  from?: string;
  reason: string;
}

export interface PublishPlan {
  registry: string;
  repository: string;
  buildKey: string;
  steps: PublishStep[];
  /** Every tag already holds this build: nothing to build, test or push. */
  upToDate: boolean;
}

/**
 * Asks the registry, read-only, what each tag holds, and decides each tag's step. `imageId` is the
 * local image when there is one (its config digest identifies it in the registry); the build key
 * identifies this exact build whoever pushed it (a fresh CI runner rebuilds the same build as
 * another image id).
 */
export async function planPublish(
  client: RegistryClient,
  target: PublishTarget,
  opts: { buildKey: string; imageId?: string | null; knownDigests?: Set<string>; force?: boolean },
): Promise<PublishPlan> {
  const steps: PublishStep[] = [];
  let holder: string | null = null;
  for (const t of target.tags) {
    const m = await client.manifestDigest(target.repository, t.tag).catch((e: unknown) => {
      if (e instanceof TransientError) throw new OperationError('publish.check-failed', `could not read ${t.reference}: ${e.message}`);
      throw e;
    });
    const base = { tag: t.tag, reference: t.reference, mutable: t.mutable, current: m?.digest ?? null };
    if (!m) {
      steps.push({ ...base, action: 'push', reason: 'absent' });
      continue;
    }
    const sameImage = opts.knownDigests?.has(m.digest) || (opts.imageId ? (await client.configDigest(target.repository, m.digest)) === opts.imageId : false);
    const labels = sameImage ? null : await client.imageLabels(target.repository, m.digest);
    const sameBuild = sameImage || labels?.[BUILD_KEY_LABEL] === opts.buildKey;
    if (sameBuild) {
      holder ??= m.digest;
      steps.push({
        ...base,
        action: 'unchanged',
        reason: sameImage ? 'already this image' : `already this build (${BUILD_KEY_LABEL} ${opts.buildKey.slice(0, 19)})`,
      });
    } else if (t.mutable) steps.push({ ...base, action: 'push', reason: `mutable: moves from ${m.digest.slice(0, 19)}` });
    else if (opts.force) steps.push({ ...base, action: 'push', reason: `--force: moves from ${m.digest.slice(0, 19)}` });
    else steps.push({ ...base, action: 'refused', reason: `is ${m.digest}, another image` });
  }
  // A tag another run already filled with this build is copied to the absent ones, so siblings
  // share one digest even when this runner's own build has another.
  if (holder && !opts.imageId)
    for (const s of steps)
      if (s.action === 'push' && s.current === null)
        Object.assign(s, { action: 'copy', from: holder, reason: `copy of ${holder.slice(0, 19)}, which holds this build` });
  return { registry: target.registry, repository: target.repository, buildKey: opts.buildKey, steps, upToDate: steps.every((s) => s.action === 'unchanged') };
}

export function refusal(plan: PublishPlan): OperationError | null {
  const refused = plan.steps.filter((s) => s.action === 'refused');
  if (!refused.length) return null;
  return new OperationError(
    'publish.tag-exists',
    `refusing to move existing tags to another image: ${refused.map((s) => `${s.reference} ${s.reason}`).join('; ')}`,
    {
      hint: 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway. Nothing was pushed.',
    },
  );
}

export interface PublishOptions {
  engine: Engine;
  imageId: string;
  target: PublishTarget;
  creds: Credentials;
  /** The build key of the image (its label): the same build in the registry counts as unchanged. */
  buildKey?: string;
  force?: boolean;
  policy: RetryPolicy;
  signal: AbortSignal;
  note: (text: string) => void;
}

function isTransientPush(e: unknown): boolean {
  return e instanceof EnvironmentError && e.code === 'registry.unreachable';
}

/** Plans against the registry (every tag checked before the first push), then applies the plan. */
export async function publishImage(opts: PublishOptions): Promise<PushedTag[]> {
  const { engine, imageId, target, creds } = opts;
  const client = new RegistryClient(target.registry, creds, opts.policy, opts.note);
  // Reachable, and do the credentials work? Both before anything changes.
  await client.ping();
  const image = await engine.inspectImage(imageId);
  if (!image) throw new OperationError('publish.no-image', `image ${imageId} is gone from the engine`);
  const repoKey = `${target.registry}/${target.repository}`;
  const known = new Set(image.repoDigests.filter((d) => d.startsWith(`${repoKey}@`)).map((d) => d.slice(repoKey.length + 1)));
  const plan = await planPublish(client, target, {
    buildKey: opts.buildKey ?? image.labels[BUILD_KEY_LABEL] ?? '',
    imageId,
    knownDigests: known,
    force: opts.force ?? false,
  });
  const refused = refusal(plan);
  if (refused) throw refused;
  return applyPublish(plan, { ...opts, client });
}

/**
 * Applies a plan: immutable tags first, mutable ones (latest) last; `copy` steps put an existing
 * manifest under the tag, `push` steps push the local image. Every tag is read back at the end.
 */
export async function applyPublish(
  plan: PublishPlan,
  opts: Omit<PublishOptions, 'engine' | 'imageId'> & { client: RegistryClient; engine?: Engine; imageId?: string },
): Promise<PushedTag[]> {
  const { target, creds, client } = opts;
  const repoKey = `${target.registry}/${target.repository}`;
  const auth = engineAuth(target.registry, creds.secret);
  const out: PushedTag[] = [];
  const localTagged: string[] = [];
  let digest: string | null = null;
  const ordered = [...plan.steps.filter((s) => !s.mutable), ...plan.steps.filter((s) => s.mutable)];
  try {
    for (const s of ordered) {
      if (s.action === 'unchanged') {
        out.push({ reference: s.reference, digest: s.current!, action: 'unchanged', previous: s.current });
        digest ??= s.current;
        continue;
      }
      if (s.action === 'copy') {
        const m = await client.manifestBytes(target.repository, s.from!);
        if (!m) throw new OperationError('publish.failed', `${s.from} vanished from ${repoKey} while publishing`);
        opts.note(`tagging ${s.reference} as ${s.from!.slice(0, 19)} (already holds this build)`);
        const d = await client.putManifest(target.repository, s.tag, m);
        out.push({ reference: s.reference, digest: d, action: 'pushed', previous: null });
        continue;
      }
      if (s.action === 'refused') throw refusal(plan)!;
      const { engine, imageId } = opts;
      if (!engine || !imageId) throw new OperationError('publish.failed', `${s.reference} needs a push, and no image was given to push`);
      await engine.tagImage(imageId, repoKey, s.tag);
      localTagged.push(s.tag);
      opts.note(`pushing ${s.reference}`);
      const pushed = await withRetries(
        `push ${s.reference}`,
        opts.policy,
        async () => {
          try {
            return await engine.push(repoKey, s.tag, auth, opts.signal);
          } catch (e) {
            if (opts.signal.aborted) throw opts.signal.reason;
            if (isTransientPush(e)) throw new TransientError((e as Error).message);
            throw e;
          }
        },
        opts.note,
      ).catch((e: unknown) => {
        if (e instanceof TransientError)
          throw new OperationError(
            'publish.interrupted',
            `${e.message}. Pushed before the failure: ${
              out
                .filter((p) => p.action === 'pushed')
                .map((p) => p.reference)
                .join(', ') || 'nothing'
            }`,
            {
              hint: "the registry keeps a tag's old manifest until a new one is complete; run publish again when the registry is back",
            },
          );
        throw e;
      });
      if (digest !== null && pushed.digest !== digest && !plan.steps.some((x) => x.action === 'unchanged' && x.current === digest))
        throw new OperationError('publish.digest-mismatch', `${s.reference} was pushed as ${pushed.digest}, the first tag as ${digest}`);
      digest ??= pushed.digest;
      out.push({ reference: s.reference, digest: pushed.digest, action: 'pushed', previous: s.current });
      opts.note(`pushed ${s.reference} ${pushed.digest}`);
    }
  } catch (e) {
    // The local aliases made for pushing go again; the image and its own tags stay.
    for (const tag of localTagged) await opts.engine!.removeImage(`${repoKey}:${tag}`, { noprune: true }).catch(() => undefined);
    if (e instanceof OperationError) throw new PublishFailure(e, out);
    throw e;
  }

  // Verify over the registry's API that every tag resolves to what was pushed.
  for (const p of out) {
    const m = await client.manifestDigest(target.repository, p.reference.slice(repoKey.length + 1));
    if (!m || m.digest !== p.digest)
      throw new OperationError('publish.verify-failed', `${p.reference} resolves to ${m?.digest ?? 'nothing'} in the registry, not the pushed ${p.digest}`);
  }
  // Report in the order of the templates, as before.
  const order = new Map(plan.steps.map((s, i) => [s.reference, i]));
  return out.sort((a, b) => order.get(a.reference)! - order.get(b.reference)!);
}
