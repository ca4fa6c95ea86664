import { readFileSync, statSync } from 'node:fs';
import { loadPublicKey, loadSigningKey, type Signer, type Verifier } from '../attest/keys.js';
import { InputError } from '../errors.js';
import { fsFailure } from '../recipe/read.js';

// Key files named on the command line (`publish --sign-key`, `verify --key`): read with the same
// checks as a recipe (missing, unreadable, a folder, too large), then parsed. The password of an
// encrypted signing key comes from COSIGN_PASSWORD (cosign's own variable) and is never printed.

const MAX_KEY_BYTES = 64 << 10;

function readKey(file: string, flag: string): string {
  const fail = (code: Parameters<typeof issue>[0], message: string, hint?: string) => new InputError([issue(code, file, flag, message, hint)]);
  try {
    const st = statSync(file);
    if (!st.isFile()) throw fail('file.special', 'is not a regular file');
    if (st.size > MAX_KEY_BYTES) throw fail('file.too-large', `is ${st.size} bytes; a key file is at most ${MAX_KEY_BYTES}`);
    return readFileSync(file, 'utf8');
  } catch (e) {
    if (e instanceof InputError) throw e;
    throw fail(...fsFailure((e as NodeJS.ErrnoException).code, 'key file'));
  }
}

function issue(code: 'file.special' | 'file.too-large' | ReturnType<typeof fsFailure>[0], file: string, flag: string, message: string, hint?: string) {
  return { code, severity: 'error' as const, file, path: [flag], message, ...(hint ? { hint } : {}) };
}

export function signerFrom(file: string, env: NodeJS.ProcessEnv = process.env): Signer {
  return loadSigningKey(readKey(file, '--sign-key'), file, env['COSIGN_PASSWORD'] || undefined);
}

export function verifierFrom(file: string): Verifier {
  return loadPublicKey(readKey(file, '--key'), file);
}
