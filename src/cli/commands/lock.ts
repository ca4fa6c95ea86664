import { EnvironmentError, ExitCode, InputError, type Issue } from '../../errors.js';
import type { Engine } from '../../engine/port.js';
import { planRecipe } from '../../plan/make-plan.js';
import { findCredentials } from '../../publish/credentials.js';
import { readLock, writeLock } from '../../plan/lock-file.js';
import { parseReference } from '../../refs/reference.js';
import { RegistryClient, retryPolicy } from '../../publish/registry-client.js';
import type { Output } from '../output.js';

/** The repository part of a reference as the engine writes it in RepoDigests (`name@sha256:...`). */
function repositoryOf(ref: string): string {
  const at = ref.lastIndexOf(':');
  return at > ref.lastIndexOf('/') ? ref.slice(0, at) : ref;
}

// Resolves every image the recipe names by tag and writes recipe.lock.yaml next to the recipe: to
// a registry digest, or, for an image made on this machine that no registry has (a base made with
// `docker import`, a local rebuild), to its local image id, which `--locked` checks on the engine.
export async function runLock(file: string, opts: { json?: boolean; allowUnsupported?: boolean }, o: Output): Promise<number> {
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
      const { connectDocker } = await import('../../engine/dockerode-engine.js');
      engine = await connectDocker();
    } catch (e) {
      if (!(e instanceof EnvironmentError)) throw e;
      o.err(`note: no engine answers (${e.message}); every image is resolved through its registry`);
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
    if (!m) issues.push({ code: 'lock.not-found', severity: 'error', file, message: `${ref} does not exist in ${p.domain}`, hint: 'push it first, or fix the reference' });
    else images[ref] = m.digest;
  }
  if (issues.length) throw new InputError(issues, `${file}: cannot lock`);
  const written = await writeLock(file, images, localImages);
  // What changed since the lock that was there.
  const was = (ref: string) => previous?.images[ref] ?? previous?.localImages?.[ref] ?? null;
  const changes = refs.map((ref) => {
    const now = images[ref] ?? localImages[ref]!;
    const before = was(ref);
    return { ref, kind: ref in localImages ? ('local' as const) : ('registry' as const), now, before, change: !previous ? 'new' : before === null ? 'added' : before === now ? 'unchanged' : 'changed' };
  });
  if (opts.json) o.out(JSON.stringify({ lockFile: written, images, localImages, changes }));
  else {
    for (const c of changes) {
      const what = c.kind === 'local' ? `local image ${c.now} (made here, in no registry: --locked checks the engine has it)` : c.now;
      o.err(`${c.ref} -> ${what}${c.change === 'changed' ? ` (was ${c.before})` : c.change === 'unchanged' ? ' (unchanged)' : ''}`);
    }
    o.err(`wrote ${written}${refs.length === 0 ? ' (every image reference already carries a digest)' : ''}`);
  }
  return ExitCode.ok;
}
