import { ExitCode, InputError, type Issue } from '../../errors.js';
import { planRecipe } from '../../plan/make-plan.js';
import { findCredentials } from '../../publish/credentials.js';
import { writeLock } from '../../plan/lock-file.js';
import { parseReference } from '../../publish/reference.js';
import { RegistryClient, retryPolicy } from '../../publish/registry-client.js';
import type { Output } from '../output.js';

// Resolves every image the recipe names by tag to a digest through the registry API and writes
// recipe.lock.yaml next to the recipe.
export async function runLock(file: string, opts: { json?: boolean; allowUnsupported?: boolean }, o: Output): Promise<number> {
  const { plan } = await planRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false });
  const refs = [...new Set([plan.base.runtime, plan.base.builder, ...plan.imports.map((i) => i.image)])].filter((r) => !r.includes('@'));
  const images: Record<string, string> = {};
  const issues: Issue[] = [];
  for (const ref of refs) {
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
  const written = await writeLock(file, images);
  if (opts.json) o.out(JSON.stringify({ lockFile: written, images }));
  else {
    for (const [ref, d] of Object.entries(images)) o.err(`${ref} -> ${d}`);
    o.err(`wrote ${written}${refs.length === 0 ? ' (every image reference already carries a digest)' : ''}`);
  }
  return ExitCode.ok;
}
