import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { ROOT } from '../support/cli.js';

// docs/dynamo-parity.md points at recipe lines: [`TEXT`](../recipes/R/recipe.yaml#L10-L12). Each
// pointer must still hold its quoted text on those lines, so an edit that moves a recipe's lines
// fails here until the document follows.

const doc = readFileSync(path.join(ROOT, 'docs', 'dynamo-parity.md'), 'utf8');
const links = [...doc.matchAll(/\[`([^`]+)`\]\(\.\.\/(recipes\/[^)#]+)#L(\d+)(?:-L(\d+))?\)/g)].map((m) => ({
  text: m[1]!,
  file: m[2]!,
  from: Number(m[3]),
  to: Number(m[4] ?? m[3]),
}));

describe('docs/dynamo-parity.md', () => {
  it('points at recipe lines', () => {
    expect(links.length).toBeGreaterThanOrEqual(30);
  });

  it.each(links.map((l) => [`${l.file}#L${l.from}-L${l.to} "${l.text}"`, l] as const))('%s', (_name, l) => {
    const lines = readFileSync(path.join(ROOT, l.file), 'utf8').split('\n');
    expect(l.to).toBeGreaterThanOrEqual(l.from);
    expect(l.to).toBeLessThanOrEqual(lines.length);
    expect(lines.slice(l.from - 1, l.to).join('\n')).toContain(l.text);
  });

  it("has a row for every item of issue 12's table", () => {
    for (const item of [
      'NIXL + UCX',
      'ai-dynamo with extras',
      'local wheelhouse or any index',
      '| uv |',
      'nats-server and etcd',
      'JIT needs at run time',
      'extra repositories',
      'entrypoint and CMD',
      'umask 002',
      'DYNAMO_HOME',
      'secret and cache mounts',
      'manifest lists',
      'tensorrtllm-runtime',
    ])
      expect(doc).toContain(item);
  });
});
