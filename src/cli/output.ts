import { formatIssue, type Issue } from '../errors.js';

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
