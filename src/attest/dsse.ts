import { createHash } from 'node:crypto';
import type { Signer, Verifier } from './keys.js';

// DSSE envelopes (the signing wrapper of in-toto attestations) and the Sigstore bundle v0.3 that
// cosign 3 stores one in. Checked against cosign 3.1.1 (2026-12-03): `cosign sign` stores the
// image's signature as a DSSE envelope of an in-toto statement with predicate type
// https://sigstore.dev/cosign/sign/v1; `cosign attest` stores one per predicate; the bundle names
// the key by a hint (base64 of the sha256 of its DER SubjectPublicKeyInfo) and, offline, carries
// no transparency-log entry.

export const IN_TOTO_PAYLOAD_TYPE = 'application/vnd.in-toto+json';
export const BUNDLE_MEDIA_TYPE = 'application/vnd.dev.sigstore.bundle.v0.3+json';
export const STATEMENT_V1 = 'https://in-toto.io/Statement/v1';

export interface Envelope {
  payload: string;
  payloadType: string;
  signatures: { sig: string; keyid?: string }[];
}

export interface Bundle {
  mediaType: typeof BUNDLE_MEDIA_TYPE;
  verificationMaterial: { publicKey: { hint: string } };
  dsseEnvelope: Envelope;
}

export interface Statement {
  _type: string;
  subject: { name?: string; digest: Record<string, string>; annotations?: Record<string, unknown> }[];
  predicateType: string;
  predicate: unknown;
}

/** DSSE's pre-authentication encoding: what is signed, never the bare payload. */
export function pae(payloadType: string, payload: Buffer): Buffer {
  const type = Buffer.from(payloadType, 'utf8');
  return Buffer.concat([Buffer.from(`DSSEv1 ${type.length} `), type, Buffer.from(` ${payload.length} `), payload]);
}

/** A statement about one image manifest (sha256 digest), named by its repository. */
export function statement(subject: { name?: string; digest: string }, predicateType: string, predicate: unknown): Statement {
  return {
    _type: STATEMENT_V1,
    subject: [{ ...(subject.name ? { name: subject.name } : {}), digest: { sha256: subject.digest.replace(/^sha256:/, '') } }],
    predicateType,
    predicate,
  };
}

export function signBundle(st: Statement, signer: Signer): Bundle {
  const payload = Buffer.from(JSON.stringify(st), 'utf8');
  const sig = signer.sign(pae(IN_TOTO_PAYLOAD_TYPE, payload));
  return {
    mediaType: BUNDLE_MEDIA_TYPE,
    verificationMaterial: { publicKey: { hint: signer.hint } },
    dsseEnvelope: { payload: payload.toString('base64'), payloadType: IN_TOTO_PAYLOAD_TYPE, signatures: [{ sig: sig.toString('base64') }] },
  };
}

export type BundleCheck = { ok: true; statement: Statement } | { ok: false; why: string };

/**
 * A bundle read from a registry, checked: its shape, a signature by this key over the PAE of its
 * payload, and a statement whose subject is the image digest asked about. Hostile input: every
 * field is checked before it is used.
 */
export function checkBundle(raw: unknown, key: Verifier, subjectDigest: string): BundleCheck {
  const b = raw as Partial<Bundle> | null;
  if (!b || typeof b !== 'object' || b.mediaType !== BUNDLE_MEDIA_TYPE) return { ok: false, why: `not a Sigstore bundle v0.3` };
  const env = b.dsseEnvelope;
  if (!env || typeof env.payload !== 'string' || env.payloadType !== IN_TOTO_PAYLOAD_TYPE || !Array.isArray(env.signatures))
    return { ok: false, why: 'the bundle holds no in-toto DSSE envelope' };
  const payload = Buffer.from(env.payload, 'base64');
  const signed = pae(env.payloadType, payload);
  const good = env.signatures.some((s) => typeof s?.sig === 'string' && key.verify(signed, Buffer.from(s.sig, 'base64')));
  if (!good) return { ok: false, why: `no signature in it verifies with the key ${key.hint}` };
  let st: Statement;
  try {
    st = JSON.parse(payload.toString('utf8')) as Statement;
  } catch {
    return { ok: false, why: 'its signed payload is not JSON' };
  }
  if (!st || typeof st !== 'object' || typeof st.predicateType !== 'string' || !Array.isArray(st.subject))
    return { ok: false, why: 'its signed payload is not an in-toto statement' };
  const hex = subjectDigest.replace(/^sha256:/, '');
  if (!st.subject.some((s) => s && typeof s === 'object' && s.digest?.sha256 === hex))
    return { ok: false, why: `it is about ${st.subject.map((s) => `sha256:${s?.digest?.sha256 ?? '?'}`).join(', ')}, not ${subjectDigest}` };
  return { ok: true, statement: st };
}

export function sha256Hex(b: Buffer | string): string {
  return createHash('sha256').update(b).digest('hex');
}
