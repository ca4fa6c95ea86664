import { describe, expect, it, vi } from 'vitest';
import { countSteps, plainProgress } from '../../src/builder/progress.js';
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
    expect(lines.filter((l) => l.startsWith('::'))).toEqual([
      '::group::[framework 1/3] FROM base',
      '::endgroup::',
      '::group::[framework 2/3] RUN pip install',
      '::endgroup::',
    ]);
  });

  it('counts the Dockerfile steps and their cache hits, leaving out internal ones and FROM', () => {
    expect(countSteps(events)).toEqual({ total: 1, cached: 0 });
    expect(
      countSteps([
        ...events,
        { type: 'step', id: 'c', name: '[runtime 3/5] COPY --from=framework /a /a', state: 'cached' },
        { type: 'step', id: 'd', name: 'exporting cache', state: 'done' },
        { type: 'step', id: 'e', name: '[2/21] RUN x', state: 'cached' },
      ]),
    ).toEqual({ total: 3, cached: 2 });
  });

  it.each([
    ['[runtime  3/14] RUN x', true],
    ['[runtime 13/14] RUN x', true],
    ['[ 2/21] COPY a b', true],
    ['[12/21] COPY a b', true],
    ['[framework  1/6] FROM docker.io/library/debian', false],
    ['[internal] load build definition from Dockerfile', false],
    ['exporting to image', false],
  ] as const)('a step named %j counts: %s (BuildKit pads the number to the width of the count)', (name, counts) => {
    expect(countSteps([{ type: 'step', id: 'x', name, state: 'cached' }])).toEqual(counts ? { total: 1, cached: 1 } : { total: 0, cached: 0 });
  });
});

describe('progress on a terminal', () => {
  it('redraws a list of steps with state and duration', async () => {
    const { ttyProgress } = await import('../../src/builder/progress.js');
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

describe('issue 11, point 7: progress like buildx', () => {
  const steps = (n: number): BuildEvent[] =>
    Array.from({ length: n }, (_, i) => [
      {
        type: 'step' as const,
        id: `s${i}`,
        name: `[runtime ${i + 1}/${n}] RUN step number ${i + 1} with a rather long command line that does not fit`,
        state: 'running' as const,
      },
      {
        type: 'step' as const,
        id: `s${i}`,
        name: `[runtime ${i + 1}/${n}] RUN step number ${i + 1} with a rather long command line that does not fit`,
        state: 'done' as const,
        durationMs: 100 * i,
      },
    ]).flat();

  it('tty: never taller or wider than the terminal while live; one summary of every step at the end', async () => {
    const { ttyProgress } = await import('../../src/builder/progress.js');
    vi.useFakeTimers();
    try {
      const frames: string[] = [];
      const stream = { columns: 40, rows: 10, write: (s: string) => (frames.push(s), true) };
      const p = ttyProgress(stream);
      for (const e of steps(30)) p.event(e);
      vi.advanceTimersByTime(250);
      p.note('running 6 smoke test(s)');
      vi.advanceTimersByTime(250);
      const live = frames.join('');
      p.close();
      const all = frames.join('');
      const summary = all.slice(live.length).replace(/\x1b\[\d+F\x1b\[0J/g, '');
      // Each live frame: at most rows - 2 lines, each at most columns - 1 wide.
      for (const f of frames.slice(0, -1)) {
        const lines = f
          .replace(/\x1b\[\d+F\x1b\[0J/g, '')
          .split('\n')
          .filter(Boolean);
        if (lines.length > 1) expect(lines.length).toBeLessThanOrEqual(8);
        for (const l of lines) expect([...l].length).toBeLessThanOrEqual(39);
      }
      // The summary lists all 30 steps, once.
      expect(summary.split('\n').filter(Boolean)).toHaveLength(30);
      expect(all.split('[runtime 1/30]').length - 1).toBe(1);
      expect(all).toContain('running 6 smoke test(s)\n');
    } finally {
      vi.useRealTimers();
    }
  });

  it('auto means plain where a terminal cannot draw: TERM=dumb, CI, GitHub, not a TTY', async () => {
    const { progressMode } = await import('../../src/cli/build-options.js');
    expect(progressMode('auto', { TERM: 'xterm-256color' }, true)).toBe('tty');
    expect(progressMode('auto', { TERM: 'dumb' }, true)).toBe('plain');
    expect(progressMode('auto', { CI: 'true' }, true)).toBe('plain');
    expect(progressMode('auto', { GITHUB_ACTIONS: 'true' }, true)).toBe('plain');
    expect(progressMode('auto', {}, false)).toBe('plain');
    expect(progressMode('json', {}, true)).toBe('json');
    expect(progressMode('tty', { TERM: 'dumb' }, false)).toBe('tty');
  });

  it('json: one parseable object per event', async () => {
    const { jsonProgress } = await import('../../src/builder/progress.js');
    const lines: string[] = [];
    const p = jsonProgress((l) => lines.push(l));
    for (const e of events) p.event(e);
    p.note('up to date');
    expect(lines.map((l) => JSON.parse(l).type)).toEqual(['step', 'step', 'step', 'log', 'step', 'step', 'note']);
  });

  it('GitHub: a failing step is an ::error annotation outside its group', () => {
    const lines: string[] = [];
    const p = plainProgress((l) => lines.push(l), { github: true, now: () => new Date(0) });
    p.event({ type: 'step', id: 'x', name: 'RUN apt-get install curl', state: 'running' });
    p.event({ type: 'step', id: 'x', name: 'RUN apt-get install curl', state: 'error', error: 'exit code: 100\n50% done' });
    expect(lines.slice(-2)).toEqual(['::endgroup::', '::error title=build step failed::RUN apt-get install curl: exit code: 100%0A50%25 done']);
  });

  it('whole lines: output split at any byte still arrives as whole lines (classic builder stream)', async () => {
    const { BuildTracker } = await import('../../src/engine/build-stream.js');
    const got: BuildEvent[] = [];
    const t = new BuildTracker((e) => got.push(e));
    t.handle({ stream: 'Step 1/2 : RUN apt-get install -y curl\n' });
    for (const part of [
      'E',
      ':',
      ' Unable to locate package curl',
      '\nRead',
      'ing package lists... 50%\rReading package lists... Done',
      '\n',
      'last line without newline',
    ])
      t.handle({ stream: part });
    t.flush();
    expect(got.filter((e) => e.type === 'log').map((e) => (e as { line: string }).line)).toEqual([
      'E: Unable to locate package curl',
      'Reading package lists... Done',
      'last line without newline',
    ]);
  });
});

describe("issue 22, point 1: buildah's build stream (Podman)", () => {
  it('reads STEP lines per stage, cached steps and COMMIT; counts like the other builders', async () => {
    const { BuildTracker } = await import('../../src/engine/build-stream.js');
    const got: BuildEvent[] = [];
    const t = new BuildTracker((e) => got.push(e));
    for (const line of [
      '[1/2] STEP 1/3: FROM base AS framework',
      '[1/2] STEP 2/3: RUN make',
      '--> Using cache 80ddab0b796be71f1f8aa1bbf0b2b8f0b3a0a1c2d3e4f5a6b7c8d9e0f1a2b3c4',
      '--> 80ddab0b796',
      '[1/2] STEP 3/3: COPY a /a',
      'copying',
      '--> 9bc9ea20a83',
      '[2/2] STEP 1/2: FROM base AS runtime',
      '[2/2] STEP 2/2: USER 1000:0',
      '[2/2] COMMIT',
      '--> e30653c6e40',
    ])
      t.handle({ stream: `${line}\n` });
    t.flush();
    const steps = got.filter((e): e is Extract<BuildEvent, { type: 'step' }> => e.type === 'step' && e.state !== 'running');
    expect(steps.map((s) => `${s.state} ${s.name}`)).toEqual([
      'done [stage1 1/3] FROM base AS framework',
      'cached [stage1 2/3] RUN make',
      'done [stage1 3/3] COPY a /a',
      'done [stage2 1/2] FROM base AS runtime',
      'done [stage2 2/2] USER 1000:0',
    ]);
    expect(countSteps(got)).toEqual({ total: 3, cached: 1 });
    expect(got.filter((e) => e.type === 'log').map((e) => (e as { line: string }).line)).toEqual(['copying']);
  });
});
