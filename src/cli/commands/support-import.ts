import { ExitCode } from '../../errors.js';
import { prepareSupportImport, writeSupportImport } from '../../pipeline/support-import.js';
import { formatChanges } from '../../support/import-releases.js';
import type { Output } from '../output.js';

// `dynamo-image support import`: merges Dynamo's release data (releases.json) into
// base-images/support-matrix.yaml (pipeline/support-import.ts); --check for CI, --dry-run.

export interface SupportImportOptions {
  data?: string;
  dryRun?: boolean;
  check?: boolean;
  json?: boolean;
  citeRepo?: string;
  citePath?: string;
  citeCommit?: string;
}

export async function runSupportImport(file: string, opts: SupportImportOptions, o: Output): Promise<number> {
  const r = await prepareSupportImport({ source: file, data: opts.data, citeRepo: opts.citeRepo, citePath: opts.citePath, citeCommit: opts.citeCommit });
  if (!r.ok) {
    for (const p of r.problems) o.err(p);
    if (r.summary) o.err(r.summary);
    return ExitCode.badInput;
  }
  const { target, changes } = r;
  const n = `${changes.length} change${changes.length > 1 ? 's' : ''}`;
  if (opts.json) o.out(JSON.stringify({ file: target, changes, skipped: r.skipped, written: !opts.dryRun && !opts.check && changes.length > 0 }));
  else {
    for (const l of formatChanges(changes)) o.out(l);
    if (r.skipped.length) o.err(`not support rows (previews, model builds): ${r.skipped.join(', ')}`);
  }
  if (opts.check) {
    if (changes.length) {
      o.err(`${target} is behind ${file}: ${n} (run: dynamo-image support import ${file})`);
      return ExitCode.failed;
    }
    o.err(`${target} is current with ${file}`);
    return ExitCode.ok;
  }
  if (opts.dryRun || !changes.length) {
    o.err(changes.length ? `${n}; --dry-run: nothing written` : `${target} is current with ${file}: nothing to change`);
    return ExitCode.ok;
  }
  await writeSupportImport(target, r.text);
  o.err(`${n} written to ${target}`);
  return ExitCode.ok;
}
