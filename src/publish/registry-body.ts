import { EnvironmentError } from '../errors.js';
import { maxBodyBytes, networkCode, TransientError } from './registry-rules.js';

// A registry's answer, read within its limits: at most maxBodyBytes, inside the request's time.

/** The body, at most maxBodyBytes, or exit 3 naming the registry and the limit it broke. */
export async function readBody(domain: string, env: NodeJS.ProcessEnv, res: Response, what: string, ms: number): Promise<Buffer> {
  if (!res.body) return Buffer.alloc(0);
  const limit = maxBodyBytes(env);
  const declared = Number(res.headers.get('content-length') ?? NaN);
  if (Number.isFinite(declared) && declared > limit) {
    await res.body.cancel().catch(() => undefined);
    throw tooLarge(domain, what, limit, `${declared} bytes declared`);
  }
  const chunks: Buffer[] = [];
  let size = 0;
  const reader = res.body.getReader();
  try {
    for (;;) {
      const { done, value } = await reader.read();
      if (done) break;
      size += value.byteLength;
      if (size > limit) {
        await reader.cancel().catch(() => undefined);
        throw tooLarge(domain, what, limit, `more than ${limit} bytes sent`);
      }
      chunks.push(Buffer.from(value));
    }
  } catch (e) {
    if (e instanceof EnvironmentError) throw e;
    const why = networkCode(e, ms);
    if (why.startsWith('no answer'))
      throw new EnvironmentError(
        'registry.slow',
        `${domain}: the answer to ${what} did not arrive within ${Math.round(ms / 1000)} s (${size} bytes came)`,
        'DYNAMO_IMAGE_REGISTRY_TIMEOUT_S sets the limit for a whole request, body included',
      );
    throw new TransientError(`${domain}: ${what}: the answer broke off after ${size} bytes (${why})`);
  }
  return Buffer.concat(chunks);
}

export function tooLarge(domain: string, what: string, limit: number, detail: string): EnvironmentError {
  return new EnvironmentError(
    'registry.too-large',
    `${domain}: the answer to ${what} is larger than the limit of ${limit} bytes (${detail})`,
    'a manifest, index, config or token answer is a few KiB; DYNAMO_IMAGE_REGISTRY_MAX_BODY_BYTES raises the limit',
  );
}
