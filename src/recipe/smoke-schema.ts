import * as z from 'zod';
import { absolutePath, argv, duration, imageRef, MIN_MEMORY_BYTES, memoryBytes, pinConstraint, validRegex } from './values.js';

// The smoke tests' schemas (run by `dynamo-image test` and before every tag).

// ---- smoke tests (run by `dynamo-image test`) --------------------------------------------------

export const JSON_TYPES = ['string', 'number', 'boolean', 'null', 'array', 'object'] as const;

export const outputMatch = z.strictObject({
  contains: z.string().optional().describe('the output contains this text'),
  notContains: z.string().optional().describe('the output does not contain this text'),
  matches: validRegex.optional().describe('the output matches this regular expression (JavaScript syntax)'),
});

export const testCommon = {
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
  python: z
    .string()
    .regex(/^\/?[A-Za-z0-9._\/-]+$/)
    .default('python3')
    .describe('interpreter to run'),
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
  body: z.string().optional().describe('request body (POST)'),
  readyPath: z
    .string()
    .regex(/^\/[\x21-\x7e]*$/)
    .optional()
    .describe('polled until it answers 2xx before the probe'),
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
              type: z.enum(JSON_TYPES).optional().describe("the value's JSON type"),
              matches: validRegex.optional().describe('the value is a string matching this regular expression'),
              length: z
                .union([z.number().int().min(0), z.strictObject({ min: z.number().int().min(0).optional(), max: z.number().int().min(0).optional() })])
                .optional()
                .describe('the length of the array or string there: exact, or {min, max}'),
            })
            .refine((j) => ['equals', 'exists', 'type', 'matches', 'length'].some((k) => k in j), {
              error: 'needs a check: equals, exists, type, matches or length',
            }),
        )
        .optional()
        .describe('checks on the JSON answer, each at a path'),
    })
    .default({ status: 200 })
    .describe('what the answer must be (default: status 200)'),
  args: argv.optional().describe('command arguments for the entrypoint (default: the image CMD)'),
});

/** A check's deliberate exceptions: each a name (a glob) and the reason it is there on purpose. */
export function allowList(nameMax: number, name: string, reason: string, list: string) {
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
  allow: allowList(
    200,
    'a distribution, package or library name; * matches any run of characters (nvidia-*-cu12)',
    'why it is there on purpose (shown in the report)',
    'deliberate exceptions, each with its reason',
  ),
});

export const LibrariesTest = z.strictObject({
  kind: z.literal('libraries'),
  ...testCommon,
  paths: z
    .array(absolutePath)
    .max(64)
    .default([])
    .describe(
      'more files or folders whose shared objects and executables must load (the engine binary, a plugin folder); every Python package folder (site-packages, dist-packages) is always checked',
    ),
  load: z
    .array(z.string().regex(/^[A-Za-z0-9_.+-]+\.so(\.[0-9]+)*$/, { error: 'must be a library file name, e.g. libnixl_capi.so' }))
    .max(64)
    .default([])
    .describe('libraries something loads by bare name (dlopen: NIXL plugins, UCX transports): each must be found through the loader path'),
  allow: allowList(
    300,
    'a missing library name or a file path; * matches any run of characters (/usr/lib/python3/dist-packages/onnxruntime/*)',
    'why it may not load here',
    'deliberate exceptions (an optional plugin whose dependency is not shipped), each with its reason',
  ),
});

export const OverlayTest = z.strictObject({
  kind: z.literal('overlay'),
  ...testCommon,
  against: imageRef.optional().describe("the engine image the overlay is on (default: the image's org.opencontainers.image.base.name label)"),
  allow: allowList(
    200,
    'a Python distribution (PEP 503 name) or Debian package; * matches any run of characters',
    'why the overlay changes it on purpose',
    'engine-owned packages the overlay may change, each with its reason',
  ),
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
    .describe(
      "for serve tests of an image with neither python3 nor curl: an image that has one; it joins the server container's network namespace and sends the requests from there (e.g. curlimages/curl, python:3-slim)",
    ),
  tests: z.array(SmokeTest).default([]),
});
