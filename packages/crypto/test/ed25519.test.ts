import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { nobleBackend, nodeBackend } from '../src/backend/node.js';
import {
  bytesToHex,
  cryptoBackendName,
  generateKeyPair,
  hexToBytes,
  isValidPublicKey,
  publicKeyFromSeed,
  sign,
  verify,
  verifyMany,
} from '../src/index.js';
import rfc8032 from './vectors/rfc8032.json' with { type: 'json' };

const L = 2n ** 252n + 27742317777372353535851937790883648493n;
const P = 2n ** 255n - 19n;

function leToBigint(bytes: Uint8Array): bigint {
  let n = 0n;
  for (let i = bytes.length - 1; i >= 0; i--) n = (n << 8n) | BigInt(bytes[i]!);
  return n;
}
function bigintToLe(n: bigint, length = 32): Uint8Array {
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    out[i] = Number(n & 0xffn);
    n >>= 8n;
  }
  return out;
}

/** All encodings of small-order points: the 8 canonical ones, plus non-canonical y ≥ p forms and sign-flipped zeros. */
function smallOrderEncodings(): Uint8Array[] {
  const out: Uint8Array[] = [];
  const seen = new Set<string>();
  const add = (b: Uint8Array) => {
    const h = bytesToHex(b);
    if (!seen.has(h)) {
      seen.add(h);
      out.push(b);
    }
  };
  const base = ed25519.Point.ZERO;
  // Torsion subgroup: multiples of a point of order 8.
  const order8 = ed25519.Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
  let q = base;
  for (let i = 0; i < 8; i++) {
    const enc = q.toBytes();
    add(enc);
    const y = leToBigint(enc) & ((1n << 255n) - 1n);
    const sign = enc[31]! & 0x80;
    if (y + P < 1n << 255n) {
      const alt = bigintToLe(y + P);
      alt[31]! |= sign;
      add(alt); // non-canonical encoding of the same point
    }
    if (y === 0n || y === 1n || y === P - 1n) {
      const flipped = enc.slice();
      flipped[31]! ^= 0x80; // x = 0 with the sign bit set
      add(flipped);
    }
    q = q.add(order8);
  }
  return out;
}

const backends = [nodeBackend, nobleBackend];

describe('RFC 8032 §7.1 vectors', () => {
  for (const v of rfc8032.vectors) {
    const seed = hexToBytes(v.secretKey);
    const message = hexToBytes(v.message);
    const signature = hexToBytes(v.signature);
    const publicKey = hexToBytes(v.publicKey);

    it(`${v.name}: public API derives, signs and verifies`, async () => {
      expect(bytesToHex(publicKeyFromSeed(seed))).toBe(v.publicKey);
      expect(bytesToHex(sign(message, seed))).toBe(v.signature);
      expect(verify(signature, message, publicKey)).toBe(true);
      expect(await verifyMany([{ signature, message, publicKey }])).toEqual([true]);
    });

    for (const b of backends) {
      it(`${v.name}: ${b.name} backend gives identical results`, async () => {
        expect(bytesToHex(b.publicKeyFromSeed(seed))).toBe(v.publicKey);
        expect(bytesToHex(b.sign(message, seed))).toBe(v.signature);
        expect(b.verify(signature, message, publicKey)).toBe(true);
        expect(await b.verifyMany([{ signature, message, publicKey }])).toEqual([true]);
        const tampered = signature.slice();
        tampered[10]! ^= 1;
        expect(b.verify(tampered, message, publicKey)).toBe(false);
      });
    }
  }

  it('the active backend in Node is node:crypto', () => {
    expect(cryptoBackendName()).toBe('node');
  });
});

describe('strict verification (both backends and the public API agree)', () => {
  const v = rfc8032.vectors[1]!;
  const message = hexToBytes(v.message);
  const signature = hexToBytes(v.signature);
  const publicKey = hexToBytes(v.publicKey);

  it('rejects a non-canonical S (S + L), which lax verifiers accept', async () => {
    const s = leToBigint(signature.subarray(32));
    const malleated = signature.slice();
    malleated.set(bigintToLe(s + L), 32);
    expect(s + L < 1n << 256n).toBe(true);
    for (const b of backends) expect(b.verify(malleated, message, publicKey)).toBe(false);
    expect(verify(malleated, message, publicKey)).toBe(false);
    expect(await verifyMany([{ signature: malleated, message, publicKey }])).toEqual([false]);
  });

  it('rejects every small-order public key, canonical or not', async () => {
    const keys = smallOrderEncodings();
    expect(keys.length).toBeGreaterThanOrEqual(8);
    // A signature that a lax verifier accepts for many messages under small-order keys: R = identity, S = 0.
    const identity = ed25519.Point.ZERO.toBytes();
    const forged = new Uint8Array(64);
    forged.set(identity, 0);
    for (const key of keys) {
      expect(isValidPublicKey(key)).toBe(false);
      expect(verify(forged, message, key)).toBe(false);
      expect(nobleBackend.verify(forged, message, key)).toBe(false);
    }
    expect(await verifyMany(keys.map((publicKey) => ({ signature: forged, message, publicKey })))).toEqual(
      keys.map(() => false),
    );
  });

  it('rejects non-canonical point encodings of public keys', () => {
    // y = 1 (the identity) written as p + 1, and y = 0 written as p: both ≥ p, so not canonical.
    for (const y of [P + 1n, P]) expect(isValidPublicKey(bigintToLe(y))).toBe(false);
  });

  it('rejects all-zero signatures, keys that are not on the curve, and wrong lengths, without throwing', async () => {
    const zeroSig = new Uint8Array(64);
    expect(verify(zeroSig, message, publicKey)).toBe(false);
    const notOnCurve = hexToBytes('0200000000000000000000000000000000000000000000000000000000000000');
    expect(isValidPublicKey(notOnCurve)).toBe(false);
    expect(verify(signature, message, notOnCurve)).toBe(false);
    expect(verify(signature.subarray(0, 63), message, publicKey)).toBe(false);
    expect(verify(signature, message, publicKey.subarray(0, 31))).toBe(false);
    expect(verify('x' as unknown as Uint8Array, message, publicKey)).toBe(false);
    expect(
      await verifyMany([
        { signature, message, publicKey },
        { signature: zeroSig, message, publicKey },
        { signature, message: new Uint8Array([1]), publicKey },
        { signature, message, publicKey: notOnCurve },
      ]),
    ).toEqual([true, false, false, false]);
    expect(await verifyMany([])).toEqual([]);
  });
});

describe('keys and signing', () => {
  it('generates distinct valid key pairs that round-trip', async () => {
    const a = generateKeyPair();
    const b = generateKeyPair();
    expect(a.seed).not.toEqual(b.seed);
    expect(isValidPublicKey(a.publicKey)).toBe(true);
    expect(publicKeyFromSeed(a.seed)).toEqual(a.publicKey);
    const msg = new TextEncoder().encode('hello');
    const sig = sign(msg, a.seed);
    expect(nobleBackend.sign(msg, a.seed)).toEqual(sig);
    expect(verify(sig, msg, a.publicKey)).toBe(true);
    expect(verify(sig, msg, b.publicKey)).toBe(false);
  });

  it('verifyMany keeps input order over many distinct keys', async () => {
    const items = Array.from({ length: 64 }, (_, i) => {
      const kp = generateKeyPair();
      const message = new Uint8Array([i]);
      const signature = sign(message, kp.seed);
      if (i % 3 === 0) signature[0]! ^= 0xff;
      return { signature, message, publicKey: kp.publicKey };
    });
    expect(await verifyMany(items)).toEqual(items.map((_, i) => i % 3 !== 0));
  });

  it('rejects seeds of the wrong length with CRYPTO_BAD_LENGTH', () => {
    expect(() => sign(new Uint8Array(1), new Uint8Array(31))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }),
    );
    expect(() => publicKeyFromSeed(new Uint8Array(33))).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }));
    expect(() => sign('msg' as unknown as Uint8Array, new Uint8Array(32))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_BAD_INPUT' }),
    );
  });

  it('caches signing keys per seed array without mixing seeds up', () => {
    const seed = new Uint8Array(32).fill(7);
    const other = new Uint8Array(32).fill(7);
    other[0] = 8;
    const msg = new Uint8Array([1, 2, 3]);
    const s1 = sign(msg, seed);
    const s2 = sign(msg, other);
    expect(s1).not.toEqual(s2);
    expect(verify(s1, msg, publicKeyFromSeed(seed))).toBe(true);
    expect(verify(s2, msg, publicKeyFromSeed(other))).toBe(true);
  });
});
