import * as z from 'zod';
import { FRAMEWORKS } from '../domain/frameworks.js';
import { ARCHITECTURES } from '../domain/platforms.js';

import {
  absolutePath,
  API_VERSION,
  pep440Constraint,
  sha256,
  archPath,
  cudaVersionSchema,
  dynamoReleaseSchema,
  imageName,
  imageRef,
  OS_NAMES,
  packageIndex,
  platformSchema,
  pythonVersionSchema,
  relativePath,
  RESERVED_LABEL_PREFIX,
  secretId,
  semverString,
  singleLine,
  checkArchDigest,
} from './values.js';
import { Smoke } from './smoke-schema.js';
import { AptRepositories, Backend, Files, Imports, Publish, Steps } from './sections.js';

export * from './values.js';
export * from './smoke-schema.js';

// The recipe as written. This zod schema is the single source of truth: the TypeScript types, the
// committed JSON Schema (schema/recipe.schema.json) and the README's reference all come from it.
// Strict objects everywhere: an unknown key is an error, never silently ignored. The value rules
// are in values.ts, the smoke tests' schemas in smoke-schema.ts.

/** One matrix include/exclude entry: at least one axis, each value valid for that axis. */
const axisEntry = z
  .strictObject({
    cuda: cudaVersionSchema.optional(),
    platform: platformSchema.optional(),
    python: pythonVersionSchema.optional(),
    dynamo: dynamoReleaseSchema.optional(),
  })
  .refine((e) => Object.keys(e).length > 0, { error: 'must name at least one axis (cuda, platform, python, dynamo)' });

// ---- the recipe ---------------------------------------------------------------------------------

export const Engine = z.strictObject({
  framework: z.enum(FRAMEWORKS),
  version: pep440Constraint,
  wheel: z.strictObject({ path: relativePath, sha256 }).optional(),
  index: z
    .strictObject({
      requirement: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/, {
          error: 'must be a distribution name, optionally with extras, e.g. "vllm" or "ai-dynamo[vllm]"; the version comes from engine.version',
        })
        .optional(),
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional(),
      secret: secretId.optional(),
    })
    .optional(),
  binary: z
    .strictObject({
      path: archPath,
      sha256: z.union([sha256, z.partialRecord(z.enum(ARCHITECTURES), sha256)]),
      installPath: absolutePath,
    })
    .superRefine((b, ctx) => checkArchDigest(ctx, b.path, b.sha256, 'path', ' (write bin/{arch}/NAME for one file per platform)'))
    .optional(),
  image: z.strictObject({ ref: imageRef.optional() }).optional(),
});

export const Recipe = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  name: imageName,
  version: semverString,
  description: singleLine.optional(),
  base: z
    .strictObject({
      cuda: cudaVersionSchema.optional(),
      image: imageRef.optional(),
      os: z.enum(OS_NAMES).optional(),
      platforms: z.array(platformSchema).min(1).default(['linux/amd64']),
      pythonIncluded: z.boolean().optional(),
    })
    .prefault({}),
  python: pythonVersionSchema.optional(),
  dynamo: pep440Constraint.optional(),
  dynamoSource: z
    .strictObject({
      packages: z
        .array(
          z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/, {
            error: 'must be a distribution name, optionally with extras, e.g. "ai-dynamo[vllm]"',
          }),
        )
        .min(1)
        .default(['ai-dynamo']),
      index: packageIndex.optional(),
      wheels: z.array(z.strictObject({ path: relativePath.refine((p) => p.endsWith('.whl'), { error: 'must be a .whl file' }), sha256 })).optional(),
    })
    .refine((d) => !(d.index && d.wheels), { error: 'must give either index or wheels, not both' })
    .optional(),
  engine: Engine,
  backend: Backend,
  dependencies: z
    .strictObject({
      wheels: z.array(z.strictObject({ path: relativePath.refine((p) => p.endsWith('.whl'), { error: 'must be a .whl file' }), sha256 })).default([]),
      requirements: z.strictObject({ path: relativePath, sha256 }).optional(),
      index: packageIndex.optional(),
    })
    .refine((d) => !(d.index && !d.requirements), { error: 'must name requirements when it names an index (the wheels are installed offline)' })
    .default({ wheels: [] }),
  steps: Steps,
  systemPackages: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/, { error: 'must be a Debian package name, optionally =version' }))
    .default([]),
  aptOptions: z
    .array(
      z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*(::[A-Za-z0-9_-]+)+=[A-Za-z0-9._:/+@-]*$/, {
        error: 'must be an apt option NAME::NAME=VALUE, e.g. Acquire::Check-Valid-Until=false',
      }),
    )
    .max(32)
    .default([]),
  aptRepositories: AptRepositories,
  imports: Imports,
  files: Files,
  buildArgs: z.record(z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a valid build argument name' }), singleLine).default({}),
  labels: z
    .record(
      z
        .string()
        .regex(/^[a-z0-9][a-z0-9.-]*[a-z0-9]$/, { error: 'must be a reverse-DNS label key' })
        .refine((k) => !k.startsWith(RESERVED_LABEL_PREFIX), { error: `is reserved: the ${RESERVED_LABEL_PREFIX}* labels carry the tool's own provenance` }),
      singleLine,
    )
    .default({}),
  smoke: Smoke.optional(),
  publish: Publish,
  matrix: z
    .strictObject({
      cuda: z.array(cudaVersionSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      platform: z.array(platformSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      python: z.array(pythonVersionSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      dynamo: z.array(dynamoReleaseSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      include: z.array(axisEntry).default([]),
      exclude: z.array(axisEntry).default([]),
    })
    .optional(),
});

export type RecipeInput = z.input<typeof Recipe>;
export type Recipe = z.output<typeof Recipe>;
