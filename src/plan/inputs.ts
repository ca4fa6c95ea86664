import { createHash } from 'node:crypto';
import { lstat, readdir, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Issue, IssueCode } from '../errors.js';
import { formatPath } from '../recipe/positions.js';
import { fsFailure, type FileIssueCode } from '../recipe/read.js';
import { normalizeRelative, type Recipe } from '../recipe/schema.js';
import { contextPathFor, REQUIREMENTS_FILE } from './build-plan.js';
import type { DigestCache } from './digest-cache.js';
import { MAX_FILES_PER_FOLDER, MAX_INPUTS } from './limits.js';
import { MAX_KEY_BYTES, normalizeFingerprint, readOpenPgpKey } from './openpgp.js';
import type { PlanInput } from './types.js';

// Finds and hashes every file a recipe names. Each must be a regular file inside the recipe's
// folder (symlinks are followed, but must not lead outside), and a declared sha256 must match.

interface Wanted {
  role: PlanInput['role'];
  source: string;
  sha256?: string;
  mode?: string;
  owner?: string;
  destination?: string;
  fieldPath: (string | number)[];
  /** A per-platform file (a path with {arch}): the one platform it is for. */
  platform?: string;
  /** Where its digest is written, when not next to the path. */
  shaField?: (string | number)[];
  /** A per-platform file whose platform has no digest in the recipe. */
  digestMissing?: boolean;
  /** An apt key: the fingerprint the recipe pins (as written). */
  fingerprint?: string;
  /** A file found in a `files` folder entry: that entry's folder and destination. */
  folder?: { source: string; destination: string };
  /** A per-platform file: its source as written, with {arch}. */
  archSource?: string;
}

export function inputsOf(recipe: Recipe): Wanted[] {
  const out: Wanted[] = [];
  const e = recipe.engine;
  if (e.wheel) out.push({ role: 'engine-wheel', source: e.wheel.path, sha256: e.wheel.sha256, fieldPath: ['engine', 'wheel', 'path'] });
  if (e.binary) {
    const b = e.binary;
    if (typeof b.sha256 === 'string') out.push({ role: 'engine-binary', source: b.path, sha256: b.sha256, fieldPath: ['engine', 'binary', 'path'] });
    else {
      // One file per platform: each checked against its own platform only.
      for (const platform of recipe.base.platforms) {
        const arch = platform.split('/')[1] as 'amd64' | 'arm64';
        const digest = b.sha256[arch];
        out.push({ role: 'engine-binary', source: b.path.replaceAll('{arch}', arch), ...(digest ? { sha256: digest } : { digestMissing: true }), platform, shaField: ['engine', 'binary', 'sha256', arch], fieldPath: ['engine', 'binary', 'path'] });
      }
    }
  }
  recipe.dependencies.wheels.forEach((w, i) => out.push({ role: 'dependency-wheel', source: w.path, sha256: w.sha256, fieldPath: ['dependencies', 'wheels', i, 'path'] }));
  if (recipe.dependencies.requirements) out.push({ role: 'requirements', source: recipe.dependencies.requirements.path, sha256: recipe.dependencies.requirements.sha256, fieldPath: ['dependencies', 'requirements', 'path'] });
  recipe.aptRepositories.forEach((a, i) =>
    out.push({ role: 'apt-key', source: a.key.path, sha256: a.key.sha256, ...(a.key.fingerprint ? { fingerprint: a.key.fingerprint } : {}), fieldPath: ['aptRepositories', i, 'key', 'path'] }),
  );
  (recipe.dynamoSource?.wheels ?? []).forEach((w, i) => out.push({ role: 'dynamo-wheel', source: w.path, sha256: w.sha256, fieldPath: ['dynamoSource', 'wheels', i, 'path'] }));
  recipe.files.forEach((f, i) => {
    const common = { role: 'file' as const, ...(f.mode ? { mode: f.mode } : {}), ...(f.owner ? { owner: f.owner } : {}), destination: f.destination, fieldPath: ['files', i, 'source'] };
    if (!f.source.includes('{arch}')) return void out.push({ ...common, source: f.source, ...(typeof f.sha256 === 'string' ? { sha256: f.sha256 } : {}) });
    // One file per platform (lib/{arch}/libx.so): each is that platform's only.
    for (const platform of recipe.base.platforms) {
      const arch = platform.split('/')[1] as 'amd64' | 'arm64';
      const digest = typeof f.sha256 === 'object' ? f.sha256[arch] : undefined;
      out.push({ ...common, source: f.source.replaceAll('{arch}', arch), archSource: f.source, platform, ...(digest ? { sha256: digest } : typeof f.sha256 === 'object' ? { digestMissing: true } : {}), shaField: ['files', i, 'sha256', arch] });
    }
  });
  return out;
}

/**
 * The files below a folder, as paths relative to it, in code-unit order (the same on every
 * machine). Links are listed, not followed. Stops past `limit` (the caller refuses the folder).
 */
export async function folderFiles(dir: string, limit = MAX_FILES_PER_FOLDER): Promise<string[]> {
  const files: string[] = [];
  const walk = async (rel: string) => {
    for (const name of (await readdir(path.join(dir, rel))).sort()) {
      if (files.length > limit) return;
      const r = rel ? `${rel}/${name}` : name;
      // lstat: a link to a folder is not followed (a loop would walk forever); it is listed and
      // gets the same checks as any input (inside the folder, a regular file).
      const s = await lstat(path.join(dir, r)).catch(() => null);
      if (s?.isDirectory()) await walk(r);
      else files.push(r);
    }
  };
  await walk('');
  return files.sort();
}

/**
 * The digest of a `files` folder entry: sha256 over its listing, one `<sha256>  <path below the
 * folder>` line per file in path order (what `sha256sum` prints, run inside the folder). Pure.
 */
export function folderDigest(files: { path: string; sha256: string }[]): string {
  const listing = [...files].sort((a, b) => (a.path < b.path ? -1 : a.path > b.path ? 1 : 0)).map((f) => `${f.sha256}  ${f.path}\n`).join('');
  return createHash('sha256').update(listing).digest('hex');
}

/**
 * A `files` entry that names a folder stands for every regular file below it, in code-unit order
 * of their paths (the same on every machine), each with its destination below the folder's.
 */
interface PinnedFolder {
  source: string;
  sha256: string;
  fieldPath: (string | number)[];
  count: number;
}

async function expandFolders(wanted: Wanted[], recipeDir: string): Promise<{ list: Wanted[]; empty: Wanted[]; tooMany: Wanted[]; folders: PinnedFolder[]; archFolders: Wanted[] }> {
  const folders: PinnedFolder[] = [];
  const archFolders: Wanted[] = [];
  const list: Wanted[] = [];
  const empty: Wanted[] = [];
  const tooMany: Wanted[] = [];
  for (const w of wanted) {
    const st = w.role === 'file' ? await stat(path.join(recipeDir, w.source)).catch(() => null) : null;
    if (!st?.isDirectory()) {
      list.push(w);
      continue;
    }
    if (w.archSource) {
      archFolders.push(w);
      continue;
    }
    // Past the limit the folder is refused (collectInputs): no need to list millions of files.
    const files = await folderFiles(path.join(recipeDir, w.source));
    if (!files.length) empty.push(w);
    if (files.length > MAX_FILES_PER_FOLDER) {
      tooMany.push(w);
      continue;
    }
    const folder = { source: normalizeRelative(w.source), destination: w.destination!.replace(/\/+$/, '') };
    // The entry's sha256 is the folder's (its listing), checked once every file is hashed.
    const { sha256: folderSha, ...each } = w;
    if (folderSha !== undefined) folders.push({ source: folder.source, sha256: folderSha, fieldPath: w.fieldPath, count: files.length });
    for (const r of files) list.push({ ...each, source: `${folder.source}/${r}`, destination: `${folder.destination}/${r}`, folder });
  }
  return { list, empty, tooMany, folders, archFolders };
}

export async function collectInputs(opts: {
  recipe: Recipe;
  recipeDir: string;
  file: string;
  cache: DigestCache;
  locate: (p: (string | number)[]) => { line: number; col: number };
}): Promise<{ inputs: PlanInput[]; issues: Issue[] }> {
  const issues: Issue[] = [];
  const inputs: PlanInput[] = [];
  const rootReal = await realpath(opts.recipeDir);
  const seen = new Map<string, string>();
  // Where each file lands in the image: two inputs with one destination would silently overwrite.
  const destinations = new Map<string, string>();
  if (opts.recipe.engine.binary) destinations.set(path.posix.normalize(opts.recipe.engine.binary.installPath), 'engine.binary.installPath');
  const expanded = await expandFolders(inputsOf(opts.recipe), opts.recipeDir);
  for (const w of expanded.tooMany)
    issues.push({ code: 'input.too-many-files', severity: 'error', file: opts.file, ...opts.locate(w.fieldPath), path: w.fieldPath, message: `"${w.source}" holds more than ${MAX_FILES_PER_FOLDER} files`, hint: 'ship a large tree as an archive or through imports from an image; a folder entry is for configuration and small assets' });
  if (expanded.list.length > MAX_INPUTS)
    issues.push({ code: 'input.too-many-files', severity: 'error', file: opts.file, line: 1, col: 1, path: ['files'], message: `the recipe names ${expanded.list.length} files in all, more than ${MAX_INPUTS}`, hint: 'ship a large tree as an archive or through imports from an image' });
  for (const w of expanded.archFolders)
    issues.push({ code: 'input.directory', severity: 'error', file: opts.file, ...opts.locate(w.fieldPath), path: w.fieldPath, message: `"${w.source}" is a folder: a per-platform ({arch}) entry names one file`, hint: 'one entry per file: lib/{arch}/libx.so' });
  for (const w of expanded.empty)
    issues.push({ code: 'input.empty-folder', severity: 'error', file: opts.file, ...opts.locate(w.fieldPath), path: w.fieldPath, message: `"${w.source}" is a folder with no files in it`, hint: 'a folder entry copies the files below it' });
  for (const w of expanded.list) {
    const err = (fieldPath: (string | number)[], code: IssueCode, message: string, hint?: string) =>
      issues.push({ code, severity: 'error', file: opts.file, ...opts.locate(fieldPath), path: fieldPath, message, ...(hint ? { hint } : {}) });
    if (w.destination !== undefined) {
      const dest = path.posix.normalize(w.destination);
      const other = destinations.get(dest);
      // The platforms' files of one {arch} entry share their destination: each image gets one.
      if (other !== undefined && !(w.archSource && other === formatPath(w.fieldPath.slice(0, -1)))) {
        err([...w.fieldPath.slice(0, -1), 'destination'], 'input.duplicate-destination', `"${w.destination}" is also the destination of ${other}: the later copy would silently replace the earlier`, 'give each file its own destination');
        continue;
      }
      destinations.set(dest, formatPath(w.fieldPath.slice(0, -1)));
    }
    // Checked on the normalised path, before anything touches the file system: `.//Dockerfile` is `Dockerfile`.
    const contextPath = contextPathFor(w.role, w.source);
    if (contextPath === 'Dockerfile' || contextPath === REQUIREMENTS_FILE) {
      err(w.fieldPath, 'input.reserved', `"${w.source}" is the top-level "Dockerfile" of the build context, where the rendered Dockerfile goes`, 'move the file into a subfolder');
      continue;
    }
    if (w.digestMissing) {
      err(w.shaField!.slice(0, -1), 'input.platform-mismatch', `has no digest for ${w.platform} (base.platforms lists it): add ${w.platform!.split('/')[1]}: <sha256 of ${w.source}>`, 'one entry per architecture the recipe builds');
      continue;
    }
    const abs = path.join(opts.recipeDir, w.source);
    let real: string;
    try {
      await lstat(abs);
      real = await realpath(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR') err(w.fieldPath, 'input.missing', `"${w.source}" does not exist (looked in ${path.relative(process.cwd(), abs) || abs})`, 'paths are relative to the recipe\'s folder');
      else {
        const [c, message, hint] = fsFailure(code, 'file');
        err(w.fieldPath, inputCode(c), `"${w.source}": ${message}`, hint);
      }
      continue;
    }
    if (real !== rootReal && !real.startsWith(rootReal + path.sep)) {
      err(w.fieldPath, 'input.outside', `"${w.source}" resolves to ${real}, outside the recipe's folder`, 'copy the file next to the recipe; symlinks must not leave its folder');
      continue;
    }
    const st = await stat(real);
    if (!st.isFile()) {
      err(w.fieldPath, 'input.not-a-file', `"${w.source}" is a ${st.isDirectory() ? 'directory' : 'special file'}, not a regular file`, 'name one file per entry');
      continue;
    }
    const dup = seen.get(contextPath);
    if (dup !== undefined) {
      err(w.fieldPath, 'input.duplicate', `"${w.source}" lands at ${contextPath} in the build context, like "${dup}"`, 'rename one of them');
      continue;
    }
    seen.set(contextPath, w.source);
    let sha256: string;
    try {
      sha256 = await opts.cache.digest(real, st);
    } catch (e) {
      const [c, message, hint] = fsFailure((e as NodeJS.ErrnoException).code, 'file');
      err(w.fieldPath, inputCode(c), `"${w.source}": ${message}`, hint);
      continue;
    }
    if (w.sha256 !== undefined) {
      const declared = w.sha256.replace(/^sha256:/, '');
      // A mismatch is only reported from the file's bytes, never from a remembered digest.
      if (declared !== sha256) sha256 = await opts.cache.rehash(real, st);
      if (declared !== sha256) {
        const shaPath = w.shaField ?? [...w.fieldPath.slice(0, -1), 'sha256'];
        err(shaPath, 'input.sha256-mismatch', `sha256 mismatch for ${w.source}: the recipe says ${declared}, the file is ${sha256}`, `if the new file is intended: dynamo-image pin ${opts.file} (writes its digest into the recipe)`);
        continue;
      }
    }
    // An engine built for one architecture must not go into an image for another.
    const platformProblem = w.role === 'engine-binary' || (w.role === 'file' && w.platform) ? await elfMismatch(real, w.platform ? [w.platform] : opts.recipe.base.platforms) : w.role === 'engine-wheel' || w.role === 'dependency-wheel' || w.role === 'dynamo-wheel' ? wheelMismatch(w.source, opts.recipe.base.platforms) : null;
    if (platformProblem) {
      err(w.fieldPath, 'input.platform-mismatch', `"${w.source}" ${platformProblem}`, 'build the engine for every platform in base.platforms (one file each: bin/{arch}/NAME), or list only the platforms it runs on');
      continue;
    }
    // An apt key is an OpenPGP public key in the format its suffix tells apt; its fingerprints go
    // into the plan, and a pinned one must be among them.
    let fingerprints: string[] | undefined;
    if (w.role === 'apt-key') {
      const key = st.size <= MAX_KEY_BYTES ? readOpenPgpKey(await readFile(real), w.source) : { ok: false as const, error: `is ${st.size} bytes, more than any signing key (limit ${MAX_KEY_BYTES})` };
      if (!key.ok) {
        err(w.fieldPath, 'input.apt-key', `"${w.source}" is not an apt signing key: it ${key.error.replace(/^"[^"]*" /, '')}`, 'an OpenPGP public key: `gpg --export KEYID > key.gpg` (binary) or `gpg --armor --export KEYID > key.asc`');
        continue;
      }
      fingerprints = key.fingerprints;
      if (w.fingerprint !== undefined) {
        const pinned = normalizeFingerprint(w.fingerprint);
        if (pinned === null || !fingerprints.includes(pinned)) {
          err([...w.fieldPath.slice(0, -1), 'fingerprint'], 'input.apt-key-fingerprint', `"${w.source}" holds the key${fingerprints.length > 1 ? 's' : ''} ${fingerprints.join(', ')}, not ${w.fingerprint}`, 'get the fingerprint from the repository\'s publisher and the key file from the same place; a key that does not match may not be theirs');
          continue;
        }
      }
    }
    inputs.push({
      role: w.role,
      source: w.source,
      contextPath,
      sha256,
      size: st.size,
      ...(w.mode ? { mode: w.mode } : {}),
      ...(w.owner ? { owner: w.owner } : {}),
      ...(w.destination ? { destination: w.destination } : {}),
      ...(w.platform ? { platform: w.platform } : {}),
      ...(fingerprints ? { fingerprints } : {}),
      ...(w.folder ? { folder: w.folder } : {}),
      ...(w.archSource ? { archSource: contextPathFor('file', w.archSource) } : {}),
    });
  }
  // A folder entry's sha256: over the listing of its files (all of them checked above).
  for (const f of expanded.folders) {
    const members = inputs.filter((i) => i.folder?.source === f.source);
    if (members.length !== f.count) continue; // a file of it failed: that is reported already
    const got = folderDigest(members.map((m) => ({ path: m.source.slice(f.source.length + 1), sha256: m.sha256 })));
    const declared = f.sha256.replace(/^sha256:/, '');
    if (got !== declared) {
      const shaPath = [...f.fieldPath.slice(0, -1), 'sha256'];
      issues.push({
        code: 'input.sha256-mismatch', severity: 'error', file: opts.file, ...opts.locate(shaPath), path: shaPath,
        message: `sha256 mismatch for the folder ${f.source}/ (${f.count} files): the recipe says ${declared}, its listing is ${got}`,
        hint: `if the change is intended: dynamo-image pin ${opts.file} (the digest is sha256 over "<sha256>  <path>" lines, as sha256sum prints them inside the folder)`,
      });
    }
  }
  return { inputs, issues };
}

/** The file-level code of a read failure, as an input's code (`file.unreadable` -> `input.unreadable`). */
function inputCode(c: FileIssueCode): IssueCode {
  return c === 'file.missing' ? 'input.missing' : (`input.${c.slice('file.'.length)}` as IssueCode);
}

/** ELF e_machine -> the platform it runs on (the ones a recipe can name). */
const ELF_MACHINES: Record<number, string> = { 0x3e: 'linux/amd64', 0xb7: 'linux/arm64' };

/** Why an executable cannot run on the recipe's platforms (from its ELF header), or null. */
export async function elfMismatch(file: string, platforms: readonly string[]): Promise<string | null> {
  const { open } = await import('node:fs/promises');
  const fh = await open(file, 'r');
  try {
    const head = Buffer.alloc(20);
    const { bytesRead } = await fh.read(head, 0, 20, 0);
    // Not ELF (a script, for example): nothing to say about the architecture.
    if (bytesRead < 20 || head.readUInt32BE(0) !== 0x7f454c46) return null;
    const machine = head[5] === 2 ? head.readUInt16BE(18) : head.readUInt16LE(18);
    const runsOn = ELF_MACHINES[machine] ?? `machine 0x${machine.toString(16)}`;
    const wrong = platforms.filter((p) => p !== runsOn);
    return wrong.length ? `is an ELF executable for ${runsOn}, not ${wrong.join(', ')}` : null;
  } finally {
    await fh.close();
  }
}

/** Why a wheel cannot install on the recipe's platforms (from its platform tag), or null. */
export function wheelMismatch(source: string, platforms: readonly string[]): string | null {
  const tag = /-([^-]+)\.whl$/.exec(source)?.[1];
  if (!tag || tag === 'any') return null;
  const arches: (string | null)[] = tag.split('.').map((t) => (/x86_64|amd64/.test(t) ? 'linux/amd64' : /aarch64|arm64/.test(t) ? 'linux/arm64' : null));
  if (arches.some((a) => a === null)) return null;
  const wrong = platforms.filter((p) => !arches.includes(p));
  return wrong.length ? `is a wheel for ${[...new Set(arches)].join(', ')} (platform tag ${tag}), not ${wrong.join(', ')}` : null;
}
