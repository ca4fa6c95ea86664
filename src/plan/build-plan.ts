import { normalizeRelative, type Recipe } from '../recipe/schema.js';
import { installsPython } from '../recipe/python-needed.js';
import type { Resolution } from '../support/resolve.js';
import { TOOL_VERSION } from '../version.js';
import { normalizeDist, wheelNameVersion } from '../versions/wheel-name.js';
import { canonicalJson, sha256Hex } from './canonical.js';
import { CUDA_LABEL, FRAMEWORK_LABEL, LABEL_PREFIX, MIN_DRIVER_LABEL } from './labels.js';
import { PLAN_VERSION, type Plan, type PlanInput, type PlanStage } from './types.js';

// recipe + resolution + input digests -> plan. Pure.

export const VENV = '/opt/dynamo/venv';
export {
  BASE_IDS_LABEL,
  BUILD_KEY_LABEL,
  BUILDER_LABEL,
  CUDA_LABEL,
  FRAMEWORK_LABEL,
  LABEL_PREFIX,
  MIN_DRIVER_LABEL,
  PLAN_DIGEST_LABEL,
  TARGET_LABEL,
} from './labels.js';

export interface BuildPlanArgs {
  /** SOURCE_DATE_EPOCH: clamp every timestamp the build writes to it (reproducible digests). */
  sourceDateEpoch?: number;
  recipe: Recipe;
  /** Display path of the recipe (not part of the digest). */
  recipeFile: string;
  recipeSha256: string;
  resolution: Resolution;
  inputs: PlanInput[];
  variant?: Plan['variant'];
  /** Digest-pinned references (recipe.lock.yaml, --locked) for the images `imports` names. */
  imagePins?: Record<string, string>;
  /** Images the lock pins by local image id (made here, in no registry). */
  localImages?: Record<string, string>;
  /** The packages of dependencies.requirements (read and checked by the caller). */
  requirementPackages?: { name: string; version: string }[];
}

/** Inputs sit in the build context where they sit in the recipe's folder, so that folder can also
 * serve as the context of a `docker buildx bake` target. */
export function contextPathFor(_role: PlanInput['role'], source: string): string {
  return normalizeRelative(source);
}

export function buildPlan({
  recipe,
  recipeFile,
  recipeSha256,
  resolution: r,
  inputs,
  variant = null,
  imagePins = {},
  localImages = {},
  requirementPackages = [],
  sourceDateEpoch,
}: BuildPlanArgs): Plan {
  const e = recipe.engine;
  let source: Plan['engine']['source'];
  if (e.wheel) source = { kind: 'wheel', input: contextPathFor('engine-wheel', e.wheel.path) };
  else if (e.binary) source = { kind: 'binary', input: contextPathFor('engine-binary', e.binary.path), installPath: e.binary.installPath };
  else if (e.index) source = { kind: 'index', requirement: `${r.enginePackage}==${r.engineVersion}`, indexUrl: r.engineIndex!, secret: e.index.secret ?? null };
  else source = { kind: 'image', ref: r.engineImage! };

  const ds = recipe.dynamoSource;
  const dynamo = r.dynamoVersion
    ? {
        version: r.dynamoVersion,
        requirements: (ds?.packages ?? ['ai-dynamo']).map((p) => `${p}==${r.dynamoVersion}`),
        indexUrl: ds?.wheels ? null : (ds?.index?.url ?? 'https://pypi.org/simple'),
        secret: ds?.index?.secret ?? null,
        nixl: r.nixl,
        ucx: r.ucx,
      }
    : null;

  // A binary engine with no Python dependency installs no Python package: no venv, no python3.
  const deps = recipe.dependencies;
  const requirements = deps.requirements
    ? {
        input: contextPathFor('requirements', deps.requirements.path),
        index: deps.index ? { url: deps.index.url, secret: deps.index.secret ?? null } : null,
        packages: requirementPackages.map((p) => ({ ...p })),
      }
    : null;
  // An engine that is a binary or already in the base image, with nothing else to install: no venv.
  const venv = installsPython(recipe) ? VENV : null;

  const stages: PlanStage[] = [
    { name: 'framework', from: r.base.builder, purpose: 'prepares the engine: virtual environment, wheels, binaries, staged files (may hold build tools)' },
    { name: 'runtime', from: r.base.runtime, purpose: 'only what runs: venv, binaries, files, non-root user, entrypoint' },
    { name: 'dev', from: 'runtime', purpose: 'runtime plus the wheelhouse and pip, as root, for development' },
  ];

  const row = r.row;
  const labels: Record<string, string> = {
    'org.opencontainers.image.title': recipe.name,
    'org.opencontainers.image.version': recipe.version,
    ...(recipe.description ? { 'org.opencontainers.image.description': recipe.description } : {}),
    'org.opencontainers.image.base.name': r.base.runtime,
    [`${LABEL_PREFIX}.tool-version`]: TOOL_VERSION,
    [`${LABEL_PREFIX}.recipe-sha256`]: recipeSha256,
    [FRAMEWORK_LABEL]: e.framework,
    [`${LABEL_PREFIX}.engine-version`]: r.engineVersion,
    ...(dynamo ? { [`${LABEL_PREFIX}.dynamo-version`]: dynamo.version } : {}),
    ...(dynamo?.nixl ? { [`${LABEL_PREFIX}.nixl-version`]: dynamo.nixl } : {}),
    ...(dynamo?.ucx ? { [`${LABEL_PREFIX}.ucx-version`]: dynamo.ucx } : {}),
    ...(r.cuda ? { [CUDA_LABEL]: r.cuda, [MIN_DRIVER_LABEL]: r.minDriver ?? 'unknown' } : {}),
    ...(variant?.id ? { [`${LABEL_PREFIX}.variant`]: variant.id } : {}),
    ...(venv && recipe.python ? { [`${LABEL_PREFIX}.python-version`]: recipe.python } : {}),
    ...(deps.wheels.length || requirements?.packages.length
      ? {
          [`${LABEL_PREFIX}.python-dependencies`]: [
            ...deps.wheels.map((w) => {
              const d = wheelNameVersion(w.path);
              return `${d.name}==${d.version}`;
            }),
            ...(requirements?.packages ?? []).map((p) => `${p.name}==${p.version}`),
          ].join(','),
        }
      : {}),
    [`${LABEL_PREFIX}.support-status`]: r.status,
    [`${LABEL_PREFIX}.support-row`]: row
      ? `dynamo=${row.dynamo} ${row.framework}=${row.engine} cuda=${row.cuda} nixl=${row.nixl}${row.ucx ? ` ucx=${row.ucx}` : ''}`
      : 'none',
    ...recipe.labels,
  };

  const env: Record<string, string> = {
    ...(r.cuda ? { NVIDIA_DRIVER_CAPABILITIES: 'video,compute,utility' } : {}),
    ...recipe.backend.env,
  };

  const withoutDigest: Omit<Plan, 'digest'> = {
    planVersion: PLAN_VERSION,
    tool: { name: 'dynamo-image', version: TOOL_VERSION },
    recipe: { file: recipeFile, sha256: recipeSha256, apiVersion: recipe.apiVersion },
    image: { name: recipe.name, version: recipe.version, description: recipe.description ?? null },
    platforms: [...recipe.base.platforms],
    variant,
    python: recipe.python ?? null,
    cuda: r.cuda ? { version: r.cuda, minDriver: r.minDriver } : null,
    base: { ...r.base },
    engine: { framework: e.framework, requested: e.version, version: r.engineVersion, source },
    dynamo,
    support: { status: r.status, row, warnings: r.warnings.map((w) => w.message) },
    inputs: [...inputs].sort((a, b) => (a.contextPath < b.contextPath ? -1 : a.contextPath > b.contextPath ? 1 : 0)),
    systemPackages: [...recipe.systemPackages],
    ...(recipe.aptOptions.length ? { aptOptions: [...recipe.aptOptions] } : {}),
    aptRepositories: recipe.aptRepositories.map((a) => {
      const key = contextPathFor('apt-key', a.key.path);
      const fingerprints = inputs.find((i) => i.role === 'apt-key' && i.contextPath === key)?.fingerprints ?? [];
      return { name: a.name, uri: a.uri, suite: a.suite, components: [...a.components], key, fingerprints, priority: a.priority };
    }),
    imports: recipe.imports.map((im) => {
      const ref = im.image === 'devel' ? r.develImage! : im.image;
      return {
        image: imagePins[ref] ?? ref,
        // A glob copies into the folder that holds it.
        paths: im.paths.map((p) => (typeof p === 'string' ? { source: p, destination: p.includes('*') ? p.slice(0, p.lastIndexOf('/') + 1) : p } : { ...p })),
      };
    }),
    steps: recipe.steps.map((s) => ({ ...s, caches: [...s.caches] })),
    dependencies: recipe.dependencies.wheels.map((w) => ({
      ...wheelNameVersion(w.path),
      input: contextPathFor('dependency-wheel', w.path),
      sha256: w.sha256.replace(/^sha256:/, ''),
    })),
    requirements,
    stages,
    runtime: {
      user: { ...recipe.backend.user },
      // An upstream engine image keeps its own WORKDIR unless the recipe sets one; other bases get
      // Dynamo's /workspace. ENTRYPOINT and CMD: the recipe's, or the base image's.
      workdir: recipe.backend.workdir ?? (source.kind === 'image' ? null : '/workspace'),
      entrypoint: recipe.backend.entrypoint ? [...recipe.backend.entrypoint] : null,
      command: recipe.backend.command ? [...recipe.backend.command] : null,
      env,
      ports: [...recipe.backend.ports],
      healthcheck: recipe.backend.healthcheck ?? null,
      groupWritable: recipe.backend.groupWritable,
      venv,
    },
    buildArgs: { ...recipe.buildArgs },
    ...(sourceDateEpoch !== undefined ? { sourceDateEpoch } : {}),
    labels,
    // Each matrix variant gets its own local tag; publish tags come from the templates.
    tags: [`${recipe.name}:${recipe.version}${variant?.id ? `-${variant.id}` : ''}`],
    smoke: {
      timeout: recipe.smoke?.timeout ?? '10m',
      limits: recipe.smoke?.limits ?? { memory: '1g', cpus: 1, pids: 512 },
      tests: recipe.smoke?.tests ?? [],
      ...(recipe.smoke?.probeImage ? { probeImage: recipe.smoke.probeImage } : {}),
    },
    publish: recipe.publish
      ? {
          ...recipe.publish,
          tags: variantTags(recipe.publish.tags, r.cuda, recipe.python, r.dynamoVersion).map((t) => t.tag),
        }
      : null,
    // Only when the lock pins a local image: plans without one keep their digests.
    ...(Object.keys(localImages).length ? { lockedLocalImages: Object.fromEntries(Object.entries(localImages).sort(([a], [b]) => (a < b ? -1 : 1))) } : {}),
  };
  return { ...withoutDigest, digest: `sha256:${planDigest(withoutDigest)}` };
}

/** Where the generated, hash-pinned requirements of a plan with dependency wheels sit in the context. */
export const REQUIREMENTS_FILE = '.dynamo-image-requirements.txt';

/**
 * The engine wheel and its dependency wheels as pip's hash-checking mode wants them: every
 * distribution named, each with the sha256 of its wheel. Null when the plan has no dependencies.
 */
export function requirementsLock(plan: Plan): string | null {
  const dynamoWheels = plan.dynamo && plan.dynamo.indexUrl === null ? plan.inputs.filter((i) => i.role === 'dynamo-wheel') : [];
  if (!plan.dependencies.length && !dynamoWheels.length) return null;
  const lines = plan.dependencies.map((d) => `${d.name}==${d.version} --hash=sha256:${d.sha256}`);
  // Dynamo's packages, each with the hash of its wheel (the extras are kept: pip resolves them
  // against the wheelhouse and the packages already installed).
  for (const req of plan.dynamo && dynamoWheels.length ? plan.dynamo.requirements : []) {
    const name = normalizeDist(req.replace(/[[=].*$/, ''));
    const w = dynamoWheels.find((i) => wheelNameVersion(i.source).name === name);
    if (w) lines.push(`${req} --hash=sha256:${w.sha256}`);
  }
  const src = plan.engine.source;
  if (src.kind === 'wheel') {
    const input = plan.inputs.find((i) => i.role === 'engine-wheel')!;
    const w = wheelNameVersion(src.input);
    lines.unshift(`${w.name}==${w.version} --hash=sha256:${input.sha256}`);
  }
  return `# generated by dynamo-image from the recipe's pinned wheels\n${lines.join('\n')}\n`;
}

/** The tag templates a variant gets (with their index in the recipe): plain ones, and those whose `when` matches. */
export function variantTags(
  tags: NonNullable<Recipe['publish']>['tags'],
  cuda: string | null,
  python: string | null | undefined,
  dynamo: string | null = null,
): { tag: string; index: number }[] {
  return tags.flatMap((t, index) =>
    typeof t === 'string'
      ? [{ tag: t, index }]
      : (t.when.cuda === undefined || t.when.cuda === cuda) &&
          (t.when.python === undefined || t.when.python === python) &&
          (t.when.dynamo === undefined || t.when.dynamo === dynamo)
        ? [{ tag: t.tag, index }]
        : [],
  );
}

/** Whether any build step downloads: packages from an index or apt (then RUN steps get a network). */
export function planFetches(plan: Plan): boolean {
  return (
    plan.engine.source.kind === 'index' ||
    (plan.dynamo !== null && plan.dynamo.indexUrl !== null) ||
    plan.requirements?.index != null ||
    plan.systemPackages.length > 0 ||
    (plan.runtime.venv !== null && !plan.base.pythonIncluded) ||
    plan.steps.some((s) => s.network)
  );
}

/** The build secrets a plan reads: its index sources' and its steps'. */
export function planSecrets(plan: Plan): string[] {
  const src = plan.engine.source;
  return [
    ...new Set([
      ...(src.kind === 'index' && src.secret ? [src.secret] : []),
      ...(plan.dynamo?.secret ? [plan.dynamo.secret] : []),
      ...(plan.requirements?.index?.secret ? [plan.requirements.index.secret] : []),
      ...plan.steps.flatMap((s) => s.secrets),
    ]),
  ];
}

/** Everything that makes two builds produce the same image: plan, target, build args, platform. */
export function buildKeyOf(planDigest: string, o: { target: string; buildArgs?: Record<string, string>; platform?: string | undefined }): string {
  return `sha256:${sha256Hex(canonicalJson({ plan: planDigest, target: o.target, buildArgs: o.buildArgs ?? {}, platform: o.platform ?? null }))}`;
}

/** The digest ignores where the recipe was read from: the same build from another folder is the same image. */
export function planDigest(plan: Omit<Plan, 'digest'>): string {
  return sha256Hex(canonicalJson({ ...plan, recipe: { ...plan.recipe, file: null } }));
}
