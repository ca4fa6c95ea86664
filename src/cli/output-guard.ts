import { randomBytes } from 'node:crypto';

// Output is data, never control (issue 19, points 4-5). Every line the CLI prints passes through
// here on its way to the terminal or the CI log:
// - secrets the tool holds (--secret values, netrc passwords, the registry password) are masked as
//   *** in their plain, base64 and URL-encoded forms;
// - C0/C1 control characters and DEL (ESC sequences: OSC 52 clipboard writes, titles, cursor moves,
//   clear screen) are shown escaped as \u00XX, which is also valid inside a JSON string;
// - under GITHUB_ACTIONS=true, text on stderr is written inside `::stop-commands::TOKEN` ...
//   `::TOKEN::` with a random token, so no line of it (engine output, a step's or a container's
//   lines, multi-line error messages) can be a workflow command; the tool's own commands
//   (::group::, ::error, ::add-mask::) go through `command()` and close the block first.

const secrets = new Set<string>();
/** Shorter values would mask ordinary text everywhere; they are not masked (and said so in the README). */
export const MIN_MASKED_LENGTH = 4;

/** The forms a secret can take in output: as is, base64 (as in a Basic header), base64url, URL-encoded. */
function formsOf(value: string): string[] {
  const b = Buffer.from(value);
  return [...new Set([value, b.toString('base64'), b.toString('base64').replace(/=+$/, ''), b.toString('base64url'), encodeURIComponent(value)])].filter(
    (f) => f.length >= MIN_MASKED_LENGTH,
  );
}

/** Remembers a secret value (each line of a multi-line one, too); returns whether it will be masked. */
export function registerSecret(value: string, announce?: (line: string) => void): boolean {
  const values = [value, ...value.split(/\r?\n/)].map((v) => v.trim()).filter((v) => v.length >= MIN_MASKED_LENGTH);
  for (const v of values) {
    if (secrets.has(v)) continue;
    secrets.add(v);
    // GitHub masks it in the whole log from here on, whatever prints it.
    if (announce) for (const f of formsOf(v)) announce(`::add-mask::${f}`);
  }
  return values.length > 0;
}

/** The passwords in a netrc file (`password VALUE` tokens). */
export function netrcPasswords(text: string): string[] {
  const tokens = text.split(/\s+/).filter(Boolean);
  const out: string[] = [];
  for (let i = 0; i < tokens.length - 1; i++) if (tokens[i] === 'password') out.push(tokens[i + 1]!);
  return out;
}

export function maskSecrets(text: string): string {
  if (!secrets.size) return text;
  let out = text;
  // Longest first, so a secret that contains another is masked whole.
  const forms = [...secrets].flatMap(formsOf).sort((a, b) => b.length - a.length);
  for (const f of forms) if (out.includes(f)) out = out.split(f).join('***');
  return out;
}

// C0 but tab and newline, DEL, C1.
const CONTROL = /[\x00-\x08\x0b-\x1f\x7f-\x9f]/g;

/** Control characters shown, not obeyed: ESC becomes the six characters \u001b. */
export function escapeControls(text: string): string {
  return text.replace(CONTROL, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
}

/** Foreign text made printable: masked, then its control characters escaped. */
export function cleanText(text: string): string {
  return escapeControls(maskSecrets(text));
}

export interface GuardedStream {
  /** Text, any number of lines: cleaned, and on GitHub inside a stop-commands block. */
  line(text: string): void;
  /** One of the tool's own workflow commands: outside any stop-commands block (`mask: false` only for ::add-mask::). */
  command(line: string, opts?: { mask?: boolean }): void;
  /** Ends an open stop-commands block. */
  close(): void;
}

export function guardStream(write: (s: string) => void, opts: { github: boolean }): GuardedStream {
  let token: string | null = null;
  const end = () => {
    if (token) write(`::${token}::\n`);
    token = null;
  };
  return {
    line(text) {
      const t = cleanText(text.endsWith('\n') ? text.slice(0, -1) : text);
      // A JSON line (--progress json, --json) cannot be a workflow command: it stays a bare JSON line.
      const json = t.startsWith('{') && !t.includes('\n');
      if (opts.github && !token && !json) {
        token = randomBytes(16).toString('hex');
        write(`::stop-commands::${token}\n`);
      }
      write(`${t}\n`);
    },
    command(line, o = {}) {
      end();
      // Our own command: masked (an annotation may quote foreign text), one line, no controls.
      write(`${escapeControls(o.mask === false ? line : maskSecrets(line)).replace(/\n/g, '%0A')}\n`);
    },
    close: end,
  };
}

/** For tests: forget the secrets this process has seen. */
export function forgetSecrets(): void {
  secrets.clear();
}
