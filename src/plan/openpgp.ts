import { createHash } from 'node:crypto';

// An apt repository's signing key, read as what it must be: an OpenPGP public key (RFC 4880 /
// RFC 9580 packets), armored for `.asc`, binary for `.gpg` (apt picks the format by the suffix).
// Pure. Only the structure is checked (every packet parses, the first is a public key, no secret
// key material); the fingerprints of the primary keys go into the plan, where a recipe can pin one.

export type KeyFormat = 'armored' | 'binary';

export type KeyReading = { ok: true; format: KeyFormat; fingerprints: string[] } | { ok: false; error: string };

/** Larger than any real keyring (NVIDIA's is 1.7 KB, Debian's archive keyring 60 KB). */
export const MAX_KEY_BYTES = 1 << 20;

const TAG_NAMES: Record<number, string> = {
  1: 'an encrypted session key',
  3: 'a symmetric session key',
  5: 'a secret key',
  7: 'a secret subkey',
  8: 'compressed data',
  9: 'encrypted data',
  11: 'literal data',
  18: 'encrypted data',
};
/** Packets a transferable public key may hold: signature, public key, trust, user id, public subkey, user attribute, padding. */
const PUBLIC_KEY_PACKETS = new Set([2, 6, 12, 13, 14, 17, 21]);

/** The suffix apt reads: `.asc` armored, `.gpg` binary; anything else is not read by apt's signed-by. */
export function keyFormatOf(file: string): KeyFormat | null {
  return file.endsWith('.asc') ? 'armored' : file.endsWith('.gpg') ? 'binary' : null;
}

export function readOpenPgpKey(bytes: Buffer, file: string): KeyReading {
  const want = keyFormatOf(file);
  if (want === null) return { ok: false, error: `"${file}" ends in neither .asc (armored) nor .gpg (binary): apt reads a signed-by key by its suffix` };
  if (bytes.length > MAX_KEY_BYTES) return { ok: false, error: `is ${bytes.length} bytes, more than any signing key (limit ${MAX_KEY_BYTES})` };
  const armored = bytes.toString('latin1').includes('-----BEGIN PGP');
  if (bytes.subarray(0, 8).toString('latin1').includes('KBXf') || bytes.subarray(8, 12).toString('latin1') === 'KBXf')
    return { ok: false, error: 'is a GnuPG keybox (pubring.kbx), which apt cannot read: export the key with `gpg --export KEYID > FILE.gpg`' };
  if (want === 'binary' && armored)
    return { ok: false, error: 'is ASCII-armored but ends in .gpg, which apt reads as binary: rename it to .asc, or store `gpg --dearmor` output' };
  if (want === 'armored' && !armored)
    return { ok: false, error: 'ends in .asc but is not ASCII-armored ("-----BEGIN PGP PUBLIC KEY BLOCK-----"): rename a binary key to .gpg' };
  let packets: Buffer;
  if (armored) {
    const d = dearmor(bytes.toString('latin1'));
    if ('error' in d) return { ok: false, error: d.error };
    packets = d.data;
  } else packets = bytes;
  const r = readPackets(packets);
  if ('error' in r) return { ok: false, error: r.error };
  return { ok: true, format: want, fingerprints: r.fingerprints };
}

/** ASCII armor (RFC 4880 §6): one public key block, base64, its CRC-24 checked when present. */
function dearmor(text: string): { data: Buffer } | { error: string } {
  const lines = text.split(/\r?\n/).map((l) => l.trimEnd());
  const begin = lines.findIndex((l) => l.startsWith('-----BEGIN PGP '));
  if (lines[begin] !== '-----BEGIN PGP PUBLIC KEY BLOCK-----') return { error: `is armored as "${lines[begin]!.slice(0, 60)}", not as a public key block` };
  const end = lines.findIndex((l, i) => i > begin && l.startsWith('-----END PGP '));
  if (end < 0 || lines[end] !== '-----END PGP PUBLIC KEY BLOCK-----') return { error: 'has no "-----END PGP PUBLIC KEY BLOCK-----" line' };
  if (lines.slice(end + 1).some((l) => l.startsWith('-----BEGIN PGP '))) return { error: 'holds more than one armored block: apt reads only the first' };
  let i = begin + 1;
  // Armor headers (Version:, Comment:) up to the blank line.
  while (i < end && lines[i] !== '' && /^[A-Za-z-]+: /.test(lines[i]!)) i++;
  if (i < end && lines[i] === '') i++;
  let body = '';
  let crc: string | null = null;
  for (; i < end; i++) {
    const l = lines[i]!;
    if (l.startsWith('=') && l.length === 5) crc = l.slice(1);
    else if (/^[A-Za-z0-9+/=]*$/.test(l)) body += l;
    else return { error: `armor line ${i + 1} is not base64` };
  }
  const data = Buffer.from(body, 'base64');
  if (!data.length) return { error: 'has an empty armored block' };
  if (crc !== null && Buffer.from(crc, 'base64').readUIntBE(0, 3) !== crc24(data)) return { error: 'fails its armor checksum (CRC-24): the file is damaged' };
  return { data };
}

function crc24(data: Buffer): number {
  let crc = 0xb704ce;
  for (const b of data) {
    crc ^= b << 16;
    for (let k = 0; k < 8; k++) {
      crc <<= 1;
      if (crc & 0x1000000) crc ^= 0x1864cfb;
    }
  }
  return crc & 0xffffff;
}

/** Walks the packets; returns the fingerprint of each primary public key. */
function readPackets(buf: Buffer): { fingerprints: string[] } | { error: string } {
  const fingerprints: string[] = [];
  let at = 0;
  let first = true;
  while (at < buf.length) {
    const h = header(buf, at);
    if ('error' in h) return { error: `packet at byte ${at}: ${h.error}` };
    const body = buf.subarray(h.bodyAt, h.bodyAt + h.length);
    if (h.tag === 5 || h.tag === 7) return { error: 'holds a secret key: ship only the public key (gpg --export, never --export-secret-keys)' };
    if (first && h.tag !== 6)
      return { error: `starts with ${TAG_NAMES[h.tag] ?? `packet type ${h.tag}`}, not a public key: an OpenPGP public key (gpg --export) starts with one` };
    first = false;
    if (!PUBLIC_KEY_PACKETS.has(h.tag)) return { error: `holds ${TAG_NAMES[h.tag] ?? `packet type ${h.tag}`}, which has no place in a public key` };
    if (h.tag === 6) {
      const f = fingerprint(body);
      if ('error' in f) return { error: `public key at byte ${at}: ${f.error}` };
      fingerprints.push(f.fingerprint);
    }
    at = h.bodyAt + h.length;
  }
  if (first) return { error: 'holds no OpenPGP packets' };
  return { fingerprints };
}

function header(buf: Buffer, at: number): { tag: number; bodyAt: number; length: number } | { error: string } {
  const b = buf[at]!;
  if (!(b & 0x80)) return { error: 'not an OpenPGP packet (bad header byte)' };
  let tag: number;
  let bodyAt: number;
  let length: number;
  if (b & 0x40) {
    tag = b & 0x3f;
    const o1 = buf[at + 1];
    if (o1 === undefined) return { error: 'truncated' };
    if (o1 < 192) [length, bodyAt] = [o1, at + 2];
    else if (o1 < 224) {
      if (at + 2 >= buf.length) return { error: 'truncated' };
      [length, bodyAt] = [((o1 - 192) << 8) + buf[at + 2]! + 192, at + 3];
    } else if (o1 === 255) {
      if (at + 6 > buf.length) return { error: 'truncated' };
      [length, bodyAt] = [buf.readUInt32BE(at + 2), at + 6];
    } else return { error: 'partial body lengths, which a key packet never has' };
  } else {
    tag = (b >> 2) & 0x0f;
    const lt = b & 3;
    if (lt === 3) return { error: 'indeterminate length, which a key packet never has' };
    const n = [1, 2, 4][lt]!;
    if (at + 1 + n > buf.length) return { error: 'truncated' };
    [length, bodyAt] = [buf.readUIntBE(at + 1, n), at + 1 + n];
  }
  if (bodyAt + length > buf.length) return { error: `declares ${length} bytes, ${buf.length - bodyAt} are left: the file is truncated` };
  return { tag, bodyAt, length };
}

/** v4: SHA-1 over 0x99, a 2-byte length and the body; v6 (RFC 9580): SHA-256 over 0x9B, a 4-byte length and the body. */
function fingerprint(body: Buffer): { fingerprint: string } | { error: string } {
  const version = body[0];
  if (version === 4) {
    if (body.length < 6) return { error: 'too short' };
    const pre = Buffer.from([0x99, (body.length >> 8) & 0xff, body.length & 0xff]);
    return { fingerprint: createHash('sha1').update(pre).update(body).digest('hex').toUpperCase() };
  }
  if (version === 6) {
    if (body.length < 10) return { error: 'too short' };
    const pre = Buffer.alloc(5);
    pre[0] = 0x9b;
    pre.writeUInt32BE(body.length, 1);
    return { fingerprint: createHash('sha256').update(pre).update(body).digest('hex').toUpperCase() };
  }
  return { error: `version ${version ?? '?'} key: apt's verifier (gpgv/sqv) accepts version 4 and 6 keys; version 3 keys are broken (MD5)` };
}

/** A fingerprint as a recipe may write it (spaces, lower case, 0x) -> 40 or 64 upper-case hex digits, or null. */
export function normalizeFingerprint(value: string): string | null {
  const v = value.replace(/\s+/g, '').replace(/^0x/i, '').toUpperCase();
  return /^([0-9A-F]{40}|[0-9A-F]{64})$/.test(v) ? v : null;
}
