import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

// ARCHITECTURE.md's layers, checked on the source. Every import counts as an edge: value, `import
// type`, `export ... from` and dynamic `import()`. A folder may import only its own files and the
// folders of lower layers; no file imports itself back through others.

/** Bottom to top. A top-level file is its own entry; a folder is every file under it. */
const LAYERS: string[][] = [
  ['errors.ts', 'version.ts', 'loopback.ts'],
  ['domain'],
  ['versions', 'refs'],
  ['options'],
  ['recipe'],
  ['support'],
  ['matrix'],
  ['plan'],
  ['dockerfile', 'context', 'attest'],
  ['outputs', 'engine'],
  ['builder', 'smoke'],
  ['publish'],
  ['pipeline'],
  ['fast'],
  ['cli'],
  ['index.ts'],
];

const SRC = path.join(ROOT, 'src');
function files(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = path.join(dir, n);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.ts') ? [p] : [];
  });
}
interface Edge {
  to: string;
  kind: 'value' | 'type' | 'dynamic';
}
const graph = new Map<string, Edge[]>();
for (const f of files(SRC)) {
  const text = readFileSync(f, 'utf8');
  const at = (spec: string) => path.resolve(path.dirname(f), spec.replace(/\.js$/, '.ts'));
  const edges: Edge[] = [
    ...[...text.matchAll(/^(?:import|export)(\s+type)?\s[^;]*?\sfrom\s+'(\.[^']+)';/gms)].map((m) => ({
      to: at(m[2]!),
      kind: m[1] ? ('type' as const) : ('value' as const),
    })),
    ...[...text.matchAll(/\bimport\(\s*'(\.[^']+)'\s*\)/g)].map((m) => ({ to: at(m[1]!), kind: 'dynamic' as const })),
    // A bare `import './x.js';` runs the module for its effects: an edge like any other.
    ...[...text.matchAll(/^import\s+'(\.[^']+)';/gm)].map((m) => ({ to: at(m[1]!), kind: 'value' as const })),
  ];
  graph.set(f, edges);
}
const rel = (f: string) => path.relative(SRC, f).split(path.sep).join('/');
const unitOf = (f: string) => rel(f).split('/')[0]!;
const layerOf = new Map(LAYERS.flatMap((units, i) => units.map((u) => [u, i] as const)));

/** Every import cycle of files that a depth-first walk meets, as `a -> b -> a`. */
function cyclesOf(g: Map<string, Edge[]>): string[] {
  const cycles: string[] = [];
  const state = new Map<string, 'open' | 'done'>();
  const stack: string[] = [];
  const visit = (f: string) => {
    if (state.get(f) === 'done') return;
    if (state.get(f) === 'open') {
      cycles.push([...stack.slice(stack.indexOf(f)), f].map(rel).join(' -> '));
      return;
    }
    state.set(f, 'open');
    stack.push(f);
    for (const e of g.get(f) ?? []) visit(e.to);
    stack.pop();
    state.set(f, 'done');
  };
  for (const f of g.keys()) visit(f);
  return cycles;
}

/** Every edge that does not go down the layers (or stays in its own folder). */
function upwardEdges(g: Map<string, Edge[]>): string[] {
  const upward: string[] = [];
  for (const [f, edges] of g)
    for (const e of edges) {
      const [a, b] = [unitOf(f), unitOf(e.to)];
      if (a === b) continue;
      if (!(layerOf.get(b)! < layerOf.get(a)!))
        upward.push(`${rel(f)} -> ${rel(e.to)} (${e.kind}; ${a} is layer ${layerOf.get(a)}, ${b} layer ${layerOf.get(b)})`);
    }
  return upward;
}

describe('module graph', () => {
  it('has no import cycle of files (type and dynamic imports included)', () => {
    expect(cyclesOf(graph)).toEqual([]);
  });

  it('places every folder and top-level file in a layer', () => {
    expect([...new Set([...graph.keys()].map(unitOf))].filter((u) => !layerOf.has(u)).sort()).toEqual([]);
  });

  it('imports only downward: a folder imports its own files and lower layers, never a layer above or beside it', () => {
    expect(upwardEdges(graph)).toEqual([]);
  });

  it('no command module imports another command module', () => {
    const commands = [...graph.keys()].filter((f) => rel(f).startsWith('cli/commands/'));
    for (const c of commands)
      expect(
        (graph.get(c) ?? []).filter((e) => commands.includes(e.to)).map((e) => rel(e.to)),
        rel(c),
      ).toEqual([]);
  });

  it('ARCHITECTURE.md shows the layers as this test holds them', () => {
    const doc = readFileSync(path.join(ROOT, 'ARCHITECTURE.md'), 'utf8');
    const block = /```layers\n([\s\S]*?)```/.exec(doc)?.[1] ?? '';
    const shown = block
      .trim()
      .split('\n')
      .map((l) => l.trim().split(/\s+/).slice(1));
    expect(shown).toEqual(LAYERS);
  });

  it('reads what it claims to read (every kind of edge is seen)', () => {
    const all = [...graph.values()].flat();
    expect(graph.size).toBeGreaterThan(60);
    for (const kind of ['value', 'type', 'dynamic'] as const) expect(all.filter((e) => e.kind === kind).length, kind).toBeGreaterThan(10);
  });

  it('can fail: one type import upward, one beside and one file cycle added to the real graph are each reported', () => {
    const f = (r: string) => path.join(SRC, r);
    const grown = new Map(graph);
    const add = (from: string, to: string, kind: Edge['kind']) => grown.set(f(from), [...(grown.get(f(from)) ?? []), { to: f(to), kind }]);
    add('plan/types.ts', 'cli/main.ts', 'type');
    add('outputs/ci-matrix.ts', 'engine/port.ts', 'value');
    add('plan/canonical.ts', 'plan/build-plan.ts', 'dynamic');
    expect(upwardEdges(grown).sort()).toEqual([
      'outputs/ci-matrix.ts -> engine/port.ts (value; outputs is layer 9, engine layer 9)',
      'plan/types.ts -> cli/main.ts (type; plan is layer 7, cli layer 14)',
    ]);
    expect(cyclesOf(grown).some((c) => c.includes('plan/canonical.ts -> plan/build-plan.ts'))).toBe(true);
  });
});
describe('file sizes', () => {
  it('no source file is over 400 lines, no command file over 80', () => {
    const long = [...graph.keys()]
      .map((f) => ({ f: rel(f), n: readFileSync(f, 'utf8').split('\n').length - 1 }))
      .filter(({ f, n }) => n > (f.startsWith('cli/commands/') ? 80 : 400));
    expect(long.map(({ f, n }) => `${f}: ${n} lines`)).toEqual([]);
  });
});
