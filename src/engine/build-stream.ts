import { OperationError } from '../errors.js';
import { decodeTrace } from './buildkit-trace.js';
import type { BuildEvent } from './port.js';

// The engine's build stream (BuildKit's trace or the classic builder's lines) as our events, with
// per-step logs kept for the error message.

const TAIL_LINES = 25;

/** Follows one build's events and keeps per-step logs for the error message. */
const CLASSIC = '\u0000classic';

/** `a\rb\rc` -> `c`: what a terminal would show last on that line. */
function lastSegment(line: string): string {
  const s = line.replace(/\r$/, '');
  return s.slice(s.lastIndexOf('\r') + 1);
}

/** Turns the engine's build stream (BuildKit trace or classic) into our events. Exported for tests. */
export class BuildTracker {
  imageId: string | null = null;
  error: string | null = null;
  private readonly logs = new Map<string, string[]>();
  private readonly names = new Map<string, string>();
  private readonly reported = new Map<string, string>();
  private failedStep: string | null = null;
  private classicStep: { id: string; name: string; started: number; cached: boolean } | null = null;
  private readonly messages: string[] = [];
  /** The unfinished last line of each step's output: the engine's chunks split lines anywhere. */
  private readonly partial = new Map<string, string>();

  constructor(private readonly emit: (e: BuildEvent) => void) {}

  /** Appends output to a step and hands on each complete line (a progress bar's \r keeps its last state). */
  private chunk(id: string, text: string, line: (l: string) => void): void {
    const parts = ((this.partial.get(id) ?? '') + text).split('\n');
    this.partial.set(id, parts.pop()!);
    for (const p of parts) line(lastSegment(p));
  }

  /** The unfinished lines, at the end of the build. */
  flush(): void {
    for (const [id, rest] of this.partial) {
      const l = lastSegment(rest);
      if (id === CLASSIC) this.classicLine(l);
      else if (l.trim()) this.log(id, l);
    }
    this.partial.clear();
  }

  private log(id: string, line: string): void {
    const l = this.logs.get(id) ?? [];
    l.push(line);
    if (l.length > 200) l.shift();
    this.logs.set(id, l);
    this.emit({ type: 'log', id, line });
  }

  private finishClassicStep(state: 'done' | 'error'): void {
    const s = this.classicStep;
    if (!s) return;
    this.emit({ type: 'step', id: s.id, name: s.name, state: s.cached && state === 'done' ? 'cached' : state, durationMs: Date.now() - s.started });
    this.classicStep = null;
  }

  handle(item: Record<string, unknown> | string): void {
    if (typeof item === 'string') {
      this.messages.push(item);
      this.emit({ type: 'message', text: item });
      return;
    }
    const aux = item['aux'] as Record<string, unknown> | undefined;
    if (item['id'] === 'moby.buildkit.trace' && typeof aux === 'string') {
      this.handleTrace(aux);
      return;
    }
    if (item['id'] === 'moby.image.id' && aux && typeof aux['ID'] === 'string') {
      this.imageId = aux['ID'];
      return;
    }
    if (aux && typeof aux['ID'] === 'string') {
      this.imageId = aux['ID'];
      return;
    }
    const errorDetail = item['errorDetail'] as { message?: string } | undefined;
    if (typeof item['error'] === 'string' || errorDetail) {
      this.error = errorDetail?.message ?? String(item['error']);
      if (this.classicStep) {
        this.failedStep = this.classicStep.id;
        this.finishClassicStep('error');
      }
      return;
    }
    if (typeof item['stream'] === 'string') {
      this.chunk(CLASSIC, item['stream'], (l) => this.classicLine(l));
      return;
    }
    if (typeof item['status'] === 'string') this.emit({ type: 'message', text: `${item['id'] ? `${String(item['id'])}: ` : ''}${item['status']}` });
  }

  private classicLine(raw: string): void {
    const line = raw.trimEnd();
    if (!line) return;
    const step = /^Step (\d+)\/(\d+) : (.*)$/.exec(line);
    if (step) {
      this.finishClassicStep('done');
      const id = `step-${step[1]}`;
      this.names.set(id, `[${step[1]}/${step[2]}] ${step[3]}`);
      this.classicStep = { id, name: this.names.get(id)!, started: Date.now(), cached: false };
      this.emit({ type: 'step', id, name: this.classicStep.name, state: 'running' });
      return;
    }
    // buildah (Podman): `[STAGE/STAGES] STEP N/M: INSTRUCTION` (no stage prefix with one stage),
    // numbered per stage; `--> Using cache ID` for a cached step; `[STAGE/STAGES] COMMIT` ends a stage.
    const bstep = /^(?:\[(\d+)\/(\d+)\] )?STEP (\d+)\/(\d+): (.*)$/.exec(line);
    if (bstep) {
      this.finishClassicStep('done');
      const id = `stage-${bstep[1] ?? '1'}-step-${bstep[3]}`;
      this.names.set(id, `[${bstep[1] ? `stage${bstep[1]} ` : ''}${bstep[3]}/${bstep[4]}] ${bstep[5]}`);
      this.classicStep = { id, name: this.names.get(id)!, started: Date.now(), cached: false };
      this.emit({ type: 'step', id, name: this.classicStep.name, state: 'running' });
      return;
    }
    if (/^(?:\[\d+\/\d+\] )?COMMIT\b/.test(line)) {
      this.finishClassicStep('done');
      return;
    }
    if (/^--> Using cache [0-9a-f]{12,}$/.test(line) && this.classicStep) {
      this.classicStep.cached = true;
      return;
    }
    if (/^--> [0-9a-f]{6,}$/.test(line)) return;
    if (line.trim() === '---> Using cache' && this.classicStep) this.classicStep.cached = true;
    if (/^Successfully (built|tagged)/.test(line)) {
      this.finishClassicStep('done');
      return;
    }
    if (/^ ---> |^Removing intermediate container /.test(line)) return;
    this.log(this.classicStep?.id ?? 'build', line);
  }

  private handleTrace(b64: string): void {
    let trace;
    try {
      trace = decodeTrace(b64);
    } catch {
      return; // progress only: a message we cannot decode must not fail the build
    }
    for (const v of trace.vertexes) {
      if (v.name) this.names.set(v.digest, v.name);
      const name = this.names.get(v.digest) ?? v.digest;
      let state: 'running' | 'cached' | 'done' | 'error' | null = null;
      if (v.error) state = 'error';
      else if (v.cached) state = 'cached';
      else if (v.completedMs !== null) state = 'done';
      else if (v.startedMs !== null) state = 'running';
      if (!state || this.reported.get(v.digest) === state) continue;
      this.reported.set(v.digest, state);
      if (state === 'error') {
        this.failedStep ??= v.digest;
        this.error ??= v.error;
      }
      this.emit({
        type: 'step',
        id: v.digest,
        name,
        state,
        ...(v.startedMs !== null ? { startedMs: v.startedMs } : {}),
        ...(v.startedMs !== null && v.completedMs !== null ? { durationMs: v.completedMs - v.startedMs } : {}),
        ...(v.error ? { error: v.error } : {}),
      });
    }
    for (const l of trace.logs) {
      this.chunk(l.vertex, Buffer.from(l.data).toString('utf8'), (line) => {
        if (line.trim()) this.log(l.vertex, line.trimEnd());
      });
    }
  }

  failure(): OperationError {
    this.flush();
    const stepId = this.failedStep;
    const name = stepId ? (this.names.get(stepId) ?? stepId) : null;
    const tail = (stepId ? this.logs.get(stepId) : undefined) ?? this.messages;
    return new OperationError('build.failed', name ? `build step ${name} failed: ${this.error}` : `build failed: ${this.error}`, {
      tail: tail.slice(-TAIL_LINES),
    });
  }
}
