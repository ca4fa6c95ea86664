import type { BuildEvent } from '../engine/port.js';

// Shows build progress (--progress auto|tty|plain|json). TTY: a live list of steps (running, cached,
// done, duration) bounded by the terminal, then one summary. Plain: timestamped lines, inside GitHub
// Actions log groups (and ::error annotations for failures) when GITHUB_ACTIONS is set. JSON: one
// object per event.

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

/**
 * Counts the Dockerfile's own steps (`[stage 2/6] RUN ...`, `[ 2/21] COPY ...`): not the builder's
 * bookkeeping (loading the context, resolving or importing, exporting) nor FROM, which is resolved,
 * never built, so never "cached".
 */
export function countSteps(events: BuildEvent[]): StepStats {
  const final = new Map<string, string>();
  // BuildKit pads the step number to the width of the count: `[runtime  3/14]`, `[ 2/21]`.
  for (const e of events) if (e.type === 'step' && /^\[(?:[\w.-]+ +)? *\d+\/\d+\] /.test(e.name) && !/^\[[^\]]+\] FROM /.test(e.name)) final.set(e.id, e.state);
  let cached = 0;
  for (const s of final.values()) if (s === 'cached') cached++;
  return { total: final.size, cached };
}

function fmtMs(ms: number | undefined): string {
  if (ms === undefined) return '';
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`;
}

export function plainProgress(
  write: (line: string) => void,
  opts: { github?: boolean; now?: () => Date; command?: (line: string) => void } = {},
): ProgressSink {
  const now = opts.now ?? (() => new Date());
  // Workflow commands are the tool's own: they bypass the stop-commands block foreign text is in.
  const cmd = opts.command ?? write;
  let group = false;
  const stamp = () => now().toISOString().slice(11, 19);
  return {
    event(e) {
      if (e.type === 'step') {
        if (e.state === 'running') {
          if (opts.github) {
            if (group) cmd('::endgroup::');
            cmd(`::group::${e.name}`);
            group = true;
          } else write(`${stamp()} ${e.name}`);
        } else if (e.state === 'cached') write(`${stamp()} CACHED ${e.name}`);
        else if (e.state === 'done') write(`${stamp()} DONE ${fmtMs(e.durationMs)} ${e.name}`);
        else {
          write(`${stamp()} ERROR ${e.name}${e.error ? `: ${e.error}` : ''}`);
          // An annotation on the run's summary page, outside the collapsed group.
          if (opts.github) {
            if (group) cmd('::endgroup::');
            group = false;
            cmd(`::error title=build step failed::${annotation(`${e.name}${e.error ? `: ${e.error}` : ''}`)}`);
          }
        }
      } else if (e.type === 'log') write(`${stamp()}   ${e.line}`);
    },
    note(text) {
      write(`${stamp()} ${text}`);
    },
    close() {
      if (group) cmd('::endgroup::');
      group = false;
    },
  };
}

/** A workflow command's message: %, CR and LF escaped as GitHub expects. */
export function annotation(text: string): string {
  return text.replace(/%/g, '%25').replace(/\r/g, '%0D').replace(/\n/g, '%0A');
}

/** `--progress json`: one JSON object per event, with its time, for machines. */
export function jsonProgress(write: (line: string) => void, opts: { now?: () => Date } = {}): ProgressSink {
  const now = opts.now ?? (() => new Date());
  return {
    event(e) {
      write(JSON.stringify({ time: now().toISOString(), ...e }));
    },
    note(text) {
      write(JSON.stringify({ time: now().toISOString(), type: 'note', text }));
    },
    close() {},
  };
}

interface TtyStream {
  write(s: string): boolean;
  columns?: number;
  rows?: number;
}

/**
 * A live view of the steps, redrawn in place: never taller than the terminal (the most recent steps
 * when they do not all fit) nor wider (lines cut to its width). Notes print above it. At the end
 * the view is replaced by one summary of every step.
 */
export function ttyProgress(stream: TtyStream, opts: { now?: () => number; clean?: (text: string) => string } = {}): ProgressSink {
  const now = opts.now ?? (() => Date.now());
  // The engine's text (step names, log lines) is shown, never obeyed: the caller's cleaner escapes it.
  const clean = opts.clean ?? ((t: string) => t);
  const steps = new Map<string, { name: string; state: string; durationMs?: number; started: number; last?: string }>();
  let drawn = 0;
  let timer: NodeJS.Timeout | null = null;
  const width = () => Math.max(20, (stream.columns ?? 80) - 1);
  const height = () => Math.max(3, (stream.rows ?? 24) - 2);
  const visible = () => [...steps.values()].filter((s) => !/^\[internal\]|^\[auth\]/.test(s.name));
  const line = (s: { name: string; state: string; durationMs?: number; started: number }) => {
    const icon = s.state === 'running' ? '…' : s.state === 'cached' ? '=' : s.state === 'done' ? '✓' : '✗';
    const dur = s.state === 'running' ? fmtMs(now() - s.started) : s.state === 'cached' ? 'cached' : fmtMs(s.durationMs);
    const w = width();
    const head = `${icon} ${s.name}`;
    return w > 12 ? `${head.slice(0, w - 10).padEnd(w - 9)}${dur.padStart(9).slice(-9)}` : head.slice(0, w);
  };
  const clear = () => {
    if (drawn) stream.write(`\x1b[${drawn}F\x1b[0J`);
    drawn = 0;
  };
  const draw = () => {
    const lines: string[] = [];
    for (const s of visible()) {
      lines.push(line(s));
      if (s.state === 'running' && s.last) lines.push(`    ${s.last}`.slice(0, width()));
    }
    const shown = lines.slice(-height());
    clear();
    if (shown.length) stream.write(`${shown.join('\n')}\n`);
    drawn = shown.length;
  };
  return {
    event(e) {
      if (e.type === 'step') {
        const prev = steps.get(e.id);
        steps.set(e.id, {
          name: clean(e.name),
          state: e.state,
          started: prev?.started ?? now(),
          ...(e.durationMs !== undefined ? { durationMs: e.durationMs } : {}),
        });
      } else if (e.type === 'log') {
        const s = steps.get(e.id);
        if (s) s.last = clean(e.line);
      }
      timer ??= setInterval(draw, 200);
    },
    note(text) {
      // Above the live view, which is drawn again below it.
      clear();
      stream.write(`${clean(text)}\n`);
      if (timer) draw();
    },
    close() {
      if (timer) clearInterval(timer);
      const hadView = timer !== null;
      timer = null;
      clear();
      // One summary of every step (not only the ones that fit the live view), once.
      if (hadView) for (const s of visible()) stream.write(`${line(s)}\n`);
      steps.clear();
    },
  };
}

export const quietProgress: ProgressSink = { event() {}, note() {}, close() {} };
