import {
  createPrivateKey,
  createPublicKey,
  type KeyObject,
  hash as nodeHash,
  randomBytes as nodeRandomBytes,
  sign as nodeSign,
  verify as nodeVerify,
} from 'node:crypto';
import { BoundedCache } from '../boundedCache.js';
import { bytesToBase64url } from '../bytes.js';
import { createSodiumBackend } from './sodium.js';
import type { CryptoBackend, VerifyItem } from './types.js';

export { nobleBackend } from './noble.js';

/** PKCS#8 prefix for a raw 32-byte Ed25519 seed (only used once per seed, to learn its public key). */
const PKCS8_ED25519_PREFIX = Uint8Array.from([
  0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20,
]);

/**
 * Public key objects by key id (one character per byte, as `ed25519.ts` derives it): importing via JWK
 * costs ~6 µs, so keep the hot set (bounded).
 */
const publicKeys = new BoundedCache<string, KeyObject>(16_384);
/** Private key objects per seed array instance: no secret copies outlive the caller's array. */
const privateKeys = new WeakMap<Uint8Array, { key: KeyObject; publicKey: Uint8Array }>();

function asBytes(buf: Uint8Array): Uint8Array {
  return new Uint8Array(buf.buffer, buf.byteOffset, buf.byteLength);
}

function privateEntry(seed: Uint8Array): { key: KeyObject; publicKey: Uint8Array } {
  let entry = privateKeys.get(seed);
  if (entry === undefined) {
    const der = new Uint8Array(48);
    der.set(PKCS8_ED25519_PREFIX, 0);
    der.set(seed, 16);
    const pkcs8 = createPrivateKey({ key: Buffer.from(der.buffer), format: 'der', type: 'pkcs8' });
    der.fill(0);
    const x = createPublicKey(pkcs8).export({ format: 'jwk' }).x as string;
    const publicKey = Uint8Array.from(Buffer.from(x, 'base64url'));
    const key = createPrivateKey({
      key: { kty: 'OKP', crv: 'Ed25519', d: bytesToBase64url(seed), x },
      format: 'jwk',
    });
    entry = { key, publicKey };
    privateKeys.set(seed, entry);
  }
  return entry;
}

function publicKeyObject(
  publicKey: Uint8Array,
  id: string = String.fromCharCode.apply(null, publicKey as unknown as number[]),
): KeyObject {
  let key = publicKeys.get(id);
  if (key === undefined) {
    key = createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: bytesToBase64url(publicKey) }, format: 'jwk' });
    publicKeys.set(id, key);
  }
  return key;
}

/**
 * The Node backend: OpenSSL through `node:crypto`, with cached key objects, and batch verification on
 * the libuv thread pool. OpenSSL rejects S ≥ L and recomputes R byte for byte, which together with the
 * public-key checks done before a key reaches a backend matches the noble backend in strict mode.
 */
export const nodeBackend: CryptoBackend = {
  name: 'node',
  sha256(data) {
    // The digest as a binary string, copied into a 32-byte array: V8 keeps an array this small on
    // its heap, where a Buffer digest costs an off-heap allocation (about twice the time overall).
    const digest = nodeHash('sha256', data, 'binary'); // latin1: one character per byte
    const out = new Uint8Array(32);
    for (let i = 0; i < 32; i++) out[i] = digest.charCodeAt(i);
    return out;
  },
  randomBytes: (length) => asBytes(nodeRandomBytes(length)),
  publicKeyFromSeed: (seed) => privateEntry(seed).publicKey.slice(),
  sign: (message, seed) => asBytes(nodeSign(null, message, privateEntry(seed).key)),
  verify(signature, message, publicKey, keyId) {
    try {
      return nodeVerify(null, message, publicKeyObject(publicKey, keyId), signature);
    } catch {
      return false;
    }
  },
  verifyMany(items: readonly VerifyItem[], keyIds?: readonly string[]) {
    return Promise.all(
      items.map(
        (it, i) =>
          new Promise<boolean>((resolve) => {
            let key: KeyObject;
            try {
              key = publicKeyObject(it.publicKey, keyIds?.[i]);
            } catch {
              resolve(false);
              return;
            }
            nodeVerify(null, it.message, key, it.signature, (err, ok) => resolve(err === null && ok));
          }),
      ),
    );
  },
};

/** Ed25519 verification through libsodium over {@link nodeBackend}, where `sodium-native` loads (see `sodium.ts`). */
export const sodiumBackend: CryptoBackend | undefined = createSodiumBackend(nodeBackend);

/** The backend this entry point uses: libsodium verification where it loads, OpenSSL otherwise. */
export const backend: CryptoBackend = sodiumBackend ?? nodeBackend;
