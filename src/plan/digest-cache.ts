import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { readFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Stats } from 'node:fs';
import { folderProblem, recordKey, seal, sealMatches, trustedFolder, writeExclusive } from './cache-trust.js';

// sha256 of input files, remembered by (path, size, mtime, ctime, inode) so that a 2 GB wheel that did not
// change is not read again on every plan. The cache is advisory: a missing or corrupt cache file
// only costs a re-hash. The build re-checks every byte while it streams the context anyway.
// Trusted only from a folder no other user can write (plan/cache-trust.ts), sealed with the cache's
// HMAC key and written under a random O_EXCL name: another user cannot plant a digest for a file
// that was swapped. An untrusted folder is neither read nor written (`problem` says why).

const MAX_ENTRIES = 2000;

interface Entry {
  size: number;
  mtimeMs: number;
  /** The inode's change time: a program can set mtime back after an edit, not ctime. */
  ctimeMs: number;
  ino: number;
  sha256: string;
}

export function cacheDir(): string {
  return process.env['DYNAMO_IMAGE_CACHE_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'dynamo-image');
}

export async function hashFile(file: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(file, { highWaterMark: 1 << 20 })) h.update(chunk as Buffer);
  return h.digest('hex');
}

const SHA256_HEX = /^[0-9a-f]{64}$/;

/** Only entries of the right shape are kept: anything else in the file costs a re-hash, never an error. */
export function trustedEntries(parsed: unknown): Record<string, Entry> {
  const out: Record<string, Entry> = {};
  if (typeof parsed !== 'object' || parsed === null || (parsed as { version?: unknown }).version !== 1) return out;
  const entries = (parsed as { entries?: unknown }).entries;
  if (typeof entries !== 'object' || entries === null || Array.isArray(entries)) return out;
  for (const [k, v] of Object.entries(entries as Record<string, unknown>)) {
    if (typeof v !== 'object' || v === null) continue;
    const e = v as Record<string, unknown>;
    const num = (x: unknown) => typeof x === 'number' && Number.isFinite(x) && x >= 0;
    if (
      k.startsWith('/') &&
      num(e['size']) &&
      num(e['mtimeMs']) &&
      num(e['ctimeMs']) &&
      num(e['ino']) &&
      typeof e['sha256'] === 'string' &&
      SHA256_HEX.test(e['sha256'])
    )
      out[k] = { size: e['size'] as number, mtimeMs: e['mtimeMs'] as number, ctimeMs: e['ctimeMs'] as number, ino: e['ino'] as number, sha256: e['sha256'] };
  }
  return out;
}

export class DigestCache {
  private entries: Record<string, Entry> = {};
  private dirty = false;
  private key: Buffer | null = null;
  hits = 0;
  misses = 0;
  /** Why the cache folder is not used (another user can write it), or null. */
  problem: string | null = null;
  constructor(private readonly file: string | null) {}

  static async open(dir = cacheDir()): Promise<DigestCache> {
    if (process.env['DYNAMO_IMAGE_NO_DIGEST_CACHE'] === '1') return new DigestCache(null);
    const problem = await folderProblem(dir, dir);
    if (problem) {
      const c = new DigestCache(null);
      c.problem = problem;
      return c;
    }
    const c = new DigestCache(path.join(dir, 'digests.json'));
    try {
      const sealed = JSON.parse(await readFile(c.file!, 'utf8')) as { body?: unknown; mac?: unknown };
      c.key = await recordKey(dir);
      // Unsealed (an older version's file) or sealed with another key: start empty.
      if (typeof sealed.body === 'string' && sealMatches(c.key, sealed.body, sealed.mac)) c.entries = trustedEntries(JSON.parse(sealed.body));
    } catch {
      // no cache yet, unreadable or not JSON: start empty
    }
    return c;
  }

  /**
   * Drops what is remembered for a file: after a digest the cache gave turned out wrong (a sha256
   * mismatch, a file that changed while it was sent), the next look is a real read.
   */
  forget(realPath: string): void {
    if (this.entries[realPath]) {
      delete this.entries[realPath];
      this.dirty = true;
    }
  }

  /** The digest from the file's bytes, whatever the cache says (and the cache is corrected). */
  async rehash(realPath: string, st: Stats): Promise<string> {
    this.forget(realPath);
    return this.digest(realPath, st);
  }

  /** Opens the cache, forgets these files and saves it: for a build whose stream check failed. */
  static async forgetFiles(realPaths: string[], dir = cacheDir()): Promise<void> {
    const c = await DigestCache.open(dir);
    for (const p of realPaths) c.forget(p);
    await c.save();
  }

  async digest(realPath: string, st: Stats): Promise<string> {
    const e = Object.hasOwn(this.entries, realPath) ? this.entries[realPath] : undefined;
    if (e && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ctimeMs === st.ctimeMs && e.ino === st.ino) {
      this.hits++;
      return e.sha256;
    }
    this.misses++;
    const sha256 = await hashFile(realPath);
    delete this.entries[realPath];
    this.entries[realPath] = { size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino, sha256 };
    this.dirty = true;
    return sha256;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    // Bounded: the most recently added entries win (object keys keep insertion order).
    const keys = Object.keys(this.entries);
    if (keys.length > MAX_ENTRIES) for (const k of keys.slice(0, keys.length - MAX_ENTRIES)) delete this.entries[k];
    try {
      const dir = path.dirname(this.file);
      if (await trustedFolder(dir, dir)) return;
      this.key ??= await recordKey(dir);
      const body = JSON.stringify({ version: 1, entries: this.entries });
      await writeExclusive(this.file, JSON.stringify({ body, mac: seal(this.key, body) }));
    } catch {
      // a read-only home must not fail a build
    }
  }
}
