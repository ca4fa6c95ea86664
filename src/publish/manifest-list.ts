import { createHash } from 'node:crypto';
import { archOf } from '../domain/platforms.js';
import { OperationError } from '../errors.js';
import type { PublishTarget, PushedTag } from './publish.js';
import type { RegistryClient } from './registry-client.js';

// One tag for every platform: each platform's image is pushed under its own tag (TAG-ARCH), then
// every publish tag gets a manifest list (an image index) naming them, as `docker manifest` and
// `buildx imagetools` make. Clients pull the manifest of their own platform from it.

export const MANIFEST_LIST = 'application/vnd.docker.distribution.manifest.list.v2+json';

/** The target of one platform's image: the first immutable tag with the architecture appended. */
export function platformTarget(target: PublishTarget, platform: string): PublishTarget {
  const first = target.tags.find((t) => !t.mutable) ?? target.tags[0]!;
  const tag = `${first.tag}-${archOf(platform)}`;
  return { ...target, tags: [{ tag, mutable: false, reference: `${target.registry}/${target.repository}:${tag}` }] };
}

export interface IndexManifest {
  mediaType: string;
  bytes: Buffer;
  digest: string;
}

/** The manifest list over the platforms' manifests (as the registry holds them), in the plan's order. */
export async function buildIndex(client: RegistryClient, repository: string, platforms: { platform: string; digest: string }[]): Promise<IndexManifest> {
  const manifests = [];
  for (const p of platforms) {
    const m = await client.manifestBytes(repository, p.digest);
    if (!m) throw new OperationError('publish.failed', `${repository}@${p.digest} (${p.platform}) is not in the registry`);
    const [os, architecture, variant] = p.platform.split('/');
    manifests.push({
      mediaType: m.mediaType.split(';')[0]!.trim(),
      size: m.bytes.length,
      digest: p.digest,
      platform: { architecture, os, ...(variant ? { variant } : architecture === 'arm64' ? { variant: 'v8' } : {}) },
    });
  }
  const bytes = Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: MANIFEST_LIST, manifests }, null, 3));
  return { mediaType: MANIFEST_LIST, bytes, digest: `sha256:${createHash('sha256').update(bytes).digest('hex')}` };
}

/** What each publish tag holds now, and which of them an index would have to replace. */
export async function checkIndexTags(
  client: RegistryClient,
  target: PublishTarget,
  expected: string | null,
  force: boolean,
): Promise<{ current: Map<string, string | null>; refused: string[] }> {
  const current = new Map<string, string | null>();
  const refused: string[] = [];
  for (const t of target.tags) {
    const m = await client.manifestDigest(target.repository, t.tag);
    current.set(t.tag, m?.digest ?? null);
    if (m && m.digest !== expected && !t.mutable && !force) refused.push(`${t.reference} is ${m.digest}`);
  }
  return { current, refused };
}

/** Puts the index under every tag (immutable first, mutable last); a tag already holding it is left alone. */
export async function putIndex(client: RegistryClient, target: PublishTarget, index: IndexManifest, current: Map<string, string | null>): Promise<PushedTag[]> {
  const out: PushedTag[] = [];
  for (const t of [...target.tags.filter((x) => !x.mutable), ...target.tags.filter((x) => x.mutable)]) {
    const prev = current.get(t.tag) ?? null;
    if (prev === index.digest) {
      out.push({ reference: t.reference, digest: prev, action: 'unchanged', previous: prev });
      continue;
    }
    const d = await client.putManifest(target.repository, t.tag, index);
    if (d !== index.digest)
      throw new OperationError('publish.verify-failed', `${t.reference}: the registry stored the manifest list as ${d}, not ${index.digest}`);
    out.push({ reference: t.reference, digest: d, action: 'pushed', previous: prev });
  }
  for (const p of out) {
    const m = await client.manifestDigest(target.repository, p.reference.slice(p.reference.lastIndexOf(':') + 1));
    if (m?.digest !== p.digest)
      throw new OperationError('publish.verify-failed', `${p.reference} resolves to ${m?.digest ?? 'nothing'}, not the manifest list ${p.digest}`);
  }
  return out;
}
