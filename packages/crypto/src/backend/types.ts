/**
 * One item of a batch signature verification.
 *
 * @example
 * ```ts
 * import { type VerifyItem, verifyMany } from '@aitbc/crypto';
 * const item: VerifyItem = { signature, message, publicKey };
 * const [ok] = await verifyMany([item]);
 * ```
 */
export interface VerifyItem {
  /** 64-byte Ed25519 signature. */
  readonly signature: Uint8Array;
  /** The exact signed message bytes. */
  readonly message: Uint8Array;
  /** 32-byte Ed25519 public key. */
  readonly publicKey: Uint8Array;
}

/**
 * The platform primitives behind `@aitbc/crypto`. Node uses `node:crypto` (OpenSSL, thread pool for
 * batches); browsers use `@noble/curves` / `@noble/hashes`. Both give identical results on every input:
 * inputs reaching a backend are already length-checked, and public keys are already checked for
 * strictness (canonical encoding, not of small order).
 */
export interface CryptoBackend {
  /** `node` or `noble`. */
  readonly name: 'node' | 'noble';
  sha256(data: Uint8Array): Uint8Array;
  randomBytes(length: number): Uint8Array;
  publicKeyFromSeed(seed: Uint8Array): Uint8Array;
  sign(message: Uint8Array, seed: Uint8Array): Uint8Array;
  /**
   * Whether the backend itself rejects non-canonical and small-order public keys (libsodium does), so
   * the public API need not check keys first.
   */
  readonly checksKeys?: boolean;
  /** `keyId`, when given, is a cache key the caller derived from `publicKey` (one character per byte). */
  verify(signature: Uint8Array, message: Uint8Array, publicKey: Uint8Array, keyId?: string): boolean;
  /** `keyIds`, when given, holds each item's `keyId` (as for {@link CryptoBackend.verify}). */
  verifyMany(items: readonly VerifyItem[], keyIds?: readonly string[]): Promise<boolean[]>;
}
