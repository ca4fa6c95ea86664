import * as z from 'zod';
import { ENV_FORMS, parseEnvValue } from './env-value.js';
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
  entrypoint: argv.min(1).optional().describe("the ENTRYPOINT; left out: the base image's is kept"),
  command: argv.optional().describe("the CMD; left out: the base image's is kept ([] clears it)"),
  env: z
    .record(
      envName,
      singleLine.superRefine((v, ctx) => {
        const r = parseEnvValue(v);
        if ('error' in r) ctx.addIssue({ code: 'custom', message: r.error });
      }),
    )
    .default({})
    .describe(`environment of the runtime image; a value may reference inherited variables: ${ENV_FORMS}`),
  ports: z.array(z.number().int().min(1).max(65535)).default([]),
  workdir: absolutePath.optional().describe("default /workspace; on an upstream engine image, the image's own is kept"),
  user: z
    .strictObject({
      name: z
        .string()
        .regex(/^[a-z_][a-z0-9_-]{0,31}$/, { error: 'must be a POSIX user name' })
        .refine((n) => n !== 'root', { error: 'must not be "root": the runtime image runs as a non-root user' })
        .default('dynamo'),
      uid: z.number().int().min(1, { error: 'must not be 0: the runtime image runs as a non-root user' }).max(2147483647).default(1000),
      gid: z.number().int().min(0).max(2147483647).default(0),
      replaceExisting: z
        .boolean()
        .default(false)
        .describe(
          'a user the base already has with this UID (Ubuntu\'s "ubuntu") is deleted with its home and this one created (Dynamo\'s images do this); default: kept',
        ),
    })
    .default({ name: 'dynamo', uid: 1000, gid: 0, replaceExisting: false }),
  groupWritable: z
    .boolean()
    .default(false)
    .describe("the venv and workdir writable by the runtime user's group, umask 002 for login shells (OpenShift runs images as an arbitrary UID in group 0)"),
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
        .regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must be one line' })
        .describe('shown in progress and errors'),
      run: z
        .string()
        .min(1)
        .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), { error: 'may hold line breaks and tabs, no other control characters' })
        .describe('a shell script (sh -c), run as root'),
      stage: z
        .enum(['framework', 'runtime'])
        .default('framework')
        .describe(
          'framework: before the runtime image is assembled (files for the image go under /opt/dynamo/staging/<absolute path>); runtime: in the runtime image itself, before the user switch',
        ),
      network: z.boolean().default(false).describe('the step downloads: the build gets a network (otherwise RUN steps have none)'),
      secrets: z
        .array(secretId)
        .default([])
        .describe(
          'build secrets the step reads from /run/secrets/ID (given with --secret id=ID,src=FILE or env=VAR; BuildKit only; never stored in the image)',
        ),
      caches: z
        .array(absolutePath)
        .default([])
        .describe(
          'folders kept between builds, e.g. /root/.cache/pip (BuildKit cache mounts, never in the image; with the classic builder they are plain folders of the layer)',
        ),
    }),
  )
  .default([])
  .describe('build steps, in order, after the engine is installed');

export const AptRepositories = z
  .array(
    z.strictObject({
      name: z
        .string()
        .regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { error: 'must be a short lowercase name (letters, digits, -)' })
        .describe('names the list file and the keyring in the image'),
      uri: z
        .string()
        .regex(/^https?:\/\/([A-Za-z0-9._~:\/@+,=%-]|\{arch\}|\{cuda_arch\})+$/, {
          error: 'must be an http(s) URL of letters, digits and ._~:/@+,=%- (and {arch} or {cuda_arch})',
        })
        .describe("the repository; {arch} is the image's Debian architecture (amd64, arm64), {cuda_arch} NVIDIA's name for it (x86_64, sbsa)"),
      suite: z.string().regex(/^[A-Za-z0-9._\/-]+$/, { error: 'must be a suite (e.g. noble) or a path for a flat repository (e.g. / or ./)' }),
      components: z
        .array(z.string().regex(/^[a-z0-9-]+$/, { error: 'must be a component name, e.g. main' }))
        .default([])
        .describe('none for a flat repository'),
      key: z
        .strictObject({
          path: relativePath,
          sha256,
          fingerprint: z
            .string()
            .regex(/^(0x)?([0-9A-Fa-f]{4}\s*){10}$|^(0x)?[0-9A-Fa-f]{64}$/, {
              error: 'must be an OpenPGP fingerprint: 40 hex digits (version 4 key, spaces allowed) or 64 (version 6)',
            })
            .optional()
            .describe(
              'the fingerprint of the key the repository signs with, as its publisher gives it (not taken from the file, so `pin` never writes it): validate refuses a key file whose primary keys do not include it',
            ),
        })
        .describe("the repository's signing key (a binary .gpg keyring or an armored .asc OpenPGP public key), in the recipe's folder, pinned"),
      priority: z
        .number()
        .int()
        .min(1)
        .max(1000)
        .default(100)
        .describe(
          "apt pin priority of the repository's packages (by its host): 100 (default) adds packages but never replaces one the base's repositories have; 500 competes by version like Debian's own; 990 prefers it",
        ),
    }),
  )
  .default([])
  .describe("apt repositories the systemPackages may come from, each with its pinned signing key (e.g. NVIDIA's CUDA repository for cuDNN)");

export const Imports = z
  .array(
    z.strictObject({
      image: z
        .union([z.literal('devel'), imageRef, releaseTaggedRef])
        .describe(
          '"devel": the CUDA devel image of the variant\'s toolkit (base-images.yaml), or any image reference; a tag "{dynamo_version}" is the variant\'s Dynamo release (e.g. NIXL from nvcr.io/nvidia/ai-dynamo/vllm-runtime:{dynamo_version})',
        ),
      paths: z
        .array(z.union([importSource, z.strictObject({ source: importSource, destination: absolutePath })]))
        .min(1)
        .describe('paths copied from that image into the runtime image, each to the same path (or {source, destination}); a folder copies its contents'),
    }),
  )
  .default([])
  .describe('files taken from other images (COPY --from): JIT tools from the CUDA devel image, nats-server, etcd, uv, NIXL/UCX builds');

export const Files = z
  .array(
    z
      .strictObject({
        source: archPath.describe('relative path; with {arch} in it (lib/{arch}/libx.so), one file per platform: amd64, arm64'),
        destination: absolutePath,
        sha256: z
          .union([sha256, z.partialRecord(z.enum(ARCHITECTURES), sha256)])
          .optional()
          .describe(
            'its digest, checked at validate and on every build (pin rewrites it); for a folder, sha256 over its listing: one "<sha256>  <path below the folder>" line per file, in path order (inside it: `find . -type f -printf "%P\\n" | LC_ALL=C sort | xargs sha256sum`)',
          ),
        mode: z
          .string()
          .regex(/^0?[0-7]{3,4}$/, { error: 'must be octal, e.g. 0644' })
          .optional()
          .describe('mode of the file (of each file, for a folder)'),
        owner: z
          .string()
          .regex(/^[0-9]{1,10}(:[0-9]{1,10})?$/, { error: 'must be UID or UID:GID, numbers' })
          .optional()
          .describe('owner in the image (default root), e.g. "1000:0"'),
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
    repository: imageName.optional().describe('default: the recipe name'),
    tags: z
      .array(
        z.union([
          z.string().min(1),
          z
            .strictObject({
              tag: z.string().min(1).describe('a tag template'),
              when: z
                .strictObject({ cuda: cudaVersionSchema.optional(), python: pythonVersionSchema.optional(), dynamo: dynamoReleaseSchema.optional() })
                .refine((e) => Object.keys(e).length > 0, { error: 'must name cuda, python or dynamo' })
                .describe('only the matrix variants with these values get the tag'),
            })
            .describe('a tag only some variants get, e.g. { tag: "{version}", when: { cuda: "12.9" } }'),
        ]),
      )
      .min(1)
      .default(['{version}'])
      .describe(
        "tag templates: {version}, {version_major}, {cuda}, {cuda_major}, {framework}, {engine_version}, {platform}, {git_sha}; an entry {tag, when} applies to the variants it matches; each variant's first tag starts with {version}",
      ),
    mutableTags: z.array(z.string().min(1)).default([]).describe('tags that may move (e.g. latest)'),
  })
  .optional();
