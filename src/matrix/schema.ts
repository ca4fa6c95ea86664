import { z } from 'zod';

// The shapes of base-images/support-matrix.yaml and base-images/base-images.yaml.

export const FRAMEWORKS = ['vllm', 'sglang', 'trtllm', 'custom'] as const;
export type Framework = (typeof FRAMEWORKS)[number];
export const MATRIX_FRAMEWORKS = ['vllm', 'sglang', 'trtllm'] as const;
export type MatrixFramework = (typeof MATRIX_FRAMEWORKS)[number];
export const ARCHITECTURES = ['amd64', 'arm64'] as const;
export type Architecture = (typeof ARCHITECTURES)[number];

const cudaVersion = z.string().regex(/^\d+\.\d+$/);

export const SupportMatrixFile = z.strictObject({
  schemaVersion: z.literal(1),
  cuda: z.record(cudaVersion, z.strictObject({ minDriver: z.string() })),
  frameworks: z.record(
    z.enum(MATRIX_FRAMEWORKS),
    z.strictObject({
      package: z.string(),
      module: z.string(),
      cuda: z.array(cudaVersion),
      python: z.array(z.string()),
      architectures: z.array(z.enum(ARCHITECTURES)),
      image: z.string(),
      index: z.string().optional(),
    }),
  ),
  releases: z.array(
    z.strictObject({
      dynamo: z.string(),
      engines: z.partialRecord(z.enum(MATRIX_FRAMEWORKS), z.string()),
      nixl: z.record(z.string(), z.string()),
      status: z.enum(['supported', 'experimental']),
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
  status: 'supported' | 'experimental';
}

export interface SupportData {
  matrix: SupportMatrixFile;
  baseImages: BaseImageFile;
  rows: MatrixRow[];
}

export function flattenMatrix(matrix: SupportMatrixFile): MatrixRow[] {
  const rows: MatrixRow[] = [];
  for (const rel of matrix.releases) {
    for (const fw of MATRIX_FRAMEWORKS) {
      const engine = rel.engines[fw];
      const fwInfo = matrix.frameworks[fw];
      if (!engine || !fwInfo) continue;
      for (const cuda of fwInfo.cuda) {
        rows.push({
          dynamo: rel.dynamo,
          framework: fw,
          engine,
          cuda,
          minDriver: matrix.cuda[cuda]?.minDriver ?? 'unknown',
          python: [...fwInfo.python],
          architectures: [...fwInfo.architectures],
          nixl: rel.nixl[fw] ?? rel.nixl['default'] ?? 'unknown',
          status: rel.status,
        });
      }
    }
  }
  return rows;
}
