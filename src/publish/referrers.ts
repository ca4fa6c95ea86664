import { createHash } from 'node:crypto';
import { OCI_INDEX, referrersOf, referrersTag, withReferrer, type Blob, type Descriptor } from '../attest/artifacts.js';
import { EnvironmentError, OperationError } from '../errors.js';
import type { RegistryClient } from './registry-client.js';

// Blobs and referrers in a registry: what signing pushes next to an image and what `verify` reads.
// Every answer is checked (a blob must hash to its digest; an index is parsed field by field).

const sha = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

/** A blob, verified against its digest; null when the registry has none. */
export async function getBlob(client: RegistryClient, repository: string, digest: string, maxBytes = 16 << 20): Promise<Buffer | null> {
  const { res, body } = await client.request('GET', `/v2/${repository}/blobs/${digest}`, `repository:${repository}:pull`);
  if (res.status === 404) return null;
  if (!res.ok) throw new OperationError('registry.error', `${client.domain} answered HTTP ${res.status} for the blob ${repository}@${digest}`);
  if (body.length > maxBytes) throw new EnvironmentError('registry.too-large', `${client.domain}: the blob ${repository}@${digest} is over ${maxBytes} bytes`);
  if (sha(body) !== digest)
    throw new EnvironmentError('registry.digest-mismatch', `${client.domain} answered the blob ${repository}@${digest} with bytes that hash to ${sha(body)}`);
  return body;
}

/** Uploads a blob (monolithic: POST, then PUT with the digest) unless the repository has it. */
export async function putBlob(client: RegistryClient, repository: string, blob: Blob): Promise<void> {
  const scope = `repository:${repository}:pull,push`;
  const head = await client.request('HEAD', `/v2/${repository}/blobs/${blob.digest}`, scope);
  if (head.res.status === 200) return;
  const start = await client.request('POST', `/v2/${repository}/blobs/uploads/`, scope, { 'Content-Length': '0' });
  const loc = start.res.headers.get('location');
  if (start.res.status !== 202 || !loc)
    throw new OperationError('publish.failed', `${client.domain} did not start a blob upload for ${repository} (HTTP ${start.res.status})`);
  let url: URL;
  try {
    url = new URL(loc, client.base);
  } catch {
    throw new EnvironmentError('registry.bad-answer', `${client.domain} answered a blob upload with a Location that is not a URL`);
  }
  // The upload goes where the registry is, never to another host named by its answer.
  if (url.origin !== new URL(client.base).origin)
    throw new EnvironmentError('registry.bad-answer', `${client.domain} sent the blob upload to ${url.origin}, not ${new URL(client.base).origin}`);
  url.searchParams.set('digest', blob.digest);
  const put = await client.request('PUT', `${url.pathname}${url.search}`, scope, { 'Content-Type': 'application/octet-stream' }, blob.bytes);
  if (put.res.status !== 201)
    throw new OperationError('publish.failed', `${client.domain} refused the blob ${blob.digest} for ${repository} (HTTP ${put.res.status})`);
}

/**
 * The referrers of a manifest: from the referrers API where the registry has it (`api: true`),
 * else from the fallback tag `sha256-<hex>`.
 */
export async function listReferrers(client: RegistryClient, repository: string, subject: string): Promise<{ api: boolean; referrers: Descriptor[] }> {
  const { res, body } = await client.request('GET', `/v2/${repository}/referrers/${subject}`, `repository:${repository}:pull`, { Accept: OCI_INDEX });
  if (res.status === 200 && (res.headers.get('content-type') ?? '').startsWith(OCI_INDEX)) {
    try {
      return { api: true, referrers: referrersOf(JSON.parse(body.toString('utf8'))) };
    } catch {
      throw new EnvironmentError('registry.bad-answer', `${client.domain} answered the referrers of ${repository}@${subject} with a body that is not JSON`);
    }
  }
  const m = await client.manifest(repository, referrersTag(subject));
  return { api: false, referrers: m && m.mediaType === OCI_INDEX ? referrersOf(m.body) : [] };
}

/**
 * Puts a referrer manifest (its blobs first) and makes it findable: by the referrers API, or by
 * adding it to the fallback index (read, add, write, read back).
 */
export async function attachReferrer(
  client: RegistryClient,
  repository: string,
  subject: string,
  manifest: Blob & { artifactType: string; annotations: Record<string, string> },
  blobs: Blob[],
): Promise<void> {
  for (const b of blobs) await putBlob(client, repository, b);
  await client.putManifest(repository, manifest.digest, { mediaType: 'application/vnd.oci.image.manifest.v1+json', bytes: manifest.bytes });
  const now = await listReferrers(client, repository, subject);
  // A registry with the referrers API indexes the manifest by its subject itself.
  if (now.api) return;
  const add: Descriptor = {
    mediaType: 'application/vnd.oci.image.manifest.v1+json',
    digest: manifest.digest,
    size: manifest.bytes.length,
    artifactType: manifest.artifactType,
    annotations: manifest.annotations,
  };
  const index = withReferrer(now.referrers, add);
  const d = await client.putManifest(repository, referrersTag(subject), { mediaType: OCI_INDEX, bytes: index.bytes });
  if (d !== index.digest)
    throw new OperationError('publish.verify-failed', `${client.domain} stored the referrers index of ${subject} as ${d}, not ${index.digest}`);
}
