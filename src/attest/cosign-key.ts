import { scryptSync, timingSafeEqual } from 'node:crypto';

// cosign's private key format (`cosign generate-key-pair`): a PEM whose body is JSON naming an
// scrypt key derivation and a NaCl secretbox (XSalsa20-Poly1305) around the PKCS#8 DER key. Node
// has scrypt but no XSalsa20, so the box is opened here (NaCl's construction: the first 32 bytes
// of the XSalsa20 keystream key Poly1305; the tag comes first; the message is XORed with the
// keystream from byte 32).

export const COSIGN_KEY_LABELS = ['ENCRYPTED SIGSTORE PRIVATE KEY', 'ENCRYPTED COSIGN PRIVATE KEY'];

interface CosignKeyFile {
  kdf?: { name?: unknown; params?: { N?: unknown; r?: unknown; p?: unknown }; salt?: unknown };
  cipher?: { name?: unknown; nonce?: unknown };
  ciphertext?: unknown;
}

/** The PKCS#8 DER inside a cosign key file; `fail` makes the error for a file that is not one. */
export function openCosignKey(pem: string, password: string, fail: (message: string) => Error): Buffer {
  const body = pem.replace(/-----(BEGIN|END) [A-Z ]+-----/g, '').replace(/\s+/g, '');
  let k: CosignKeyFile;
  try {
    k = JSON.parse(Buffer.from(body, 'base64').toString('utf8')) as CosignKeyFile;
  } catch {
    throw fail('is labelled as a cosign key but its body is not cosign JSON');
  }
  const { N, r, p } = k.kdf?.params ?? {};
  if (k.kdf?.name !== 'scrypt' || k.cipher?.name !== 'nacl/secretbox' || typeof k.ciphertext !== 'string' || typeof k.cipher.nonce !== 'string')
    throw fail('is a cosign key with a key derivation or cipher other than scrypt and nacl/secretbox');
  if (!Number.isInteger(N) || !Number.isInteger(r) || !Number.isInteger(p) || (N as number) < 2 || (r as number) < 1 || (p as number) < 1)
    throw fail('is a cosign key with unreadable scrypt parameters');
  // A hostile file could ask scrypt for gigabytes: cosign writes N=65536, r=8, p=1 (64 MiB).
  if ((N as number) * (r as number) > 1 << 22 || (p as number) > 16) throw fail(`asks scrypt for more than 512 MiB (N=${N}, r=${r}, p=${p})`);
  const nonce = Buffer.from(k.cipher.nonce, 'base64');
  const boxed = Buffer.from(k.ciphertext, 'base64');
  if (nonce.length !== 24 || boxed.length < 16) throw fail('is a cosign key with a nonce or ciphertext of the wrong length');
  const key = scryptSync(Buffer.from(password, 'utf8'), Buffer.from(String(k.kdf.salt ?? ''), 'base64'), 32, {
    N: N as number,
    r: r as number,
    p: p as number,
    maxmem: 256 * (N as number) * (r as number) + (1 << 20),
  });
  const opened = secretboxOpen(boxed, nonce, key);
  if (!opened) throw fail(password ? 'cannot be opened with the password given (COSIGN_PASSWORD)' : 'is encrypted: set COSIGN_PASSWORD to its password');
  return opened;
}

/** NaCl crypto_secretbox_open: null when the tag does not match (wrong password, changed file). */
export function secretboxOpen(boxed: Buffer, nonce: Buffer, key: Buffer): Buffer | null {
  const tag = boxed.subarray(0, 16);
  const ct = boxed.subarray(16);
  const stream = xsalsa20Stream(key, nonce, 32 + ct.length);
  if (!timingSafeEqual(poly1305(ct, stream.subarray(0, 32)), tag)) return null;
  const out = Buffer.alloc(ct.length);
  for (let i = 0; i < ct.length; i++) out[i] = ct[i]! ^ stream[32 + i]!;
  return out;
}

const SIGMA = [0x61707865, 0x3320646e, 0x79622d32, 0x6b206574];

// A column round, then a row round.
const DOUBLE_ROUND = [
  [0, 4, 8, 12],
  [5, 9, 13, 1],
  [10, 14, 2, 6],
  [15, 3, 7, 11],
  [0, 1, 2, 3],
  [5, 6, 7, 4],
  [10, 11, 8, 9],
  [15, 12, 13, 14],
] as const;

function rounds(x: Uint32Array): void {
  const qr = (a: number, b: number, c: number, d: number) => {
    const rotl = (v: number, n: number) => ((v << n) | (v >>> (32 - n))) >>> 0;
    x[b] = (x[b]! ^ rotl((x[a]! + x[d]!) >>> 0, 7)) >>> 0;
    x[c] = (x[c]! ^ rotl((x[b]! + x[a]!) >>> 0, 9)) >>> 0;
    x[d] = (x[d]! ^ rotl((x[c]! + x[b]!) >>> 0, 13)) >>> 0;
    x[a] = (x[a]! ^ rotl((x[d]! + x[c]!) >>> 0, 18)) >>> 0;
  };
  for (let i = 0; i < 10; i++) {
    for (const [a, b, c, d] of DOUBLE_ROUND) qr(a, b, c, d);
  }
}

function words(b: Buffer): number[] {
  const out: number[] = [];
  for (let i = 0; i < b.length; i += 4) out.push(b.readUInt32LE(i));
  return out;
}

function initial(key: number[], middle: number[]): Uint32Array {
  // [σ0, k0..k3, σ1, m0..m3, σ2, k4..k7, σ3]
  return Uint32Array.from([SIGMA[0]!, ...key.slice(0, 4), SIGMA[1]!, ...middle, SIGMA[2]!, ...key.slice(4), SIGMA[3]!]);
}

function xsalsa20Stream(key: Buffer, nonce: Buffer, length: number): Buffer {
  // HSalsa20: the subkey from the key and the nonce's first 16 bytes.
  const h = initial(words(key), words(nonce.subarray(0, 16)));
  rounds(h);
  const sub = [h[0]!, h[5]!, h[10]!, h[15]!, h[6]!, h[7]!, h[8]!, h[9]!];
  const n = words(nonce.subarray(16, 24));
  const out = Buffer.alloc(Math.ceil(length / 64) * 64);
  for (let block = 0; block * 64 < length; block++) {
    const input = initial(sub, [n[0]!, n[1]!, block >>> 0, Math.floor(block / 2 ** 32)]);
    const x = Uint32Array.from(input);
    rounds(x);
    for (let i = 0; i < 16; i++) out.writeUInt32LE((x[i]! + input[i]!) >>> 0, block * 64 + i * 4);
  }
  return out.subarray(0, length);
}

function leNumber(b: Buffer): bigint {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]!);
  return v;
}

function poly1305(msg: Buffer, key: Buffer): Buffer {
  const p = (1n << 130n) - 5n;
  const r = leNumber(key.subarray(0, 16)) & 0x0ffffffc0ffffffc0ffffffc0fffffffn;
  const s = leNumber(key.subarray(16, 32));
  let acc = 0n;
  for (let i = 0; i < msg.length; i += 16) {
    const chunk = msg.subarray(i, i + 16);
    acc = ((acc + leNumber(chunk) + (1n << BigInt(8 * chunk.length))) * r) % p;
  }
  acc = (acc + s) & ((1n << 128n) - 1n);
  const out = Buffer.alloc(16);
  for (let i = 0; i < 16; i++) out[i] = Number((acc >> BigInt(8 * i)) & 0xffn);
  return out;
}
