import { accessSync, constants, statSync } from 'node:fs';
import path from 'node:path';
import { formatIssue, UsageError, type Issue } from '../errors.js';
import { escapeControls, guardStream, maskSecrets, registerSecret } from './output-guard.js';

// Where the CLI writes. Commands get one of these instead of touching process.stdout directly,
// which keeps them testable and keeps stdout for machine-readable output (--json).

export interface Output {
  out(text: string): void;
  err(text: string): void;
  /** The tool's own workflow command (::group::, ::error): on GitHub outside the stop-commands block. */
  command?(line: string): void;
  isTTY: boolean;
}

const githubActions = process.env['GITHUB_ACTIONS'] === 'true';
const stderrGuard = guardStream((s) => process.stderr.write(s), { github: githubActions });
process.on('exit', () => stderrGuard.close());

/**
 * The process's streams, through the output guard: stdout masked and control characters escaped
 * (it carries data: JSON, a Dockerfile), stderr the same and, on GitHub, inside stop-commands.
 */
export const processOutput: Output = {
  out: (t) => process.stdout.write(`${escapeControls(maskSecrets(t.endsWith('\n') ? t.slice(0, -1) : t))}\n`),
  err: (t) => stderrGuard.line(t),
  command: (l) => stderrGuard.command(l),
  isTTY: Boolean(process.stderr.isTTY),
};

/** A secret this process holds: masked in everything printed; on GitHub also ::add-mask:: now. */
export function holdSecret(value: string): void {
  registerSecret(value, githubActions ? (line) => stderrGuard.command(line, { mask: false }) : undefined);
}

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
