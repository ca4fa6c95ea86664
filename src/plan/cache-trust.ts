import { createHmac, randomBytes, timingSafeEqual } from 'node:crypto';
import { constants } from 'node:fs';
import { lstat, mkdir, open, readFile, rename, unlink } from 'node:fs/promises';
import path from 'node:path';

// The cache folder is trusted only when nobody else can write it (issue 19, point 3): every folder
// from the cache root down to a record is ours (owned by this user) and not group- or
// world-writable, and no part of it is a symbolic link. Records are written with O_EXCL under a
// random temporary name and renamed into place, and sealed with an HMAC whose key lives in a 0600
// file of the cache root: a record another user wrote, or copied from elsewhere, does not verify.

/** Why `dir` (and each folder above it, up to `root`) is not safe to trust, or null. */
export async function folderProblem(dir: string, root: string): Promise<string | null> {
  const uid = process.getuid?.();
  const chain: string[] = [];
  for (let d = path.resolve(dir); ; d = path.dirname(d)) {
    chain.push(d);
    if (d === path.resolve(root) || d === path.dirname(d)) break;
  }
  for (const d of chain) {
    let st;
    try {
      st = await lstat(d);
    } catch {
      continue; // made below, by us, 0700
    }
    if (st.isSymbolicLink()) return `${d} is a symbolic link`;
    if (!st.isDirectory()) return `${d} is not a folder`;
    if (uid !== undefined && st.uid !== uid) return `${d} belongs to uid ${st.uid}, not to this user (uid ${uid})`;
    if (st.mode & 0o022) return `${d} is writable by ${st.mode & 0o002 ? 'every user' : 'its group'} (mode ${(st.mode & 0o777).toString(8)})`;
  }
  return null;
}

/** Makes `dir` (0700) and checks it; a problem string when its records must not be trusted. */
export async function trustedFolder(dir: string, root: string): Promise<string | null> {
  try {
    await mkdir(dir, { recursive: true, mode: 0o700 });
  } catch (e) {
    return `cannot make ${dir}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`;
  }
  return folderProblem(dir, root);
}

/** The cache's HMAC key: 32 random bytes in ROOT/record-key, made once with O_EXCL, 0600, ours. */
export async function recordKey(root: string): Promise<Buffer> {
  const file = path.join(root, 'record-key');
  try {
    const h = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
    const key = randomBytes(32);
    await h.writeFile(key);
    await h.close();
    return key;
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
  }
  const st = await lstat(file);
  const uid = process.getuid?.();
  if (!st.isFile() || (uid !== undefined && st.uid !== uid) || st.mode & 0o077) throw new Error(`${file} is not a 0600 file of this user's`);
  const key = await readFile(file);
  if (key.length !== 32) throw new Error(`${file} is not a key`);
  return key;
}

export function seal(key: Buffer, body: string): string {
  return createHmac('sha256', key).update(body).digest('hex');
}

export function sealMatches(key: Buffer, body: string, mac: unknown): boolean {
  if (typeof mac !== 'string' || !/^[0-9a-f]{64}$/.test(mac)) return false;
  return timingSafeEqual(Buffer.from(seal(key, body), 'hex'), Buffer.from(mac, 'hex'));
}

/** Writes `data` to `file` through an O_EXCL temporary file of a random name, then renames it. */
export async function writeExclusive(file: string, data: string): Promise<void> {
  const tmp = `${file}.${randomBytes(8).toString('hex')}.tmp`;
  const h = await open(tmp, constants.O_WRONLY | constants.O_CREAT | constants.O_EXCL | constants.O_NOFOLLOW, 0o600);
  try {
    await h.writeFile(data);
  } finally {
    await h.close();
  }
  try {
    await rename(tmp, file);
  } catch (e) {
    await unlink(tmp).catch(() => undefined);
    throw e;
  }
}
