import type { Interface } from 'node:readline/promises';
import { UsageError } from '../errors.js';
import type { Output } from './output.js';

// Questions on a terminal, for `init`: a flag answers without asking; each answer is checked as it
// is given, a bad one asked again (a bad flag is refused at once).

export type Ask<K extends string> = (key: K, question: string, fallback?: string) => Promise<string | undefined>;

export function asker<K extends string>(
  given: { [P in K]?: unknown },
  rl: Interface | null,
  checks: Partial<Record<string, (v: string) => string | null>>,
  o: Output,
): Ask<K> {
  return async (key, question, fallback) => {
    const check = checks[key];
    const flag = given[key];
    if (typeof flag === 'string' && flag) {
      const bad = check?.(flag);
      if (bad) throw new UsageError(`--${key.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)} ${flag}: ${bad}`);
      return flag;
    }
    if (!rl) return fallback;
    for (;;) {
      const a = (await rl.question(`${question}${fallback ? ` [${fallback}]` : ''}: `)).trim() || fallback;
      const bad = a ? check?.(a) : null;
      if (!bad) return a;
      o.err(`  ${JSON.stringify(a)} ${bad}; try again`);
    }
  };
}

export function words(s: string | undefined): string[] {
  return (s ?? '').split(/\s+/).filter(Boolean);
}
