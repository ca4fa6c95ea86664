import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { InputError, UsageError, type Issue } from '../errors.js';
import { expandMatrix, type Excluded } from '../matrix/expand.js';
import { loadSupportData } from '../support/load.js';
import type { MatrixEntry } from '../outputs/ci-matrix.js';
import { DigestCache } from '../plan/digest-cache.js';
import { loadRecipe, planLoaded } from '../plan/make-plan.js';

// Recipes -> every variant's plan. Each recipe file is read, parsed, hashed and expanded once;
// each variant then costs one resolution and one plan.

/** Recipe files named, or found under the folders named. */
export function findRecipes(args: string[]): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (e.name === 'node_modules' || e.name.startsWith('.')) continue;
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name === 'recipe.yaml') out.push(p);
    }
  };
  for (const a of args) {
    let st;
    try {
      st = statSync(a);
    } catch {
      throw new UsageError(`${a}: no such file or folder`);
    }
    if (st.isDirectory()) walk(a);
    else out.push(a);
  }
  if (!out.length) throw new UsageError(`no recipe.yaml under ${args.join(', ')}`);
  return [...new Set(out)];
}

export interface Variants {
  entries: MatrixEntry[];
  excluded: (Excluded & { recipe: string })[];
  recipeDirs: Map<string, string>;
}

export async function expandRecipes(args: string[], opts: { allowUnsupported?: boolean; baseImage?: string | undefined } = {}): Promise<Variants> {
  const data = loadSupportData();
  const allowUnsupported = opts.allowUnsupported ?? false;
  const cache = await DigestCache.open();
  const entries: MatrixEntry[] = [];
  const excluded: (Excluded & { recipe: string })[] = [];
  const recipeDirs = new Map<string, string>();
  const issues: Issue[] = [];
  const files = findRecipes(args);
  // One recipe at a time: read (synchronously: recipe/read.ts), parsed, planned, and its YAML
  // document let go before the next is read. Reading all first held 500 documents at once
  // (bench/matrix-scale.mjs: 152 MB at 1,000 variants, now under 120).
  for (const file of files) {
    const l = await loadRecipe(file);
    if (!l.ok) {
      issues.push(...l.issues);
      continue;
    }
    const loaded = l.loaded;
    const base = await planLoaded(loaded, { allowUnsupported, supportData: data, cache, ...(opts.baseImage ? { baseImage: opts.baseImage } : {}) });
    if (!base.ok) {
      issues.push(...base.issues);
      continue;
    }
    recipeDirs.set(file, loaded.recipeDir);
    const name = loaded.parsed.recipe.name;
    const exp = (loaded.expansion = expandMatrix(loaded.parsed.recipe, data, { allowUnsupported }));
    for (const x of exp.excluded) excluded.push({ ...x, id: `${name}/${x.id}`, recipe: file });
    for (const v of exp.variants) {
      const r = v.id
        ? await planLoaded(loaded, { allowUnsupported, supportData: data, cache, variant: v.axes, ...(opts.baseImage ? { baseImage: opts.baseImage } : {}) })
        : base;
      if (!r.ok) {
        issues.push(...r.issues);
        continue;
      }
      entries.push({ id: v.id ? `${name}/${v.id}` : name, recipe: file, variant: v.id, axes: v.axes, plan: r.planned.plan });
    }
  }
  await cache.save();
  if (issues.length) throw new InputError(issues, 'cannot expand the matrix');
  const ids = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) throw new UsageError(`two recipes make the variant ${e.id}: image names must differ`);
    ids.add(e.id);
  }
  return { entries, excluded, recipeDirs };
}
