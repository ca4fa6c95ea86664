import type { Recipe } from '../recipe/schema.js';
import type { PlanInput } from './types.js';

// The one list of a recipe's input files: what the plan hashes and checks, what the context
// carries, and what `pin` rewrites (pipeline/pin.ts).

export interface Wanted {
  role: PlanInput['role'];
  source: string;
  sha256?: string;
  mode?: string;
  owner?: string;
  destination?: string;
  fieldPath: (string | number)[];
  /** A per-platform file (a path with {arch}): the one platform it is for. */
  platform?: string;
  /** Where its digest is written, when not next to the path. */
  shaField?: (string | number)[];
  /** A per-platform file whose platform has no digest in the recipe. */
  digestMissing?: boolean;
  /** An apt key: the fingerprint the recipe pins (as written). */
  fingerprint?: string;
  /** A file found in a `files` folder entry: that entry's folder and destination. */
  folder?: { source: string; destination: string };
  /** A per-platform file: its source as written, with {arch}. */
  archSource?: string;
}

export function inputsOf(recipe: Recipe): Wanted[] {
  const out: Wanted[] = [];
  const e = recipe.engine;
  if (e.wheel) out.push({ role: 'engine-wheel', source: e.wheel.path, sha256: e.wheel.sha256, fieldPath: ['engine', 'wheel', 'path'] });
  if (e.binary) {
    const b = e.binary;
    if (typeof b.sha256 === 'string') out.push({ role: 'engine-binary', source: b.path, sha256: b.sha256, fieldPath: ['engine', 'binary', 'path'] });
    else {
      // One file per platform: each checked against its own platform only.
      for (const platform of recipe.base.platforms) {
        const arch = platform.split('/')[1] as 'amd64' | 'arm64';
        const digest = b.sha256[arch];
        out.push({
          role: 'engine-binary',
          source: b.path.replaceAll('{arch}', arch),
          ...(digest ? { sha256: digest } : { digestMissing: true }),
          platform,
          shaField: ['engine', 'binary', 'sha256', arch],
          fieldPath: ['engine', 'binary', 'path'],
        });
      }
    }
  }
  recipe.dependencies.wheels.forEach((w, i) =>
    out.push({ role: 'dependency-wheel', source: w.path, sha256: w.sha256, fieldPath: ['dependencies', 'wheels', i, 'path'] }),
  );
  if (recipe.dependencies.requirements)
    out.push({
      role: 'requirements',
      source: recipe.dependencies.requirements.path,
      sha256: recipe.dependencies.requirements.sha256,
      fieldPath: ['dependencies', 'requirements', 'path'],
    });
  recipe.aptRepositories.forEach((a, i) =>
    out.push({
      role: 'apt-key',
      source: a.key.path,
      sha256: a.key.sha256,
      ...(a.key.fingerprint ? { fingerprint: a.key.fingerprint } : {}),
      fieldPath: ['aptRepositories', i, 'key', 'path'],
    }),
  );
  (recipe.dynamoSource?.wheels ?? []).forEach((w, i) =>
    out.push({ role: 'dynamo-wheel', source: w.path, sha256: w.sha256, fieldPath: ['dynamoSource', 'wheels', i, 'path'] }),
  );
  recipe.files.forEach((f, i) => {
    const common = {
      role: 'file' as const,
      ...(f.mode ? { mode: f.mode } : {}),
      ...(f.owner ? { owner: f.owner } : {}),
      destination: f.destination,
      fieldPath: ['files', i, 'source'],
    };
    if (!f.source.includes('{arch}')) return void out.push({ ...common, source: f.source, ...(typeof f.sha256 === 'string' ? { sha256: f.sha256 } : {}) });
    // One file per platform (lib/{arch}/libx.so): each is that platform's only.
    for (const platform of recipe.base.platforms) {
      const arch = platform.split('/')[1] as 'amd64' | 'arm64';
      const digest = typeof f.sha256 === 'object' ? f.sha256[arch] : undefined;
      out.push({
        ...common,
        source: f.source.replaceAll('{arch}', arch),
        archSource: f.source,
        platform,
        ...(digest ? { sha256: digest } : typeof f.sha256 === 'object' ? { digestMissing: true } : {}),
        shaField: ['files', i, 'sha256', arch],
      });
    }
  });
  return out;
}
