import { backend } from '#backend';
import { AitbcError } from './errors.js';

/** SHA-256 of `data` (32 bytes). Uses `node:crypto` in Node and `@noble/hashes` elsewhere. */
export function sha256(data: Uint8Array): Uint8Array {
  if (!(data instanceof Uint8Array)) throw new AitbcError('CRYPTO_BAD_INPUT', 'sha256 input must be a Uint8Array');
  return backend.sha256(data);
}
