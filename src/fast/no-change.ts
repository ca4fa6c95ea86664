import { createHash } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { folderProblem, recordKey, seal, sealMatches, trustedFolder, writeExclusive } from '../plan/cache-trust.js';
import { replayableSpellings } from '../options/flags.js';
import { BASE_IDS_LABEL } from '../plan/labels.js';
import { TOOL_VERSION } from '../version.js';

// Kept to node's own modules (the version, the flag table and cache-trust, node's only): this
// file is all a no-change build loads.

// `dynamo-image build` when nothing changed, without loading the validation stack.
//
// A full run that finds its image up to date records what it read (the recipe, its inputs, the
// lock file, the support data, the smoke-test record: path, size, mtime, ctime, inode) and what it
// printed. The next identical invocation (same arguments, folder, engine and settings) checks every
// one of those files with one stat each and asks the engine, over its socket, whether the image is
// still there with the same build key and every tag; when all holds it prints the same result
// (fresh timestamps and duration) and exits 0. Anything else, or any doubt, runs the full path.
// The stats are the same trust the digest cache gives input files; ctime catches an edit whose
// mtime was set back. A record counts only from a folder no other user can write, sealed with the
// cache's HMAC key (plan/cache-trust.ts): a planted record could otherwise declare any image "up to
// date" and print anything.

const RECORD_VERSION = 1;

/** Flags after which the result of an up-to-date build is the same every time: the flag table's `replay`. */
const { bare: REPLAYABLE, withValue: REPLAYABLE_WITH_VALUE } = replayableSpellings();

/** Environment that changes what a build does or prints. */
const ENV_KEYS = [
  'DOCKER_HOST',
  'DOCKER_TLS_VERIFY',
  'DOCKER_CERT_PATH',
  'DYNAMO_IMAGE_CACHE_DIR',
  'XDG_CACHE_HOME',
  'HOME',
  'CI',
  'GITHUB_ACTIONS',
  'SOURCE_DATE_EPOCH',
  'DYNAMO_IMAGE_NO_DIGEST_CACHE',
  'DYNAMO_IMAGE_NO_FAST_PATH',
];

export interface FileStamp {
  path: string;
  size?: number;
  mtimeMs?: number;
  ctimeMs?: number;
  ino?: number;
  absent?: true;
}

export interface NoChangeRecord {
  version: number;
  tool: string;
  files: FileStamp[];
  image: { id: string; tags: string[]; label: string; key: string };
  /** What the up-to-date run printed: its progress notes, its summary line, its JSON result. */
  notes: string[];
  summary: string;
  json: Record<string, unknown>;
}

/** Whether these arguments name a `build` whose up-to-date result can be replayed. */
export function replayable(argv: string[]): boolean {
  if (argv[0] !== 'build') return false;
  let positional = 0;
  for (let i = 1; i < argv.length; i++) {
    const a = argv[i]!;
    if (REPLAYABLE.has(a)) continue;
    if (REPLAYABLE_WITH_VALUE.has(a)) {
      i++;
      continue;
    }
    if (a.startsWith('-')) return false;
    positional++;
  }
  // `--gpu require` always runs the tests again.
  const gpu = argv.indexOf('--gpu');
  if (gpu >= 0 && argv[gpu + 1] === 'require') return false;
  return positional <= 1;
}

/** The same folder as the digest cache's (plan/digest-cache.ts cacheDir), without loading it. */
function cacheDir(): string {
  return process.env['DYNAMO_IMAGE_CACHE_DIR'] ?? path.join(process.env['XDG_CACHE_HOME'] ?? path.join(os.homedir(), '.cache'), 'dynamo-image');
}

/** The local socket (as engine/socket-http.ts localSocket), or null. */
function localSocket(): string | null {
  const host = process.env['DOCKER_HOST'];
  if (!host) return '/var/run/docker.sock';
  const m = /^unix:\/\/(\/.+)$/.exec(host);
  return m ? m[1]! : null;
}

/**
 * One HTTP/1.0 GET over the unix socket, by hand: the engine answers and closes, no chunking. Node's
 * http module costs more to load than this whole check.
 */
function getJson(socketPath: string, p: string): Promise<{ status: number; body: unknown }> {
  return new Promise((resolve, reject) => {
    const sock = net.connect(socketPath);
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => sock.destroy(new Error('timeout')), 5000);
    sock.on('connect', () => sock.end(`GET ${p} HTTP/1.0\r\nHost: docker\r\n\r\n`));
    sock.on('data', (c: Buffer) => chunks.push(c));
    sock.on('error', (e) => (clearTimeout(timer), reject(e)));
    sock.on('close', () => {
      clearTimeout(timer);
      const text = Buffer.concat(chunks).toString('utf8');
      const head = text.indexOf('\r\n\r\n');
      const status = Number(/^HTTP\/1\.[01] (\d{3})/.exec(text)?.[1] ?? 0);
      try {
        resolve({ status, body: head >= 0 && status === 200 ? JSON.parse(text.slice(head + 4)) : null });
      } catch (e) {
        reject(e as Error);
      }
    });
  });
}

function recordFile(argv: string[], cwd: string, env: NodeJS.ProcessEnv): string {
  const key = createHash('sha256')
    .update(JSON.stringify({ argv, cwd, env: ENV_KEYS.map((k) => env[k] ?? null), tool: TOOL_VERSION, tty: Boolean(process.stderr.isTTY) }))
    .digest('hex');
  return path.join(cacheDir(), 'no-change', `${key}.json`);
}

export function stampOf(file: string): FileStamp {
  try {
    const st = statSync(file);
    return { path: file, size: st.size, mtimeMs: st.mtimeMs, ctimeMs: st.ctimeMs, ino: st.ino };
  } catch {
    return { path: file, absent: true };
  }
}

function same(a: FileStamp, b: FileStamp): boolean {
  return a.absent === b.absent && a.size === b.size && a.mtimeMs === b.mtimeMs && a.ctimeMs === b.ctimeMs && a.ino === b.ino;
}

/** Called by the full path after an up-to-date build. Never fails the build. */
export async function recordNoChange(argv: string[], record: Omit<NoChangeRecord, 'version' | 'tool'>): Promise<void> {
  if (!replayable(argv) || process.env['DYNAMO_IMAGE_NO_FAST_PATH'] === '1') return;
  try {
    const file = recordFile(argv, process.cwd(), process.env);
    if (await trustedFolder(path.dirname(file), cacheDir())) return;
    const body = JSON.stringify({ version: RECORD_VERSION, tool: TOOL_VERSION, ...record });
    await writeExclusive(file, JSON.stringify({ body, mac: seal(await recordKey(cacheDir()), body) }));
  } catch {
    // a read-only cache folder only costs the fast path
  }
}

export interface ReplayIo {
  out: (text: string) => void;
  err: (text: string) => void;
}

/**
 * The fast path. Returns the exit code when it could answer, null when the full path must run.
 * It answers only "up to date": everything else (a change, a missing tag, an engine elsewhere)
 * goes to the full path, which decides.
 */
export async function tryNoChange(argv: string[], io: ReplayIo): Promise<number | null> {
  const started = Date.now();
  if (!replayable(argv) || process.env['DYNAMO_IMAGE_NO_FAST_PATH'] === '1') return null;
  const sock = localSocket();
  if (!sock) return null;
  let rec: NoChangeRecord;
  try {
    const file = recordFile(argv, process.cwd(), process.env);
    if (await folderProblem(path.dirname(file), cacheDir())) return null;
    const sealed = JSON.parse(readFileSync(file, 'utf8')) as { body?: unknown; mac?: unknown };
    if (typeof sealed.body !== 'string' || !sealMatches(await recordKey(cacheDir()), sealed.body, sealed.mac)) return null;
    rec = JSON.parse(sealed.body) as NoChangeRecord;
  } catch {
    return null;
  }
  if (rec.version !== RECORD_VERSION || rec.tool !== TOOL_VERSION || !Array.isArray(rec.files) || !rec.files.length) return null;
  if (!rec.files.every((f) => same(stampOf(f.path), f))) return null;
  try {
    const a = await getJson(sock, `/images/${encodeURIComponent(rec.image.id)}/json`);
    if (a.status !== 200) return null;
    const img = a.body as { Id?: string; RepoTags?: string[] | null; Config?: { Labels?: Record<string, string> | null } };
    if (img.Id !== rec.image.id || img.Config?.Labels?.[rec.image.label] !== rec.image.key) return null;
    const tags = new Set((img.RepoTags ?? []).map((t) => (/[:@][^/]*$/.test(t) ? t : `${t}:latest`)));
    if (!rec.image.tags.every((t) => tags.has(t))) return null;
    // The local bases it was built on (builder/run-build.ts records them): each still that image.
    const bases = JSON.parse(img.Config?.Labels?.[BASE_IDS_LABEL] ?? '{}') as Record<string, unknown>;
    for (const [ref, id] of Object.entries(bases)) {
      const b = await getJson(sock, `/images/${encodeURI(ref)}/json`);
      if (b.status === 200 && (b.body as { Id?: string }).Id !== id) return null;
    }
  } catch {
    return null;
  }
  const quiet = argv.includes('-q') || argv.includes('--quiet');
  const json = argv.includes('--json');
  const tty = Boolean(process.stderr.isTTY) && !process.env['CI'];
  if (!quiet) {
    const stamp = new Date().toISOString().slice(11, 19);
    for (const n of rec.notes) io.err(tty ? n : `${stamp} ${n}`);
  }
  if (json) io.out(JSON.stringify({ ...rec.json, durationMs: Date.now() - started }));
  else if (!quiet) io.err(rec.summary);
  return 0;
}
