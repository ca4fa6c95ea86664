import path from 'node:path';
import { UsageError } from '../errors.js';
import { BUILD_KEY_LABEL, buildKeyOf, LABEL_PREFIX, PLAN_DIGEST_LABEL, planFetches } from '../plan/build-plan.js';

const TARGET_LABEL = `${LABEL_PREFIX}.target`;

import { dockerfileFromPlan } from '../dockerfile/from-plan.js';
import { renderDockerfile, shellQuote } from '../dockerfile/render.js';
import type { Plan } from '../plan/types.js';
import type { VariantAxes } from '../matrix/expand.js';

// Matrix outputs for CI systems and BuildKit: pure functions of the variants' plans.

export interface MatrixEntry {
  /** Unique across recipes: `NAME` or `NAME/VARIANT`. */
  id: string;
  recipe: string;
  variant: string;
  axes: VariantAxes;
  plan: Plan;
}

/** `cuda=12.9,platform=linux/arm64`: what `--variant` takes. */
export function variantArg(axes: VariantAxes): string {
  return Object.entries(axes)
    .map(([k, v]) => `${k}=${v}`)
    .join(',');
}

/** Text that will run in a CI shell must be printable on one line; anything else is refused, never quoted. */
const UNQUOTABLE = /[\u0000-\u001f\u007f]/;

/**
 * The argv of one entry's command, each argument POSIX-quoted: a recipe path or value with `;`,
 * `$(...)` or quotes stays one argument. `command` is the workflow author's own prefix and is kept
 * as written.
 */
export function entryCommand(prefix: string, recipe: string, axes: VariantAxes, platform: string | null = null): string {
  const v = variantArg(axes);
  const args = [recipe, ...(v ? ['--variant', v] : []), ...(platform ? ['--platform', platform] : [])];
  for (const a of args)
    if (UNQUOTABLE.test(a))
      throw new UsageError(
        `${JSON.stringify(a)} holds a line break or control character and cannot be passed safely to a CI shell`,
        "rename the recipe's folder",
      );
  return [prefix, ...args.map(shellQuote)].join(' ');
}

/** GitHub Actions `strategy.matrix`: `{"include": [...]}`, every value a string. */
/**
 * GitHub Actions `strategy.matrix`: `{"include": [...]}`, every value a string. A variant for
 * several platforms is one entry per platform (`platformArg`: each builds and pushes its platform
 * on a runner of that architecture); `merge` lists those variants once, for the job that puts
 * the manifest lists together afterwards (`publish --merge`).
 */
export function githubMatrix(entries: MatrixEntry[], opts: { command: string }): { include: Record<string, string>[] } {
  return {
    include: entries.flatMap((e) => {
      const multi = e.plan.platforms.length > 1;
      return e.plan.platforms.map((platform) => ({
        id: multi ? `${e.id}@${platform.split('/')[1]}` : e.id,
        name: `${e.plan.image.name} ${e.variant || 'default'}${multi ? ` ${platform.split('/')[1]}` : ''}`,
        recipe: e.recipe,
        variant: e.variant,
        cuda: e.plan.cuda?.version ?? '',
        platform,
        python: e.plan.python ?? '',
        // arm64 entries go to arm64 runners (GitHub's hosted ubuntu-24.04-arm); they have no GPUs.
        runner: platform === 'linux/arm64' ? 'ubuntu-24.04-arm' : 'ubuntu-24.04',
        // The workflow passes `recipe`, `variantArg` and `platformArg` through environment
        // variables; `command` is the same, quoted, for workflows that run it as it is.
        variantArg: variantArg(e.axes),
        platformArg: multi ? platform : '',
        command: entryCommand(opts.command, e.recipe, e.axes, multi ? platform : null),
      }));
    }),
  };
}

/** The variants that need their manifest lists assembled after the per-platform jobs. */
export function githubMerge(entries: MatrixEntry[], opts: { command: string }): { include: Record<string, string>[] } {
  return {
    include: entries
      .filter((e) => e.plan.platforms.length > 1)
      .map((e) => ({
        id: e.id,
        name: `${e.plan.image.name} ${e.variant || 'default'} (manifest lists)`,
        recipe: e.recipe,
        variantArg: variantArg(e.axes),
        command: `${entryCommand(opts.command, e.recipe, e.axes)} --merge`,
      })),
  };
}

function bakeName(id: string): string {
  return id.replace(/[^A-Za-z0-9_-]/g, '_');
}

/**
 * bake reads every JSON string as an HCL template: `${...}` and `%{...}` are interpolation. Each
 * is doubled (`$${`, `%%{`) so the text reaches the builder as written.
 */
export function bakeEscape(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\$\{/g, () => '$${').replace(/%\{/g, () => '%%{');
  if (Array.isArray(value)) return value.map(bakeEscape);
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [bakeEscape(k) as string, bakeEscape(v)]));
  return value;
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
    target[bakeName(e.id)] = bakeEscape({
      context: path.relative(opts.cwd, dir) || '.',
      // buildx builders take RUN --network: a step that asked for none keeps none on a target with a network.
      'dockerfile-inline': renderDockerfile(dockerfileFromPlan(e.plan, 'runtime', { buildkit: true, stepNetwork: planFetches(e.plan) })),
      target: 'runtime',
      platforms: e.plan.platforms,
      tags: e.plan.tags,
      // RUN steps see the network only when the plan downloads (as `dynamo-image build` decides).
      network: planFetches(e.plan) ? 'default' : 'none',
      // The same labels `dynamo-image build` sets through the build API: a bake-built image is
      // found as up to date by `build` and `publish`.
      labels: { [PLAN_DIGEST_LABEL]: e.plan.digest, [TARGET_LABEL]: 'runtime', [BUILD_KEY_LABEL]: buildKeyOf(e.plan.digest, { target: 'runtime' }) },
    });
  }
  return { group: { default: { targets: Object.keys(target) } }, target };
}
