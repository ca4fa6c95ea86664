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
  framework: z.enum(FRAMEWORKS).describe('vllm, sglang, trtllm or custom (custom is not checked against the support matrix)'),
  version: pep440Constraint.describe('exact version or range; resolved to one exact pin'),
  wheel: z.strictObject({ path: relativePath, sha256 }).optional().describe('a local wheel file'),
  index: z
    .strictObject({
      requirement: z
        .string()
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/, {
          error: 'must be a distribution name, optionally with extras, e.g. "vllm" or "ai-dynamo[vllm]"; the version comes from engine.version',
        })
        .optional()
        .describe("distribution name (default: the framework's package)"),
      url: z
        .url({ protocol: /^https?$/, error: 'must be an http(s) URL' })
        .optional()
        .describe("index URL (default: the framework's index or PyPI)"),
      secret: secretId
        .optional()
        .describe('build secret holding a netrc file for the index (`--secret id=ID,src=~/.netrc`): mounted for the install step only (BuildKit)'),
    })
    .optional()
    .describe('a wheel from a package index'),
  binary: z
    .strictObject({
      path: archPath.describe('the file; with {arch} in it (bin/{arch}/server), one file per platform: amd64, arm64'),
      sha256: z
        .union([sha256, z.partialRecord(z.enum(ARCHITECTURES), sha256)])
        .describe('its digest; for a path with {arch}, one per architecture: { amd64: ..., arm64: ... }'),
      installPath: absolutePath,
    })
    .superRefine((b, ctx) => checkArchDigest(ctx, b.path, b.sha256, 'path', ' (write bin/{arch}/NAME for one file per platform)'))
    .optional()
    .describe('a prebuilt executable (one file, or one per platform)'),
  image: z
    .strictObject({ ref: imageRef.optional().describe("default: the framework's upstream image for this version and CUDA") })
    .optional()
    .describe('the upstream engine image, used as the runtime base'),
});

export const Recipe = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  name: imageName.describe('image name (last part of the repository)'),
  version: semverString.describe('image version; the first tag starts with it'),
  description: singleLine.optional(),
  base: z
    .strictObject({
      cuda: cudaVersionSchema.optional().describe('CUDA toolkit, resolved through base-images/base-images.yaml'),
      image: imageRef.optional().describe('explicit base image instead of the table'),
      os: z
        .enum(OS_NAMES)
        .optional()
        .describe(
          'default ubuntu24.04 with cuda (and on the upstream images of vllm, sglang and trtllm); "custom" for an explicit image or a custom engine image unless set',
        ),
      platforms: z.array(platformSchema).min(1).default(['linux/amd64']),
      pythonIncluded: z.boolean().optional().describe('the base image already has python3 with venv (explicit images)'),
    })
    .prefault({})
    .describe('the base image (may be left out with engine.image: the engine image is the base)'),
  python: pythonVersionSchema
    .optional()
    .describe(
      'Python of the runtime venv, MAJOR.MINOR; needed when the recipe installs a Python package (an engine wheel or index, dependencies, Dynamo) and for vllm, sglang and trtllm',
    ),
  dynamo: pep440Constraint.optional().describe('Dynamo runtime version; needed for vllm, sglang and trtllm'),
  dynamoSource: z
    .strictObject({
      packages: z
        .array(
          z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/, {
            error: 'must be a distribution name, optionally with extras, e.g. "ai-dynamo[vllm]"',
          }),
        )
        .min(1)
        .default(['ai-dynamo'])
        .describe('the Dynamo distributions, each installed at the "dynamo" version (e.g. ["ai-dynamo[vllm]", "ai-dynamo-runtime"])'),
      index: packageIndex.optional().describe('default https://pypi.org/simple'),
      wheels: z
        .array(z.strictObject({ path: relativePath.refine((p) => p.endsWith('.whl'), { error: 'must be a .whl file' }), sha256 }))
        .optional()
        .describe('a local wheelhouse instead of an index (air-gapped): one pinned wheel per package, installed offline with --require-hashes'),
    })
    .refine((d) => !(d.index && d.wheels), { error: 'must give either index or wheels, not both' })
    .optional()
    .describe('where the Dynamo wheels come from (default: ai-dynamo from PyPI)'),
  engine: Engine,
  backend: Backend,
  dependencies: z
    .strictObject({
      wheels: z
        .array(z.strictObject({ path: relativePath.refine((p) => p.endsWith('.whl'), { error: 'must be a .whl file' }), sha256 }))
        .default([])
        .describe('wheels the engine needs, each pinned: installed offline with --require-hashes, every dependency named'),
      requirements: z
        .strictObject({ path: relativePath, sha256 })
        .optional()
        .describe(
          'a pip requirements file with hashes (NAME==VERSION --hash=sha256:... for every package), installed with --require-hashes from the index below or offline from the wheels',
        ),
      index: packageIndex.optional().describe('where the requirements come from (default: offline, from the wheels only)'),
    })
    .refine((d) => !(d.index && !d.requirements), { error: 'must name requirements when it names an index (the wheels are installed offline)' })
    .default({ wheels: [] })
    .describe("Python dependencies of the engine, from the recipe's folder"),
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
    .default([])
    .describe(
      'apt configuration options for every apt-get the tool runs (apt-get -o NAME=VALUE): what an archive needs, e.g. Acquire::Check-Valid-Until=false for an archive snapshot, Acquire::Retries=5',
    ),
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
      dynamo: z
        .array(dynamoReleaseSchema)
        .min(1, { error: 'must list at least one value (or leave the axis out)' })
        .optional()
        .describe("Dynamo releases: each variant pins the engine of its release; an image whose version is its Dynamo release takes the variant's"),
      include: z.array(axisEntry).default([]).describe("combinations to add; unnamed axes take the recipe's own values"),
      exclude: z.array(axisEntry).default([]).describe('combinations to drop: an entry matches every variant with those values'),
    })
    .optional(),
});

export type RecipeInput = z.input<typeof Recipe>;
export type Recipe = z.output<typeof Recipe>;
