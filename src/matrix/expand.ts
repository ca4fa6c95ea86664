import type { Issue } from '../errors.js';
import { AXIS_SCHEMAS, type Recipe } from '../recipe/schema.js';
import { resolveRecipe } from '../support/resolve.js';
import type { SupportData } from '../support/schema.js';

// A recipe's matrix axes -> the variants to build, filtered through the support matrix. Pure.
// Explicit `include` entries are added, `exclude` entries removed, then every remaining
// combination is resolved; one the support matrix refuses is excluded with the reason.

export const AXES = ['cuda', 'platform', 'python', 'dynamo'] as const;
export type Axis = (typeof AXES)[number];
export type VariantAxes = Partial<Record<Axis, string>>;

export interface Variant {
  /** e.g. `cuda12.9-amd64-py3.12`: only the axes the matrix varies. */
  id: string;
  axes: VariantAxes;
}

export interface Excluded extends Variant {
  reason: string;
  by: 'exclude' | 'support-matrix';
}

export interface Expansion {
  variants: Variant[];
  excluded: Excluded[];
}

export function variantId(axes: VariantAxes): string {
  const parts: string[] = [];
  if (axes.dynamo) parts.push(`dynamo${axes.dynamo}`);
  if (axes.cuda) parts.push(`cuda${axes.cuda}`);
  if (axes.platform) parts.push(axes.platform.split('/').pop()!);
  if (axes.python) parts.push(`py${axes.python}`);
  return parts.join('-');
}

/**
 * The recipe as one variant builds it. A `dynamo` value replaces the recipe's Dynamo release; where
 * the recipe's image version is its Dynamo release (Dynamo's own images: vllm-runtime 1.7.0 is
 * Dynamo 1.7.0), the variant's image version is the variant's release too.
 */
export function applyVariant(recipe: Recipe, axes: VariantAxes): Recipe {
  const followsDynamo = axes.dynamo !== undefined && recipe.dynamo !== undefined && recipe.version === recipe.dynamo;
  return {
    ...recipe,
    ...(axes.dynamo ? { dynamo: axes.dynamo } : {}),
    ...(followsDynamo ? { version: axes.dynamo! } : {}),
    base: {
      ...recipe.base,
      ...(axes.cuda ? { cuda: axes.cuda } : {}),
      ...(axes.platform ? { platforms: [axes.platform as 'linux/amd64' | 'linux/arm64'] } : {}),
    },
    ...(axes.python ? { python: axes.python } : {}),
  };
}

function matches(axes: VariantAxes, pattern: Record<string, string>): boolean {
  return Object.entries(pattern).every(([k, v]) => axes[k as Axis] === v);
}

export function expandMatrix(recipe: Recipe, data: SupportData, opts: { allowUnsupported?: boolean } = {}): Expansion {
  const m = recipe.matrix;
  if (!m) return { variants: [{ id: '', axes: {} }], excluded: [] };
  const lists: [Axis, string[]][] = [];
  if (m.cuda?.length) lists.push(['cuda', m.cuda]);
  if (m.platform?.length) lists.push(['platform', m.platform]);
  if (m.python?.length) lists.push(['python', m.python]);
  if (m.dynamo?.length) lists.push(['dynamo', m.dynamo]);
  let combos: VariantAxes[] = [{}];
  for (const [axis, values] of lists) combos = combos.flatMap((c) => values.map((v) => ({ ...c, [axis]: v })));
  if (lists.length === 0) combos = [];
  const excluded: Excluded[] = [];
  const kept: VariantAxes[] = [];
  for (const c of combos) {
    const ex = m.exclude.find((e) => matches(c, e));
    if (ex) excluded.push({ id: variantId(c), axes: c, by: 'exclude', reason: `matrix.exclude ${JSON.stringify(ex)}` });
    else kept.push(c);
  }
  for (const inc of m.include) {
    const axes: VariantAxes = {};
    for (const a of AXES) if (inc[a] !== undefined) axes[a] = inc[a];
    if (!kept.some((k) => variantId(k) === variantId(axes))) kept.push(axes);
  }
  const variants: Variant[] = [];
  for (const axes of kept) {
    const { resolution, issues } = resolveRecipe(applyVariant(recipe, axes), data, {
      file: '',
      locate: () => ({ line: 0, col: 0 }),
      allowUnsupported: opts.allowUnsupported ?? false,
    });
    const err = issues.find((i: Issue) => i.severity === 'error');
    if (!resolution || err)
      excluded.push({
        id: variantId(axes),
        axes,
        by: 'support-matrix',
        reason: err ? `${err.message}${err.hint ? ` (${err.hint})` : ''}` : 'does not resolve',
      });
    else variants.push({ id: variantId(axes), axes });
  }
  const byId = (a: Variant, b: Variant) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0);
  return { variants: variants.sort(byId), excluded: excluded.sort(byId) };
}

/** `cuda=12.9,platform=linux/arm64` -> axes. */
export function parseVariant(text: string): { ok: true; axes: VariantAxes } | { ok: false; reason: string } {
  const axes: VariantAxes = {};
  for (const part of text
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const [k, v] = part.split('=');
    if (!k || v === undefined || !(AXES as readonly string[]).includes(k))
      return { ok: false, reason: `"${part}" is not AXIS=VALUE with AXIS one of ${AXES.join(', ')}` };
    // The same rule as the recipe's own field: a value that is not a version or platform never reaches a plan.
    const checked = AXIS_SCHEMAS[k as Axis].safeParse(v);
    if (!checked.success) return { ok: false, reason: `${k} ${JSON.stringify(v)} ${checked.error.issues[0]?.message ?? 'is not valid'}` };
    axes[k as Axis] = v;
  }
  return { ok: true, axes };
}

/** Shard I of N (1-based): variants in id order, dealt round-robin. Shards are disjoint and cover all. */
export function shard<T extends { id: string }>(items: T[], index: number, count: number): T[] {
  return [...items].sort((a, b) => (a.id < b.id ? -1 : a.id > b.id ? 1 : 0)).filter((_, i) => i % count === index - 1);
}
