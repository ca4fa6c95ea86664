import { createHash, createPrivateKey, createPublicKey, sign as cryptoSign, verify as cryptoVerify, type KeyObject } from 'node:crypto';
import { InputError } from '../errors.js';
import { openCosignKey, COSIGN_KEY_LABELS } from './cosign-key.js';

// Signing keys as the user gives them (`--sign-key FILE`): a PKCS#8 PEM ("PRIVATE KEY" or
// "ENCRYPTED PRIVATE KEY"), a SEC 1 "EC PRIVATE KEY", or cosign's own format ("ENCRYPTED SIGSTORE
// PRIVATE KEY", from `cosign generate-key-pair`). ECDSA P-256 or P-384, as cosign verifies them.
// The password is never printed, nor is any part of the key.

export interface Signer extends Verifier {
  publicKeyPem: string;
  sign(data: Buffer): Buffer;
}

export interface Verifier {
  /** base64 of the sha256 of the public key's DER SubjectPublicKeyInfo (cosign's key hint). */
  hint: string;
  verify(data: Buffer, sig: Buffer): boolean;
}

const CURVES: Record<string, string> = { prime256v1: 'sha256', secp384r1: 'sha384', 'P-256': 'sha256', 'P-384': 'sha384' };

function hintOf(pub: KeyObject): string {
  return createHash('sha256')
    .update(pub.export({ type: 'spki', format: 'der' }))
    .digest('base64');
}

function hashFor(key: KeyObject, file: string, what: string): string {
  const curve = key.asymmetricKeyDetails?.namedCurve ?? '';
  const hash = key.asymmetricKeyType === 'ec' ? CURVES[curve] : undefined;
  if (!hash)
    throw new InputError([
      {
        code: 'key.invalid',
        severity: 'error',
        file,
        path: [what],
        message: `is a ${key.asymmetricKeyType ?? 'unknown'}${curve ? ` ${curve}` : ''} key; dynamo-image signs with ECDSA P-256 or P-384 (as \`cosign generate-key-pair\` makes)`,
      },
    ]);
  return hash;
}

function keyError(file: string, message: string): InputError {
  return new InputError([{ code: 'key.invalid', severity: 'error', file, path: ['--sign-key'], message }]);
}

/** Loads a private key for signing; `password` opens an encrypted one. */
export function loadSigningKey(pem: string, file: string, password: string | undefined): Signer {
  const label = /-----BEGIN ([A-Z0-9 ]+)-----/.exec(pem)?.[1] ?? null;
  if (!label) throw keyError(file, 'is not a PEM key (no -----BEGIN ...----- line)');
  let key: KeyObject;
  if (COSIGN_KEY_LABELS.includes(label)) {
    const der = openCosignKey(pem, password ?? '', (m) => keyError(file, m));
    key = createPrivateKey({ key: der, format: 'der', type: 'pkcs8' });
  } else if (label === 'PRIVATE KEY' || label === 'ENCRYPTED PRIVATE KEY' || label === 'EC PRIVATE KEY') {
    try {
      key = createPrivateKey({ key: pem, format: 'pem', ...(password ? { passphrase: password } : {}) });
    } catch (e) {
      const msg = (e as Error).message;
      if (label === 'ENCRYPTED PRIVATE KEY' || /bad decrypt|passphrase/i.test(msg))
        throw keyError(file, password ? 'cannot be opened with the password given (COSIGN_PASSWORD)' : 'is encrypted: set COSIGN_PASSWORD to its password');
      throw keyError(file, `is not a readable private key (${msg.replace(/^error:[0-9A-F]+:/, '').slice(0, 120)})`);
    }
  } else {
    throw keyError(
      file,
      `holds a "${label}"; expected a private key: PKCS#8 ("PRIVATE KEY", "ENCRYPTED PRIVATE KEY"), "EC PRIVATE KEY" or cosign's "ENCRYPTED SIGSTORE PRIVATE KEY"`,
    );
  }
  const hash = hashFor(key, file, '--sign-key');
  const pub = createPublicKey(key);
  return {
    hint: hintOf(pub),
    publicKeyPem: pub.export({ type: 'spki', format: 'pem' }).toString(),
    sign: (data) => cryptoSign(hash, data, key),
    verify: (data, sig) => cryptoVerify(hash, data, pub, sig),
  };
}

/** Loads a public key (PEM SubjectPublicKeyInfo, as cosign.pub) for verifying. */
export function loadPublicKey(pem: string, file: string): Verifier {
  let key: KeyObject;
  try {
    key = createPublicKey({ key: pem, format: 'pem' });
  } catch {
    throw new InputError([
      { code: 'key.invalid', severity: 'error', file, path: ['--key'], message: 'is not a PEM public key (cosign.pub holds one: -----BEGIN PUBLIC KEY-----)' },
    ]);
  }
  const hash = hashFor(key, file, '--key');
  return { hint: hintOf(key), verify: (data, sig) => cryptoVerify(hash, data, key, sig) };
}
