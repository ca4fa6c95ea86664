import type { BuildEvent } from '../engine/port.js';

// Shows build progress. TTY: a live list of steps (running, cached, done, duration). Otherwise:
// plain timestamped lines, inside GitHub Actions log groups when GITHUB_ACTIONS is set.

export interface ProgressSink {
  event(e: BuildEvent): void;
  /** Text outside the step list (up to date, tags). */
  note(text: string): void;
  close(): void;
}

export interface StepStats {
  total: number;
  cached: number;
}

export function countSteps(events: BuildEvent[]): StepStats {
  const final = new Map<string, string>();
  for (const e of events) if (e.type === 'step' && !/^\[internal\]|^\[auth\]/.test(e.name)) final.set(e.id, e.state);
  let cached = 0;
  for (const s of final.values()) if (s === 'cached') cached++;
  return { total: final.size, cached };
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function plainProgress(write: (line: string) => void, opts: { github?: boolean; now?: () => Date } = {}): ProgressSink {
  const now = opts.now ?? (() => new Date());
  let group = false;
  const stamp = () => now().toISOString().slice(11, 19);
  return {
    event(e) {
      if (e.type === 'step') {
        if (e.state === 'running') {
          if (opts.github) {
            if (group) write('::endgroup::');
            write(`::group::${e.name}`);
            group = true;
          } else write(`${stamp()} ${e.name}`);
        } else if (e.state === 'cached') write(`${stamp()} CACHED ${e.name}`);
        else if (e.state === 'done') write(`${stamp()} DONE ${fmtMs(e.durationMs)} ${e.name}`);
        else write(`${stamp()} ERROR ${e.name}${e.error ? `: ${e.error}` : ''}`);
      } else if (e.type === 'log') write(`${stamp()}   ${e.line}`);
    },
    note(text) {
      write(`${stamp()} ${text}`);
    },
    close() {
      if (group) write('::endgroup::');
      group = false;
    },
  };
}

export function ttyProgress(stream: NodeJS.WriteStream): ProgressSink {
  const steps = new Map<string, { name: string; state: string; durationMs?: number; started: number; last?: string }>();
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;
  const width = () => Math.max(40, (stream.columns ?? 100) - 1);
  const draw = () => {
    const lines: string[] = [];
    const list = [...steps.values()].filter((s) => !/^\[internal\]/.test(s.name)).slice(-12);
    for (const s of list) {
      const icon = s.state === 'running' ? '…' : s.state === 'cached' ? '=' : s.state === 'done' ? '✓' : '✗';
      const dur = s.state === 'running' ? fmtMs(Date.now() - s.started) : s.state === 'cached' ? 'cached' : fmtMs(s.durationMs);
      lines.push(`${icon} ${s.name}`.slice(0, width() - 10).padEnd(width() - 9) + dur.padStart(8));
      if (s.state === 'running' && s.last) lines.push(`    ${s.last}`.slice(0, width()));
    }
    if (drawn) stream.write(`\x1b[${drawn}F\x1b[0J`);
    stream.write(lines.length ? `${lines.join('\n')}\n` : '');
    drawn = lines.length;
  };
  return {
    event(e) {
      if (e.type === 'step') {
        const prev = steps.get(e.id);
        steps.set(e.id, { name: e.name, state: e.state, started: prev?.started ?? Date.now(), ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}) });
      } else if (e.type === 'log') {
        const s = steps.get(e.id);
        if (s) s.last = e.line;
      }
      timer ??= setInterval(draw, 200);
    },
    note(text) {
      draw();
      drawn = 0;
      stream.write(`${text}\n`);
    },
    close() {
      if (timer) clearInterval(timer);
      timer = null;
      draw();
      drawn = 0;
    },
  };
}

export const quietProgress: ProgressSink = { event() {}, note() {}, close() {} };
