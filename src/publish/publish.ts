import type { Engine } from '../engine/port.js';
import { EnvironmentError, OperationError, UsageError } from '../errors.js';
import type { Plan } from '../plan/types.js';
import { engineAuth, type Credentials } from './credentials.js';
import { registryHostProblem } from '../recipe/schema.js';
import { referenceProblem } from './reference.js';
import { RegistryClient, TransientError, withRetries, type RetryPolicy } from './registry-client.js';
import { renderTags, tagVariables } from './tags.js';

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
  const repository = plan.publish?.repository ?? plan.image.name;
  const vars = tagVariables(plan, { gitSha: opts.gitSha ?? null });
  const fixed = renderTags(plan.publish?.tags ?? ['{version}'], vars);
  const mutable = renderTags(plan.publish?.mutableTags ?? [], vars);
  const problems = [...(fixed.ok ? [] : fixed.problems), ...(mutable.ok ? [] : mutable.problems)];
  if (problems.length || !fixed.ok || !mutable.ok) throw new UsageError(`cannot render the publish tags: ${problems.join('; ')}`);
  const tags = [
    ...fixed.tags.filter((t) => !mutable.tags.includes(t)).map((tag) => ({ tag, mutable: false })),
    ...mutable.tags.map((tag) => ({ tag, mutable: true })),
  ].map((t) => ({ ...t, reference: `${registry}/${repository}:${t.tag}` }));
  const bad = tags.map((t) => referenceProblem(t.reference)).filter((p): p is string => p !== null);
  if (bad.length) throw new UsageError(`cannot publish: ${bad.join('; ')}`, 'shorten publish.repository, the registry or the tag templates');
  return { registry, repository, tags };
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
  ) {
    super(failure.code, failure.message, { ...(failure.hint ? { hint: failure.hint } : {}), tail: failure.tail, cause: failure });
  }
}

export interface PublishOptions {
  engine: Engine;
  imageId: string;
  target: PublishTarget;
  creds: Credentials;
  force?: boolean;
  policy: RetryPolicy;
  signal: AbortSignal;
  note: (text: string) => void;
}

function isTransientPush(e: unknown): boolean {
  return e instanceof EnvironmentError && e.code === 'registry.unreachable';
}

export async function publishImage(opts: PublishOptions): Promise<PushedTag[]> {
  const { engine, imageId, target, creds } = opts;
  const client = new RegistryClient(target.registry, creds, opts.policy, opts.note);
  // Reachable, and do the credentials work? Both before anything changes.
  await client.ping();
  const image = await engine.inspectImage(imageId);
  if (!image) throw new OperationError('publish.no-image', `image ${imageId} is gone from the engine`);
  const repoKey = `${target.registry}/${target.repository}`;
  const known = new Set(image.repoDigests.filter((d) => d.startsWith(`${repoKey}@`)).map((d) => d.slice(repoKey.length + 1)));

  // 1. Every tag checked before the first push.
  const current = new Map<string, string | null>();
  const conflicts: string[] = [];
  for (const t of target.tags) {
    const m = await client.manifestDigest(target.repository, t.tag).catch((e: unknown) => {
      if (e instanceof TransientError) throw new OperationError('publish.check-failed', `could not read ${t.reference}: ${e.message}`);
      throw e;
    });
    current.set(t.reference, m?.digest ?? null);
    // This image already, under that tag? The engine's RepoDigests may have forgotten a push (a
    // failed run removes its push aliases), so the manifest's config is compared with the image id.
    if (m && !known.has(m.digest) && (await client.configDigest(target.repository, m.digest)) === image.id) known.add(m.digest);
    if (m && !known.has(m.digest) && !t.mutable && !opts.force) conflicts.push(`${t.reference} is ${m.digest}`);
  }
  if (conflicts.length)
    throw new OperationError('publish.tag-exists', `refusing to move existing tags to another image: ${conflicts.join('; ')}`, {
      hint: 'tags are immutable unless listed in publish.mutableTags; --force moves them anyway. Nothing was pushed.',
    });

  // 2. Push. The engine sends layers once; later tags only add a manifest reference.
  const auth = engineAuth(target.registry, creds.secret);
  const out: PushedTag[] = [];
  const localTagged: string[] = [];
  let digest: string | null = null;
  try {
    for (const t of target.tags) {
      const prev = current.get(t.reference) ?? null;
      if (prev !== null && known.has(prev)) {
        out.push({ reference: t.reference, digest: prev, action: 'unchanged', previous: prev });
        digest ??= prev;
        continue;
      }
      await engine.tagImage(imageId, repoKey, t.tag);
      localTagged.push(t.tag);
      opts.note(`pushing ${t.reference}`);
      const pushed = await withRetries(
        `push ${t.reference}`,
        opts.policy,
        async () => {
          try {
            return await engine.push(repoKey, t.tag, auth, opts.signal);
          } catch (e) {
            if (opts.signal.aborted) throw opts.signal.reason;
            if (isTransientPush(e)) throw new TransientError((e as Error).message);
            throw e;
          }
        },
        opts.note,
      ).catch((e: unknown) => {
        if (e instanceof TransientError)
          throw new OperationError('publish.interrupted', `${e.message}. Pushed before the failure: ${out.filter((p) => p.action === 'pushed').map((p) => p.reference).join(', ') || 'nothing'}`, {
            hint: 'the registry keeps a tag\'s old manifest until a new one is complete; run publish again when the registry is back',
          });
        throw e;
      });
      if (digest !== null && pushed.digest !== digest) throw new OperationError('publish.digest-mismatch', `${t.reference} was pushed as ${pushed.digest}, the first tag as ${digest}`);
      digest ??= pushed.digest;
      out.push({ reference: t.reference, digest: pushed.digest, action: 'pushed', previous: prev });
      opts.note(`pushed ${t.reference} ${pushed.digest}`);
    }
  } catch (e) {
    // The local aliases made for pushing go again; the image and its own tags stay.
    for (const tag of localTagged) await engine.removeImage(`${repoKey}:${tag}`, { noprune: true }).catch(() => undefined);
    if (e instanceof OperationError) throw new PublishFailure(e, out);
    throw e;
  }

  // 3. Verify over the registry's API that every tag resolves to that digest.
  for (const p of out) {
    const m = await client.manifestDigest(target.repository, p.reference.slice(repoKey.length + 1));
    if (!m || m.digest !== p.digest) throw new OperationError('publish.verify-failed', `${p.reference} resolves to ${m?.digest ?? 'nothing'} in the registry, not the pushed ${p.digest}`);
  }
  return out;
}
