import * as z from 'zod';
import valid from 'semver/functions/valid.js';
import { SECRET_ID_RE } from '../domain/secrets.js';
import { PLATFORMS } from '../domain/platforms.js';
import { parseSpecifier } from '../versions/pep440.js';
import { IMAGE_REF_RE, referencePathIsLowercase } from '../refs/image-ref.js';

// The value rules a recipe's fields share (paths, references, versions, durations, hosts, the
// matrix axes): zod schemas and the plain functions behind them.

export const API_VERSION = 'dynamo-image/v1';

export const sha256 = z.string().regex(/^(sha256:)?[0-9a-f]{64}$/, { error: 'must be 64 lowercase hex digits, optionally prefixed "sha256:"' });

/** Characters a value may hold and still be embedded in any Dockerfile instruction unchanged. */
export const SAFE_PATH = /^[A-Za-z0-9._@+=:,\/-]+$/;

/** `./a//b/./c` -> `a/b/c`: the one spelling every check and the renderer use. */
export function normalizeRelative(p: string): string {
  return p
    .split('/')
    .filter((seg) => seg !== '' && seg !== '.')
    .join('/');
}

export const relativePath = z
  .string()
  .min(1)
  .regex(SAFE_PATH, { error: 'may only contain letters, digits and . _ @ + = : , / -' })
  .refine((p) => !p.startsWith('/'), { error: "must be relative to the recipe's folder, not absolute" })
  .refine((p) => !p.split('/').includes('..'), { error: 'must stay inside the recipe\'s folder (no "..")' })
  .refine((p) => normalizeRelative(p) !== '', { error: "must name a file, not the recipe's folder itself" })
  .refine(
    (p) =>
      !normalizeRelative(p)
        .split('/')
        .some((seg) => seg.startsWith('-')),
    {
      error: 'must not have a part that starts with "-" (it would read as an option)',
    },
  );

/** A relative path that may hold `{arch}` (replaced by amd64 or arm64): one file per platform. */
export const archPath = z.string().superRefine((p, ctx) => {
  const r = relativePath.safeParse(p.replaceAll('{arch}', 'amd64'));
  if (!r.success) for (const i of r.error.issues) ctx.addIssue({ code: 'custom', message: i.message });
});

export const absolutePath = z
  .string()
  .regex(/^\/[A-Za-z0-9._@+=:,\/-]*$/, { error: 'must be an absolute path of letters, digits and . _ @ + = : , / -' })
  .refine((p) => !p.split('/').includes('..'), { error: 'must not contain ".."' })
  .max(4095, { error: 'is longer than Linux allows for a path (4095 bytes)' });

/** A path in another image, copied by COPY --from: absolute, `*` allowed in the last part (libcudart.so*). */
export const importSource = z
  .string()
  .regex(/^\/([A-Za-z0-9._@+=:,-]+\/)*[A-Za-z0-9._@+=:,*-]*$/, {
    error: 'must be an absolute path of letters, digits and . _ @ + = : , / - (and * in the last part)',
  })
  .refine((p) => !p.split('/').includes('..'), { error: 'must not contain ".."' })
  .max(4095);

export { IMAGE_REF_RE, referencePathIsLowercase };

export const imageRef = z
  .string()
  .regex(IMAGE_REF_RE, { error: 'is not a valid image reference (e.g. "nvidia/cuda:12.9.1-runtime-ubuntu24.04")' })
  .refine(referencePathIsLowercase, { error: 'is not a valid image reference: repository names are lowercase' });

/** An image reference whose tag is the build's Dynamo release: `REPO:{dynamo_version}`. */
export const DYNAMO_TAG = '{dynamo_version}';
export const releaseTaggedRef = z.string().refine((v) => v.endsWith(`:${DYNAMO_TAG}`) && imageRef.safeParse(v.replace(DYNAMO_TAG, '1.0.0')).success, {
  error: 'is not a valid image reference (e.g. "nvidia/cuda:12.9.1-runtime-ubuntu24.04", or "REPO:{dynamo_version}" for the build\'s Dynamo release)',
});

export const imageName = z
  .string()
  .max(200, { error: 'must be at most 200 characters (registries allow 255 for the whole name, registry included)' })
  .regex(/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/, {
    error: 'must be lowercase letters, digits and separators (. _ - /), e.g. "vllm-runtime"',
  });

export const semverString = z
  .string()
  .refine((v) => valid(v) === v, {
    error: 'must be a semantic version such as 1.4.0 or 1.4.0-rc.1 (tags start with it)',
  })
  .refine((v) => v.length <= 100, { error: 'must be at most 100 characters: tags start with it, and registries allow 128 for a whole tag' });

export const pep440Constraint = z
  .string()
  .min(1)
  .refine((v) => parseSpecifier(v).ok, {
    error: 'is not a version or version range (e.g. "0.19.0", "~0.19", ">=0.14,<0.20", "1.3.0rc11")',
  });

/** What a smoke test's version constraint may name instead of a version: the plan's own pins. */
export const PIN_PLACEHOLDERS = ['dynamo_version', 'engine_version', 'nixl_version', 'ucx_version'] as const;
export const pinConstraint = z
  .string()
  .min(1)
  .superRefine((v, ctx) => {
    const names = [...v.matchAll(/\{([^{}]*)\}/g)].map((m) => m[1]!);
    const unknown = names.filter((n) => !(PIN_PLACEHOLDERS as readonly string[]).includes(n));
    if (unknown.length)
      ctx.addIssue({ code: 'custom', message: `names {${unknown[0]}}; a constraint may name ${PIN_PLACEHOLDERS.map((p) => `{${p}}`).join(', ')}` });
    else if (!parseSpecifier(v.replace(/\{[a-z_]+\}/g, '1.0')).ok)
      ctx.addIssue({
        code: 'custom',
        message: 'is not a version or version range (e.g. "==0.19.0", ">=0.14,<0.20", or "=={engine_version}" for the plan\'s own pin)',
      });
  });

/** The longest timer Node can hold (setTimeout's limit), about 24.8 days. */
export const MAX_DURATION_MS = 2 ** 31 - 1;
export const UNIT_MS = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 } as const;
export function durationMs(d: string): number {
  const m = /^([0-9]+)(ms|s|m|h)$/.exec(d);
  return m ? Number(m[1]) * UNIT_MS[m[2] as keyof typeof UNIT_MS] : NaN;
}

export const duration = z
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
    if (!/^[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*(?:\/[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*)*$/.test(ns))
      return `namespace "${ns}" must be lowercase path components (e.g. "team" or "org/team")`;
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
export const secretId = z.string().regex(SECRET_ID_RE, { error: 'must be a secret id: letters, digits, _ . -' });

/** A PEP 503 index for pip, with the build secret (a netrc file) that authenticates to it. */
export const packageIndex = z.strictObject({
  url: z.url({ protocol: /^https?$/, error: 'must be an http(s) URL' }),
  secret: secretId.optional(),
});

export const envName = z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, { error: 'must be a valid environment variable name' });

/** Text that lands in a Dockerfile quoted: any printable character, but no line breaks or control characters. */
export const singleLine = z.string().refine((s) => !/[\u0000-\u001f\u007f]/.test(s), {
  error: 'must be one line without control characters (a newline cannot be expressed in a Dockerfile value)',
});

export const argv = z.array(z.string().refine((s) => !s.includes('\u0000'), { error: 'must not contain NUL' }));

export const validRegex = z.string().refine(
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
export const dynamoReleaseSchema = z
  .string()
  .regex(/^\d{1,3}\.\d{1,3}\.\d{1,3}(?:\.post\d{1,3})?$/, { error: 'must be an exact Dynamo release, e.g. "1.7.0" or "0.7.0.post1"' });
export const AXIS_SCHEMAS = { cuda: cudaVersionSchema, platform: platformSchema, python: pythonVersionSchema, dynamo: dynamoReleaseSchema } as const;

/** Keys the tool writes itself; a recipe label may not use them. */
export const RESERVED_LABEL_PREFIX = 'dev.dynamo-image.';

/** A path with {arch} takes one digest per architecture, a path without one digest (`field` names the path in messages). */
export function checkArchDigest(ctx: z.RefinementCtx, p: string, sha256: unknown, field: 'path' | 'source', single = ''): void {
  const perArch = p.includes('{arch}');
  if (perArch && typeof sha256 === 'string')
    ctx.addIssue({
      code: 'custom',
      path: ['sha256'],
      message: `must map each architecture to its file's digest, e.g. { amd64: ..., arm64: ... }: the ${field} has {arch}`,
    });
  if (!perArch && sha256 !== undefined && typeof sha256 !== 'string')
    ctx.addIssue({ code: 'custom', path: ['sha256'], message: `must be one digest: the ${field} has no {arch}${single}` });
}
