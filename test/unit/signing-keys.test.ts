import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { checkBundle, signBundle, statement, pae } from '../../src/attest/dsse.js';
import { loadPublicKey, loadSigningKey } from '../../src/attest/keys.js';
import { InputError } from '../../src/errors.js';
import { ROOT } from '../support/cli.js';

// Keys as users have them: cosign-pw.key was made by Debian sid's cosign 3.1.1 (`COSIGN_PASSWORD=
// correct-horse cosign generate-key-pair`), pkcs8.pem by OpenSSL 3.0 (`openssl ecparam -name
// prime256v1 -genkey | openssl pkcs8 -topk8 -nocrypt`). The hint is what cosign itself writes in
// a bundle (base64 sha256 of the public key's DER).
const dir = path.join(ROOT, 'test/fixtures/keys');
const read = (f: string) => readFileSync(path.join(dir, f), 'utf8');

describe('signing keys', () => {
  it("opens cosign's own key format with its password; the public key is cosign.pub's", () => {
    const s = loadSigningKey(read('cosign-pw.key'), 'cosign-pw.key', 'correct-horse');
    expect(s.publicKeyPem.trim()).toBe(read('cosign-pw.pub').trim());
    const v = loadPublicKey(read('cosign-pw.pub'), 'cosign-pw.pub');
    expect(v.hint).toBe(s.hint);
    const data = Buffer.from('hello');
    expect(v.verify(data, s.sign(data))).toBe(true);
    expect(v.verify(Buffer.from('hellO'), s.sign(data))).toBe(false);
  });

  it.each([
    ['cosign-pw.key', 'wrong', /cannot be opened with the password given/],
    ['cosign-pw.key', undefined, /is encrypted: set COSIGN_PASSWORD/],
    ['ed25519.pem', undefined, /ed25519 key; dynamo-image signs with ECDSA P-256 or P-384/],
    ['cosign-pw.pub', undefined, /holds a "PUBLIC KEY"; expected a private key/],
  ])('%s (password %s) is refused with a clear error', (f, pw, msg) => {
    let err: unknown;
    try {
      loadSigningKey(read(f), f, pw);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(InputError);
    const issue = (err as InputError).issues[0]!;
    expect(issue).toMatchObject({ code: 'key.invalid', file: f, path: ['--sign-key'] });
    expect(issue.message).toMatch(msg);
    // Never the password, nor any of the key's bytes.
    expect(JSON.stringify((err as InputError).issues)).not.toContain('correct-horse');
  });

  it('a PKCS#8 key signs a bundle its public key verifies; another key, a changed payload or another subject fail', () => {
    const s = loadSigningKey(read('pkcs8.pem'), 'pkcs8.pem', undefined);
    const v = loadPublicKey(read('pkcs8.pub'), 'pkcs8.pub');
    const digest = `sha256:${'ab'.repeat(32)}`;
    const b = signBundle(statement({ name: '127.0.0.1:5000/x', digest }, 'https://slsa.dev/provenance/v1', { a: 1 }), s);
    const ok = checkBundle(b, v, digest);
    expect(ok.ok && ok.statement.predicate).toEqual({ a: 1 });
    const other = loadPublicKey(read('cosign-pw.pub'), 'cosign-pw.pub');
    expect(checkBundle(b, other, digest)).toMatchObject({ ok: false, why: expect.stringMatching(/no signature in it verifies/) });
    const tampered = structuredClone(b);
    tampered.dsseEnvelope.payload = Buffer.from(Buffer.from(b.dsseEnvelope.payload, 'base64').toString().replace('"a":1', '"a":2')).toString('base64');
    expect(checkBundle(tampered, v, digest).ok).toBe(false);
    expect(checkBundle(b, v, `sha256:${'cd'.repeat(32)}`)).toMatchObject({ ok: false, why: expect.stringMatching(/is about sha256:abab/) });
    expect(checkBundle({ mediaType: 'x' }, v, digest).ok).toBe(false);
    expect(checkBundle(null, v, digest).ok).toBe(false);
  });

  it('PAE is DSSE v1 (the spec example)', () => {
    expect(pae('http://example.com/HelloWorld', Buffer.from('hello world')).toString()).toBe('DSSEv1 29 http://example.com/HelloWorld 11 hello world');
  });
});
