import { readdirSync, statSync } from 'node:fs';
import path from 'node:path';
import { ExitCode, InputError, UsageError, type Issue } from '../../errors.js';
import { expandMatrix, shard, type Excluded } from '../../matrix/expand.js';
import { loadSupportData } from '../../matrix/load.js';
import { bakeFile, githubMatrix, type MatrixEntry } from '../../matrix/outputs.js';
import { tryPlanRecipe } from '../../plan/make-plan.js';
import type { Output } from '../output.js';

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

export async function expandAll(args: string[], opts: { allowUnsupported?: boolean }): Promise<{ entries: MatrixEntry[]; excluded: (Excluded & { recipe: string })[]; recipeDirs: Map<string, string> }> {
  const data = loadSupportData();
  const entries: MatrixEntry[] = [];
  const excluded: (Excluded & { recipe: string })[] = [];
  const recipeDirs = new Map<string, string>();
  const issues: Issue[] = [];
  for (const file of findRecipes(args)) {
    const base = await tryPlanRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, supportData: data });
    if (!base.ok) {
      issues.push(...base.issues);
      continue;
    }
    recipeDirs.set(file, base.planned.recipeDir);
    const name = base.planned.recipe.name;
    const exp = expandMatrix(base.planned.recipe, data, { allowUnsupported: opts.allowUnsupported ?? false });
    for (const x of exp.excluded) excluded.push({ ...x, id: `${name}/${x.id}`, recipe: file });
    for (const v of exp.variants) {
      const r = v.id ? await tryPlanRecipe(file, { allowUnsupported: opts.allowUnsupported ?? false, supportData: data, variant: v.axes }) : base;
      if (!r.ok) {
        issues.push(...r.issues);
        continue;
      }
      entries.push({ id: v.id ? `${name}/${v.id}` : name, recipe: file, variant: v.id, axes: v.axes, plan: r.planned.plan });
    }
  }
  if (issues.length) throw new InputError(issues, 'cannot expand the matrix');
  const ids = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) throw new UsageError(`two recipes make the variant ${e.id}: image names must differ`);
    ids.add(e.id);
  }
  return { entries, excluded, recipeDirs };
}

export function parseShard(s: string | undefined): { index: number; count: number } | null {
  if (!s) return null;
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard ${s} is not I/N with 1 <= I <= N`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

export async function runMatrix(args: string[], opts: { format: 'json' | 'github' | 'bake'; shard?: string; explain?: boolean; allowUnsupported?: boolean; command?: string }, o: Output): Promise<number> {
  const sh = parseShard(opts.shard);
  const { entries: all, excluded, recipeDirs } = await expandAll(args, opts);
  const entries = sh ? shard(all, sh.index, sh.count) : all;
  if (opts.explain) {
    for (const e of all) o.err(`included ${e.id} (${e.recipe})${sh && !entries.includes(e) ? ` [other shard]` : ''}`);
    for (const x of excluded) o.err(`excluded ${x.id} (${x.recipe}): ${x.reason}`);
  }
  if (opts.format === 'github') o.out(JSON.stringify(githubMatrix(entries, { command: opts.command ?? 'npx dynamo-image publish' })));
  else if (opts.format === 'bake') o.out(JSON.stringify(bakeFile(entries, { cwd: process.cwd(), recipeDirs }), null, 2));
  else
    o.out(
      JSON.stringify(
        {
          variants: entries.map((e) => ({ id: e.id, recipe: e.recipe, variant: e.variant, axes: e.axes, image: e.plan.tags[0], planDigest: e.plan.digest, support: e.plan.support.status })),
          excluded: excluded.map((x) => ({ id: x.id, recipe: x.recipe, axes: x.axes, by: x.by, reason: x.reason })),
          ...(sh ? { shard: sh } : {}),
        },
        null,
        2,
      ),
    );
  return ExitCode.ok;
}
