import { z } from 'zod';
import { ENV_FORMS, parseEnvValue } from './env-value.js';
import { FRAMEWORKS } from '../domain/frameworks.js';
import { ARCHITECTURES } from '../domain/platforms.js';

import { absolutePath, API_VERSION, pep440Constraint, sha256, archPath, argv, cudaVersionSchema, duration, dynamoReleaseSchema, envName, imageName, imageRef, importSource, OS_NAMES, packageIndex, platformSchema, pythonVersionSchema, registryHost, relativePath, releaseTaggedRef, RESERVED_LABEL_PREFIX, secretId, semverString, singleLine } from './values.js';
import { Smoke } from './smoke-schema.js';

export * from './values.js';
export * from './smoke-schema.js';

// The recipe as written. This zod schema is the single source of truth: the TypeScript types, the
// committed JSON Schema (schema/recipe.schema.json) and the README's reference all come from it.
// Strict objects everywhere: an unknown key is an error, never silently ignored. The value rules
// are in values.ts, the smoke tests' schemas in smoke-schema.ts.

/** One matrix include/exclude entry: at least one axis, each value valid for that axis. */
const axisEntry = z
  .strictObject({ cuda: cudaVersionSchema.optional(), platform: platformSchema.optional(), python: pythonVersionSchema.optional(), dynamo: dynamoReleaseSchema.optional() })
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
        .regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/, { error: 'must be a distribution name, optionally with extras, e.g. "vllm" or "ai-dynamo[vllm]"; the version comes from engine.version' })
        .optional()
        .describe('distribution name (default: the framework\'s package)'),
      url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).optional().describe('index URL (default: the framework\'s index or PyPI)'),
      secret: secretId.optional().describe('build secret holding a netrc file for the index (`--secret id=ID,src=~/.netrc`): mounted for the install step only (BuildKit)'),
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
    .superRefine((b, ctx) => {
      const perArch = b.path.includes('{arch}');
      if (perArch && typeof b.sha256 === 'string') ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'must map each architecture to its file\'s digest, e.g. { amd64: ..., arm64: ... }: the path has {arch}' });
      if (!perArch && typeof b.sha256 !== 'string') ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'must be one digest: the path has no {arch} (write bin/{arch}/NAME for one file per platform)' });
    })
    .optional()
    .describe('a prebuilt executable (one file, or one per platform)'),
  image: z
    .strictObject({ ref: imageRef.optional().describe('default: the framework\'s upstream image for this version and CUDA') })
    .optional()
    .describe('the upstream engine image, used as the runtime base'),
});

export const Recipe = z.strictObject({
  apiVersion: z.literal(API_VERSION),
  name: imageName.describe('image name (last part of the repository)'),
  version: semverString.describe('image version; the first tag starts with it'),
  description: singleLine.optional(),
  base: z.strictObject({
    cuda: cudaVersionSchema.optional().describe('CUDA toolkit, resolved through base-images/base-images.yaml'),
    image: imageRef.optional().describe('explicit base image instead of the table'),
    os: z.enum(OS_NAMES).optional().describe('default ubuntu24.04 with cuda (and on the upstream images of vllm, sglang and trtllm); "custom" for an explicit image or a custom engine image unless set'),
    platforms: z.array(platformSchema).min(1).default(['linux/amd64']),
    pythonIncluded: z.boolean().optional().describe('the base image already has python3 with venv (explicit images)'),
  }).prefault({}).describe('the base image (may be left out with engine.image: the engine image is the base)'),
  python: pythonVersionSchema.optional().describe('Python of the runtime venv, MAJOR.MINOR; needed when the recipe installs a Python package (an engine wheel or index, dependencies, Dynamo) and for vllm, sglang and trtllm'),
  dynamo: pep440Constraint.optional().describe('Dynamo runtime version; needed for vllm, sglang and trtllm'),
  dynamoSource: z
    .strictObject({
      packages: z
        .array(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9,._-]+\])?$/, { error: 'must be a distribution name, optionally with extras, e.g. "ai-dynamo[vllm]"' }))
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
  backend: z.strictObject({
    entrypoint: argv.min(1).optional().describe('the ENTRYPOINT; left out: the base image\'s is kept'),
    command: argv.optional().describe('the CMD; left out: the base image\'s is kept ([] clears it)'),
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
    workdir: absolutePath.optional().describe('default /workspace; on an upstream engine image, the image\'s own is kept'),
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
          .describe('a user the base already has with this UID (Ubuntu\'s "ubuntu") is deleted with its home and this one created (Dynamo\'s images do this); default: kept'),
      })
      .default({ name: 'dynamo', uid: 1000, gid: 0, replaceExisting: false }),
    groupWritable: z
      .boolean()
      .default(false)
      .describe('the venv and workdir writable by the runtime user\'s group, umask 002 for login shells (OpenShift runs images as an arbitrary UID in group 0)'),
    healthcheck: z
      .strictObject({
        command: argv.min(1),
        interval: duration.default('30s'),
        timeout: duration.default('10s'),
        startPeriod: duration.default('5s'),
        retries: z.number().int().min(1).default(3),
      })
      .optional(),
  }),
  dependencies: z
    .strictObject({
      wheels: z
        .array(z.strictObject({ path: relativePath.refine((p) => p.endsWith('.whl'), { error: 'must be a .whl file' }), sha256 }))
        .default([])
        .describe('wheels the engine needs, each pinned: installed offline with --require-hashes, every dependency named'),
      requirements: z
        .strictObject({ path: relativePath, sha256 })
        .optional()
        .describe('a pip requirements file with hashes (NAME==VERSION --hash=sha256:... for every package), installed with --require-hashes from the index below or offline from the wheels'),
      index: packageIndex.optional().describe('where the requirements come from (default: offline, from the wheels only)'),
    })
    .refine((d) => !(d.index && !d.requirements), { error: 'must name requirements when it names an index (the wheels are installed offline)' })
    .default({ wheels: [] })
    .describe('Python dependencies of the engine, from the recipe\'s folder'),
  steps: z
    .array(
      z.strictObject({
        name: z.string().min(1).max(200).regex(/^[^\u0000-\u001f\u007f]+$/, { error: 'must be one line' }).describe('shown in progress and errors'),
        run: z
          .string()
          .min(1)
          .refine((s) => !/[\u0000-\u0008\u000b-\u001f\u007f]/.test(s), { error: 'may hold line breaks and tabs, no other control characters' })
          .describe('a shell script (sh -c), run as root'),
        stage: z.enum(['framework', 'runtime']).default('framework').describe('framework: before the runtime image is assembled (files for the image go under /opt/dynamo/staging/<absolute path>); runtime: in the runtime image itself, before the user switch'),
        network: z.boolean().default(false).describe('the step downloads: the build gets a network (otherwise RUN steps have none)'),
        secrets: z
          .array(secretId)
          .default([])
          .describe('build secrets the step reads from /run/secrets/ID (given with --secret id=ID,src=FILE or env=VAR; BuildKit only; never stored in the image)'),
        caches: z
          .array(absolutePath)
          .default([])
          .describe('folders kept between builds, e.g. /root/.cache/pip (BuildKit cache mounts, never in the image; with the classic builder they are plain folders of the layer)'),
      }),
    )
    .default([])
    .describe('build steps, in order, after the engine is installed'),
  systemPackages: z
    .array(z.string().regex(/^[a-z0-9][a-z0-9+.-]+(=[A-Za-z0-9.+~:-]+)?$/, { error: 'must be a Debian package name, optionally =version' }))
    .default([]),
  aptOptions: z
    .array(z.string().regex(/^[A-Za-z][A-Za-z0-9_-]*(::[A-Za-z0-9_-]+)+=[A-Za-z0-9._:/+@-]*$/, { error: 'must be an apt option NAME::NAME=VALUE, e.g. Acquire::Check-Valid-Until=false' }))
    .max(32)
    .default([])
    .describe('apt configuration options for every apt-get the tool runs (apt-get -o NAME=VALUE): what an archive needs, e.g. Acquire::Check-Valid-Until=false for an archive snapshot, Acquire::Retries=5'),
  aptRepositories: z
    .array(
      z.strictObject({
        name: z.string().regex(/^[a-z0-9][a-z0-9-]{0,39}$/, { error: 'must be a short lowercase name (letters, digits, -)' }).describe('names the list file and the keyring in the image'),
        uri: z
          .string()
          .regex(/^https?:\/\/([A-Za-z0-9._~:\/@+,=%-]|\{arch\}|\{cuda_arch\})+$/, { error: 'must be an http(s) URL of letters, digits and ._~:/@+,=%- (and {arch} or {cuda_arch})' })
          .describe('the repository; {arch} is the image\'s Debian architecture (amd64, arm64), {cuda_arch} NVIDIA\'s name for it (x86_64, sbsa)'),
        suite: z.string().regex(/^[A-Za-z0-9._\/-]+$/, { error: 'must be a suite (e.g. noble) or a path for a flat repository (e.g. / or ./)' }),
        components: z.array(z.string().regex(/^[a-z0-9-]+$/, { error: 'must be a component name, e.g. main' })).default([]).describe('none for a flat repository'),
        key: z
          .strictObject({
            path: relativePath,
            sha256,
            fingerprint: z
              .string()
              .regex(/^(0x)?([0-9A-Fa-f]{4}\s*){10}$|^(0x)?[0-9A-Fa-f]{64}$/, { error: 'must be an OpenPGP fingerprint: 40 hex digits (version 4 key, spaces allowed) or 64 (version 6)' })
              .optional()
              .describe('the fingerprint of the key the repository signs with, as its publisher gives it (not taken from the file, so `pin` never writes it): validate refuses a key file whose primary keys do not include it'),
          })
          .describe('the repository\'s signing key (a binary .gpg keyring or an armored .asc OpenPGP public key), in the recipe\'s folder, pinned'),
        priority: z
          .number()
          .int()
          .min(1)
          .max(1000)
          .default(100)
          .describe('apt pin priority of the repository\'s packages (by its host): 100 (default) adds packages but never replaces one the base\'s repositories have; 500 competes by version like Debian\'s own; 990 prefers it'),
      }),
    )
    .default([])
    .describe('apt repositories the systemPackages may come from, each with its pinned signing key (e.g. NVIDIA\'s CUDA repository for cuDNN)'),
  imports: z
    .array(
      z.strictObject({
        image: z
          .union([z.literal('devel'), imageRef, releaseTaggedRef])
          .describe('"devel": the CUDA devel image of the variant\'s toolkit (base-images.yaml), or any image reference; a tag "{dynamo_version}" is the variant\'s Dynamo release (e.g. NIXL from nvcr.io/nvidia/ai-dynamo/vllm-runtime:{dynamo_version})'),
        paths: z
          .array(z.union([importSource, z.strictObject({ source: importSource, destination: absolutePath })]))
          .min(1)
          .describe('paths copied from that image into the runtime image, each to the same path (or {source, destination}); a folder copies its contents'),
      }),
    )
    .default([])
    .describe('files taken from other images (COPY --from): JIT tools from the CUDA devel image, nats-server, etcd, uv, NIXL/UCX builds'),
  files: z
    .array(
      z.strictObject({
        source: archPath.describe('relative path; with {arch} in it (lib/{arch}/libx.so), one file per platform: amd64, arm64'),
        destination: absolutePath,
        sha256: z
          .union([sha256, z.partialRecord(z.enum(ARCHITECTURES), sha256)])
          .optional()
          .describe('its digest, checked at validate and on every build (pin rewrites it); for a folder, sha256 over its listing: one "<sha256>  <path below the folder>" line per file, in path order (inside it: `find . -type f -printf "%P\\n" | LC_ALL=C sort | xargs sha256sum`)'),
        mode: z.string().regex(/^0?[0-7]{3,4}$/, { error: 'must be octal, e.g. 0644' }).optional().describe('mode of the file (of each file, for a folder)'),
        owner: z.string().regex(/^[0-9]{1,10}(:[0-9]{1,10})?$/, { error: 'must be UID or UID:GID, numbers' }).optional().describe('owner in the image (default root), e.g. "1000:0"'),
      }).superRefine((f, ctx) => {
        const perArch = f.source.includes('{arch}');
        if (perArch && typeof f.sha256 === 'string') ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'must map each architecture to its file\'s digest, e.g. { amd64: ..., arm64: ... }: the source has {arch}' });
        if (!perArch && f.sha256 !== undefined && typeof f.sha256 !== 'string') ctx.addIssue({ code: 'custom', path: ['sha256'], message: 'must be one digest: the source has no {arch}' });
        if (perArch && f.source.endsWith('/')) ctx.addIssue({ code: 'custom', path: ['source'], message: 'a folder cannot be per platform ({arch}): name each file' });
      }),
    )
    .default([]),
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
  publish: z
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
        .describe('tag templates: {version}, {version_major}, {cuda}, {cuda_major}, {framework}, {engine_version}, {platform}, {git_sha}; an entry {tag, when} applies to the variants it matches; each variant\'s first tag starts with {version}'),
      mutableTags: z.array(z.string().min(1)).default([]).describe('tags that may move (e.g. latest)'),
    })
    .optional(),
  matrix: z
    .strictObject({
      cuda: z.array(cudaVersionSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      platform: z.array(platformSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      python: z.array(pythonVersionSchema).min(1, { error: 'must list at least one value (or leave the axis out)' }).optional(),
      dynamo: z
        .array(dynamoReleaseSchema)
        .min(1, { error: 'must list at least one value (or leave the axis out)' })
        .optional()
        .describe('Dynamo releases: each variant pins the engine of its release; an image whose version is its Dynamo release takes the variant\'s'),
      include: z.array(axisEntry).default([]).describe('combinations to add; unnamed axes take the recipe\'s own values'),
      exclude: z.array(axisEntry).default([]).describe('combinations to drop: an entry matches every variant with those values'),
    })
    .optional(),
});

export type RecipeInput = z.input<typeof Recipe>;
export type Recipe = z.output<typeof Recipe>;


