import { sha256Hex } from './canonical.js';
import type { Plan } from './types.js';

// A compact, versioned summary of the plan an image was built from (issue 24, point 4): carried
// by the image as a label, so `why` and `build` can say which input, pin, flag or tool version made
// the build key differ. Never secrets: build-argument values and steps are stored as digests, and
// the plan holds no secret values (only secret ids). Pure.

export const SUMMARY_LABEL = 'dev.dynamo-image.plan-summary';
const MAX_INPUTS = 400;

export interface PlanSummary {
  v: 1;
  tool: string;
  recipe: string;
  plan: string;
  target: string;
  platform: string | null;
  /** name -> sha256 of the value (12 hex): what changed, not what it is. */
  buildArgs: Record<string, string>;
  base: { runtime: string; builder: string };
  engine: string;
  dynamo: string | null;
  python: string | null;
  /** context path -> sha256 (16 hex); `inputsDigest` alone when there are more than MAX_INPUTS. */
  inputs?: Record<string, string>;
  inputsDigest: string;
  deps: string[];
  systemPackages: string[];
  imports: string[];
  steps: string;
  runtime: string;
}

const short = (s: string, n: number) => s.replace(/^sha256:/, '').slice(0, n);

export function planSummary(plan: Plan, build: { target: string; buildArgs: Record<string, string>; platform?: string | undefined }): PlanSummary {
  const inputs = Object.fromEntries(plan.inputs.map((i) => [i.contextPath, short(i.sha256, 16)]));
  return {
    v: 1,
    tool: plan.tool.version,
    recipe: short(plan.recipe.sha256, 16),
    plan: plan.digest,
    target: build.target,
    platform: build.platform ?? null,
    buildArgs: Object.fromEntries(
      Object.entries({ ...plan.buildArgs, ...build.buildArgs })
        .sort(([a], [b]) => (a < b ? -1 : 1))
        .map(([k, v]) => [k, short(sha256Hex(v), 12)]),
    ),
    base: { runtime: plan.base.runtime, builder: plan.base.builder },
    engine: `${plan.engine.framework}==${plan.engine.version} (${plan.engine.source.kind})`,
    dynamo: plan.dynamo?.version ?? null,
    python: plan.python,
    ...(plan.inputs.length <= MAX_INPUTS ? { inputs } : {}),
    inputsDigest: short(sha256Hex(JSON.stringify(inputs)), 16),
    deps: [...plan.dependencies.map((d) => `${d.name}==${d.version}`), ...(plan.requirements?.packages ?? []).map((p) => `${p.name}==${p.version}`)].sort(),
    systemPackages: [...plan.systemPackages].sort(),
    imports: plan.imports.map((i) => i.image).sort(),
    steps: short(sha256Hex(JSON.stringify(plan.steps)), 12),
    runtime: short(sha256Hex(JSON.stringify(plan.runtime)), 12),
  };
}

/** The label's value read back: null when absent or not a summary this version understands. */
export function readSummary(label: string | undefined): PlanSummary | null {
  if (!label || label.length > 256 * 1024) return null;
  try {
    const s = JSON.parse(label) as Partial<PlanSummary>;
    return s && s.v === 1 && typeof s.plan === 'string' ? (s as PlanSummary) : null;
  } catch {
    return null;
  }
}

export interface Change {
  field: string;
  was: string | null;
  now: string | null;
  line: string;
}

function setDiff(field: string, what: string, was: string[], now: string[]): Change[] {
  const out: Change[] = [];
  for (const x of now.filter((n) => !was.includes(n))) out.push({ field, was: null, now: x, line: `${what} ${x}: added` });
  for (const x of was.filter((n) => !now.includes(n))) out.push({ field, was: x, now: null, line: `${what} ${x}: removed` });
  return out;
}

/** What differs between the summary an image carries and the plan now, one line each. */
export function diffSummaries(was: PlanSummary, now: PlanSummary): Change[] {
  const out: Change[] = [];
  const one = (field: string, a: string | null, b: string | null, what: string) => {
    if (a !== b) out.push({ field, was: a, now: b, line: `${what}: ${a ?? '(none)'} -> ${b ?? '(none)'}` });
  };
  one('tool', was.tool, now.tool, 'dynamo-image version');
  one('target', was.target, now.target, 'target');
  one('platform', was.platform, now.platform, 'platform');
  one('base.runtime', was.base.runtime, now.base.runtime, 'base image (runtime stage)');
  if (was.base.builder !== was.base.runtime || now.base.builder !== now.base.runtime)
    one('base.builder', was.base.builder, now.base.builder, 'base image (framework stage)');
  one('engine', was.engine, now.engine, 'engine');
  one('dynamo', was.dynamo, now.dynamo, 'Dynamo');
  one('python', was.python, now.python, 'Python');
  if (was.inputs && now.inputs) {
    for (const [p, sha] of Object.entries(now.inputs)) {
      const before = was.inputs[p];
      if (before === undefined) out.push({ field: `inputs.${p}`, was: null, now: sha, line: `input ${p}: added (sha256 ${sha}…)` });
      else if (before !== sha) out.push({ field: `inputs.${p}`, was: before, now: sha, line: `input ${p}: sha256 ${before}… -> ${sha}…` });
    }
    for (const p of Object.keys(was.inputs))
      if (!(p in now.inputs)) out.push({ field: `inputs.${p}`, was: was.inputs[p]!, now: null, line: `input ${p}: removed` });
  } else one('inputsDigest', was.inputsDigest, now.inputsDigest, 'inputs (digest over all of them)');
  const byName = (l: string[]) => new Map(l.map((d) => [d.split('==')[0]!, d.split('==')[1] ?? '']));
  const dw = byName(was.deps);
  const dn = byName(now.deps);
  for (const [n, v] of dn) {
    if (!dw.has(n)) out.push({ field: `deps.${n}`, was: null, now: v, line: `Python dependency ${n}: added (${v})` });
    else if (dw.get(n) !== v) out.push({ field: `deps.${n}`, was: dw.get(n)!, now: v, line: `Python dependency ${n}: ${dw.get(n)} -> ${v}` });
  }
  for (const n of dw.keys()) if (!dn.has(n)) out.push({ field: `deps.${n}`, was: dw.get(n)!, now: null, line: `Python dependency ${n}: removed` });
  out.push(...setDiff('systemPackages', 'system package', was.systemPackages, now.systemPackages));
  out.push(...setDiff('imports', 'imported image', was.imports, now.imports));
  for (const k of new Set([...Object.keys(was.buildArgs), ...Object.keys(now.buildArgs)])) {
    const a = was.buildArgs[k];
    const b = now.buildArgs[k];
    if (a === b) continue;
    out.push({
      field: `buildArgs.${k}`,
      was: a ?? null,
      now: b ?? null,
      line: `build argument ${k}: ${a === undefined ? 'added' : b === undefined ? 'removed' : 'another value'}`,
    });
  }
  if (was.steps !== now.steps) out.push({ field: 'steps', was: was.steps, now: now.steps, line: "the recipe's steps changed" });
  if (was.runtime !== now.runtime)
    out.push({
      field: 'runtime',
      was: was.runtime,
      now: now.runtime,
      line: 'runtime settings changed (env, user, workdir, entrypoint, command, ports, healthcheck)',
    });
  if (!out.length && was.plan !== now.plan) {
    out.push({
      field: 'recipe',
      was: was.recipe,
      now: now.recipe,
      line:
        was.recipe !== now.recipe
          ? "the recipe file's bytes changed (the plan digest covers them: a comment or layout edit makes a new image)"
          : 'the plan changed in a field the summary does not carry (smoke tests, labels, publish settings)',
    });
  }
  return out;
}
