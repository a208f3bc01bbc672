import { backend } from '#backend';
import { AitbcError } from './errors.js';

/**
 * SHA-256 of `data` (32 bytes). Uses `node:crypto` in Node and `@noble/hashes` elsewhere.
 *
 * @example
 * ```ts
 * import { bytesToHex, sha256, utf8ToBytes } from '@aitbc/crypto';
 * bytesToHex(sha256(utf8ToBytes('abc'))); // 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad'
 * ```
 */
export function sha256(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new AitbcError('CRYPTO_BAD_INPUT', 'sha256 input must be a Uint8Array');
  return backend.sha256(data);
}
