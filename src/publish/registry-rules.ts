import { EnvironmentError } from '../errors.js';
import { isLoopback } from '../refs/reference.js';

// The registry client's rules: what it accepts (media types, digests, token realms), how long it
// waits and how often it retries, and how failures are named.

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

export interface Challenge {
  scheme: 'basic' | 'bearer';
  params: Record<string, string>;
}

export function parseChallenge(header: string | null): Challenge | null {
  if (!header) return null;
  const m = /^(\w+)\s*(.*)$/.exec(header.trim());
  if (!m) return null;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!] = p[2]!;
  const scheme = m[1]!.toLowerCase();
  return scheme === 'basic' || scheme === 'bearer' ? { scheme, params } : null;
}

/** Why a request failed, in words: a timeout's DOMException carries the number 23 as its code. */
export function networkCode(e: unknown, timeoutMs: number): string {
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

/** The largest body (manifest, index, config, token answer) read from a registry: 4 MiB unless set. */
export function maxBodyBytes(env: NodeJS.ProcessEnv = process.env): number {
  const n = Number(env['DYNAMO_IMAGE_REGISTRY_MAX_BODY_BYTES'] ?? 4 * 1024 * 1024);
  return Number.isInteger(n) && n > 0 ? n : 4 * 1024 * 1024;
}

/** Hosts besides the challenging one that may serve bearer tokens: `DYNAMO_IMAGE_REGISTRY_TOKEN_HOSTS=a.example,b.example`. */
export function configuredTokenHosts(env: NodeJS.ProcessEnv = process.env): string[] {
  return (env['DYNAMO_IMAGE_REGISTRY_TOKEN_HOSTS'] ?? '')
    .split(',')
    .map((h) => h.trim().toLowerCase())
    .filter(Boolean);
}

/** Token services that belong to a registry by its operator's published setup. */
export const KNOWN_TOKEN_HOSTS: Record<string, string[]> = { 'registry-1.docker.io': ['auth.docker.io'] };

export const DIGEST_RE = /^sha256:[a-f0-9]{64}$|^sha512:[a-f0-9]{128}$/;

export const MANIFEST_TYPES = new Set(MANIFEST_ACCEPT.split(', '));

export function hostOf(hostPort: string): string {
  return hostPort
    .replace(/:\d+$/, '')
    .replace(/^\[|\]$/g, '')
    .toLowerCase();
}

/**
 * Why a bearer realm may not receive this registry's credentials, or null when it may: https (or
 * plain http on loopback), on the challenging host, a known token host of that registry, or one the
 * user configured.
 */
export function realmProblem(registryHost: string, realm: string, env: NodeJS.ProcessEnv = process.env): string | null {
  let u: URL;
  try {
    u = new URL(realm);
  } catch {
    return `its token realm "${realm.slice(0, 200)}" is not a URL`;
  }
  const realmHost = hostOf(u.host);
  if (u.protocol !== 'https:' && !(u.protocol === 'http:' && isLoopback(u.host)))
    return `its token realm ${u.protocol}//${u.host} is not https (plain http only on loopback)`;
  if (u.username || u.password) return 'its token realm carries credentials of its own';
  const reg = hostOf(registryHost);
  const allowed = new Set([reg, ...(KNOWN_TOKEN_HOSTS[reg] ?? []), ...configuredTokenHosts(env)]);
  if (!allowed.has(realmHost)) return `its token realm is on ${u.host}, another host than ${registryHost}`;
  return null;
}

export function mediaTypeOf(res: Response): string {
  return (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
}

/** A realm's scheme and host, for messages (never its query). */
export function safeHost(realm: string): string {
  try {
    const u = new URL(realm);
    return `${u.protocol}//${u.host}`;
  } catch {
    return JSON.stringify(realm.slice(0, 80));
  }
}
