import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Stats } from 'node:fs';

// sha256 of input files, remembered by (path, size, mtime, inode) so that a 2 GB wheel that did not
// change is not read again on every plan. The cache is advisory: a missing or corrupt cache file
// only costs a re-hash. The build re-checks every byte while it streams the context anyway.

const MAX_ENTRIES = 2000;

interface Entry {
  size: number;
  mtimeMs: number;
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

export class DigestCache {
  private entries: Record<string, Entry> = {};
  private dirty = false;
  hits = 0;
  misses = 0;
  constructor(private readonly file: string | null) {}

  static async open(dir = cacheDir()): Promise<DigestCache> {
    if (process.env['DYNAMO_IMAGE_NO_DIGEST_CACHE'] === '1') return new DigestCache(null);
    const c = new DigestCache(path.join(dir, 'digests.json'));
    try {
      const parsed = JSON.parse(await readFile(c.file!, 'utf8')) as { version?: number; entries?: Record<string, Entry> };
      if (parsed.version === 1 && parsed.entries) c.entries = parsed.entries;
    } catch {
      // no cache yet, or unreadable: start empty
    }
    return c;
  }

  async digest(realPath: string, st: Stats): Promise<string> {
    const e = this.entries[realPath];
    if (e && e.size === st.size && e.mtimeMs === st.mtimeMs && e.ino === st.ino) {
      this.hits++;
      return e.sha256;
    }
    this.misses++;
    const sha256 = await hashFile(realPath);
    delete this.entries[realPath];
    this.entries[realPath] = { size: st.size, mtimeMs: st.mtimeMs, ino: st.ino, sha256 };
    this.dirty = true;
    return sha256;
  }

  async save(): Promise<void> {
    if (!this.file || !this.dirty) return;
    // Bounded: the most recently added entries win (object keys keep insertion order).
    const keys = Object.keys(this.entries);
    if (keys.length > MAX_ENTRIES) for (const k of keys.slice(0, keys.length - MAX_ENTRIES)) delete this.entries[k];
    try {
      await mkdir(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.${process.pid}.tmp`;
      await writeFile(tmp, JSON.stringify({ version: 1, entries: this.entries }));
      await rename(tmp, this.file);
    } catch {
      // a read-only home must not fail a build
    }
  }
}
