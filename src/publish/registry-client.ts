import { createHash } from 'node:crypto';
import { EnvironmentError, OperationError } from '../errors.js';
import type { Credentials } from './credentials.js';
import { apiHost, isLoopback } from '../refs/reference.js';

// A small client for the OCI distribution API: enough to read a tag's digest with anonymous, basic
// or bearer-token auth. Transient failures (connection refused or reset, 5xx) are retried with
// backoff; 401/403 fail at once.
//
// Everything a registry answers is untrusted input: credentials go only in answer to a challenge
// (basic to the registry itself, a bearer realm only on https or loopback and on the challenging
// host, Docker Hub's auth.docker.io or a host the user names in DYNAMO_IMAGE_REGISTRY_TOKEN_HOSTS);
// redirects are followed by hand and drop Authorization when they leave the origin; every body is
// read with a size limit (DYNAMO_IMAGE_REGISTRY_MAX_BODY_BYTES) inside the request's time limit;
// a Docker-Content-Digest must be a digest and match the bytes received; a manifest must come with
// a manifest media type.

import {
  DIGEST_RE,
  MANIFEST_ACCEPT,
  MANIFEST_TYPES,
  mediaTypeOf,
  networkCode,
  parseChallenge,
  realmProblem,
  requestTimeoutMs,
  retryPolicy,
  safeHost,
  TransientError,
  withRetries,
  type Challenge,
  type RetryPolicy,
} from './registry-rules.js';

import { readBody } from './registry-body.js';

export * from './registry-rules.js';

export class RegistryClient {
  private token: string | null = null;
  /** The registry asked for basic auth once: from then on it is sent with every request (as docker does). */
  private basicAsked = false;
  readonly base: string;
  private readonly apiHostPort: string;

  constructor(
    readonly domain: string,
    private readonly creds: Credentials,
    private readonly policy: RetryPolicy = retryPolicy(),
    private readonly onRetry?: (msg: string) => void,
    private readonly env: NodeJS.ProcessEnv = process.env,
  ) {
    this.apiHostPort = apiHost(domain);
    this.base = `${isLoopback(domain) ? 'http' : 'https'}://${this.apiHostPort}`;
  }

  private basic(): string | null {
    const s = this.creds.secret;
    if (!s || !('username' in s)) return null;
    return `Basic ${Buffer.from(`${s.username}:${s.password}`).toString('base64')}`;
  }

  private timeouts = 0;

  /** A network failure in words, as a retryable error (or, the second time a registry is silent, exit 3). */
  private networkFailure(e: unknown, ms: number): Error {
    const why = networkCode(e, ms);
    // A registry that accepts connections and never answers: two timeouts are enough to say so.
    if (why.startsWith('no answer') && ++this.timeouts >= 2)
      return new EnvironmentError(
        'registry.unreachable',
        `${this.domain} accepts connections but does not answer (${why}, twice)`,
        'check the registry; DYNAMO_IMAGE_REGISTRY_TIMEOUT_S sets the wait',
      );
    return new TransientError(`${this.domain}: ${why}`);
  }

  /**
   * One request, redirects followed by hand (at most 5, never from https to http, Authorization
   * dropped when the origin changes), the body read within the size limit and the time limit.
   */
  private async fetchOnce(
    url: string,
    init: { method?: string; headers?: Record<string, string>; body?: Buffer | string },
  ): Promise<{ res: Response; body: Buffer }> {
    const ms = requestTimeoutMs(this.env);
    const signal = AbortSignal.timeout(ms);
    let current = new URL(url);
    const origin = current.origin;
    let headers = { ...(init.headers ?? {}) };
    let method = init.method ?? 'GET';
    let body = init.body;
    for (let hop = 0; ; hop++) {
      let res: Response;
      try {
        res = await fetch(current, { method, headers, ...(body !== undefined ? { body } : {}), signal, redirect: 'manual' });
      } catch (e) {
        throw this.networkFailure(e, ms);
      }
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel().catch(() => undefined);
        if (hop >= 5) throw new EnvironmentError('registry.bad-answer', `${this.domain} redirected more than 5 times for ${method} ${url}`);
        let next: URL;
        try {
          next = new URL(res.headers.get('location')!, current);
        } catch {
          throw new EnvironmentError('registry.bad-answer', `${this.domain} redirected to something that is not a URL`);
        }
        if (next.protocol !== 'https:' && !(next.protocol === 'http:' && isLoopback(next.host)))
          throw new EnvironmentError(
            'registry.bad-answer',
            `${this.domain} redirected ${method} ${current.pathname} to ${next.protocol}//${next.host}: only https (or plain http on loopback) is followed`,
          );
        if (next.origin !== origin) headers = Object.fromEntries(Object.entries(headers).filter(([k]) => k.toLowerCase() !== 'authorization'));
        if (res.status === 303) {
          method = method === 'HEAD' ? 'HEAD' : 'GET';
          body = undefined;
        }
        current = next;
        continue;
      }
      if (res.status >= 500) {
        await res.body?.cancel().catch(() => undefined);
        throw new TransientError(`${this.domain}: HTTP ${res.status}`);
      }
      return { res, body: await readBody(this.domain, this.env, res, `${method} ${current.pathname}`, ms) };
    }
  }

  private async authenticate(ch: Challenge, scope: string): Promise<void> {
    if (ch.scheme === 'basic') {
      if (!this.basic()) throw this.refused(401);
      this.basicAsked = true;
      return;
    }
    const realm = ch.params['realm'];
    if (!realm) throw new OperationError('registry.auth', `${this.domain} asked for a bearer token without a realm`);
    const problem = realmProblem(this.apiHostPort, realm, this.env);
    if (problem)
      throw new OperationError(
        'registry.auth-realm',
        `${this.domain} asked for a token from ${safeHost(realm)}, and ${problem}: its credentials are not sent there`,
        {
          hint: `if ${safeHost(realm)} really serves ${this.domain}'s tokens, name it in DYNAMO_IMAGE_REGISTRY_TOKEN_HOSTS (over https)`,
        },
      );
    const u = new URL(realm);
    if (ch.params['service']) u.searchParams.set('service', ch.params['service']);
    u.searchParams.set('scope', ch.params['scope'] ?? scope);
    const s = this.creds.secret;
    const headers: Record<string, string> = {};
    let got: { res: Response; body: Buffer };
    if (s && 'identityToken' in s) {
      got = await this.fetchOnce(realm, {
        method: 'POST',
        headers: { 'Content-Type': 'application/x-www-form-urlencoded' },
        body: new URLSearchParams({
          grant_type: 'refresh_token',
          refresh_token: s.identityToken,
          service: ch.params['service'] ?? '',
          scope: ch.params['scope'] ?? scope,
          client_id: 'dynamo-image',
        }).toString(),
      });
    } else {
      const b = this.basic();
      if (b) headers['Authorization'] = b;
      got = await this.fetchOnce(u.toString(), { headers });
    }
    const { res, body } = got;
    if (res.status === 401 || res.status === 403) throw this.refused(res.status);
    if (!res.ok) throw new OperationError('registry.auth', `${this.domain}'s token service answered HTTP ${res.status}`);
    let j: { token?: unknown; access_token?: unknown };
    try {
      j = JSON.parse(body.toString('utf8')) as typeof j;
    } catch {
      throw new EnvironmentError('registry.bad-answer', `${this.domain}'s token service answered something that is not JSON`);
    }
    const token = typeof j?.token === 'string' ? j.token : typeof j?.access_token === 'string' ? j.access_token : null;
    if (!token) throw new OperationError('registry.auth', `${this.domain}'s token service gave no token`);
    // A token goes into a header: anything but printable ASCII would let the answer write headers.
    if (!/^[\x21-\x7e]{1,16384}$/.test(token))
      throw new EnvironmentError('registry.bad-answer', `${this.domain}'s token service gave a token that is not printable ASCII`);
    this.token = token;
  }

  refused(status: number): OperationError {
    return new OperationError('registry.unauthorized', `${this.domain} refused the request (HTTP ${status}) with credentials from ${this.creds.source}`, {
      hint: `check the credentials for ${this.domain}: docker login ${this.domain}, or set DYNAMO_IMAGE_REGISTRY_USERNAME and DYNAMO_IMAGE_REGISTRY_PASSWORD`,
    });
  }

  /** The Authorization header for the next request: only what the registry asked for. */
  private authHeader(): string | null {
    if (this.token) return `Bearer ${this.token}`;
    return this.basicAsked ? this.basic() : null;
  }

  /** One request with auth and retries (also used by referrers.ts for blobs and referrers). */
  async request(
    method: 'GET' | 'HEAD' | 'PUT' | 'POST',
    pathAndQuery: string,
    scope: string,
    headers: Record<string, string> = {},
    body?: Buffer,
  ): Promise<{ res: Response; body: Buffer }> {
    const url = `${this.base}${pathAndQuery}`;
    return withRetries(
      `${method} ${url}`,
      this.policy,
      async () => {
        const auth = this.authHeader();
        let got = await this.fetchOnce(url, { method, headers: { ...headers, ...(auth ? { Authorization: auth } : {}) }, ...(body ? { body } : {}) });
        if (got.res.status === 401) {
          const ch = parseChallenge(got.res.headers.get('www-authenticate'));
          if (!ch) throw this.refused(401);
          if (ch.scheme === 'basic' && auth?.startsWith('Basic')) throw this.refused(401);
          await this.authenticate(ch, scope);
          const again = this.authHeader();
          got = await this.fetchOnce(url, { method, headers: { ...headers, ...(again ? { Authorization: again } : {}) }, ...(body ? { body } : {}) });
        }
        if (got.res.status === 401 || got.res.status === 403) throw this.refused(got.res.status);
        return got;
      },
      this.onRetry,
    );
  }

  /** A Docker-Content-Digest header, checked: absent is null, anything but a digest is an error. */
  digestHeader(res: Response, what: string): string | null {
    const d = res.headers.get('docker-content-digest');
    if (d === null) return null;
    if (!DIGEST_RE.test(d))
      throw new EnvironmentError(
        'registry.bad-answer',
        `${this.domain} answered ${what} with a Docker-Content-Digest that is not a digest ("${d.slice(0, 80)}")`,
        'a digest is sha256: and 64 hex digits',
      );
    return d;
  }

  /**
   * A manifest as received and verified: a manifest media type, JSON, and bytes whose sha256 is
   * the digest asked for (by digest) and the Docker-Content-Digest the registry sent.
   */
  private async verifiedManifest(repository: string, reference: string): Promise<{ digest: string; mediaType: string; bytes: Buffer } | null> {
    const what = `${repository}:${reference}`;
    const { res, body } = await this.request('GET', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (!res.ok) throw new OperationError('registry.error', `${this.domain} answered HTTP ${res.status} for ${what}`);
    const mediaType = mediaTypeOf(res);
    if (!MANIFEST_TYPES.has(mediaType))
      throw new EnvironmentError(
        'registry.bad-answer',
        `${this.domain} answered ${what} with "${mediaType.slice(0, 80) || 'no content type'}", not an image manifest`,
        'is a proxy or captive portal answering instead of the registry?',
      );
    let parsed: { mediaType?: unknown; schemaVersion?: unknown };
    try {
      parsed = JSON.parse(body.toString('utf8')) as typeof parsed;
    } catch {
      throw new EnvironmentError('registry.bad-answer', `${this.domain} answered ${what} with a body that is not JSON`);
    }
    if (typeof parsed !== 'object' || parsed === null || parsed.schemaVersion !== 2 || (parsed.mediaType !== undefined && parsed.mediaType !== mediaType))
      throw new EnvironmentError(
        'registry.bad-answer',
        `${this.domain} answered ${what} with a manifest whose schemaVersion or mediaType does not match its content type ${mediaType}`,
      );
    const computed = `sha256:${createHash('sha256').update(body).digest('hex')}`;
    const header = this.digestHeader(res, what);
    const asked = DIGEST_RE.test(reference) ? reference : null;
    for (const [name, d] of [
      ['Docker-Content-Digest', header],
      ['the digest asked for', asked],
    ] as const) {
      if (d && d.startsWith('sha256:') && d !== computed)
        throw new EnvironmentError(
          'registry.digest-mismatch',
          `${this.domain} answered ${what}: ${name} is ${d}, but the bytes received hash to ${computed}`,
          'the registry, or something between, changed the manifest: nothing was written',
        );
    }
    return { digest: header?.startsWith('sha256:') || !header ? computed : header, mediaType, bytes: body };
  }

  /** The digest a tag (or digest) points to, or null when the registry has no such manifest. */
  async manifestDigest(repository: string, reference: string, opts: { verify?: boolean } = {}): Promise<{ digest: string; mediaType: string } | null> {
    if (opts.verify) {
      const m = await this.verifiedManifest(repository, reference);
      return m && { digest: m.digest, mediaType: m.mediaType };
    }
    const { res } = await this.request('HEAD', `/v2/${repository}/manifests/${reference}`, `repository:${repository}:pull`, { Accept: MANIFEST_ACCEPT });
    if (res.status === 404) return null;
    if (!res.ok) throw new OperationError('registry.error', `${this.domain} answered HTTP ${res.status} for ${repository}:${reference}`);
    const digest = this.digestHeader(res, `${repository}:${reference}`);
    // Some registries omit the header on HEAD: fall back to GET and hash the body.
    if (!digest) return this.manifestDigest(repository, reference, { verify: true });
    return { digest, mediaType: mediaTypeOf(res) };
  }

  /**
   * The config digest of a single-platform manifest (for a Docker-store engine, the image id), or
   * null for an index, a missing manifest or one that cannot be read.
   */
  async configDigest(repository: string, digest: string): Promise<string | null> {
    const m = await this.manifest(repository, digest);
    const cfg = (m?.body as { config?: { digest?: unknown } } | undefined)?.config?.digest;
    return typeof cfg === 'string' && DIGEST_RE.test(cfg) ? cfg : null;
  }

  /**
   * The labels of the image a single-platform manifest describes (from its config blob), or null.
   * They carry the build key: the registry can say "this exact build is here" without a pull.
   */
  async imageLabels(repository: string, digest: string): Promise<Record<string, string> | null> {
    const cfg = await this.configDigest(repository, digest);
    if (!cfg) return null;
    const { res, body } = await this.request('GET', `/v2/${repository}/blobs/${cfg}`, `repository:${repository}:pull`);
    if (!res.ok) return null;
    // A config blob is content-addressed: bytes that do not hash to its digest are not it.
    if (cfg.startsWith('sha256:') && `sha256:${createHash('sha256').update(body).digest('hex')}` !== cfg) return null;
    try {
      const c = JSON.parse(body.toString('utf8')) as { config?: { Labels?: Record<string, unknown> | null } };
      const labels = c.config?.Labels ?? {};
      return Object.fromEntries(Object.entries(labels).filter((e): e is [string, string] => typeof e[1] === 'string'));
    } catch {
      return null;
    }
  }

  /** The manifest's bytes as stored, for copying it under another tag. */
  async manifestBytes(repository: string, digest: string): Promise<{ mediaType: string; bytes: Buffer } | null> {
    const m = await this.verifiedManifest(repository, digest);
    return m && { mediaType: m.mediaType, bytes: m.bytes };
  }

  /** Puts a manifest under a tag (the blobs it names must be in the repository already). */
  async putManifest(repository: string, tag: string, manifest: { mediaType: string; bytes: Buffer }): Promise<string> {
    const { res, body } = await this.request(
      'PUT',
      `/v2/${repository}/manifests/${tag}`,
      `repository:${repository}:pull,push`,
      { 'Content-Type': manifest.mediaType },
      manifest.bytes,
    );
    if (res.status !== 201 && res.status !== 200)
      throw new OperationError(
        'publish.failed',
        `${this.domain} refused the manifest for ${repository}:${tag}: HTTP ${res.status} ${body.toString('utf8').slice(0, 300)}`,
      );
    const computed = `sha256:${createHash('sha256').update(manifest.bytes).digest('hex')}`;
    const header = this.digestHeader(res, `${repository}:${tag}`);
    if (header && header.startsWith('sha256:') && header !== computed)
      throw new EnvironmentError(
        'registry.digest-mismatch',
        `${this.domain} stored the manifest for ${repository}:${tag} under ${header}, but the bytes sent hash to ${computed}`,
      );
    return computed;
  }

  /** A manifest's JSON and media type, or null when the registry has none. */
  async manifest(repository: string, reference: string): Promise<{ mediaType: string; body: unknown } | null> {
    const m = await this.verifiedManifest(repository, reference);
    return m && { mediaType: m.mediaType, body: JSON.parse(m.bytes.toString('utf8')) as unknown };
  }

  /** Reachable at all? Environment errors (exit 3) when not. */
  async ping(): Promise<void> {
    try {
      await this.request('GET', '/v2/', 'registry:catalog:*');
    } catch (e) {
      if (e instanceof TransientError)
        throw new EnvironmentError(
          'registry.unreachable',
          `no registry answers at ${this.base}: ${e.message}`,
          'start it, or check --registry / publish.registry',
        );
      throw e;
    }
  }
}
