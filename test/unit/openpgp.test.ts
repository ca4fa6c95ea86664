import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { normalizeFingerprint, readOpenPgpKey } from '../../src/plan/openpgp.js';
import { ROOT } from '../support/cli.js';

// Issue 19, point 8: an apt key is an OpenPGP public key. The fixture keys were made with gpg
// (test/fixtures/good/apt-repository); gpg printed the fingerprint below for them.

const keys = path.join(ROOT, 'test/fixtures/good/apt-repository/keys');
const asc = readFileSync(path.join(keys, 'vendor.asc'));
const gpg = readFileSync(path.join(keys, 'other.gpg'));
const FPR = '6969F12D4353FD478DADB70A8D1D5675980642B3';

describe('readOpenPgpKey', () => {
  it('reads an armored and a binary key, with the fingerprint gpg gives', () => {
    expect(readOpenPgpKey(asc, 'k.asc')).toEqual({ ok: true, format: 'armored', fingerprints: [FPR] });
    expect(readOpenPgpKey(gpg, 'k.gpg')).toMatchObject({ ok: true, format: 'binary' });
    expect(readOpenPgpKey(Buffer.concat([gpg, gpg]), 'k.gpg')).toMatchObject({
      ok: true,
      fingerprints: expect.arrayContaining([expect.stringMatching(/^[0-9A-F]{40}$/)]),
    });
  });

  const damagedCrc = Buffer.from(
    asc.toString('latin1').replace(/\n=(....)\n/, (_m, c: string) => `\n=${c === 'AAAA' ? 'AAAB' : 'AAAA'}\n`),
    'latin1',
  );
  const truncated = gpg.subarray(0, gpg.length - 10);
  const v3 = Buffer.from([0x99, 0x00, 0x06, 3, 0, 0, 0, 0, 1]);
  const literal = Buffer.from([0xcb, 0x03, 0x62, 0x00, 0x00]);
  it.each([
    ['armored under .gpg', asc, 'k.gpg', 'is ASCII-armored but ends in .gpg'],
    ['binary under .asc', gpg, 'k.asc', 'ends in .asc but is not ASCII-armored'],
    ['another suffix', gpg, 'k.key', 'ends in neither .asc'],
    ['an HTML page', Buffer.from('<html>login</html>'), 'k.gpg', 'not an OpenPGP packet'],
    ['an empty file', Buffer.alloc(0), 'k.gpg', 'holds no OpenPGP packets'],
    ['a damaged armor checksum', damagedCrc, 'k.asc', 'CRC-24'],
    ['a truncated key', truncated, 'k.gpg', 'truncated'],
    ['a version 3 key', v3, 'k.gpg', 'version 3'],
    ['literal data, not a key', literal, 'k.gpg', 'starts with literal data'],
    ['a message armor', Buffer.from('-----BEGIN PGP MESSAGE-----\n\nAAAA\n-----END PGP MESSAGE-----\n'), 'k.asc', 'not as a public key block'],
    ['a keybox', Buffer.from('\x00\x00\x00\x20\x01\x01\x00\x00KBXf'), 'k.gpg', 'keybox'],
  ])('refuses %s', (_name, bytes, file, says) => {
    const r = readOpenPgpKey(bytes, file);
    expect(r.ok).toBe(false);
    expect(r.ok ? '' : r.error).toContain(says);
  });

  it.each([
    ['6969 F12D 4353 FD47 8DAD  B70A 8D1D 5675 9806 42B3', FPR],
    ['0x6969f12d4353fd478dadb70a8d1d5675980642b3', FPR],
    ['6969F12D', null],
  ])('normalizeFingerprint(%j)', (v, want) => {
    expect(normalizeFingerprint(v)).toBe(want);
  });
});
