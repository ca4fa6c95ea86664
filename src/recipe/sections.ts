import * as z from 'zod';
import { parseEnvValue } from './env-value.js';
import { ARCHITECTURES } from '../domain/platforms.js';

import {
  absolutePath,
  sha256,
  archPath,
  argv,
  cudaVersionSchema,
  duration,
  dynamoReleaseSchema,
  envName,
  imageName,
  imageRef,
  importSource,
  pythonVersionSchema,
  registryHost,
  relativePath,
  releaseTaggedRef,
  secretId,
  singleLine,
  checkArchDigest,
} from './values.js';

export * from './values.js';
export * from './smoke-schema.js';

// Sections of the recipe with a schema of their own size: how the image runs (backend), the build
// steps, apt repositories, imports from other images, files, publishing. recipe/schema.ts puts
// them together.

export const Backend = z.strictObject({
  entrypoint: argv.min(1).optional(),
  command: argv.optional(),
  env: z
    .record(
      envName,
      singleLine.superRefine((v, ctx) => {
        const r = parseEnvValue(v);
        if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
      }),
    )
    .default({}),
  ports: z.array(z.number().int().min(1).max(65535)).default([]),
  workdir: absolutePath.optional(),
  user: z
    .strictObject({
      name: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a POSIX user name' })
        .refine((n) => n !== 'root', { error: 'must not be "root": the runtime image runs as a non-root user' })
        .default('dynamo'),
      uid: z.number().int().min(1, { error: 'must not be 0: the runtime image runs as a non-root user' }).max(2147483647).default(1000),
      gid: z.number().int().min(0).max(2147483647).default(0),
      replaceExisting: z.boolean().default(false),
    })
    .default({ name: 'dynamo', uid: 1000, gid: 0, replaceExisting: false }),
  groupWritable: z.boolean().default(false),
  healthcheck: z
    .strictObject({
      command: argv.min(1),
      interval: duration.default('30s'),
      timeout: duration.default('10s'),
      startPeriod: duration.default('5s'),
      retries: z.number().int().min(1).default(3),
    })
    .optional(),
});

export const Steps = z
  .array(
    z.strictObject({
      name: z
        .string()
        .min(1)
        .max(200)
        .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must be one line' }),
      run: z
        .string()
        .min(1)
        .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), { error: 'may hold line breaks and tabs, no other control characters' }),
      stage: z.enum(['framework', 'runtime']).default('framework'),
      network: z.boolean().default(false),
      secrets: z.array(secretId).default([]),
      caches: z.array(absolutePath).default([]),
    }),
  )
  .default([]);

export const AptRepositories = z
  .array(
    z.strictObject({
      name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { error: 'must be a short lowercase name (letters, digits, -)' }),
      uri: z.string().regex(/^https?:\/\/([A-Za-z0-9._~:\/@+,=%-]|\{arch\}|\{cuda_arch\})+$/, {
        error: 'must be an http(s) URL of letters, digits and ._~:/@+,=%- (and {arch} or {cuda_arch})',
      }),
      suite: z.string().regex(/^[A-Za-z0-9._\/-]+$/, { error: 'must be a suite (e.g. noble) or a path for a flat repository (e.g. / or ./)' }),
      components: z.array(z.string().regex(/^[a-z0-9-]+$/, { error: 'must be a component name, e.g. main' })).default([]),
      key: z.strictObject({
        path: relativePath,
        sha256,
        fingerprint: z
          .string()
          .regex(/^(0x)?([0-9A-Fa-f]{4}\s*){10}$|^(0x)?[0-9A-Fa-f]{64}$/, {
            error: 'must be an OpenPGP fingerprint: 40 hex digits (version 4 key, spaces allowed) or 64 (version 6)',
          })
          .optional(),
      }),
      priority: z.number().int().min(1).max(1000).default(100),
    }),
  )
  .default([]);

export const Imports = z
  .array(
    z.strictObject({
      image: z.union([z.literal('devel'), imageRef, releaseTaggedRef]),
      paths: z.array(z.union([importSource, z.strictObject({ source: importSource, destination: absolutePath })])).min(1),
    }),
  )
  .default([]);

export const Files = z
  .array(
    z
      .strictObject({
        source: archPath,
        destination: absolutePath,
        sha256: z.union([sha256, z.partialRecord(z.enum(ARCHITECTURES), sha256)]).optional(),
        mode: z
          .string()
          .regex(/^0?[0-7]{3,4}$/, { error: 'must be octal, e.g. 0644' })
          .optional(),
        owner: z
          .string()
          .regex(/^[0-9]{1,10}(:[0-9]{1,10})?$/, { error: 'must be UID or UID:GID, numbers' })
          .optional(),
      })
      .superRefine((f, ctx) => {
        checkArchDigest(ctx, f.source, f.sha256, 'source');
        const perArch = f.source.includes('{arch}');
        if (perArch && f.source.endsWith('/'))
          ctx.addIssue({ code: 'custom', path: ['source'], message: 'a folder cannot be per platform ({arch}): name each file' });
      }),
  )
  .default([]);

export const Publish = z
  .strictObject({
    registry: registryHost.optional(),
    repository: imageName.optional(),
    tags: z
      .array(
        z.union([
          z.string().min(1),
          z.strictObject({
            tag: z.string().min(1),
            when: z
              .strictObject({ cuda: cudaVersionSchema.optional(), python: pythonVersionSchema.optional(), dynamo: dynamoReleaseSchema.optional() })
              .refine((e) => Object.keys(e).length > 0, { error: 'must name cuda, python or dynamo' }),
          }),
        ]),
      )
      .min(1)
      .default(['{version}']),
    mutableTags: z.array(z.string().min(1)).default([]),
  })
  .optional();
