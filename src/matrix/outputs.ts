import path from 'node:path';
import { dockerfileFromPlan } from '../dockerfile/from-plan.js';
import { renderDockerfile } from '../dockerfile/render.js';
import type { Plan } from '../plan/types.js';
import type { VariantAxes } from './expand.js';

// Matrix outputs for CI systems and BuildKit: pure functions of the variants' plans.

export interface MatrixEntry {
  /** Unique across recipes: `NAME` or `NAME/VARIANT`. */
  id: string;
  recipe: string;
  variant: string;
  axes: VariantAxes;
  plan: Plan;
}

function variantFlag(axes: VariantAxes): string {
  const parts = Object.entries(axes).map(([k, v]) => `${k}=${v}`);
  return parts.length ? ` --variant ${parts.join(',')}` : '';
}

/** GitHub Actions `strategy.matrix`: `{"include": [...]}`, every value a string. */
export function githubMatrix(entries: MatrixEntry[], opts: { command: string }): { include: Record<string, string>[] } {
  return {
    include: entries.map((e) => ({
      id: e.id,
      name: `${e.plan.image.name} ${e.variant || 'default'}`,
      recipe: e.recipe,
      variant: e.variant,
      cuda: e.plan.cuda?.version ?? '',
      platform: e.plan.platforms[0] ?? '',
      python: e.plan.python,
      // arm64 variants go to arm64 runners (GitHub's hosted ubuntu-24.04-arm); they have no GPUs.
      runner: e.plan.platforms[0] === 'linux/arm64' ? 'ubuntu-24.04-arm' : 'ubuntu-24.04',
      command: `${opts.command} ${e.recipe}${variantFlag(e.axes)}`,
    })),
  };
}

function bakeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * docker-bake.json: one target per variant, the recipe's folder as context and the rendered
 * Dockerfile inline, plus a `default` group. For users who run the matrix on BuildKit builders
 * with `docker buildx bake`. (bake does not check input digests; `dynamo-image build` does.)
 */
export function bakeFile(entries: MatrixEntry[], opts: { cwd: string; recipeDirs: Map<string, string> }): Record<string, unknown> {
  const target: Record<string, unknown> = {};
  for (const e of entries) {
    const dir = opts.recipeDirs.get(e.recipe)!;
    target[bakeName(e.id)] = {
      context: path.relative(opts.cwd, dir) || '.',
      'dockerfile-inline': renderDockerfile(dockerfileFromPlan(e.plan, 'runtime')),
      target: 'runtime',
      platforms: e.plan.platforms,
      tags: e.plan.tags,
      args: e.plan.buildArgs,
      labels: { 'dev.dynamo-image.plan-digest': e.plan.digest, 'dev.dynamo-image.target': 'runtime' },
    };
  }
  return { group: { default: { targets: Object.keys(target) } }, target };
}
