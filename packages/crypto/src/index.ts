/**
 * Keys, Ed25519 signatures, SHA-256, addresses, byte codecs, canonical JSON and the `AitbcError` base
 * shared by every AITBC package. Browser-safe; in Node the hot paths go through `node:crypto`.
 * @packageDocumentation
 */
export {
  ADDRESS_BYTES,
  ADDRESS_HRP,
  type Address,
  addressFromPublicKey,
  type Bech32mDecoded,
  decodeBech32m,
  encodeAddress,
  isAddress,
  parseAddress,
} from './address.js';
export {
  assertLength,
  base64urlToBytes,
  bytesEqual,
  bytesToBase64url,
  bytesToHex,
  bytesToUtf8,
  compareBytes,
  concatBytes,
  constantTimeEqual,
  hexToBytes,
  parseId,
  toHex0x,
  utf8ToBytes,
} from './bytes.js';
export { type CanonicalValue, canonicalize, canonicalizeToString } from './canonicalize.js';
export {
  cryptoBackendName,
  generateKeyPair,
  isValidPublicKey,
  type KeyPair,
  PUBLIC_KEY_LENGTH,
  publicKeyFromSeed,
  randomBytes,
  SEED_LENGTH,
  SIGNATURE_LENGTH,
  sign,
  type VerifyItem,
  verify,
  verifyMany,
} from './ed25519.js';
export { AitbcError, type ErrorDetails, isAitbcError } from './errors.js';
export { sha256 } from './sha256.js';
export {
  type MessageKind,
  messageId,
  signingBytes,
  signingBytesOfCanonical,
  signingBytesOfCanonicalString,
  signingTextOfCanonical,
  signMessage,
  verifyMessage,
} from './signedMessage.js';
