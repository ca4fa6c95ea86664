import type { ReleaseFacts } from './facts.js';

// The provenance of one pushed image: a SLSA provenance v1 predicate (what cosign
// `verify-attestation --type slsaprovenance1` reads). The build definition is the recipe and its
// plan; every pinned thing the build used is a resolved dependency; the tool, the engine and the
// builder are the run details. The smoke tests' outcome is a statement of its own (TESTS_PREDICATE).

export const SLSA_PREDICATE = 'https://slsa.dev/provenance/v1';
export const TESTS_PREDICATE = 'https://dynamo-image.dev/attestations/smoke-tests/v1';
export const BUILD_TYPE = 'https://dynamo-image.dev/buildtypes/recipe/v1';
export const BUILDER_ID = 'https://dynamo-image.dev/builder/dynamo-image';

export interface ResolvedDependency {
  uri?: string;
  name?: string;
  digest: Record<string, string>;
  annotations?: Record<string, string>;
}

function imageDependency(ref: string, localIds: Record<string, string>, role: string): ResolvedDependency {
  const at = ref.indexOf('@sha256:');
  if (at > 0) return { uri: `oci://${ref.slice(0, at)}`, digest: { sha256: ref.slice(at + 8) }, annotations: { role } };
  const id = localIds[ref];
  // An image made on this machine (in no registry): named, with the local image id it had.
  return { name: ref, digest: id ? { sha256: id.replace(/^sha256:/, '') } : {}, annotations: { role, pinning: id ? 'local image id' : 'none' } };
}

export function provenancePredicate(f: ReleaseFacts): Record<string, unknown> {
  const deps: ResolvedDependency[] = [];
  for (const [ref, role] of new Map([
    [f.base.runtime, 'base (runtime stage)'],
    [f.base.builder, f.base.builder === f.base.runtime ? 'base (runtime stage)' : 'base (framework stage)'],
  ]))
    deps.push(imageDependency(ref, f.base.ids, role));
  if (f.engineSource.kind === 'image' && f.engineSource.ref) deps.push(imageDependency(f.engineSource.ref, f.base.ids, 'engine image'));
  for (const i of f.inputs) deps.push({ name: i.source, digest: { sha256: i.sha256 }, annotations: { role: i.role } });
  for (const d of f.dependencies)
    deps.push({ uri: `pkg:pypi/${d.name}@${d.version}`, digest: { sha256: d.sha256 }, annotations: { role: 'python dependency' } });
  for (const imp of f.imports) deps.push(imageDependency(imp.image, f.base.ids, 'import'));
  return {
    buildDefinition: {
      buildType: BUILD_TYPE,
      externalParameters: {
        recipe: { file: f.recipe.file, sha256: f.recipe.sha256, apiVersion: f.recipe.apiVersion },
        variant: f.plan.variant,
        platform: f.platform,
        buildArgs: f.plan.buildArgs,
      },
      internalParameters: {
        planDigest: f.plan.digest,
        buildKey: f.plan.buildKey,
        image: `${f.image.name}:${f.image.version}`,
        engine: `${f.engineSource.framework}==${f.engineSource.version} (${f.engineSource.kind})`,
        systemPackages: f.systemPackages,
      },
      resolvedDependencies: deps,
    },
    runDetails: {
      builder: {
        id: BUILDER_ID,
        version: {
          [f.tool.name]: f.tool.version,
          engine: `${f.engine.kind} ${f.engine.version} (API ${f.engine.apiVersion})`,
          builder: f.builder ?? 'unknown',
        },
      },
      metadata: { invocationId: f.plan.buildKey, startedOn: f.created },
      byproducts: [{ name: 'image-config', digest: { sha256: f.imageId.replace(/^sha256:/, '') } }],
    },
  };
}

export function testsPredicate(f: ReleaseFacts): Record<string, unknown> {
  return { ...f.tests, planDigest: f.plan.digest, image: f.imageId };
}
