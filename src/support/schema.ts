import * as z from 'zod';
import { ARCHITECTURES, type Architecture } from '../domain/platforms.js';
import { MATRIX_FRAMEWORKS, type MatrixFramework } from '../domain/frameworks.js';

// The shapes of base-images/support-matrix.yaml and base-images/base-images.yaml.

const cudaVersion = z.string().regex(/^\d+\.\d+$/);

const status = z.enum(['supported', 'experimental']);

export const SupportMatrixFile = z.strictObject({
  schemaVersion: z.literal(2),
  /** Where the rows come from: a file of a repository at a commit. */
  sources: z.record(
    z.string(),
    z
      .strictObject({
        repo: z.string(),
        file: z.string(),
        commit: z
          .string()
          .regex(/^[0-9a-f]{40}$/)
          .optional(),
        updated: z
          .string()
          .regex(/^\d{4}-\d{2}-\d{2}$/)
          .optional(),
      })
      .refine((s) => s.commit !== undefined || s.updated !== undefined, { message: 'a source names a commit or the date its data says it was updated' }),
  ),
  cuda: z.record(cudaVersion, z.strictObject({ minDriver: z.string() })),
  /** Per OS: whether Dynamo ships container images on it, and wheels (Ubuntu 22.04: wheels only). */
  os: z.record(z.string(), z.strictObject({ images: z.boolean(), wheels: z.boolean(), note: z.string().optional() })).default({}),
  frameworks: z.record(
    z.enum(MATRIX_FRAMEWORKS),
    z.strictObject({
      package: z.string(),
      module: z.string(),
      /** Python versions of the wheels. */
      python: z.array(z.string()),
      /** Python of Dynamo's runtime images. */
      imagePython: z.string(),
      /**
       * The upstream engine image: one template, or rules tried in order (the first whose `cuda`
       * and `since` match): upstreams name their images per CUDA family and changed how over time.
       */
      image: z.union([z.string(), z.array(z.strictObject({ cuda: cudaVersion.optional(), since: z.string().optional(), image: z.string() })).min(1)]),
      index: z.string().optional(),
    }),
  ),
  releases: z.array(
    z.strictObject({
      dynamo: z.string(),
      source: z.string(),
      cudaSource: z.string(),
      /** NIXL per framework (`default`: older rows, for every framework not named). */
      nixl: z.record(z.string(), z.string()),
      /** UCX as the release data gives it (1.21.x). */
      ucx: z.string().optional(),
      engines: z.partialRecord(
        z.enum(MATRIX_FRAMEWORKS),
        z.strictObject({
          version: z.string(),
          cuda: z.record(cudaVersion, status),
          architectures: z.array(z.enum(ARCHITECTURES)).default(['amd64', 'arm64']),
        }),
      ),
      variants: z
        .array(
          z.strictObject({
            name: z.string(),
            framework: z.enum(MATRIX_FRAMEWORKS),
            cuda: cudaVersion,
            /** Per platform: the architectures the variant's images are built for. */
            architectures: z.array(z.enum(ARCHITECTURES)),
            status,
            /** The suffix on the release tag (`1.7.0-efa`), where the variant has its own tag. */
            tag: z
              .string()
              .regex(/^-[a-z0-9][a-z0-9.-]*$/)
              .optional(),
          }),
        )
        .default([]),
      notes: z.array(z.string()).default([]),
    }),
  ),
});
export type SupportMatrixFile = z.infer<typeof SupportMatrixFile>;

export const BaseImageFile = z.strictObject({
  schemaVersion: z.literal(1),
  images: z.array(
    z.strictObject({
      cuda: cudaVersion,
      os: z.string(),
      architectures: z.array(z.enum(ARCHITECTURES)),
      python: z.string(),
      runtime: z.string(),
      devel: z.string(),
      digest: z.string().optional(),
    }),
  ),
});
export type BaseImageFile = z.infer<typeof BaseImageFile>;

/** One flattened row: a Dynamo release x framework x engine version x CUDA version. */
export interface MatrixRow {
  dynamo: string;
  framework: MatrixFramework;
  engine: string;
  cuda: string;
  minDriver: string;
  python: string[];
  architectures: Architecture[];
  nixl: string;
  ucx: string | null;
  status: 'supported' | 'experimental';
  /** `repo file@commit` of the engine version and of the CUDA entry. */
  source: string;
}

export interface SupportData {
  matrix: SupportMatrixFile;
  baseImages: BaseImageFile;
  rows: MatrixRow[];
}

export function flattenMatrix(matrix: SupportMatrixFile): MatrixRow[] {
  const rows: MatrixRow[] = [];
  const cite = (key: string) => {
    const src = matrix.sources[key];
    return src ? `${src.repo} ${src.file}${src.commit ? `@${src.commit.slice(0, 12)}` : ` (updated ${src.updated})`}` : key;
  };
  for (const rel of matrix.releases) {
    for (const fw of MATRIX_FRAMEWORKS) {
      const e = rel.engines[fw];
      const fwInfo = matrix.frameworks[fw];
      if (!e || !fwInfo) continue;
      for (const [cuda, status] of Object.entries(e.cuda)) {
        rows.push({
          dynamo: rel.dynamo,
          framework: fw,
          engine: e.version,
          cuda,
          minDriver: matrix.cuda[cuda]?.minDriver ?? 'unknown',
          python: [...fwInfo.python],
          architectures: [...e.architectures],
          nixl: rel.nixl[fw] ?? rel.nixl['default'] ?? 'unknown',
          ucx: rel.ucx ?? null,
          status,
          source: rel.source === rel.cudaSource ? cite(rel.source) : `${cite(rel.source)} (versions), ${cite(rel.cudaSource)} (CUDA)`,
        });
      }
    }
  }
  return rows;
}

/**
 * The upstream engine image for an engine version on a CUDA toolkit (`{engine}`, `{cuda_nodot}`
 * filled in), by the framework's rules: the first whose `cuda` is that toolkit (or absent) and whose
 * `since` the engine version reaches (or absent). Null when no rule matches.
 */
export type EngineImageRule = { cuda?: string | undefined; since?: string | undefined; image: string };
export function engineImageFor(
  image: string | EngineImageRule[],
  engine: string,
  cuda: string,
  atLeast: (version: string, since: string) => boolean,
): string | null {
  const rules: EngineImageRule[] = typeof image === 'string' ? [{ image }] : image;
  const rule = rules.find((r) => (r.cuda !== undefined ? r.cuda === cuda : true) && (r.since !== undefined ? atLeast(engine, r.since) : true));
  return rule ? rule.image.replace('{engine}', engine).replace('{cuda_nodot}', cuda.replace('.', '')) : null;
}
