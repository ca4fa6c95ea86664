import type { Issue } from '../errors.js';
import { PIN_PLACEHOLDERS, type SmokeTest } from '../recipe/schema.js';

// Smoke tests that check the plan's own pins: `ai-dynamo: "=={dynamo_version}"`,
// `vllm: "=={engine_version}"`, `nixl: "=={nixl_version}"`, a command's `version.constraint:
// "=={ucx_version}"`. One recipe then checks every variant of a matrix (a `dynamo` axis moves every
// pin). Pure: placeholders -> the resolved versions, or an issue naming the test and what is missing.

export type PinPlaceholder = (typeof PIN_PLACEHOLDERS)[number];
export type PinValues = Partial<Record<PinPlaceholder, string>>;

const PLACEHOLDER = /\{([a-z_]+)\}/g;

/**
 * The pins as the support matrix gives them. UCX is named by series ("1.22.x"): as a constraint it
 * is "1.22.*", so `=={ucx_version}` reads `==1.22.*`.
 */
export function pinValues(p: { dynamo: string | null; engine: string; nixl: string | null; ucx: string | null }): PinValues {
  return {
    ...(p.dynamo ? { dynamo_version: p.dynamo } : {}),
    engine_version: p.engine,
    ...(p.nixl ? { nixl_version: p.nixl } : {}),
    ...(p.ucx ? { ucx_version: p.ucx.replace(/\.x$/, '.*') } : {}),
  };
}

function fill(text: string, values: PinValues, missing: Set<string>): string {
  return text.replace(PLACEHOLDER, (whole, name: string) => {
    const v = values[name as PinPlaceholder];
    if (v === undefined) {
      missing.add(name);
      return whole;
    }
    return v;
  });
}

export function fillSmokePins(
  tests: SmokeTest[],
  values: PinValues,
  file: string,
  at: (path: (string | number)[]) => { line: number; col: number },
): { tests: SmokeTest[]; issues: Issue[] } {
  const issues: Issue[] = [];
  const out = tests.map((t, i) => {
    const missing = new Set<string>();
    let filled: SmokeTest = t;
    if (t.kind === 'python' && Object.values(t.distributions).some((c) => c.includes('{'))) {
      filled = { ...t, distributions: Object.fromEntries(Object.entries(t.distributions).map(([d, c]) => [d, fill(c, values, missing)])) };
    } else if (t.kind === 'command' && t.version?.constraint.includes('{')) {
      filled = { ...t, version: { ...t.version, constraint: fill(t.version.constraint, values, missing) } };
    }
    for (const name of missing)
      issues.push({
        code: 'smoke.pin-unknown',
        severity: 'error',
        file,
        ...at(['smoke', 'tests', i]),
        path: ['smoke', 'tests', i],
        message: `test "${t.name}" checks {${name}}, but this build has none`,
        hint:
          name === 'nixl_version' || name === 'ucx_version'
            ? 'NIXL and UCX versions come from the support matrix row (vllm, sglang, trtllm with a Dynamo release)'
            : 'set dynamo: for {dynamo_version}',
      });
    return filled;
  });
  return { tests: out, issues };
}
