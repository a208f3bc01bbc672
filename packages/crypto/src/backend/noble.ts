import { ed25519 } from '@noble/curves/ed25519.js';
import { sha256 as nobleSha256 } from '@noble/hashes/sha2.js';
import { randomBytes as nobleRandomBytes } from '@noble/hashes/utils.js';
import type { CryptoBackend, VerifyItem } from './types.js';

/**
 * The pure-JavaScript backend (browsers, workers, and any runtime without `node:crypto`).
 * Verification is RFC 8032 strict (`zip215: false`): non-canonical S and point encodings are rejected.
 */
export const nobleBackend: CryptoBackend = {
  name: 'noble',
  sha256: (data) => nobleSha256(data),
  randomBytes: (length) => nobleRandomBytes(length),
  publicKeyFromSeed: (seed) => ed25519.getPublicKey(seed),
  sign: (message, seed) => ed25519.sign(message, seed),
  verify(signature, message, publicKey) {
    try {
      return ed25519.verify(signature, message, publicKey, { zip215: false });
    } catch {
      return false;
    }
  },
  async verifyMany(items: readonly VerifyItem[]) {
    return items.map((it) => nobleBackend.verify(it.signature, it.message, it.publicKey));
  },
};
