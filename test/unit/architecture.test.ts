import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

// ARCHITECTURE.md's claim that data flows one way, checked on the source: no module imports
// itself back through others (static value imports; `import type` and dynamic import() are not
// edges), and no command imports another command.

const SRC = path.join(ROOT, 'src');
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
const graph = new Map<string, string[]>();
for (const f of files(SRC)) {
  const text = readFileSync(f, 'utf8');
  const deps = [...text.matchAll(/^import (?!type )[^;]*?from '(\.[^']+)';/gm), ...text.matchAll(/^export (?!type )[^;]*?from '(\.[^']+)';/gm)].map((m) => path.resolve(path.dirname(f), m[1]!.replace(/\.js$/, '.ts')));
  graph.set(f, deps);
}

describe('module graph', () => {
  it('has no import cycle', () => {
    const cycles: string[] = [];
    const state = new Map<string, 'open' | 'done'>();
    const stack: string[] = [];
    const visit = (f: string) => {
      if (state.get(f) === 'done') return;
      if (state.get(f) === 'open') {
        cycles.push([...stack.slice(stack.indexOf(f)), f].map((x) => path.relative(SRC, x)).join(' -> '));
        return;
      }
      state.set(f, 'open');
      stack.push(f);
      for (const d of graph.get(f) ?? []) visit(d);
      stack.pop();
      state.set(f, 'done');
    };
    for (const f of graph.keys()) visit(f);
    expect(cycles).toEqual([]);
  });

  it('no command module imports another command module', () => {
    const commands = [...graph.keys()].filter((f) => f.includes(`${path.sep}cli${path.sep}commands${path.sep}`));
    for (const c of commands) expect((graph.get(c) ?? []).filter((d) => commands.includes(d)).map((d) => path.relative(SRC, d)), path.relative(SRC, c)).toEqual([]);
  });

  it('reads what it claims to read (the graph is not empty)', () => {
    expect(graph.size).toBeGreaterThan(40);
    expect([...graph.values()].flat().length).toBeGreaterThan(100);
  });
});
