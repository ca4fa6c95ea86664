import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { formatIssue, UsageError, type Issue } from '../errors.js';

// Where the CLI writes. Commands get one of these instead of touching process.stdout directly,
// which keeps them testable and keeps stdout for machine-readable output (--json).

export interface Output {
  out(text: string): void;
  err(text: string): void;
  isTTY: boolean;
}

export const processOutput: Output = {
  out: (t) => process.stdout.write(t.endsWith('\n') ? t : `${t}\n`),
  err: (t) => process.stderr.write(t.endsWith('\n') ? t : `${t}\n`),
  isTTY: Boolean(process.stderr.isTTY),
};

export function printIssues(o: Output, issues: Issue[]): void {
  for (const i of issues) o.err(formatIssue(i));
}

/**
 * A file the command will write at the end (`--junit`, `-o`): its folder must exist and be a
 * folder, checked before any work, so a long build never fails at its last step on a typo.
 */
export function checkOutputPath(file: string | undefined, flag: string): void {
  if (!file) return;
  const dir = path.dirname(path.resolve(file));
  let st;
  try {
    st = statSync(dir);
  } catch {
    throw new UsageError(`${flag} ${file}: the folder ${dir} does not exist`, `create it first (mkdir -p ${dir})`);
  }
  if (!st.isDirectory()) throw new UsageError(`${flag} ${file}: ${dir} is not a folder`);
  try {
    accessSync(dir, constants.W_OK);
  } catch {
    throw new UsageError(`${flag} ${file}: the folder ${dir} is not writable`);
  }
  try {
    if (statSync(file).isDirectory()) throw new UsageError(`${flag} ${file} is a folder; give a file name`);
  } catch (e) {
    if (e instanceof UsageError) throw e;
  }
}
