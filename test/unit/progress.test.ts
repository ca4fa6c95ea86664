import { describe, expect, it } from 'vitest';
import { countSteps, plainProgress } from '../../src/build/progress.js';
import type { BuildEvent } from '../../src/engine/port.js';

const events: BuildEvent[] = [
  { type: 'step', id: 'a', name: '[framework 1/3] FROM base', state: 'running' },
  { type: 'step', id: 'a', name: '[framework 1/3] FROM base', state: 'cached' },
  { type: 'step', id: 'b', name: '[framework 2/3] RUN pip install', state: 'running' },
  { type: 'log', id: 'b', line: 'Successfully installed echo-engine-0.1.0' },
  { type: 'step', id: 'b', name: '[framework 2/3] RUN pip install', state: 'done', durationMs: 1500 },
  { type: 'step', id: 'i', name: '[internal] load build definition', state: 'done', durationMs: 3 },
];

describe('progress without a terminal', () => {
  const now = () => new Date('2026-01-02T03:04:05Z');

  it('plain: timestamped lines', () => {
    const lines: string[] = [];
    const p = plainProgress((l) => lines.push(l), { now });
    for (const e of events.slice(0, 5)) p.event(e);
    p.close();
    expect(lines).toEqual([
      '03:04:05 [framework 1/3] FROM base',
      '03:04:05 CACHED [framework 1/3] FROM base',
      '03:04:05 [framework 2/3] RUN pip install',
      '03:04:05   Successfully installed echo-engine-0.1.0',
      '03:04:05 DONE 1.5s [framework 2/3] RUN pip install',
    ]);
  });

  it('GitHub Actions: one log group per step', () => {
    const lines: string[] = [];
    const p = plainProgress((l) => lines.push(l), { github: true, now });
    for (const e of events.slice(0, 5)) p.event(e);
    p.close();
    expect(lines.filter((l) => l.startsWith('::'))).toEqual(['::group::[framework 1/3] FROM base', '::endgroup::', '::group::[framework 2/3] RUN pip install', '::endgroup::']);
  });

  it('counts steps and cache hits, leaving out internal ones', () => {
    expect(countSteps(events)).toEqual({ total: 2, cached: 1 });
  });
});

describe('progress on a terminal', () => {
  it('redraws a list of steps with state and duration', async () => {
    const { ttyProgress } = await import('../../src/build/progress.js');
    let out = '';
    const stream = { columns: 80, write: (s: string) => ((out += s), true) } as unknown as NodeJS.WriteStream;
    const p = ttyProgress(stream);
    for (const e of events) p.event(e);
    p.note('up to date');
    p.close();
    expect(out).toContain('= [framework 1/3] FROM base');
    expect(out).toMatch(/✓ \[framework 2\/3\] RUN pip install\s+1\.5s/);
    expect(out).not.toContain('[internal]');
    expect(out).toContain('up to date\n');
  });
});
