import { lstat, readFile, realpath, stat } from 'node:fs/promises';
import path from 'node:path';
import type { Issue, IssueCode } from '../errors.js';
import { formatPath } from '../recipe/positions.js';
import { fsFailure } from '../recipe/read.js';
import { type Recipe } from '../recipe/schema.js';
import { contextPathFor, REQUIREMENTS_FILE } from './build-plan.js';
import type { DigestCache } from './digest-cache.js';
import { MAX_FILES_PER_FOLDER, MAX_INPUTS } from './limits.js';
import { MAX_KEY_BYTES, normalizeFingerprint, readOpenPgpKey } from './openpgp.js';
import type { PlanInput } from './types.js';
import { expandFolders, folderDigest } from './folders.js';
import { inputsOf } from './input-list.js';
import { elfMismatch, inputCode, wheelMismatch } from './input-platforms.js';

export { folderDigest, folderFiles } from './folders.js';
export { elfMismatch, wheelMismatch } from './input-platforms.js';

// Finds and hashes every file a recipe names. Each must be a regular file inside the recipe's
// folder (symlinks are followed, but must not lead outside), and a declared sha256 must match.

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
    issues.push({
      code: 'input.too-many-files',
      severity: 'error',
      file: opts.file,
      ...opts.locate(w.fieldPath),
      path: w.fieldPath,
      message: `"${w.source}" holds more than ${MAX_FILES_PER_FOLDER} files`,
      hint: 'ship a large tree as an archive or through imports from an image; a folder entry is for configuration and small assets',
    });
  if (expanded.list.length > MAX_INPUTS)
    issues.push({
      code: 'input.too-many-files',
      severity: 'error',
      file: opts.file,
      line: 1,
      col: 1,
      path: ['files'],
      message: `the recipe names ${expanded.list.length} files in all, more than ${MAX_INPUTS}`,
      hint: 'ship a large tree as an archive or through imports from an image',
    });
  for (const w of expanded.archFolders)
    issues.push({
      code: 'input.directory',
      severity: 'error',
      file: opts.file,
      ...opts.locate(w.fieldPath),
      path: w.fieldPath,
      message: `"${w.source}" is a folder: a per-platform ({arch}) entry names one file`,
      hint: 'one entry per file: lib/{arch}/libx.so',
    });
  for (const w of expanded.empty)
    issues.push({
      code: 'input.empty-folder',
      severity: 'error',
      file: opts.file,
      ...opts.locate(w.fieldPath),
      path: w.fieldPath,
      message: `"${w.source}" is a folder with no files in it`,
      hint: 'a folder entry copies the files below it',
    });
  for (const w of expanded.list) {
    const err = (fieldPath: (string | number)[], code: IssueCode, message: string, hint?: string) =>
      issues.push({ code, severity: 'error', file: opts.file, ...opts.locate(fieldPath), path: fieldPath, message, ...(hint ? { hint } : {}) });
    if (w.destination !== undefined) {
      const dest = path.posix.normalize(w.destination);
      const other = destinations.get(dest);
      // The platforms' files of one {arch} entry share their destination: each image gets one.
      if (other !== undefined && !(w.archSource && other === formatPath(w.fieldPath.slice(0, -1)))) {
        err(
          [...w.fieldPath.slice(0, -1), 'destination'],
          'input.duplicate-destination',
          `"${w.destination}" is also the destination of ${other}: the later copy would silently replace the earlier`,
          'give each file its own destination',
        );
        continue;
      }
      destinations.set(dest, formatPath(w.fieldPath.slice(0, -1)));
    }
    // Checked on the normalised path, before anything touches the file system: `.//Dockerfile` is `Dockerfile`.
    const contextPath = contextPathFor(w.role, w.source);
    if (contextPath === 'Dockerfile' || contextPath === REQUIREMENTS_FILE) {
      err(
        w.fieldPath,
        'input.reserved',
        `"${w.source}" is the top-level "Dockerfile" of the build context, where the rendered Dockerfile goes`,
        'move the file into a subfolder',
      );
      continue;
    }
    if (w.digestMissing) {
      err(
        w.shaField!.slice(0, -1),
        'input.platform-mismatch',
        `has no digest for ${w.platform} (base.platforms lists it): add ${w.platform!.split('/')[1]}: <sha256 of ${w.source}>`,
        'one entry per architecture the recipe builds',
      );
      continue;
    }
    const abs = path.join(opts.recipeDir, w.source);
    let real: string;
    try {
      await lstat(abs);
      real = await realpath(abs);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'ENOENT' || code === 'ENOTDIR')
        err(
          w.fieldPath,
          'input.missing',
          `"${w.source}" does not exist (looked in ${path.relative(process.cwd(), abs) || abs})`,
          "paths are relative to the recipe's folder",
        );
      else {
        const [c, message, hint] = fsFailure(code, 'file');
        err(w.fieldPath, inputCode(c), `"${w.source}": ${message}`, hint);
      }
      continue;
    }
    if (real !== rootReal && !real.startsWith(rootReal + path.sep)) {
      err(
        w.fieldPath,
        'input.outside',
        `"${w.source}" resolves to ${real}, outside the recipe's folder`,
        'copy the file next to the recipe; symlinks must not leave its folder',
      );
      continue;
    }
    const st = await stat(real);
    if (!st.isFile()) {
      err(
        w.fieldPath,
        'input.not-a-file',
        `"${w.source}" is a ${st.isDirectory() ? 'directory' : 'special file'}, not a regular file`,
        'name one file per entry',
      );
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
        err(
          shaPath,
          'input.sha256-mismatch',
          `sha256 mismatch for ${w.source}: the recipe says ${declared}, the file is ${sha256}`,
          `if the new file is intended: dynamo-image pin ${opts.file} (writes its digest into the recipe)`,
        );
        continue;
      }
    }
    // An engine built for one architecture must not go into an image for another.
    const platformProblem =
      w.role === 'engine-binary' || (w.role === 'file' && w.platform)
        ? await elfMismatch(real, w.platform ? [w.platform] : opts.recipe.base.platforms)
        : w.role === 'engine-wheel' || w.role === 'dependency-wheel' || w.role === 'dynamo-wheel'
          ? wheelMismatch(w.source, opts.recipe.base.platforms)
          : null;
    if (platformProblem) {
      err(
        w.fieldPath,
        'input.platform-mismatch',
        `"${w.source}" ${platformProblem}`,
        'build the engine for every platform in base.platforms (one file each: bin/{arch}/NAME), or list only the platforms it runs on',
      );
      continue;
    }
    // An apt key is an OpenPGP public key in the format its suffix tells apt; its fingerprints go
    // into the plan, and a pinned one must be among them.
    let fingerprints: string[] | undefined;
    if (w.role === 'apt-key') {
      const key =
        st.size <= MAX_KEY_BYTES
          ? readOpenPgpKey(await readFile(real), w.source)
          : { ok: false as const, error: `is ${st.size} bytes, more than any signing key (limit ${MAX_KEY_BYTES})` };
      if (!key.ok) {
        err(
          w.fieldPath,
          'input.apt-key',
          `"${w.source}" is not an apt signing key: it ${key.error.replace(/^"[^"]*" /, '')}`,
          'an OpenPGP public key: `gpg --export KEYID > key.gpg` (binary) or `gpg --armor --export KEYID > key.asc`',
        );
        continue;
      }
      fingerprints = key.fingerprints;
      if (w.fingerprint !== undefined) {
        const pinned = normalizeFingerprint(w.fingerprint);
        if (pinned === null || !fingerprints.includes(pinned)) {
          err(
            [...w.fieldPath.slice(0, -1), 'fingerprint'],
            'input.apt-key-fingerprint',
            `"${w.source}" holds the key${fingerprints.length > 1 ? 's' : ''} ${fingerprints.join(', ')}, not ${w.fingerprint}`,
            "get the fingerprint from the repository's publisher and the key file from the same place; a key that does not match may not be theirs",
          );
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
        code: 'input.sha256-mismatch',
        severity: 'error',
        file: opts.file,
        ...opts.locate(shaPath),
        path: shaPath,
        message: `sha256 mismatch for the folder ${f.source}/ (${f.count} files): the recipe says ${declared}, its listing is ${got}`,
        hint: `if the change is intended: dynamo-image pin ${opts.file} (the digest is sha256 over "<sha256>  <path>" lines, as sha256sum prints them inside the folder)`,
      });
    }
  }
  return { inputs, issues };
}
