import type { Issue, IssueCode } from '../errors.js';
import type { Recipe } from '../recipe/schema.js';
import { type SupportData } from './schema.js';
import { ARCH_OF, type Resolution, type ResolveOptions, type Resolving } from './resolve-state.js';
import { RESOLVE_RULES } from './resolve-rules.js';

export type { Resolution, ResolveOptions } from './resolve-state.js';
export { RESOLVE_RULES, versionInTag } from './resolve-rules.js';

// Resolves a recipe's versions against the support matrix and the base image table. Pure: the
// data comes in as an argument.

export function resolveRecipe(recipe: Recipe, data: SupportData, opts: ResolveOptions): { resolution: Resolution | null; issues: Issue[] } {
  const issues: Issue[] = [];
  const warnings: Issue[] = [];
  const err = (path: (string | number)[], code: IssueCode, message: string, hint?: string) =>
    void issues.push({ code, severity: 'error', file: opts.file, ...opts.locate(path), path, message, ...(hint ? { hint } : {}) });
  const s: Resolving = {
    recipe,
    data,
    opts,
    fw: recipe.engine.framework,
    archs: recipe.base.platforms.map((p) => ARCH_OF[p]!),
    cuda: recipe.base.cuda ?? null,
    issues,
    warnings,
    err,
    engineVersion: null,
    dynamoVersion: null,
    row: null,
    status: 'not-applicable',
    baseOut: null,
    engineImage: null,
    develImage: null,
  };
  for (const rule of RESOLVE_RULES) rule.run(s);
  const { fw, cuda, engineVersion, dynamoVersion, row, status, baseOut, engineImage, develImage } = s;
  const { engine } = recipe;
  if (issues.length > 0 || !baseOut || !engineVersion) return { resolution: null, issues: [...issues, ...warnings] };
  const fwInfo = fw === 'custom' ? undefined : data.matrix.frameworks[fw];
  // The release's NIXL and UCX: the row's, or (where --allow-unsupported left no row) the release's.
  const release = dynamoVersion ? data.matrix.releases.find((x) => x.dynamo === dynamoVersion) : undefined;
  const nixl = row?.nixl ?? (release && fw !== 'custom' ? (release.nixl[fw] ?? release.nixl['default'] ?? null) : null);
  const ucx = row?.ucx ?? release?.ucx ?? null;
  return {
    resolution: {
      engineVersion,
      dynamoVersion,
      cuda,
      minDriver: cuda ? (data.matrix.cuda[cuda]?.minDriver ?? null) : null,
      row,
      status,
      base: baseOut,
      engineImage,
      develImage,
      enginePackage: engine.index ? (engine.index.requirement ?? fwInfo?.package ?? null) : null,
      engineIndex: engine.index ? (engine.index.url ?? fwInfo?.index ?? 'https://pypi.org/simple') : null,
      nixl,
      ucx,
      warnings,
    },
    issues: warnings,
  };
}
