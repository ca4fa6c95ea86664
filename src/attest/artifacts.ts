import { BUNDLE_MEDIA_TYPE, sha256Hex } from './dsse.js';

// How a bundle sits next to its image in a registry, as cosign 3.1 stores it (checked against its
// own `cosign sign`/`attest` output, 2026-12-03): an OCI 1.1 image manifest whose artifactType is
// the bundle's media type, the empty config, the bundle as its one layer, the predicate type in an
// annotation, and the image as its `subject`. A registry with the referrers API indexes it by
// subject; for one without (Debian's docker-registry), the OCI distribution spec's fallback: an
// image index under the tag `sha256-<hex of the subject digest>` that lists every referrer.

export const OCI_MANIFEST = 'application/vnd.oci.image.manifest.v1+json';
export const OCI_INDEX = 'application/vnd.oci.image.index.v1+json';
export const EMPTY_CONFIG_TYPE = 'application/vnd.oci.empty.v1+json';
export const EMPTY_CONFIG = Buffer.from('{}');
export const PREDICATE_ANNOTATION = 'dev.sigstore.bundle.predicateType';
export const CONTENT_ANNOTATION = 'dev.sigstore.bundle.content';

export interface Descriptor {
  mediaType: string;
  digest: string;
  size: number;
  artifactType?: string;
  annotations?: Record<string, string>;
}

export interface Blob {
  bytes: Buffer;
  digest: string;
}

export function blobOf(bytes: Buffer): Blob {
  return { bytes, digest: `sha256:${sha256Hex(bytes)}` };
}

/** The referrer manifest for one bundle about `subject`. */
export function bundleManifest(subject: Descriptor, bundle: Blob, predicateType: string, created: string): Blob {
  const m = {
    schemaVersion: 2,
    mediaType: OCI_MANIFEST,
    artifactType: BUNDLE_MEDIA_TYPE,
    config: { mediaType: EMPTY_CONFIG_TYPE, digest: blobOf(EMPTY_CONFIG).digest, size: EMPTY_CONFIG.length },
    layers: [{ mediaType: BUNDLE_MEDIA_TYPE, digest: bundle.digest, size: bundle.bytes.length }],
    subject: { mediaType: subject.mediaType, digest: subject.digest, size: subject.size },
    annotations: { [CONTENT_ANNOTATION]: 'dsse-envelope', [PREDICATE_ANNOTATION]: predicateType, 'org.opencontainers.image.created': created },
  };
  return blobOf(Buffer.from(JSON.stringify(m)));
}

/** The fallback tag of a subject's referrers: `sha256-<hex>`. */
export function referrersTag(subjectDigest: string): string {
  return subjectDigest.replace(':', '-');
}

/**
 * The descriptors of a referrers index as a registry (or the fallback tag) sent it: hostile
 * input, so anything that is not a well-formed manifest descriptor is dropped.
 */
export function referrersOf(index: unknown): Descriptor[] {
  const ms = (index as { manifests?: unknown } | null)?.manifests;
  if (!Array.isArray(ms)) return [];
  return ms.flatMap((d: unknown) => {
    const x = d as Partial<Descriptor> | null;
    if (!x || typeof x.digest !== 'string' || !/^sha256:[0-9a-f]{64}$/.test(x.digest) || typeof x.mediaType !== 'string' || typeof x.size !== 'number')
      return [];
    const annotations =
      x.annotations && typeof x.annotations === 'object'
        ? Object.fromEntries(Object.entries(x.annotations).filter((e): e is [string, string] => typeof e[1] === 'string'))
        : undefined;
    return [
      {
        mediaType: x.mediaType,
        digest: x.digest,
        size: x.size,
        ...(typeof x.artifactType === 'string' ? { artifactType: x.artifactType } : {}),
        ...(annotations ? { annotations } : {}),
      },
    ];
  });
}

/** The fallback index with `add` listed (once): what was there first, in its order. */
export function withReferrer(existing: Descriptor[], add: Descriptor): Blob {
  const manifests = existing.some((d) => d.digest === add.digest) ? existing : [...existing, add];
  return blobOf(Buffer.from(JSON.stringify({ schemaVersion: 2, mediaType: OCI_INDEX, manifests })));
}
