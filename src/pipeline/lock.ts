import { EnvironmentError, InputError, type Issue } from '../errors.js';
import type { Engine } from '../engine/port.js';
import { planRecipe } from '../plan/make-plan.js';
import { findCredentials } from '../publish/credentials.js';
import { readLock, writeLock } from '../plan/lock-file.js';
import { parseReference } from '../refs/reference.js';
import { RegistryClient, retryPolicy } from '../publish/registry-client.js';

// `lock`: every image the recipe names by tag, resolved and written to recipe.lock.yaml next to
// the recipe: to a registry digest, or, for an image made on this machine that no registry has (a
// base made with `docker import`, a local rebuild), to its local image id, which `--locked` checks
// on the engine.

/** The repository part of a reference as the engine writes it in RepoDigests (`name@sha256:...`). */
function repositoryOf(ref: string): string {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? ref.slice(0, at) : ref;
}

export interface LockChange {
  ref: string;
  kind: 'local' | 'registry';
  now: string;
  before: string | null;
  change: 'new' | 'added' | 'unchanged' | 'changed';
}

export interface LockOutcome {
  written: string;
  images: Record<string, string>;
  localImages: Record<string, string>;
  changes: LockChange[];
  /** How many references were resolved (0: every one carries a digest already). */
  refs: number;
}

export async function lockRecipe(file: string, opts: { allowUnsupported?: boolean; note: (text: string) => void }): Promise<LockOutcome> {
  const { plan } = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false });
  const refs = [...new Set([plan.base.runtime, plan.base.builder, ...plan.imports.map((i) => i.image)])].filter((r) => !r.includes('@'));
  const previous = await readLock(file).catch(() => null);
  const images: Record<string, string> = {};
  const localImages: Record<string, string> = {};
  const issues: Issue[] = [];
  // The engine, when one answers: an image it has that came from no registry is locked by id.
  let engine: Engine | null = null;
  if (refs.length) {
    try {
      const { connectDocker } = await import('../engine/dockerode-engine.js');
      engine = await connectDocker();
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      opts.note(`note: no engine answers (${e.message}); every image is resolved through its registry`);
    }
  }
  for (const ref of refs) {
    const local = engine ? await engine.inspectImage(ref) : null;
    if (local && !local.repoDigests.some((d) => d.startsWith(`${repositoryOf(ref)}@`))) {
      localImages[ref] = local.id;
      continue;
    }
    const p = parseReference(ref)!;
    // Environment credentials without DYNAMO_IMAGE_REGISTRY are the publish registry's alone.
    const publishHost = plan.publish?.registry?.split('/')[0];
    const client = new RegistryClient(p.domain, await findCredentials(p.domain, process.env, { publish: p.domain === publishHost }), retryPolicy());
    // Only what was verified is written: a manifest type, JSON, bytes that hash to the digest.
    const m = await client.manifestDigest(p.path, p.tag ?? 'latest', { verify: true });
    if (!m)
      issues.push({
        code: 'lock.not-found',
        severity: 'error',
        file,
        message: `${ref} does not exist in ${p.domain}`,
        hint: 'push it first, or fix the reference',
      });
    else images[ref] = m.digest;
  }
  if (issues.length) throw new InputError(issues, `${file}: cannot lock`);
  const written = await writeLock(file, images, localImages);
  // What changed since the lock that was there.
  const was = (ref: string) => previous?.images[ref] ?? previous?.localImages?.[ref] ?? null;
  const changes = refs.map((ref): LockChange => {
    const now = images[ref] ?? localImages[ref]!;
    const before = was(ref);
    return {
      ref,
      kind: ref in localImages ? ('local' as const) : ('registry' as const),
      now,
      before,
      change: !previous ? 'new' : before === null ? 'added' : before === now ? 'unchanged' : 'changed',
    };
  });
  return { written, images, localImages, changes, refs: refs.length };
}
