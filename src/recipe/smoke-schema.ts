import * as z from 'zod';
import { absolutePath, argv, duration, imageRef, MIN_MEMORY_BYTES, memoryBytes, pinConstraint, validRegex } from './values.js';

// The smoke tests' schemas (run by `dynamo-image test` and before every tag).

// ---- smoke tests (run by `dynamo-image test`) --------------------------------------------------

export const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'] as const;

export const outputMatch = z.strictObject({
  contains: z.string().optional(),
  notContains: z.string().optional(),
  matches: validRegex.optional(),
});

export const testCommon = {
  name: z.string().min(1),
  gpu: z.boolean().default(false),
  timeout: duration.optional(),
};

export const CommandTest = z.strictObject({
  kind: z.literal('command'),
  ...testCommon,
  command: argv.min(1),
  exitCode: z.number().int().min(0).max(255).default(0),
  stdout: outputMatch.optional(),
  stderr: outputMatch.optional(),
  version: z
    .strictObject({
      regex: validRegex.default('(\\d+\\.\\d+[0-9A-Za-z.+-]*)'),
      constraint: pinConstraint,
    })
    .optional(),
});

export const PythonTest = z.strictObject({
  kind: z.literal('python'),
  ...testCommon,
  imports: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, { error: 'must be a module name' })).default([]),
  distributions: z.record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'must be a distribution name' }), pinConstraint).default({}),
  python: z
    .string()
    .regex(/^\/?[A-Za-z0-9._\/-]+$/)
    .default('python3'),
});

export const FileTest = z.strictObject({
  kind: z.literal('file'),
  ...testCommon,
  path: absolutePath,
  exists: z.boolean().default(true),
  executable: z.boolean().optional(),
  owner: z
    .string()
    .regex(/^[0-9]+(:[0-9]+)?$/, { error: 'must be UID or UID:GID' })
    .optional(),
  mode: z
    .string()
    .regex(/^0?[0-7]{3,4}$/, { error: 'must be octal, e.g. 0755' })
    .optional(),
  contains: z.string().optional(),
});

export const MetadataTest = z.strictObject({
  kind: z.literal('metadata'),
  ...testCommon,
  user: z.string().optional(),
  workdir: z.string().optional(),
  env: z.record(z.string(), z.string()).optional(),
  entrypoint: argv.optional(),
  cmd: argv.optional(),
  labels: z.record(z.string(), z.string()).optional(),
  exposedPorts: z.array(z.number().int().min(1).max(65535)).optional(),
});

export const ServeTest = z.strictObject({
  kind: z.literal('serve'),
  ...testCommon,
  port: z.number().int().min(1).max(65535),
  path: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/, { error: 'must start with / and hold no spaces' })
    .default('/'),
  method: z.enum(['GET', 'POST']).default('GET'),
  body: z.string().optional(),
  readyPath: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/)
    .optional(),
  readyTimeout: duration.default('60s'),
  expect: z
    .strictObject({
      status: z.number().int().min(100).max(599).default(200),
      body: outputMatch.optional(),
      json: z
        .array(
          z
            .strictObject({
              path: z.string().min(1),
              equals: z.unknown().optional(),
              exists: z.boolean().optional(),
              type: z.enum(JSON_TYPES).optional(),
              matches: validRegex.optional(),
              length: z
                .union([z.number().int().min(0), z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })])
                .optional(),
            })
            .refine((j) => ['equals', 'exists', 'type', 'matches', 'length'].some((k) => k in j), {
              error: 'needs a check: equals, exists, type, matches or length',
            }),
        )
        .optional(),
    })
    .default({ status: 200 }),
  args: argv.optional(),
});

/** A check's deliberate exceptions: each a name (a glob) and the reason it is there on purpose. */
export function allowList(nameMax: number) {
  return z
    .array(z.strictObject({ name: z.string().min(1).max(nameMax), reason: z.string().min(1).max(500) }))
    .max(200)
    .default([]);
}

export const CudaVariantTest = z.strictObject({
  kind: z.literal('cuda-variant'),
  ...testCommon,
  cuda: z
    .string()
    .regex(/^\d{1,2}(\.\d{1,2})?$/, { error: 'must be a CUDA version, e.g. "13.0" or "13"' })
    .optional(),
  allow: allowList(200),
});

export const LibrariesTest = z.strictObject({
  kind: z.literal('libraries'),
  ...testCommon,
  paths: z.array(absolutePath).max(64).default([]),
  load: z
    .array(z.string().regex(/^[A-Za-z0-9_.+-]+\.so(\.[0-9]+)*$/, { error: 'must be a library file name, e.g. libnixl_capi.so' }))
    .max(64)
    .default([]),
  allow: allowList(300),
});

export const OverlayTest = z.strictObject({
  kind: z.literal('overlay'),
  ...testCommon,
  against: imageRef.optional(),
  allow: allowList(200),
});

export const SmokeTest = z.discriminatedUnion('kind', [
  CommandTest,
  PythonTest,
  FileTest,
  MetadataTest,
  ServeTest,
  CudaVariantTest,
  LibrariesTest,
  OverlayTest,
]);
export type SmokeTest = z.infer<typeof SmokeTest>;

export const Smoke = z.strictObject({
  timeout: duration.default('10m'),
  limits: z
    .strictObject({
      memory: z
        .string()
        .regex(/^[0-9]+[kmg]?$/i, { error: 'must be bytes or a size like 512m, 2g' })
        .refine((m) => !(memoryBytes(m) < MIN_MEMORY_BYTES), { error: 'is below 6m, the smallest memory limit the Docker engine accepts' })
        .default('1g'),
      cpus: z.number().positive().default(1),
      pids: z.number().int().positive().default(512),
    })
    .default({ memory: '1g', cpus: 1, pids: 512 }),
  probeImage: imageRef.optional(),
  tests: z.array(SmokeTest).default([]),
});
