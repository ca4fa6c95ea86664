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

/**
 * Every code an `Issue` can carry: stable, printed by `validate` (`error[recipe.unknown-key]`),
 * asserted by the malformed-recipe fixtures. Adding one is an API change; renaming one breaks users.
 */
export const ISSUE_CODES = [
  'cache.untrusted',
  'baseimage.arch',
  'baseimage.cuda',
  'baseimage.os',
  'baseimage.python',
  'file.binary',
  'file.directory',
  'file.missing',
  'file.special',
  'file.symlink-loop',
  'file.too-large',
  'file.unreadable',
  'input.duplicate',
  'input.duplicate-destination',
  'input.empty-folder',
  'input.missing',
  'input.not-a-file',
  'input.outside',
  'input.platform-mismatch',
  'input.reserved',
  'input.sha256-mismatch',
  'input.symlink-loop',
  'input.unreadable',
  'input.apt-key',
  'input.apt-key-fingerprint',
  'input.too-many-files',
  'input.binary',
  'input.directory',
  'input.special',
  'input.too-large',
  'env.source-date-epoch',
  'key.invalid',
  'lock.invalid',
  'lock.local-moved',
  'lock.missing',
  'lock.not-found',
  'matrix.dynamo-unknown',
  'matrix.no-matrix',
  'matrix.unpinnable',
  'matrix.unsupported',
  'matrix.variant',
  'publish.first-tag',
  'publish.reference-too-long',
  'publish.tag-invalid',
  'publish.tag-variable',
  'recipe.base-missing',
  'recipe.base-override',
  'recipe.cuda-missing',
  'recipe.dynamo-missing',
  'recipe.empty',
  'recipe.engine-image',
  'recipe.imports-devel',
  'recipe.imports-release',
  'recipe.dynamo-wheels',
  'input.requirements',
  'recipe.engine-source',
  'recipe.image-version',
  'recipe.not-a-mapping',
  'recipe.python-missing',
  'recipe.reference-too-long',
  'recipe.schema',
  'recipe.too-many-layers',
  'recipe.too-many-steps',
  'recipe.unknown-key',
  'recipe.version-not-exact',
  'smoke.pin-unknown',
  'recipe.wheel-name',
  'recipe.wheel-version',
  'tests.not-a-mapping',
  'usage.build-arg',
  'usage.tag',
  'yaml.alias-bomb',
  'yaml.duplicate-key',
  'yaml.syntax',
] as const;
export type IssueCode = (typeof ISSUE_CODES)[number];

/** One problem found in user input, with where it is. */
export interface Issue {
  /** Stable machine-readable code, e.g. `recipe.unknown-key`. */
  code: IssueCode;
  severity: 'error' | 'warning';
  file?: string;
  line?: number;
  col?: number;
  /** Field path, e.g. `['engine', 'wheel', 'sha256']`; printed dotted (`engine.wheel.sha256`, `files[0].source`). */
  path?: (string | number)[];
  message: string;
  hint?: string;
}

/** `['files', 0, 'source']` -> `files[0].source`; a flag (`--tag`) stays as it is. */
export function formatFieldPath(path: readonly (string | number)[]): string {
  let out = '';
  for (const p of path) out += typeof p === 'number' ? `[${p}]` : out ? `.${p}` : p;
  return out;
}

export function formatIssue(i: Issue): string {
  const where = i.file ? `${i.file}${i.line ? `:${i.line}:${i.col ?? 1}` : ''}: ` : '';
  const field = i.path?.length ? `${formatFieldPath(i.path)}: ` : '';
  const sev = `${i.severity}[${i.code}]: `;
  return `${where}${sev}${field}${i.message}${i.hint ? ` (${i.hint})` : ''}`;
}

/**
 * Every code a thrown error can carry (`error[publish.tag-exists]`): stable, for scripts and CI to
 * match on. Closed: a new code is added here, where its neighbours show how codes are named.
 */
export const ERROR_CODES = [
  'build.step-network',
  'build.base-unavailable',
  'build.failed',
  'build.image-missing',
  'build.label-missing',
  'build.no-image',
  'build.rejected',
  'build.stream',
  'compat.no-cuda',
  'compat.no-image',
  'compat.no-minimum',
  'container.bad-id',
  'container.command-not-executable',
  'container.command-not-found',
  'container.not-running',
  'container.start-failed',
  'context.changed',
  'context.missing',
  'credentials.config',
  'credentials.helper-failed',
  'credentials.helper-missing',
  'engine.config',
  'engine.error',
  'engine.gone',
  'engine.no-bridge',
  'engine.no-run-network',
  'engine.unreachable',
  'gpu.unavailable',
  'input.invalid',
  'interrupted',
  'matrix.fail-fast',
  'matrix.failed',
  'publish.check-failed',
  'publish.digest-mismatch',
  'publish.failed',
  'publish.interrupted',
  'publish.no-digest',
  'publish.no-image',
  'publish.platforms-missing',
  'publish.tag-exists',
  'publish.unauthorized',
  'publish.verify-failed',
  'registry.auth',
  'registry.auth-realm',
  'registry.bad-answer',
  'registry.digest-mismatch',
  'registry.error',
  'registry.slow',
  'registry.too-large',
  'registry.unauthorized',
  'registry.unreachable',
  'sign.failed',
  'smoke.failed',
  'smoke.no-image',
  'support.bad-release-data',
  'support.fetch',
  'usage',
  'validate.invalid',
  'verify.mismatch',
  'why.no-image',
] as const;
export type ErrorCode = (typeof ERROR_CODES)[number];

export class DynamoImageError extends Error {
  readonly code: ErrorCode;
  readonly exitCode: ExitCode;
  readonly hint: string | undefined;
  constructor(code: ErrorCode, message: string, opts: { exitCode: ExitCode; hint?: string; cause?: unknown }) {
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
  constructor(code: ErrorCode, message: string, hint?: string, cause?: unknown) {
    super(code, message, { exitCode: ExitCode.environment, ...(hint ? { hint } : {}), cause });
  }
}

/** The operation ran and failed: a build step, a smoke test, a push. */
export class OperationError extends DynamoImageError {
  /** Last lines of the output that led to the failure. */
  readonly tail: string[];
  constructor(code: ErrorCode, message: string, opts: { hint?: string; tail?: string[]; cause?: unknown } = {}) {
    super(code, message, { exitCode: ExitCode.failed, ...(opts.hint ? { hint: opts.hint } : {}), cause: opts.cause });
    this.tail = opts.tail ?? [];
  }
}

/**
 * A failure the command has already shown in full (a report, a table, every issue): main prints
 * only its one-line summary and exits with its code.
 */
export class ReportedFailure extends DynamoImageError {
  constructor(code: ErrorCode, summary: string, exitCode: ExitCode) {
    super(code, summary, { exitCode });
  }
}

export class InterruptedError extends DynamoImageError {
  constructor(signal: 'SIGINT' | 'SIGTERM') {
    super('interrupted', `interrupted by ${signal}`, { exitCode: signal === 'SIGINT' ? ExitCode.sigint : ExitCode.sigterm });
  }
}
