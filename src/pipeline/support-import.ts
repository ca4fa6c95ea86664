import { readFile, rename, writeFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import path from 'node:path';
import { parseDocument } from 'yaml';
import { OperationError, UsageError } from '../errors.js';
import { mergeReleaseData, renderMatrix, type MatrixChange, type SourceCitation } from '../support/import-releases.js';
import { PACKAGE_ROOT } from '../support/load.js';
import { MAX_RELEASE_DATA_BYTES, readReleaseData, ReleaseDataError } from '../support/release-data.js';
import { readReleaseSource, ReleaseDataTooLarge } from '../support/release-source.js';
import { SupportMatrixFile } from '../support/schema.js';

// `support import`: Dynamo's release data (a file or a bounded https URL) merged into
// support-matrix.yaml. What would be written must be valid support data, whatever the input said;
// bad input is a list of problems and nothing is changed.

export interface SupportImportRequest {
  source: string;
  data?: string | undefined;
  citeRepo?: string | undefined;
  citePath?: string | undefined;
  citeCommit?: string | undefined;
}

const SOURCE_KEY = 'RJ';

export type SupportImport =
  { ok: true; target: string; text: string; changes: MatrixChange[]; skipped: string[] } | { ok: false; problems: string[]; summary: string };

export async function prepareSupportImport(req: SupportImportRequest): Promise<SupportImport> {
  const file = req.source;
  const dir = req.data ?? path.join(PACKAGE_ROOT, 'base-images');
  const target = path.join(dir, 'support-matrix.yaml');
  if (req.citeCommit !== undefined && !/^[0-9a-f]{40}$/.test(req.citeCommit))
    throw new UsageError(`--cite-commit ${req.citeCommit}: a commit is 40 hex digits`);
  let source;
  try {
    source = await readReleaseSource(file);
  } catch (e) {
    if (!(e instanceof ReleaseDataTooLarge)) throw e;
    return {
      ok: false,
      problems: [
        `${file}: error[support.bad-release-data]: $: is ${e.size !== null ? `${e.size} bytes` : `over ${MAX_RELEASE_DATA_BYTES} bytes (read up to there)`}, more than release data ever is (limit ${MAX_RELEASE_DATA_BYTES}); nothing was changed`,
      ],
      summary: '',
    };
  }
  let data;
  try {
    data = readReleaseData(source.bytes);
  } catch (e) {
    if (!(e instanceof ReleaseDataError)) throw e;
    return {
      ok: false,
      problems: e.problems.map((p) => `${file}: error[support.bad-release-data]: ${p.path}: ${p.message}`),
      summary: `${e.problems.length} problem${e.problems.length > 1 ? 's' : ''} in ${file}; nothing was changed`,
    };
  }
  const doc = parseDocument(await readFile(target, 'utf8'));
  const cite: SourceCitation = {
    repo: req.citeRepo ?? 'ai-dynamo/dynamo',
    file: req.citePath ?? 'fern/assets/releases.json',
    ...(req.citeCommit ? { commit: req.citeCommit } : {}),
    ...(data.updated ? { updated: data.updated } : {}),
  };
  let changes;
  try {
    changes = mergeReleaseData(doc, data, SOURCE_KEY, cite);
  } catch (e) {
    if (!(e instanceof ReleaseDataError)) throw e;
    return { ok: false, problems: e.problems.map((p) => `${file}: error[support.bad-release-data]: ${p.path}: ${p.message}`), summary: 'nothing was changed' };
  }
  const text = renderMatrix(doc);
  const checked = SupportMatrixFile.safeParse(parseDocument(text).toJS());
  if (!checked.success)
    throw new OperationError(
      'support.bad-release-data',
      `${file}: the merged support data would not be valid (${checked.error.issues[0]?.message ?? 'schema'}); nothing was changed`,
    );
  return { ok: true, target, text, changes, skipped: data.skipped };
}

/** Writes the merged support data atomically. */
export async function writeSupportImport(target: string, text: string): Promise<void> {
  const tmp = `${target}.${randomBytes(6).toString('hex')}.tmp`;
  await writeFile(tmp, text, { flag: 'wx' });
  await rename(tmp, target);
}
