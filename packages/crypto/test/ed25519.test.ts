import { ed25519 } from '@noble/curves/ed25519.js';
import { sha512 } from '@noble/hashes/sha2.js';
import { describe, expect, it } from 'vitest';
import { backend, nobleBackend, nodeBackend, sodiumBackend } from '../src/backend/node.js';
import { createSodiumBackend } from '../src/backend/sodium.js';
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

const backends = [nodeBackend, nobleBackend, ...(sodiumBackend === undefined ? [] : [sodiumBackend])];
const named = (b: (typeof backends)[number]) => (b === sodiumBackend ? 'libsodium' : b.name);

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
      it(`${v.name}: ${named(b)} backend gives identical results`, async () => {
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

  it('the active backend in Node is node:crypto, verifying through libsodium where its addon loads', () => {
    expect(cryptoBackendName()).toBe('node');
    // sodium-native ships a prebuilt addon for linux-x64 (this machine and CI): it must load there.
    if (process.platform === 'linux' && process.arch === 'x64') expect(sodiumBackend).toBeDefined();
    expect(backend).toBe(sodiumBackend ?? nodeBackend);
    expect(backend.checksKeys === true).toBe(sodiumBackend !== undefined);
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

  it('rejects a small-order R, which a key holder can make OpenSSL and noble accept', async () => {
    // R = identity and S = k·a: [S]B = R + [k]A holds, so the raw OpenSSL and noble checks pass.
    const seed = hexToBytes(v.secretKey);
    const { scalar, pointBytes } = ed25519.utils.getExtendedPublicKey(seed);
    const r = ed25519.Point.ZERO.toBytes();
    const k = leToBigint(sha512(new Uint8Array([...r, ...pointBytes, ...message]))) % L;
    const crafted = new Uint8Array(64);
    crafted.set(r, 0);
    crafted.set(bigintToLe((k * scalar) % L), 32);
    expect(nodeBackend.verify(crafted, message, pointBytes)).toBe(true);
    expect(nobleBackend.verify(crafted, message, pointBytes)).toBe(true);
    if (sodiumBackend !== undefined) expect(sodiumBackend.verify(crafted, message, pointBytes)).toBe(false);
    expect(verify(crafted, message, pointBytes)).toBe(false);
    expect(await verifyMany([{ signature: crafted, message, publicKey: pointBytes }])).toEqual([false]);
    // Every other small-order R (any encoding, either sign) is refused before any backend runs.
    for (const enc of smallOrderEncodings()) {
      const sig = signature.slice();
      sig.set(enc, 0);
      expect(verify(sig, message, publicKey)).toBe(false);
    }
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

  it('verifyMany splits a large mixed batch across the worker pool and answers each item in order', async () => {
    const items = Array.from({ length: 300 }, (_, i) => {
      const k = generateKeyPair();
      const message = new Uint8Array(40 + (i % 7) * 50).fill(i & 0xff);
      const signature = sign(message, k.seed);
      if (i % 5 === 1) signature[7]! ^= 0x10; // tampered
      return { signature, message: i % 5 === 2 ? message.subarray(1) : message, publicKey: k.publicKey };
    });
    const expected = items.map((_, i) => i % 5 !== 1 && i % 5 !== 2);
    expect(await verifyMany(items)).toEqual(expected);
    for (const b of backends) expect(await b.verifyMany(items)).toEqual(expected);
    // Concurrent batches do not mix their answers up.
    const [a, c] = await Promise.all([verifyMany(items.slice(0, 150)), verifyMany(items.slice(150))]);
    expect([...a, ...c]).toEqual(expected);
  });

  it('libsodium verifyMany over a worker pool (as on machines with cores to spare) answers like inline, and survives workers that fail', async () => {
    if (sodiumBackend === undefined) return; // no addon on this platform: nothing to pool
    const items = Array.from({ length: 2400 }, (_, i) => {
      const k = generateKeyPair();
      const message = new Uint8Array(100).fill(i & 0xff);
      const signature = sign(message, k.seed);
      if (i % 3 === 0) signature[40]! ^= 1;
      return { signature, message, publicKey: k.publicKey };
    });
    const expected = items.map((_, i) => i % 3 !== 0);
    const pooled = createSodiumBackend(nodeBackend, { poolSize: 2 })!;
    expect(await pooled.verifyMany(items)).toEqual(expected);
    const [a, b] = await Promise.all([pooled.verifyMany(items.slice(0, 1200)), pooled.verifyMany(items.slice(1200))]);
    expect([...a, ...b]).toEqual(expected);
    // Workers that cannot load libsodium fail their batches, which are then verified inline; after a
    // few failures the pool is given up.
    const broken = createSodiumBackend(nodeBackend, { poolSize: 2, workerModule: '/nonexistent/sodium.node' })!;
    for (let i = 0; i < 3; i++) expect(await broken.verifyMany(items)).toEqual(expected);
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
