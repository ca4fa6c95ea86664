import { readFile, stat } from 'node:fs/promises';
import { EnvironmentError, UsageError } from '../errors.js';
import { isLoopbackHost } from '../loopback.js';
import { MAX_RELEASE_DATA_BYTES } from './release-data.js';

// Where `support import` reads Dynamo's release data from: a local file, or a URL where a network
// is allowed. What comes back is bounded before it is parsed (size, time, redirects, scheme): a
// server that answers with 50 MB, trickles or redirects to plain http gets a clear error, and the
// support data is not touched. No credentials are ever sent.

export interface ReleaseBytes {
  bytes: Buffer;
  /** What the error messages call it: the path, or the URL as asked. */
  name: string;
}

export class ReleaseDataTooLarge extends Error {
  constructor(readonly size: number | null) {
    super('too large');
  }
}

/** https anywhere; plain http only to loopback (a test server, a local mirror). */
export function urlProblem(text: string): string | null {
  let u: URL;
  try {
    u = new URL(text);
  } catch {
    return 'is not a URL';
  }
  if (u.username || u.password) return 'carries credentials; release data is public, and none are sent';
  if (u.protocol === 'https:') return null;
  if (u.protocol === 'http:' && isLoopbackHost(u.hostname)) return null;
  if (u.protocol === 'http:') return `is plain http to ${u.hostname}; use https (plain http only to loopback)`;
  return `has scheme ${u.protocol.replace(/:$/, '')}; use https`;
}

export function isUrl(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text);
}

export async function readReleaseSource(source: string, opts: { timeoutMs?: number; maxBytes?: number } = {}): Promise<ReleaseBytes> {
  const maxBytes = opts.maxBytes ?? MAX_RELEASE_DATA_BYTES;
  if (!isUrl(source)) {
    const st = await stat(source).catch(() => null);
    if (!st?.isFile())
      throw new UsageError(`${source}: no such file`, 'give the path or https URL of a releases.json (Dynamo docs: fern/assets/releases.json)');
    if (st.size > maxBytes) throw new ReleaseDataTooLarge(st.size);
    return { bytes: await readFile(source), name: source };
  }
  const bad = urlProblem(source);
  // A URL with credentials in it is named without them.
  if (bad) throw new UsageError(`${source.replace(/^([a-z][a-z0-9+.-]*:\/\/)[^/@]*@/i, '$1***@')} ${bad}`);
  const timeoutMs = opts.timeoutMs ?? Number(process.env['DYNAMO_IMAGE_SUPPORT_TIMEOUT_S'] ?? 30) * 1000;
  const signal = AbortSignal.timeout(timeoutMs);
  const fail = (why: string, hint?: string) => new EnvironmentError('support.fetch', `${source}: ${why}; nothing was changed`, hint);
  let url = source;
  try {
    for (let hop = 0; ; hop++) {
      const res = await fetch(url, { redirect: 'manual', signal, headers: { accept: 'application/json' } });
      if (res.status >= 300 && res.status < 400 && res.headers.get('location')) {
        await res.body?.cancel();
        const next = new URL(res.headers.get('location')!, url).toString();
        const nextBad = urlProblem(next);
        if (nextBad) throw fail(`redirected to ${next}, which ${nextBad}`);
        if (hop >= 5) throw fail('more than 5 redirects');
        url = next;
        continue;
      }
      if (res.status !== 200) {
        await res.body?.cancel();
        throw fail(`answered HTTP ${res.status}`);
      }
      const type = (res.headers.get('content-type') ?? '').split(';')[0]!.trim().toLowerCase();
      // GitHub's raw files come as text/plain; an HTML page (a captive portal, a login) is not data.
      if (type && type !== 'application/json' && type !== 'text/plain' && !type.endsWith('+json')) {
        await res.body?.cancel();
        throw fail(`answered ${type}, not JSON`);
      }
      const declared = Number(res.headers.get('content-length') ?? NaN);
      if (declared > maxBytes) {
        await res.body?.cancel();
        throw new ReleaseDataTooLarge(declared);
      }
      const chunks: Buffer[] = [];
      let size = 0;
      for await (const chunk of res.body ?? []) {
        size += (chunk as Uint8Array).length;
        if (size > maxBytes) throw new ReleaseDataTooLarge(null);
        chunks.push(Buffer.from(chunk as Uint8Array));
      }
      return { bytes: Buffer.concat(chunks), name: source };
    }
  } catch (e) {
    if (e instanceof ReleaseDataTooLarge || e instanceof EnvironmentError) throw e;
    if (signal.aborted) throw fail(`no complete answer within ${timeoutMs / 1000} s`, 'DYNAMO_IMAGE_SUPPORT_TIMEOUT_S sets the limit');
    throw fail(`cannot be read (${(e as Error).cause instanceof Error ? ((e as Error).cause as Error).message : (e as Error).message})`);
  }
}
