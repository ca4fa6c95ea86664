// Typed errors with stable codes. Library code throws these; only src/cli/main.ts turns them into
// output and an exit code.

export const ExitCode = {
  ok: 0,
  failed: 1,
  badInput: 2,
  environment: 3,
  sigint: 130,
  sigterm: 143,
} as const;
export type ExitCode = (typeof ExitCode)[keyof typeof ExitCode];

/** One problem found in user input, with where it is. */
export interface Issue {
  /** Stable machine-readable code, e.g. `recipe.unknown-key`. */
  code: string;
  severity: 'error' | 'warning';
  file?: string;
  line?: number;
  col?: number;
  /** Dotted field path, e.g. `engine.wheel.sha256`. */
  path?: string;
  message: string;
  hint?: string;
}

export function formatIssue(i: Issue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ''}: ` : '';
  const field = i.path ? `${i.path}: ` : '';
  const sev = `${i.severity}[${i.code}]: `;
  return `${where}${sev}${field}${i.message}${i.hint ? ` (${i.hint})` : ''}`;
}

export class DynamoImageError extends Error {
  readonly code: string;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(code: string, message: string, opts: { exitCode: ExitCode; hint?: string; cause?: unknown }) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = new.target.name;
    this.code = code;
    this.exitCode = opts.exitCode;
    this.hint = opts.hint;
  }
}

/** Bad input: a recipe, a flag, a file. Carries every issue found, not only the first. */
export class InputError extends DynamoImageError {
  readonly issues: Issue[];
  constructor(issues: Issue[], message = 'invalid input') {
    super('input.invalid', message, { exitCode: ExitCode.badInput });
    this.issues = issues;
  }
}

export class UsageError extends DynamoImageError {
  constructor(message: string, hint?: string) {
    super('usage', message, { exitCode: ExitCode.badInput, ...(hint ? { hint } : {}) });
  }
}

/** The environment is missing something: no engine, no registry. */
export class EnvironmentError extends DynamoImageError {
  constructor(code: string, message: string, hint?: string, cause?: unknown) {
    super(code, message, { exitCode: ExitCode.environment, ...(hint ? { hint } : {}), cause });
  }
}

/** The operation ran and failed: a build step, a smoke test, a push. */
export class OperationError extends DynamoImageError {
  /** Last lines of the output that led to the failure. */
  readonly tail: string[];
  constructor(code: string, message: string, opts: { hint?: string; tail?: string[]; cause?: unknown } = {}) {
    super(code, message, { exitCode: ExitCode.failed, ...(opts.hint ? { hint: opts.hint } : {}), cause: opts.cause });
    this.tail = opts.tail ?? [];
  }
}

export class InterruptedError extends DynamoImageError {
  constructor(signal: 'SIGINT' | 'SIGTERM') {
    super('interrupted', `interrupted by ${signal}`, { exitCode: signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm });
  }
}
