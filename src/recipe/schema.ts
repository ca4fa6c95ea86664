import { z } from 'zod';
import { ENV_FORMS, parseEnvValue } from './env-value.js';
import semver from 'semver';
import { FRAMEWORKS } from '../domain/frameworks.js';
import { ARCHITECTURES, PLATFORMS } from '../domain/platforms.js';
import { parseSpecifier } from '../versions/pep440.js';
import { IMAGE_REF_RE, referencePathIsLowercase } from '../refs/image-ref.js';

// The recipe as written. This zod schema is the single source of truth: the TypeScript types, the
// committed JSON Schema (schema/recipe.schema.json) and the README's reference all come from it.
// Strict objects everywhere: an unknown key is an error, never silently ignored.

export const API_VERSION = 'dynamo-image/v1';

const sha256 = z
  .string()
  .regex(/^(sha256:)?[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits, optionally prefixed "sha256:"' });

/** Characters a value may hold and still be embedded in any Dockerfile instruction unchanged. */
const SAFE_PATH = /^[A-Za-z0-9._@+=:,\/-]+$/;

/** `./a//b/./c` -> `a/b/c`: the one spelling every check and the renderer use. */
export function normalizeRelative(p: string): string {
  return p
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
}

const relativePath = z
  .string()
  .min(1)
  .regex(SAFE_PATH, { error: 'may only contain letters, digits and . _ @ + = : , / -' })
  .refine((p) => !p.startsWith('/'), { error: 'must be relative to the recipe\'s folder, not absolute' })
  .refine((p) => !p.split('/').includes('..'), { error: 'must stay inside the recipe\'s folder (no "..")' })
  .refine((p) => normalizeRelative(p) !== '', { error: 'must name a file, not the recipe\'s folder itself' })
  .refine((p) => !normalizeRelative(p).split('/').some((seg) => seg.startsWith('-')), {
    error: 'must not have a part that starts with "-" (it would read as an option)',
  });

/** A relative path that may hold `{arch}` (replaced by amd64 or arm64): one file per platform. */
const archPath = z.string().superRefine((p, ctx) => {
  const r = relativePath.safeParse(p.replaceAll('{arch}', 'amd64'));
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message });
});

const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._@+=:,\/-]*$/, { error: 'must be an absolute path of letters, digits and . _ @ + = : , / -' })
  .refine((p) => !p.split('/').includes('..'), { error: 'must not contain ".."' })
  .max(4095, { error: 'is longer than Linux allows for a path (4095 bytes)' });

/** A path in another image, copied by COPY --from: absolute, `*` allowed in the last part (libcudart.so*). */
const importSource = z
  .string()
  .regex(/^\/([A-Za-z0-9._@+=:,-]+\/)*[A-Za-z0-9._@+=:,*-]*$/, { error: 'must be an absolute path of letters, digits and . _ @ + = : , / - (and * in the last part)' })
  .refine((p) => !p.split('/').includes('..'), { error: 'must not contain ".."' })
  .max(4095);

export { IMAGE_REF_RE, referencePathIsLowercase };

const imageRef = z
  .string()
  .regex(IMAGE_REF_RE, { error: 'is not a valid image reference (e.g. "nvidia/cuda:12.9.1-runtime-ubuntu24.04")' })
  .refine(referencePathIsLowercase, { error: 'is not a valid image reference: repository names are lowercase' });

/** An image reference whose tag is the build's Dynamo release: `REPO:{dynamo_version}`. */
export const DYNAMO_TAG = '{dynamo_version}';
const releaseTaggedRef = z
  .string()
  .refine((v) => v.endsWith(`:${DYNAMO_TAG}`) && imageRef.safeParse(v.replace(DYNAMO_TAG, '1.0.0')).success, {
    error: 'is not a valid image reference (e.g. "nvidia/cuda:12.9.1-runtime-ubuntu24.04", or "REPO:{dynamo_version}" for the build\'s Dynamo release)',
  });

const imageName = z.string().max(200, { error: 'must be at most 200 characters (registries allow 255 for the whole name, registry included)' }).regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, {
  error: 'must be lowercase letters, digits and separators (. _ - /), e.g. "vllm-runtime"',
});

const semverString = z
  .string()
  .refine((v) => semver.valid(v) === v, {
    error: 'must be a semantic version such as 1.4.0 or 1.4.0-rc.1 (tags start with it)',
  })
  .refine((v) => v.length <= 100, { error: 'must be at most 100 characters: tags start with it, and registries allow 128 for a whole tag' });

const pep440Constraint = z.string().min(1).refine((v) => parseSpecifier(v).ok, {
  error: 'is not a version or version range (e.g. "0.19.0", "~0.19", ">=0.14,<0.20", "1.3.0rc11")',
});

/** What a smoke test's version constraint may name instead of a version: the plan's own pins. */
export const PIN_PLACEHOLDERS = ['dynamo_version', 'engine_version', 'nixl_version', 'ucx_version'] as const;
const pinConstraint = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    const names = [...v.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
    const unknown = names.filter((n) => !(PIN_PLACEHOLDERS as readonly string[]).includes(n));
    if (unknown.length) ctx.addIssue({ code: 'custom', message: `names {${unknown[0]}}; a constraint may name ${PIN_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` });
    else if (!parseSpecifier(v.replace(/\{[a-z_]+\}/g, '1.0')).ok)
      ctx.addIssue({ code: 'custom', message: 'is not a version or version range (e.g. "==0.19.0", ">=0.14,<0.20", or "=={engine_version}" for the plan\'s own pin)' });
  });

/** The longest timer Node can hold (setTimeout's limit), about 24.8 days. */
export const MAX_DURATION_MS = 2 ** 31 - 1;
const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export function durationMs(d: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(d);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
}

const duration = z
  .string()
  .regex(/^[0-9]+(ms|s|m|h)$/, { error: 'must be a duration such as 500ms, 30s, 5m or 1h' })
  .refine((d) => !/^0+(ms|s|m|h)$/.test(d), { error: 'must be greater than zero' })
  .refine((d) => !(durationMs(d) > MAX_DURATION_MS), { error: `must be at most ${MAX_DURATION_MS} ms (about 24 days), the longest timer there is` });

/** The Docker engine refuses a container memory limit below 6 MiB. */
export const MIN_MEMORY_BYTES = 6 * 1024 * 1024;
export function memoryBytes(m: string): number {
  const x = /^([0-9]+)([kmg]?)$/i.exec(m);
  if (!x) return NaN;
  const mult = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[x[2]!.toLowerCase() as '' | 'k' | 'm' | 'g'];
  return Number(x[1]) * mult;
}

/** HOST or HOST:PORT where HOST is a DNS name (labels of 1-63 characters) or an IPv4 address. */
export function registryHostProblem(r: string): string | null {
  const slash = r.indexOf('/');
  if (slash >= 0) {
    // HOST[:PORT]/NAMESPACE: repositories go under NAMESPACE (ghcr.io/OWNER, registry.example.com/team).
    const ns = r.slice(slash + 1);
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(ns)) return `namespace "${ns}" must be lowercase path components (e.g. "team" or "org/team")`;
    r = r.slice(0, slash);
  }
  const m = /^([A-Za-z0-9.-]+)(?::([0-9]+))?$/.exec(r);
  if (!m) return 'must be HOST, HOST:PORT or HOST[:PORT]/NAMESPACE';
  const [, host, port] = m;
  if (port !== undefined && !(Number(port) >= 1 && Number(port) <= 65535)) return `port ${port} is out of range (1-65535)`;
  if (host!.length > 253) return 'the host name is longer than 253 characters';
  for (const label of host!.split('.')) {
    if (label.length === 0) return 'the host name has an empty part (two dots, or a dot at either end)';
    if (label.length > 63) return `"${label.slice(0, 20)}..." is longer than the 63 characters a host name part may have`;
    if (label.startsWith('-') || label.endsWith('-')) return `"${label}": a host name part may not start or end with "-"`;
  }
  return null;
}
export const registryHost = z.string().superRefine((r, ctx) => {
  const p = registryHostProblem(r);
  if (p) ctx.addIssue({ code: 'custom', message: `${p} (e.g. "registry.example.com" or "127.0.0.1:5000")` });
});

/** The id of a build secret (`--secret id=ID,...`). */
const secretId = z.string().regex(/^[A-Za-z0-9_.-]{1,64}$/, { error: 'must be a secret id: letters, digits, _ . -' });

/** A PEP 503 index for pip, with the build secret (a netrc file) that authenticates to it. */
const packageIndex = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }).describe('a PEP 503 index: PyPI, a mirror, a nightly index; never with credentials in it'),
  secret: secretId.optional().describe('build secret holding a netrc file for the index (--secret id=ID,src=$HOME/.netrc): mounted as root\'s ~/.netrc for the install step only (BuildKit)'),
});

const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a valid environment variable name' });

/** Text that lands in a Dockerfile quoted: any printable character, but no line breaks or control characters. */
const singleLine = z.string().refine((s) => !/[\u0000-\u001f\u007f]/.test(s), {
  error: 'must be one line without control characters (a newline cannot be expressed in a Dockerfile value)',
});

const argv = z.array(z.string().refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL' }));

const validRegex = z.string().refine(
  (s) => {
    try {
      new RegExp(s);
      return true;
    } catch {
      return false;
    }
  },
  { error: 'is not a valid regular expression' },
);

// The three matrix axes, each with the one rule that the top-level field and every matrix value share.
export const cudaVersionSchema = z.string().regex(/^\d{1,3}\.\d{1,3}$/, { error: 'must be MAJOR.MINOR, e.g. "12.9"' });
export const platformSchema = z.enum(PLATFORMS);
/** Base operating systems: the CUDA table's, and Debian's releases for explicit images. */
export const OS_NAMES = ['ubuntu24.04', 'ubuntu22.04', 'debian12', 'debian13', 'debian-sid'] as const;
export const pythonVersionSchema = z.string().regex(/^3\.\d{1,2}$/, { error: 'must include major and minor version, e.g. "3.12"' });
/** A Dynamo release as the matrix names it: exact (a range would make the variant's build move). */
export const dynamoReleaseSchema = z.string().regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}(?:\.post\d{1,3})?$/, { error: 'must be an exact Dynamo release, e.g. "1.7.0" or "0.7.0.post1"' });
export const AXIS_SCHEMAS = { cuda: cudaVersionSchema, platform: platformSchema, python: pythonVersionSchema, dynamo: dynamoReleaseSchema } as const;

/** Keys the tool writes itself; a recipe label may not use them. */
export const RESERVED_LABEL_PREFIX = 'dev.dynamo-image.';

// ---- smoke tests (run by `dynamo-image test`) --------------------------------------------------

export const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'] as const;

const outputMatch = z.strictObject({
  contains: z.string().optional().describe('the output contains this text'),
  notContains: z.string().optional().describe('the output does not contain this text'),
  matches: validRegex.optional().describe('the output matches this regular expression (JavaScript syntax)'),
});

const testCommon = {
  name: z.string().min(1).describe('shown in reports'),
  gpu: z.boolean().default(false).describe('needs a GPU: skipped (with the reason) where the engine cannot give one, unless --gpu require'),
  timeout: duration.optional().describe('per-test timeout (default 60s; serve: 120s)'),
};

export const CommandTest = z.strictObject({
  kind: z.literal('command'),
  ...testCommon,
  command: argv.min(1).describe('argv run in the image (the entrypoint is replaced by command[0])'),
  exitCode: z.number().int().min(0).max(255).default(0),
  stdout: outputMatch.optional(),
  stderr: outputMatch.optional(),
  version: z
    .strictObject({
      regex: validRegex.default('(\\d+\\.\\d+[0-9A-Za-z.+-]*)').describe('first capture group is the version'),
      constraint: pinConstraint,
    })
    .optional()
    .describe('a version the command prints, checked against a constraint'),
});

export const PythonTest = z.strictObject({
  kind: z.literal('python'),
  ...testCommon,
  imports: z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.]*$/, { error: 'must be a module name' })).default([]),
  distributions: z
    .record(z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, { error: 'must be a distribution name' }), pinConstraint)
    .default({})
    .describe('installed distribution -> version constraint; "=={dynamo_version}", "=={engine_version}", "=={nixl_version}" check the plan\'s own pins'),
  python: z.string().regex(/^\/?[A-Za-z0-9._\/-]+$/).default('python3').describe('interpreter to run'),
});

export const FileTest = z.strictObject({
  kind: z.literal('file'),
  ...testCommon,
  path: absolutePath,
  exists: z.boolean().default(true),
  executable: z.boolean().optional(),
  owner: z.string().regex(/^[0-9]+(:[0-9]+)?$/, { error: 'must be UID or UID:GID' }).optional(),
  mode: z.string().regex(/^0?[0-7]{3,4}$/, { error: 'must be octal, e.g. 0755' }).optional(),
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
  path: z.string().regex(/^\/[\x21-\x7e]*$/, { error: 'must start with / and hold no spaces' }).default('/'),
  method: z.enum(['GET', 'POST']).default('GET'),
  body: z.string().optional().describe('request body (POST)'),
  readyPath: z.string().regex(/^\/[\x21-\x7e]*$/).optional().describe('polled until it answers 2xx before the probe'),
  readyTimeout: duration.default('60s'),
  expect: z
    .strictObject({
      status: z.number().int().min(100).max(599).default(200),
      body: outputMatch.optional(),
      json: z
        .array(
          z
            .strictObject({
              path: z.string().min(1).describe('dotted path, e.g. choices.0.text'),
              equals: z.unknown().optional().describe('the value there equals this (JSON equality)'),
              exists: z.boolean().optional().describe('true: the path is there; false: it is not'),
              type: z.enum(JSON_TYPES).optional().describe('the value\'s JSON type'),
              matches: validRegex.optional().describe('the value is a string matching this regular expression'),
              length: z
                .union([z.number().int().min(0), z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })])
                .optional()
                .describe('the length of the array or string there: exact, or {min, max}'),
            })
            .refine((j) => ['equals', 'exists', 'type', 'matches', 'length'].some((k) => k in j), { error: 'needs a check: equals, exists, type, matches or length' }),
        )
        .optional()
        .describe('checks on the JSON answer, each at a path'),
    })
    .default({ status: 200 })
    .describe('what the answer must be (default: status 200)'),
  args: argv.optional().describe('command arguments for the entrypoint (default: the image CMD)'),
});

/** A check's deliberate exceptions: each a name (a glob) and the reason it is there on purpose. */
function allowList(nameMax: number, name: string, reason: string, list: string) {
  return z
    .array(z.strictObject({ name: z.string().min(1).max(nameMax).describe(name), reason: z.string().min(1).max(500).describe(reason) }))
    .max(200)
    .default([])
    .describe(list);
}

export const CudaVariantTest = z.strictObject({
  kind: z.literal('cuda-variant'),
  ...testCommon,
  cuda: z
    .string()
    .regex(/^\d{1,2}(\.\d{1,2})?$/, { error: 'must be a CUDA version, e.g. "13.0" or "13"' })
    .optional()
    .describe('the CUDA the image is for (default: its dev.dynamo-image.cuda-version label)'),
  allow: allowList(200, 'a distribution, package or library name; * matches any run of characters (nvidia-*-cu12)', 'why it is there on purpose (shown in the report)', 'deliberate exceptions, each with its reason'),
});

export const LibrariesTest = z.strictObject({
  kind: z.literal('libraries'),
  ...testCommon,
  paths: z
    .array(absolutePath)
    .max(64)
    .default([])
    .describe('more files or folders whose shared objects and executables must load (the engine binary, a plugin folder); every Python package folder (site-packages, dist-packages) is always checked'),
  load: z
    .array(z.string().regex(/^[A-Za-z0-9_.+-]+\.so(\.[0-9]+)*$/, { error: 'must be a library file name, e.g. libnixl_capi.so' }))
    .max(64)
    .default([])
    .describe('libraries something loads by bare name (dlopen: NIXL plugins, UCX transports): each must be found through the loader path'),
  allow: allowList(300, 'a missing library name or a file path; * matches any run of characters (/usr/lib/python3/dist-packages/onnxruntime/*)', 'why it may not load here', 'deliberate exceptions (an optional plugin whose dependency is not shipped), each with its reason'),
});

export const OverlayTest = z.strictObject({
  kind: z.literal('overlay'),
  ...testCommon,
  against: imageRef.optional().describe('the engine image the overlay is on (default: the image\'s org.opencontainers.image.base.name label)'),
  allow: allowList(200, 'a Python distribution (PEP 503 name) or Debian package; * matches any run of characters', 'why the overlay changes it on purpose', 'engine-owned packages the overlay may change, each with its reason'),
});

export const SmokeTest = z.discriminatedUnion('kind', [CommandTest, PythonTest, FileTest, MetadataTest, ServeTest, CudaVariantTest, LibrariesTest, OverlayTest]);
export type SmokeTest = z.infer<typeof SmokeTest>;

export const Smoke = z.strictObject({
  timeout: duration.default('10m').describe('overall timeout for all tests'),
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
  probeImage: imageRef
    .optional()
    .describe('for serve tests of an image with neither python3 nor curl: an image that has one; it joins the server container\'s network namespace and sends the requests from there (e.g. curlimages/curl, python:3-slim)'),
  tests: z.array(SmokeTest).default([]),
});

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

