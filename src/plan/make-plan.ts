import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { InputError, type Issue } from '../errors.js';
import { loadSupportData } from '../support/load.js';
import { resolveRecipe } from '../support/resolve.js';
import { applyVariant, expandMatrix, variantId, type Expansion, type VariantAxes } from '../matrix/expand.js';
import type { SupportData } from '../support/schema.js';
import { DYNAMO_TAG, type Recipe } from '../recipe/schema.js';
import { parseRecipeText, type ParsedRecipe } from '../recipe/parse.js';
import { locate } from '../recipe/positions.js';
import { readRecipeFile } from '../recipe/read.js';
import { buildPlan, variantTags } from './build-plan.js';
import { parseRequirements } from './requirements.js';
import { sha256Hex } from './canonical.js';
import { DigestCache } from './digest-cache.js';
import { collectInputs } from './inputs.js';
import type { Plan, PlanInput } from './types.js';
import { checkTagTemplates, renderTags, tagVariables } from '../refs/tags.js';
import { referenceProblem } from '../refs/reference.js';
import { layerLimits } from './limits.js';
import { fillSmokePins, pinValues } from './smoke-pins.js';
import { lockedLocal, lockPathFor, pinned, readLock } from './lock-file.js';

// The I/O shell around the pure pipeline: read -> parse -> resolve -> hash inputs -> plan.

export interface PlannedRecipe {
  plan: Plan;
  /** The recipe as parsed (before any variant), for matrix expansion. */
  recipe: Recipe;
  /** Absolute folder of the recipe: input paths in the plan are relative to it. */
  recipeDir: string;
  /** Warnings that did not stop the plan (e.g. --allow-unsupported). */
  warnings: Issue[];
}

export interface PlanOptions {
  allowUnsupported?: boolean;
  /** Use recipe.lock.yaml's digests for every image named by tag; refuse names it lacks. */
  locked?: boolean;
  /** One variant of the recipe's matrix (`build --variant cuda=12.9`). */
  variant?: VariantAxes;
  supportData?: SupportData;
  cache?: DigestCache;
  /** `--base-image REF`: the base image instead of the recipe's `base.image` (CI runners, mirrors). */
  baseImage?: string;
  /** Clamp timestamps to this (default: the SOURCE_DATE_EPOCH environment variable, when set). */
  sourceDateEpoch?: number;
}

/** SOURCE_DATE_EPOCH as reproducible-builds.org defines it: whole seconds since 1970 (unset or empty: none). */
export function envSourceDateEpoch(env: NodeJS.ProcessEnv = process.env): number | undefined {
  const s = env['SOURCE_DATE_EPOCH'];
  return s !== undefined && /^\d{1,11}$/.test(s) ? Number(s) : undefined;
}

/** A SOURCE_DATE_EPOCH that is set but is no such number: an error, not a build that is silently not reproducible. */
export function sourceDateEpochIssue(env: NodeJS.ProcessEnv = process.env): Issue | null {
  const s = env['SOURCE_DATE_EPOCH'];
  if (s === undefined || s === '' || envSourceDateEpoch(env) !== undefined) return null;
  return {
    code: 'env.source-date-epoch',
    severity: 'error',
    path: ['SOURCE_DATE_EPOCH'],
    message: `${JSON.stringify(s.slice(0, 40))} is not a time in whole seconds since 1970-01-01 UTC`,
    hint: 'e.g. SOURCE_DATE_EPOCH=$(git log -1 --format=%ct), or unset it',
  };
}

export type PlanOutcome = { ok: true; planned: PlannedRecipe } | { ok: false; issues: Issue[] };

/** A recipe read and parsed once; every variant's plan is made from it. */
export interface LoadedRecipe {
  file: string;
  bytes: Buffer;
  parsed: ParsedRecipe;
  warnings: Issue[];
  recipeDir: string;
  /**
   * Input files found and hashed, by the platforms they are checked for: the same for every variant
   * with the same platforms (a platform axis changes which per-platform binary goes in, and what an
   * engine binary is checked against).
   */
  inputs?: Map<string, { inputs: PlanInput[]; issues: Issue[] }>;
  /** The requirements file's packages and problems, read once. */
  requirements?: ReturnType<typeof parseRequirements>;
  /** The matrix expansion, once. */
  expansion?: Expansion;
  sha256?: string;
}

export type LoadOutcome = { ok: true; loaded: LoadedRecipe } | { ok: false; issues: Issue[] };

/** Reads and parses a recipe: the part of planning that does not depend on the variant. */
export async function loadRecipe(file: string): Promise<LoadOutcome> {
  const read = await readRecipeFile(file);
  if (!read.ok) return { ok: false, issues: [read.issue] };
  const parsed = parseRecipeText(file, read.text);
  if (!parsed.ok) return { ok: false, issues: parsed.issues };
  return { ok: true, loaded: { file, bytes: read.bytes, parsed: parsed.value, warnings: parsed.issues, recipeDir: path.resolve(path.dirname(file)) } };
}

/** Plans one recipe, collecting every issue instead of stopping at the first. */
export async function tryPlanRecipe(file: string, opts: PlanOptions = {}): Promise<PlanOutcome> {
  const l = await loadRecipe(file);
  if (!l.ok) return l;
  return planLoaded(l.loaded, opts);
}

/** One plan (one variant) of a loaded recipe. */
export async function planLoaded(loaded: LoadedRecipe, opts: PlanOptions = {}): Promise<PlanOutcome> {
  const { file, parsed } = loaded;
  const { doc, lines } = parsed;
  let recipe = parsed.recipe;
  const where = (p: (string | number)[]) => locate(doc, lines, p);
  if (opts.baseImage) {
    if (recipe.engine.image)
      return {
        ok: false,
        issues: [
          {
            code: 'recipe.base-override',
            severity: 'error',
            file,
            ...where(['engine', 'image']),
            path: ['engine', 'image'],
            message: `--base-image ${opts.baseImage}: this recipe builds on its engine's image, not on base.image`,
            hint: 'leave --base-image out for this recipe',
          },
        ],
      };
    recipe = { ...recipe, base: { ...recipe.base, image: opts.baseImage } };
  }
  const data = opts.supportData ?? loadSupportData();
  let variant: Plan['variant'] = null;
  if (opts.variant && Object.keys(opts.variant).length) {
    const id = variantId(opts.variant);
    if (!recipe.matrix)
      return {
        ok: false,
        issues: [
          { code: 'matrix.no-matrix', severity: 'error', file, line: 1, col: 1, path: ['matrix'], message: `--variant ${id}: the recipe declares no matrix` },
        ],
      };
    const exp = (loaded.expansion ??= expandMatrix(recipe, data, { allowUnsupported: opts.allowUnsupported ?? false }));
    const hit = exp.variants.find((v) => v.id === id);
    if (!hit) {
      const ex = exp.excluded.find((v) => v.id === id);
      return {
        ok: false,
        issues: [
          {
            code: 'matrix.variant',
            severity: 'error',
            file,
            ...where(['matrix']),
            path: ['matrix'],
            message: ex ? `variant ${id} is excluded: ${ex.reason}` : `no variant ${id} in the recipe's matrix`,
            hint: `variants: ${exp.variants.map((v) => v.id).join(', ')}`,
          },
        ],
      };
    }
    recipe = applyVariant(recipe, hit.axes);
    variant = { id: hit.id, axes: hit.axes };
  }
  const { resolution, issues: resIssues } = resolveRecipe(recipe, data, { file, locate: where, allowUnsupported: opts.allowUnsupported ?? false });
  // An import tagged {dynamo_version} takes the resolved release (a matrix's dynamo axis moves it).
  const releaseImports: Issue[] = [];
  if (recipe.imports.some((im) => im.image.endsWith(DYNAMO_TAG))) {
    const dyn = resolution?.dynamoVersion ?? null;
    recipe.imports.forEach((im, i) => {
      if (im.image.endsWith(DYNAMO_TAG) && !dyn && resolution)
        releaseImports.push({
          code: 'recipe.imports-release',
          severity: 'error',
          file,
          ...where(['imports', i, 'image']),
          path: ['imports', i, 'image'],
          message: `"${im.image}" is tagged with the Dynamo release, but the recipe installs no Dynamo`,
          hint: 'set dynamo: "<version>", or name the tag',
        });
    });
    if (dyn)
      recipe = {
        ...recipe,
        imports: recipe.imports.map((im) => ({ ...im, image: im.image.endsWith(DYNAMO_TAG) ? im.image.replace(DYNAMO_TAG, dyn) : im.image })),
      };
  }
  const recipeDir = loaded.recipeDir;
  const platformsKey = recipe.base.platforms.join(',');
  let collected = loaded.inputs?.get(platformsKey);
  if (!collected) {
    const cache = opts.cache ?? (await DigestCache.open());
    collected = await collectInputs({ recipe, recipeDir, file, cache, locate: where });
    if (cache.problem)
      collected = {
        ...collected,
        issues: [
          ...collected.issues,
          {
            code: 'cache.untrusted',
            severity: 'warning',
            file,
            line: 1,
            col: 1,
            message: `the digest cache is not used: ${cache.problem}; every input is hashed`,
            hint: 'make the cache folder (DYNAMO_IMAGE_CACHE_DIR, or ~/.cache/dynamo-image) yours and not writable by others',
          },
        ],
      };
    if (!opts.cache) await cache.save();
    (loaded.inputs ??= new Map()).set(platformsKey, collected);
  }
  const { inputs, issues: inIssues } = collected;
  const issues = [...loaded.warnings, ...resIssues, ...releaseImports, ...inIssues];
  // A requirements file with hashes: every line pinned, each problem named at its own line.
  let requirementPackages: { name: string; version: string }[] = [];
  const req = recipe.dependencies.requirements;
  if (req && !inIssues.some((i) => i.path?.[0] === 'dependencies' && i.path[1] === 'requirements')) {
    const reqFile = path.join(path.dirname(file), req.path);
    const parsedReq = (loaded.requirements ??= parseRequirements(await readFile(path.join(recipeDir, req.path), 'utf8')));
    requirementPackages = parsedReq.packages.map(({ name, version }) => ({ name, version }));
    for (const p of parsedReq.problems)
      issues.push({
        code: 'input.requirements',
        severity: 'error',
        file: reqFile,
        line: p.line,
        col: 1,
        path: ['dependencies', 'requirements'],
        message: p.message,
        hint: 'pip install --require-hashes needs NAME==VERSION --hash=sha256:... for every package',
      });
  }
  if (recipe.publish) {
    // Every template is checked; the first-tag rule holds for the tags this variant gets.
    const all = recipe.publish.tags.map((t) => (typeof t === 'string' ? t : t.tag));
    issues.push(...checkTagTemplates(all, file, (i) => where(['publish', 'tags', i]), { first: false }));
    const mine = variantTags(recipe.publish.tags, resolution?.cuda ?? recipe.base.cuda ?? null, recipe.python, resolution?.dynamoVersion ?? null);
    if (mine.length === 0)
      issues.push({
        code: 'publish.first-tag',
        severity: 'error',
        file,
        ...where(['publish', 'tags']),
        path: ['publish', 'tags'],
        message: `no tag applies to this build${variant ? ` (variant ${variant.id})` : ''}: every "when" excludes it`,
        hint: 'add a plain template, or a {tag, when} entry that matches',
      });
    else
      issues.push(
        ...checkTagTemplates([mine[0]!.tag], file, () => where(['publish', 'tags', mine[0]!.index]), { first: true })
          .filter((i) => i.code === 'publish.first-tag')
          .map((i) => ({ ...i, path: ['publish', 'tags', mine[0]!.index] })),
      );
    issues.push(
      ...checkTagTemplates(recipe.publish.mutableTags, file, (i) => where(['publish', 'mutableTags', i]), { first: false }).map((i) => ({
        ...i,
        path: i.path?.map((p) => (p === 'tags' ? 'mutableTags' : p)),
      })),
    );
  }
  const imagePins: Record<string, string> = {};
  // Images the lock pins by local id (made here, in no registry): the build checks the engine's.
  const localImages: Record<string, string> = {};
  if (resolution && opts.locked) {
    const lock = await readLock(file);
    const field = resolution.base.source === 'engine-image' ? ['engine', 'image'] : ['base'];
    const missing = new Set<string>();
    for (const key of ['runtime', 'builder'] as const) {
      const ref = resolution.base[key];
      const pin = pinned(ref, lock);
      const local = lockedLocal(ref, lock);
      if (pin) resolution.base[key] = pin;
      else if (local) localImages[ref] = local;
      else missing.add(ref);
    }
    for (const ref of missing)
      issues.push({
        code: 'lock.missing',
        severity: 'error',
        file,
        ...where(field),
        path: field,
        message: `--locked: "${ref}" has no digest in ${lockPathFor(file)}`,
        hint: `run: dynamo-image lock ${file}`,
      });
    recipe.imports.forEach((im, i) => {
      const ref = im.image === 'devel' ? resolution.develImage : im.image;
      if (!ref || ref.includes('@')) return;
      const pin = pinned(ref, lock);
      const local = lockedLocal(ref, lock);
      if (pin) imagePins[ref] = pin;
      else if (local) localImages[ref] = local;
      else
        issues.push({
          code: 'lock.missing',
          severity: 'error',
          file,
          ...where(['imports', i, 'image']),
          path: ['imports', i, 'image'],
          message: `--locked: "${ref}" has no digest in ${lockPathFor(file)}`,
          hint: `run: dynamo-image lock ${file}`,
        });
    });
  }
  if (resolution && recipe.smoke?.tests.length) {
    const pins = fillSmokePins(
      recipe.smoke.tests,
      pinValues({ dynamo: resolution.dynamoVersion, engine: resolution.engineVersion, nixl: resolution.nixl, ucx: resolution.ucx }),
      file,
      where,
    );
    issues.push(...pins.issues);
    recipe = { ...recipe, smoke: { ...recipe.smoke, tests: pins.tests } };
  }
  const epochIssue = opts.sourceDateEpoch === undefined ? sourceDateEpochIssue() : null;
  if (epochIssue) issues.push(epochIssue);
  if (!resolution || issues.some((i) => i.severity === 'error')) return { ok: false, issues };
  const epoch = opts.sourceDateEpoch ?? envSourceDateEpoch();
  const plan = buildPlan({
    recipe,
    recipeFile: file,
    recipeSha256: (loaded.sha256 ??= sha256Hex(loaded.bytes)),
    resolution,
    inputs,
    variant,
    imagePins,
    localImages,
    requirementPackages,
    ...(epoch !== undefined ? { sourceDateEpoch: epoch } : {}),
  });
  const refIssues = [...referenceLimits(plan, file, where), ...layerLimits(plan, file, where)];
  if (refIssues.length) return { ok: false, issues: [...issues, ...refIssues] };
  return { ok: true, planned: { plan, recipe: parsed.recipe, recipeDir, warnings: issues } };
}

/**
 * The references this plan will make (its local tag, each publish tag at its longest) within what
 * registries accept, so a long name fails here and not after a build and its tests.
 */
function referenceLimits(plan: Plan, file: string, where: (p: (string | number)[]) => { line: number; col: number }): Issue[] {
  const out: Issue[] = [];
  const local = referenceProblem(plan.tags[0]!);
  if (local)
    out.push({
      code: 'recipe.reference-too-long',
      severity: 'error',
      file,
      ...where(['version']),
      path: ['version'],
      message: `the local tag ${local}`,
      hint: 'shorten name or version',
    });
  if (!plan.publish) return out;
  const repo = `${plan.publish.registry ?? 'registry.example.com'}/${plan.publish.repository ?? plan.image.name}`;
  // The longest values a variable can take: a 12-digit git sha, the plan's own values for the rest.
  const vars = tagVariables(plan, { gitSha: 'f'.repeat(12) });
  (['tags', 'mutableTags'] as const).forEach((field) => {
    plan.publish![field].forEach((t, i) => {
      const r = renderTags([t], vars);
      const p = r.ok ? referenceProblem(`${repo}:${r.tags[0]}`) : r.problems.join('; ');
      if (p)
        out.push({
          code: 'publish.reference-too-long',
          severity: 'error',
          file,
          ...where(['publish', field, i]),
          path: ['publish', field, i],
          message: p,
          hint: 'shorten the template, the repository or the registry',
        });
    });
  });
  return out;
}

export async function planRecipe(file: string, opts: PlanOptions = {}): Promise<PlannedRecipe> {
  const r = await tryPlanRecipe(file, opts);
  // A recipe that could not be read at all is not "invalid": the one issue says what happened.
  if (!r.ok) {
    const unread = r.issues.length === 1 && r.issues[0]!.code.startsWith('file.');
    throw new InputError(r.issues, unread ? `${file}: cannot read the recipe` : `${file}: invalid recipe`);
  }
  return r.planned;
}
