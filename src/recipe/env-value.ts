// A recipe's env value: literal text with references to variables the base image (or an earlier
// ENV) sets. Pure; the schema checks values with it and the renderer writes them from its parts.
//
//   ${NAME}          the inherited value (empty when unset)
//   ${NAME:-word}    the inherited value, or word when it is unset or empty
//   ${NAME:+word}    word when NAME is set and not empty, else nothing:
//                    /opt/acme/lib${LD_LIBRARY_PATH:+:${LD_LIBRARY_PATH}} adds no stray ":"
//
// word: letters, digits, space and ._@+=:,/- plus ${NAME} references. Every other `$` is literal
// ($HOME stays "$HOME"), but a `${NAME` followed by anything but the three forms is an error: it
// would otherwise stay literal text without a word.

export type EnvPart = { kind: 'text'; text: string } | { kind: 'ref'; name: string; op: null | ':-' | ':+'; word: EnvPart[] };

const NAME = /^[A-Za-z_][A-Za-z0-9_]*/;
const WORD_CHAR = /^[A-Za-z0-9 ._@+=:,\/-]/;

export const ENV_FORMS = '${NAME}, ${NAME:-default} or ${NAME:+alternative} (the word: letters, digits, space, ._@+=:,/- and ${NAME})';

/** Parses `value`; `error` says what is wrong with the first malformed reference. */
export function parseEnvValue(value: string): { parts: EnvPart[] } | { error: string } {
  const parts: EnvPart[] = [];
  let text = '';
  let i = 0;
  while (i < value.length) {
    if (value.startsWith('${', i)) {
      const name = NAME.exec(value.slice(i + 2));
      if (name) {
        const r = parseRef(value, i);
        if ('error' in r) return r;
        if (text) parts.push({ kind: 'text', text });
        text = '';
        parts.push(r.part);
        i = r.end;
        continue;
      }
    }
    text += value[i];
    i++;
  }
  if (text) parts.push({ kind: 'text', text });
  return { parts };
}

function parseRef(value: string, start: number): { part: EnvPart; end: number } | { error: string } {
  const name = NAME.exec(value.slice(start + 2))![0];
  let i = start + 2 + name.length;
  if (value[i] === '}') return { part: { kind: 'ref', name, op: null, word: [] }, end: i + 1 };
  const op = value.slice(i, i + 2);
  if (op !== ':-' && op !== ':+') {
    const seen = JSON.stringify(value.slice(start, Math.min(value.length, i + 3)));
    return { error: `${seen}...: a reference is ${ENV_FORMS}` };
  }
  i += 2;
  const word: EnvPart[] = [];
  let text = '';
  while (i < value.length && value[i] !== '}') {
    if (value.startsWith('${', i)) {
      const inner = NAME.exec(value.slice(i + 2));
      if (!inner || value[i + 2 + inner[0].length] !== '}') return { error: `in \${${name}${op}...}: a nested reference must be \${NAME}` };
      if (text) word.push({ kind: 'text', text });
      text = '';
      word.push({ kind: 'ref', name: inner[0], op: null, word: [] });
      i += 3 + inner[0].length;
      continue;
    }
    if (!WORD_CHAR.test(value[i]!)) return { error: `in \${${name}${op}...}: ${JSON.stringify(value[i])} cannot appear in the word; ${ENV_FORMS}` };
    text += value[i];
    i++;
  }
  if (i >= value.length) return { error: `\${${name}${op}... is not closed with "}"` };
  if (text) word.push({ kind: 'text', text });
  return { part: { kind: 'ref', name, op, word }, end: i + 1 };
}

/** The names a value references (for checks and the plan). */
export function envReferences(parts: EnvPart[]): string[] {
  return parts.flatMap((p) => (p.kind === 'ref' ? [p.name, ...envReferences(p.word)] : []));
}
