import { ExitCode, UsageError } from '../../errors.js';
import { shard } from '../../matrix/expand.js';
import { bakeFile, githubMatrix, githubMerge } from '../../outputs/ci-matrix.js';
import { expandRecipes } from '../../pipeline/variants.js';
import type { Output } from '../output.js';

/** GitHub Actions: "A matrix can generate a maximum of 256 jobs per workflow run." */
export const GITHUB_MAX_JOBS = 256;

export function parseShard(s: string | undefined): { index: number; count: number } | null {
  if (!s) return null;
  const m = /^(\d+)\/(\d+)$/.exec(s);
  if (!m || Number(m[2]) < 1 || Number(m[1]) < 1 || Number(m[1]) > Number(m[2])) throw new UsageError(`--shard ${s} is not I/N with 1 <= I <= N`);
  return { index: Number(m[1]), count: Number(m[2]) };
}

export interface MatrixCliOptions {
  format: 'json' | 'github' | 'github-merge' | 'bake';
  shard?: string;
  explain?: boolean;
  allowUnsupported?: boolean;
  command?: string;
  baseImage?: string;
}

export async function runMatrix(args: string[], opts: MatrixCliOptions, o: Output): Promise<number> {
  const sh = parseShard(opts.shard);
  const { entries: all, excluded, recipeDirs } = await expandRecipes(args, opts);
  const entries = sh ? shard(all, sh.index, sh.count) : all;
  if (opts.explain) {
    for (const e of all) o.err(`included ${e.id} (${e.recipe})${sh && !entries.includes(e) ? ` [other shard]` : ''}`);
    for (const x of excluded) o.err(`excluded ${x.id} (${x.recipe}): ${x.reason}`);
  }
  const jobsOf = (list: typeof all) => githubMatrix(list, { command: '' }).include.length;
  const jobs = opts.format === 'github' ? jobsOf(entries) : 0;
  if (opts.format === 'github' && jobs > GITHUB_MAX_JOBS) {
    // GitHub Actions refuses a matrix of more than 256 jobs at the expand step: say so here, with
    // the split that fits (shards deal variants; a variant for several platforms is several jobs).
    let need = Math.ceil(jobsOf(all) / GITHUB_MAX_JOBS);
    while (Array.from({ length: need }, (_, i) => jobsOf(shard(all, i + 1, need))).some((n) => n > GITHUB_MAX_JOBS)) need++;
    const what = jobs === entries.length ? `${jobs} variants` : `${jobs} jobs (${entries.length} variants, one job per platform)`;
    throw new UsageError(
      `${what}${sh ? ` in shard ${sh.index}/${sh.count}` : ''}: GitHub Actions runs at most ${GITHUB_MAX_JOBS} jobs from one matrix`,
      `split the ${all.length} variants into ${need} shards: --shard 1/${need} ... --shard ${need}/${need}, one matrix job each (the shards are disjoint and cover every variant)`,
    );
  }
  if (opts.format === 'github-merge') o.out(JSON.stringify(githubMerge(all, { command: opts.command ?? 'npx dynamo-image publish' })));
  else if (opts.format === 'github') o.out(JSON.stringify(githubMatrix(entries, { command: opts.command ?? 'npx dynamo-image publish' })));
  else if (opts.format === 'bake') o.out(JSON.stringify(bakeFile(entries, { cwd: process.cwd(), recipeDirs }), null, 2));
  else
    o.out(
      JSON.stringify(
        {
          variants: entries.map((e) => ({
            id: e.id,
            recipe: e.recipe,
            variant: e.variant,
            axes: e.axes,
            image: e.plan.tags[0],
            planDigest: e.plan.digest,
            support: e.plan.support.status,
          })),
          excluded: excluded.map((x) => ({ id: x.id, recipe: x.recipe, axes: x.axes, by: x.by, reason: x.reason })),
          ...(sh ? { shard: sh } : {}),
        },
        null,
        2,
      ),
    );
  return ExitCode.ok;
}
