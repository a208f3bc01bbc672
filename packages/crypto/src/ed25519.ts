import { ed25519 } from '@noble/curves/ed25519.js';
import { backend } from '#backend';
import type { VerifyItem } from './backend/types.js';
import { BoundedCache } from './boundedCache.js';
import { assertLength } from './bytes.js';
import { AitbcError } from './errors.js';

export type { VerifyItem } from './backend/types.js';

/**
 * Length of an Ed25519 seed (the private key) in bytes.
 *
 * @example
 * ```ts
 * import { hexToBytes, SEED_LENGTH } from '@aitbc/crypto';
 * const seed = hexToBytes(seedHex, SEED_LENGTH); // rejects anything but 32 bytes
 * ```
 */
export const SEED_LENGTH = 32;
/**
 * Length of an Ed25519 public key in bytes.
 *
 * @example
 * ```ts
 * import { base64urlToBytes, PUBLIC_KEY_LENGTH } from '@aitbc/crypto';
 * const publicKey = base64urlToBytes(body.publicKey, PUBLIC_KEY_LENGTH);
 * ```
 */
export const PUBLIC_KEY_LENGTH = 32;
/**
 * Length of an Ed25519 signature in bytes.
 *
 * @example
 * ```ts
 * import { base64urlToBytes, SIGNATURE_LENGTH } from '@aitbc/crypto';
 * const signature = base64urlToBytes(body.signature, SIGNATURE_LENGTH);
 * ```
 */
export const SIGNATURE_LENGTH = 64;

/**
 * An Ed25519 key pair. The 32-byte `seed` is the private key: keep it secret.
 *
 * @example
 * ```ts
 * import { generateKeyPair, type KeyPair, sign } from '@aitbc/crypto';
 * const { seed, publicKey }: KeyPair = generateKeyPair();
 * const signature = sign(message, seed); // verify(signature, message, publicKey) === true
 * ```
 */
export interface KeyPair {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
}

const strictKeys = new BoundedCache<string, boolean>(16_384);

/**
 * The y-coordinates (little-endian, sign bit cleared) of the points of small order — the 8-torsion
 * subgroup, multiples of a point of order 8 — plus the non-canonical forms y + p of those with y < 19.
 * A signature whose `R` is one of them is refused by every backend alike (libsodium refuses it itself;
 * OpenSSL and noble would accept such an `R` from a key holder crafting one): backends must agree.
 */
const SMALL_ORDER_Y: readonly Uint8Array[] = (() => {
  const P = 2n ** 255n - 19n;
  const out = new Map<string, Uint8Array>();
  const add = (y: bigint) => {
    const b = new Uint8Array(32);
    for (let i = 0, v = y; i < 32; i++, v >>= 8n) b[i] = Number(v & 0xffn);
    out.set(b.join(','), b);
  };
  const order8 = ed25519.Point.fromHex('26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05');
  let q = ed25519.Point.ZERO;
  for (let i = 0; i < 8; i++, q = q.add(order8)) {
    const y = q.toAffine().y;
    add(y);
    if (y + P < 2n ** 255n) add(y + P);
  }
  return [...out.values()];
})();

/** Whether a signature's `R` (its first 32 bytes) encodes a point of small order, in any encoding. */
function hasSmallOrderR(signature: Uint8Array): boolean {
  for (const y of SMALL_ORDER_Y) {
    let diff = (signature[31]! & 0x7f) ^ y[31]!;
    for (let i = 0; i < 31 && diff === 0; i++) diff |= signature[i]! ^ y[i]!;
    if (diff === 0) return true;
  }
  return false;
}

/**
 * The cache key of a 32-byte public key: one character per byte (a flat one-byte string, cheaper to
 * build and hash than base64url). The same key names the key in the backend's key-object cache.
 */
function keyIdOf(publicKey: Uint8Array): string {
  return String.fromCharCode.apply(null, publicKey as unknown as number[]);
}

/** {@link isValidPublicKey} for a 32-byte key and its {@link keyIdOf}. */
function isStrictKey(publicKey: Uint8Array, id: string): boolean {
  let ok = strictKeys.get(id);
  if (ok === undefined) {
    ok = checkStrict(publicKey);
    strictKeys.set(id, ok);
  }
  return ok;
}

function checkStrict(publicKey: Uint8Array): boolean {
  try {
    const point = ed25519.Point.fromBytes(publicKey, false); // rejects non-canonical encodings
    return !point.isSmallOrder();
  } catch {
    return false;
  }
}

/**
 * Whether a public key is acceptable under strict verification: 32 bytes, a canonical encoding of a
 * curve point, and not of small order. Results are cached (bounded), so repeated keys cost a lookup.
 *
 * @example
 * ```ts
 * import { isValidPublicKey } from '@aitbc/crypto';
 * if (!isValidPublicKey(publicKey)) throw new Error('public key is not a strict Ed25519 key');
 * ```
 */
export function isValidPublicKey(publicKey: Uint8Array): boolean {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  return isStrictKey(publicKey, keyIdOf(publicKey));
}

/**
 * Creates a key pair from fresh randomness (`crypto.getRandomValues` / `node:crypto`).
 *
 * @example
 * ```ts
 * import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
 * const { seed, publicKey } = generateKeyPair(); // keep `seed` secret
 * const address = addressFromPublicKey(publicKey);
 * ```
 */
export function generateKeyPair(): KeyPair {
  const seed = backend.randomBytes(SEED_LENGTH);
  return { seed, publicKey: backend.publicKeyFromSeed(seed) };
}

/**
 * Cryptographically secure random bytes.
 *
 * @example
 * ```ts
 * import { bytesToBase64url, randomBytes } from '@aitbc/crypto';
 * const nonce = bytesToBase64url(randomBytes(16));
 * ```
 */
export function randomBytes(length: number): Uint8Array {
  if (!Number.isSafeInteger(length) || length < 0 || length > 65_536) {
    throw new AitbcError('CRYPTO_BAD_LENGTH', 'randomBytes length must be an integer in [0, 65536]');
  }
  return backend.randomBytes(length);
}

/**
 * Derives the 32-byte public key of a 32-byte seed.
 * @throws AitbcError `CRYPTO_BAD_LENGTH` if the seed is not 32 bytes.
 *
 * @example
 * ```ts
 * import { hexToBytes, publicKeyFromSeed } from '@aitbc/crypto';
 * const publicKey = publicKeyFromSeed(hexToBytes(seedHex, 32));
 * ```
 */
export function publicKeyFromSeed(seed: Uint8Array): Uint8Array {
  assertLength(seed, SEED_LENGTH, 'seed');
  return backend.publicKeyFromSeed(seed);
}

/**
 * Signs `message` with the Ed25519 key of `seed` (RFC 8032, deterministic). In Node the key object is
 * cached per seed array, so keep one array per key for signing in a loop.
 * @throws AitbcError `CRYPTO_BAD_LENGTH` if the seed is not 32 bytes.
 *
 * @example
 * ```ts
 * import { generateKeyPair, sign, utf8ToBytes, verify } from '@aitbc/crypto';
 * const { seed, publicKey } = generateKeyPair();
 * const message = utf8ToBytes('hello');
 * verify(sign(message, seed), message, publicKey); // true
 * ```
 */
export function sign(message: Uint8Array, seed: Uint8Array): Uint8Array {
  assertLength(seed, SEED_LENGTH, 'seed');
  if (!(message instanceof Uint8Array)) throw new AitbcError('CRYPTO_BAD_INPUT', 'message must be a Uint8Array');
  return backend.sign(message, seed);
}

/**
 * Strict Ed25519 verification: rejects non-canonical S, non-canonical point encodings, small-order
 * public keys and a small-order `R`. Returns `false` (never throws) for any invalid signature, key or
 * length. In Node it runs libsodium (or OpenSSL where libsodium does not load) on the calling thread.
 *
 * @example
 * ```ts
 * import { verify } from '@aitbc/crypto';
 * if (!verify(signature, message, publicKey)) throw new Error('bad signature');
 * ```
 */
export function verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array): boolean {
  if (!(signature instanceof Uint8Array) || signature.length !== SIGNATURE_LENGTH) return false;
  if (!(message instanceof Uint8Array)) return false;
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== PUBLIC_KEY_LENGTH) return false;
  if (hasSmallOrderR(signature)) return false;
  if (backend.checksKeys === true) return backend.verify(signature, message, publicKey);
  const id = keyIdOf(publicKey);
  if (!isStrictKey(publicKey, id)) return false;
  return backend.verify(signature, message, publicKey, id);
}

/**
 * Verifies many signatures at once, under the rules of {@link verify}. In Node, libsodium verifies
 * batches below 1,000 on the calling thread in slices with the event loop running between them, and
 * larger ones on worker threads (every core); where libsodium does not load, OpenSSL verifies on the
 * libuv thread pool. In browsers the work runs sequentially. Results are in input order; invalid
 * inputs yield `false`.
 *
 * @example
 * ```ts
 * import { verifyMany } from '@aitbc/crypto';
 * const results = await verifyMany(txs.map((t) => ({ signature: t.sig, message: t.bytes, publicKey: t.key })));
 * const allValid = results.every(Boolean);
 * ```
 */
export async function verifyMany(items: readonly VerifyItem[]): Promise<boolean[]> {
  const results: boolean[] = new Array<boolean>(items.length).fill(false);
  const pending: VerifyItem[] = [];
  const ids: string[] = [];
  const indexes: number[] = [];
  for (let i = 0; i < items.length; i++) {
    const it = items[i]!;
    const key = it.publicKey;
    if (
      it.signature instanceof Uint8Array &&
      it.signature.length === SIGNATURE_LENGTH &&
      it.message instanceof Uint8Array &&
      key instanceof Uint8Array &&
      key.length === PUBLIC_KEY_LENGTH &&
      !hasSmallOrderR(it.signature)
    ) {
      const id = backend.checksKeys === true ? '' : keyIdOf(key);
      if (backend.checksKeys !== true && !isStrictKey(key, id)) continue;
      pending.push(it);
      ids.push(id);
      indexes.push(i);
    }
  }
  const verified = await backend.verifyMany(pending, ids);
  for (let j = 0; j < verified.length; j++) results[indexes[j]!] = verified[j]!;
  return results;
}

/**
 * Which backend is active: `node` (node:crypto) or `noble` (pure JS).
 *
 * @example
 * ```ts
 * import { cryptoBackendName } from '@aitbc/crypto';
 * console.log(`crypto backend: ${cryptoBackendName()}`); // 'node' in Node, 'noble' in browsers
 * ```
 */
export function cryptoBackendName(): 'node' | 'noble' {
  return backend.name;
}
