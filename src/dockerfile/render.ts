import { parseEnvValue, type EnvPart } from '../recipe/env-value.js';
import type { DockerfileAst, Instruction, Mount, RunNetwork } from './ast.js';

export class RenderError extends Error {}

const CONTROL = /[\u0000-\u001f\u007f]/;
/** Paths, image references, user specs: embedded bare, so only characters with no meaning to the parser. */
const BARE = /^[A-Za-z0-9._@+=:,\/-]+$/;

function bare(what: string, value: string): string {
  if (!BARE.test(value)) throw new RenderError(`${what} ${JSON.stringify(value)} holds characters that cannot appear unquoted in a Dockerfile`);
  // A leading "-" would read as an instruction flag (COPY --from=..., --chown=...).
  if (value.startsWith('-')) throw new RenderError(`${what} ${JSON.stringify(value)} starts with "-" and would read as an option`);
  return value;
}

/**
 * A double-quoted Dockerfile word (ENV, LABEL, ARG). Inside double quotes the Dockerfile lexer
 * treats backslash, double quote and $ specially; each is backslash-escaped. Line breaks cannot be
 * expressed at all, so they are refused.
 */
export function quoteWord(value: string): string {
  if (CONTROL.test(value))
    throw new RenderError(`value ${JSON.stringify(value)} holds a line break or control character, which a Dockerfile value cannot carry`);
  return `"${value.replace(/[\\"$]/g, (c) => `\\${c}`)}"`;
}

/**
 * A recipe's env value, double-quoted: its references (`${NAME}`, `${NAME:-word}`, `${NAME:+word}`)
 * are expanded by the builder; every other `$`, `"` and `\` is literal.
 */
export function quoteEnvValue(value: string): string {
  if (CONTROL.test(value))
    throw new RenderError(`value ${JSON.stringify(value)} holds a line break or control character, which a Dockerfile value cannot carry`);
  const parsed = parseEnvValue(value);
  if ('error' in parsed) throw new RenderError(`value ${JSON.stringify(value)}: ${parsed.error}`);
  return `"${envParts(parsed.parts)}"`;
}

function envParts(parts: EnvPart[]): string {
  return parts
    .map((p) => (p.kind === 'text' ? p.text.replace(/[\\"$]/g, (c) => `\\${c}`) : `\${${p.name}${p.op === null ? '' : `${p.op}${envParts(p.word)}`}}`))
    .join('');
}

/** A tool-generated value that may reference variables: only `${NAME}` and bare characters. */
function rawWord(value: string): string {
  if (!/^(?:[A-Za-z0-9._@+=:,\/-]|\$\{[A-Z_]+\})+$/.test(value)) throw new RenderError(`bug: raw value ${JSON.stringify(value)}`);
  return `"${value}"`;
}

/** Exec form (JSON array): no variable expansion, no shell, JSON escaping. */
export function execForm(argv: readonly string[]): string {
  // JSON.stringify escapes quotes, backslashes and control characters; the Dockerfile parser reads JSON.
  return JSON.stringify(argv);
}

/** A POSIX shell single-quoted word, for values interpolated into a shell-form RUN. */
export function shellQuote(value: string): string {
  if (/^[A-Za-z0-9._@+=:,\/-]+$/.test(value)) return value;
  if (CONTROL.test(value)) throw new RenderError(`value ${JSON.stringify(value)} holds a control character`);
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A COPY source: a plain path, or in the form the instruction declares (see ast.ts). */
function copySource(s: string, form: 'glob' | 'arch' | undefined): string {
  if (form === 'glob') return bare('path', s.replace(/\*/g, 'x')) && s;
  if (form === 'arch') return bare('path', s.replaceAll('{arch}', 'x')) && s.replaceAll('{arch}', '${TARGETARCH}');
  return bare('path', s);
}

function mounts(list: Mount[] | undefined): string {
  return (list ?? [])
    .map((m) =>
      m.type === 'cache'
        ? // locked: two builds sharing the cache (a matrix on one engine) wait for each other; apt and pip are not safe otherwise.
          `--mount=type=cache,id=${bare('cache id', m.id)},target=${bare('cache target', m.target)},sharing=locked `
        : `--mount=type=secret,id=${bare('secret id', m.id)}${m.target ? `,target=${bare('secret target', m.target)},mode=0400` : ''} `,
    )
    .join('');
}

function network(n: RunNetwork | undefined): string {
  if (n === undefined) return '';
  if (n !== 'none' && n !== 'default') throw new RenderError(`bug: RUN network ${JSON.stringify(n)}`);
  return `--network=${n} `;
}

function renderInstruction(i: Instruction): string {
  switch (i.kind) {
    case 'comment':
      if (CONTROL.test(i.text)) throw new RenderError('comment holds a line break');
      return `# ${i.text}`;
    case 'blank':
      return '';
    case 'arg':
      return i.default === undefined ? `ARG ${bare('build arg', i.name)}` : `ARG ${bare('build arg', i.name)}=${quoteWord(i.default)}`;
    case 'from':
      return `FROM ${bare('image', i.image)} AS ${bare('stage', i.as)}`;
    case 'run-exec':
      if (CONTROL.test(i.comment)) throw new RenderError('step name holds a line break');
      return `# step: ${i.comment}\nRUN ${network(i.network)}${mounts(i.mounts)}${execForm(i.argv)}`;
    case 'run':
      // Shell form, one command per continuation line. Parts are produced by our own code with
      // shellQuote() around any value that came from a recipe.
      for (const part of i.shell) if (/[\n\r]/.test(part)) throw new RenderError('RUN part holds a line break');
      return `RUN ${network(i.network)}${mounts(i.mounts)}${i.shell.join(' \\\n    && ')}`;
    case 'copy': {
      const flags = [i.from ? `--from=${bare('stage or image', i.from)}` : null, i.chown ? `--chown=${bare('owner', i.chown)}` : null].filter(Boolean);
      return `COPY ${flags.length ? `${flags.join(' ')} ` : ''}${[...i.sources.map((s) => copySource(s, i.sourceForm)), bare('path', i.dest)].join(' ')}`;
    }
    case 'env':
      return `ENV ${i.vars.map((v) => `${bare('env name', v.name)}=${v.raw ? rawWord(v.value) : v.refs ? quoteEnvValue(v.value) : quoteWord(v.value)}`).join(' \\\n    ')}`;
    case 'label':
      return `LABEL ${i.labels.map(([k, v]) => `${quoteWord(k)}=${quoteWord(v)}`).join(' \\\n      ')}`;
    case 'workdir':
      return `WORKDIR ${bare('workdir', i.path)}`;
    case 'user':
      return `USER ${bare('user', i.user)}`;
    case 'expose':
      return `EXPOSE ${i.ports.map((p) => String(Math.trunc(p))).join(' ')}`;
    case 'healthcheck':
      return `HEALTHCHECK --interval=${bare('duration', i.interval)} --timeout=${bare('duration', i.timeout)} --start-period=${bare('duration', i.startPeriod)} --retries=${Math.trunc(i.retries)} \\\n    CMD ${execForm(i.command)}`;
    case 'entrypoint':
      return `ENTRYPOINT ${execForm(i.argv)}`;
    case 'cmd':
      return `CMD ${execForm(i.argv)}`;
  }
}

export function renderDockerfile(ast: DockerfileAst): string {
  const lines: string[] = [];
  for (const h of ast.header) lines.push(renderInstruction({ kind: 'comment', text: h }));
  if (ast.globalArgs.length) {
    lines.push('');
    for (const a of ast.globalArgs) lines.push(renderInstruction({ kind: 'arg', ...a }));
  }
  for (const s of ast.stages) {
    lines.push('');
    lines.push(renderInstruction({ kind: 'from', image: s.from, as: s.name }));
    for (const i of s.body) lines.push(renderInstruction(i));
  }
  return `${lines.join('\n')}\n`;
}
