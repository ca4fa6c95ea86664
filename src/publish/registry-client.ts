import { EnvironmentError, OperationError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { apiHost, isLoopback } from './reference.js';

// A small client for the OCI distribution API: enough to read a tag's digest with anonymous, basic
// or bearer-token auth. Transient failures (connection refused or reset, 5xx) are retried with
// backoff; 401/403 fail at once.

export const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

export interface RetryPolicy {
  attempts: number;
  baseMs: number;
}

export function retryPolicy(env: NodeJS.ProcessEnv = process.env): RetryPolicy {
  const attempts = Number(env['DYNAMO_IMAGE_RETRIES'] ?? 4);
  const baseMs = Number(env['DYNAMO_IMAGE_RETRY_BASE_MS'] ?? 500);
  return { attempts: Number.isInteger(attempts) && attempts > 0 ? attempts : 4, baseMs: Number.isFinite(baseMs) && baseMs >= 0 ? baseMs : 500 };
}

/**
 * A failure worth another try. When retries run out and nobody turns it into something more
 * specific, it is what it is: the registry cannot be reached (exit 3), never "a bug".
 */
export class TransientError extends EnvironmentError {
  constructor(message: string) {
    super('registry.unreachable', message, 'check that the registry is up and reachable from here; DYNAMO_IMAGE_RETRIES sets how often to try');
  }
}

export async function withRetries<T>(what: string, policy: RetryPolicy, fn: (attempt: number) => Promise<T>, onRetry?: (msg: string) => void): Promise<T> {
  let last: unknown;
  for (let attempt = 1; attempt <= policy.attempts; attempt++) {
    try {
      return await fn(attempt);
    } catch (e) {
      if (!(e instanceof TransientError)) throw e;
      last = e;
      if (attempt < policy.attempts) {
        const wait = policy.baseMs * 2 ** (attempt - 1);
        onRetry?.(`${what}: ${e.message}; retry ${attempt}/${policy.attempts - 1} in ${wait} ms`);
        await new Promise((r) => setTimeout(r, wait));
      }
    }
  }
  throw new TransientError(`${what} failed after ${policy.attempts} attempts: ${(last as Error).message}`);
}

interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

function parseChallenge(header: string | null): Challenge | null {
  if (!header) return null;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!] = p[2]!;
  const scheme = m[1]!.toLowerCase();
  return scheme === 'basic' || scheme === 'bearer' ? { scheme, params } : null;
}

/** Why a request failed, in words: a timeout's DOMException carries the number 23 as its code. */
function networkCode(e: unknown, timeoutMs: number): string {
  const err = e as { name?: string; cause?: { code?: unknown; name?: string; message?: string }; code?: unknown; message?: string };
  if (err.name === 'TimeoutError' || err.cause?.name === 'TimeoutError') return `no answer within ${Math.round(timeoutMs / 1000)} s`;
  const c = typeof err.cause?.code === 'string' ? err.cause.code : typeof err.code === 'string' ? err.code : null;
  // fetch's own "fetch failed" says nothing: its cause does ("bad port", "connect ECONNREFUSED").
  return c ?? err.cause?.message ?? err.message ?? String(e);
}

export function requestTimeoutMs(env: NodeJS.ProcessEnv = process.env): number {
  const s = Number(env['DYNAMO_IMAGE_REGISTRY_TIMEOUT_S'] ?? 20);
  return (Number.isFinite(s) && s > 0 ? s : 20) * 1000;
}

export class RegistryClient {
  private token: string | null = null;
  readonly base: string;

  constructor(
    readonly domain: string,
    private readonly creds: Credentials,
    private readonly policy: RetryPolicy = retryPolicy(),
    private readonly onRetry?: (msg: string) => void,
  ) {
    this.base = `${isLoopback(domain) ? 'http' : 'https'}://${apiHost(domain)}`;
  }

  private basic(): string | null {
    const s = this.creds.secret;
    if (!s || !('username' in s)) return null;
    return `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}`;
  }

  private timeouts = 0;

  private async fetchOnce(url: string, init: RequestInit): Promise<Response> {
    let res: Response;
    const ms = requestTimeoutMs();
    try {
      res = await fetch(url, { ...init, signal: AbortSignal.timeout(ms), redirect: 'follow' });
    } catch (e) {
      const why = networkCode(e, ms);
      // A registry that accepts connections and never answers: two timeouts are enough to say so.
      if (why.startsWith('no answer') && ++this.timeouts >= 2) throw new EnvironmentError('registry.unreachable', `${this.domain} accepts connections but does not answer (${why}, twice)`, 'check the registry; DYNAMO_IMAGE_REGISTRY_TIMEOUT_S sets the wait');
      throw new TransientError(`${this.domain}: ${why}`);
    }
    if (res.status >= 500) throw new TransientError(`${this.domain}: HTTP ${res.status}`);
    return res;
  }

  private async authenticate(ch: Challenge, scope: string): Promise<void> {
    if (ch.scheme === 'basic') {
      if (!this.basic()) throw this.refused(401);
      return;
    }
    const realm = ch.params['realm'];
    if (!realm) throw new OperationError('registry.auth', `${this.domain} asked for a bearer token without a realm`);
    const u = new URL(realm);
    if (ch.params['service']) u.searchParams.set('service', ch.params['service']);
    u.searchParams.set('scope', ch.params['scope'] ?? scope);
    const s = this.creds.secret;
    const headers: Record<string, string> = {};
    let res: Response;
    if (s && 'identityToken' in s) {
      res = await this.fetchOnce(realm, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({ grant_type: 'refresh_token', refresh_token: s.identityToken, service: ch.params['service'] ?? '', scope: ch.params['scope'] ?? scope, client_id: 'dynamo-image' }).toString(),
      });
    } else {
      const b = this.basic();
      if (b) headers['Authorization'] = b;
      res = await this.fetchOnce(u.toString(), { headers });
    }
    if (res.status === 401 || res.status === 403) throw this.refused(res.status);
    if (!res.ok) throw new OperationError('registry.auth', `${this.domain}'s token service answered HTTP ${res.status}`);
    const j = (await res.json()) as { token?: string; access_token?: string };
    this.token = j.token ?? j.access_token ?? null;
    if (!this.token) throw new OperationError('registry.auth', `${this.domain}'s token service gave no token`);
  }

  refused(status: number): OperationError {
    return new OperationError('registry.unauthorized', `${this.domain} refused the request (HTTP ${status}) with credentials from ${this.creds.source}`, {
      hint: `check the credentials for ${this.domain}: docker login ${this.domain}, or set DYNAMO_IMAGE_REGISTRY_USERNAME and DYNAMO_IMAGE_REGISTRY_PASSWORD`,
    });
  }

  private async request(method: 'GET' | 'HEAD' | 'PUT', pathAndQuery: string, scope: string, headers: Record<string, string> = {}, body?: Buffer): Promise<Response> {
    const url = `${this.base}${pathAndQuery}`;
    return withRetries(`${method} ${url}`, this.policy, async () => {
      const auth = this.token ? `Bearer ${this.token}` : this.basic();
      let res = await this.fetchOnce(url, { method, headers: { ...headers, ...(auth ? { Authorization: auth } : {}) }, ...(body ? { body } : {}) });
      if (res.status === 401) {
        const ch = parseChallenge(res.headers.get('www-authenticate'));
        if (!ch) throw this.refused(401);
        if (ch.scheme === 'basic' && auth?.startsWith('Basic')) throw this.refused(401);
        await this.authenticate(ch, scope);
        const again = this.token ? `Bearer ${this.token}` : this.basic();
        res = await this.fetchOnce(url, { method, headers: { ...headers, ...(again ? { Authorization: again } : {}) }, ...(body ? { body } : {}) });
      }
      if (res.status === 401 || res.status === 403) throw this.refused(res.status);
      return res;
    }, this.onRetry);
  }

  /** The digest a tag (or digest) points to, or null when the registry has no such manifest. */
  async manifestDigest(repository: string, reference: string): Promise<{ digest: string; mediaType: string } | null> {
    const res = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (!res.ok) throw new OperationError('registry.error', `${this.domain} answered HTTP ${res.status} for ${repository}:${reference}`);
    const digest = res.headers.get('docker-content-digest');
    if (!digest) {
      // Some registries omit the header on HEAD: fall back to GET and hash the body.
      const get = await this.request('GET', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { Accept: MANIFEST_ACCEPT });
      const body = Buffer.from(await get.arrayBuffer());
      const { createHash } = await import('node:crypto');
      return { digest: `sha256:${createHash('sha256').update(body).digest('hex')}`, mediaType: get.headers.get('content-type') ?? '' };
    }
    return { digest, mediaType: res.headers.get('content-type') ?? '' };
  }

  /**
   * The config digest of a single-platform manifest (for a Docker-store engine, the image id), or
   * null for an index, a missing manifest or one that cannot be read.
   */
  async configDigest(repository: string, digest: string): Promise<string | null> {
    const m = await this.manifest(repository, digest);
    const cfg = (m?.body as { config?: { digest?: unknown } } | undefined)?.config?.digest;
    return typeof cfg === 'string' ? cfg : null;
  }

  /**
   * The labels of the image a single-platform manifest describes (from its config blob), or null.
   * They carry the build key: the registry can say "this exact build is here" without a pull.
   */
  async imageLabels(repository: string, digest: string): Promise<Record<string, string> | null> {
    const m = await this.manifest(repository, digest);
    const cfg = (m?.body as { config?: { digest?: unknown } } | undefined)?.config?.digest;
    if (typeof cfg !== 'string') return null;
    const res = await this.request('GET', `/v2/${repository}/blobs/${cfg}`, `repository:${repository}:pull`);
    if (!res.ok) return null;
    try {
      const c = JSON.parse(await res.text()) as { config?: { Labels?: Record<string, string> | null } };
      return c.config?.Labels ?? {};
    } catch {
      return null;
    }
  }

  /** The manifest's bytes as stored, for copying it under another tag. */
  async manifestBytes(repository: string, digest: string): Promise<{ mediaType: string; bytes: Buffer } | null> {
    const res = await this.request('GET', `/v2/${repository}/manifests/${digest}`, `repository:${repository}:pull`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (!res.ok) throw new OperationError('registry.error', `${this.domain} answered HTTP ${res.status} for ${repository}@${digest}`);
    return { mediaType: res.headers.get('content-type') ?? 'application/vnd.docker.distribution.manifest.v2+json', bytes: Buffer.from(await res.arrayBuffer()) };
  }

  /** Puts a manifest under a tag (the blobs it names must be in the repository already). */
  async putManifest(repository: string, tag: string, manifest: { mediaType: string; bytes: Buffer }): Promise<string> {
    const res = await this.request('PUT', `/v2/${repository}/manifests/${tag}`, `repository:${repository}:pull,push`, { 'Content-Type': manifest.mediaType }, manifest.bytes);
    if (res.status !== 201 && res.status !== 200) throw new OperationError('publish.failed', `${this.domain} refused the manifest for ${repository}:${tag}: HTTP ${res.status} ${(await res.text()).slice(0, 300)}`);
    const { createHash } = await import('node:crypto');
    return res.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(manifest.bytes).digest('hex')}`;
  }

  /** A manifest's JSON and media type, or null when the registry has none. */
  async manifest(repository: string, reference: string): Promise<{ mediaType: string; body: unknown } | null> {
    const res = await this.request('GET', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (!res.ok) throw new OperationError('registry.error', `${this.domain} answered HTTP ${res.status} for ${repository}:${reference}`);
    try {
      return { mediaType: res.headers.get('content-type') ?? '', body: JSON.parse(await res.text()) as unknown };
    } catch {
      return null;
    }
  }

  /** Reachable at all? Environment errors (exit 3) when not. */
  async ping(): Promise<void> {
    try {
      await this.request('GET', '/v2/', 'registry:catalog:*');
    } catch (e) {
      if (e instanceof TransientError) throw new EnvironmentError('registry.unreachable', `no registry answers at ${this.base}: ${e.message}`, 'start it, or check --registry / publish.registry');
      throw e;
    }
  }
}
