import { bech32m } from '@scure/base';
import { assertLength } from './bytes.js';
import { AitbcError } from './errors.js';
import { sha256 } from './sha256.js';

/**
 * The human-readable part of every AITBC address.
 *
 * @example
 * ```ts
 * import { ADDRESS_HRP, isAddress } from '@aitbc/crypto';
 * const looksRight = input.startsWith(`${ADDRESS_HRP}1`) && isAddress(input);
 * ```
 */
export const ADDRESS_HRP = 'ait';
/**
 * Length in bytes of an address payload: the first 20 bytes of SHA-256(publicKey).
 *
 * @example
 * ```ts
 * import { ADDRESS_BYTES, parseAddress } from '@aitbc/crypto';
 * const payload = parseAddress(address); // payload.length === ADDRESS_BYTES (20)
 * ```
 */
export const ADDRESS_BYTES = 20;

/**
 * A bech32m-encoded AITBC address (`ait1…`).
 *
 * @example
 * ```ts
 * import { type Address, addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
 * const to: Address = addressFromPublicKey(generateKeyPair().publicKey); // 'ait1…'
 * ```
 */
export type Address = string;

/**
 * Encodes a 20-byte payload as a bech32m `ait1…` address.
 *
 * @example
 * ```ts
 * import { encodeAddress, sha256 } from '@aitbc/crypto';
 * const address = encodeAddress(sha256(publicKey).subarray(0, 20)); // same as addressFromPublicKey(publicKey)
 * ```
 */
export function encodeAddress(payload: Uint8Array): Address {
  assertLength(payload, ADDRESS_BYTES, 'address payload');
  return bech32m.encode(ADDRESS_HRP, bech32m.toWords(payload));
}

/**
 * The address of an Ed25519 public key: bech32m(`ait`, SHA-256(publicKey)[0..20]).
 *
 * @example
 * ```ts
 * import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
 * const { publicKey } = generateKeyPair();
 * const address = addressFromPublicKey(publicKey); // 'ait1…'
 * ```
 */
export function addressFromPublicKey(publicKey: Uint8Array): Address {
  assertLength(publicKey, 32, 'public key');
  return encodeAddress(sha256(publicKey).subarray(0, ADDRESS_BYTES));
}

/**
 * A decoded bech32m string: its human-readable part and the 5-bit words of its data part.
 *
 * @example
 * ```ts
 * import { type Bech32mDecoded, decodeBech32m } from '@aitbc/crypto';
 * const { hrp, words }: Bech32mDecoded = decodeBech32m(address); // hrp === 'ait'
 * ```
 */
export interface Bech32mDecoded {
  readonly hrp: string;
  readonly words: readonly number[];
}

/**
 * Decodes any bech32m string (BIP-350), checking case, characters, length and checksum.
 * @throws AitbcError `CRYPTO_ADDRESS_CASE` (mixed case), `CRYPTO_ADDRESS_CHECKSUM`, `CRYPTO_ADDRESS_FORMAT`.
 *
 * @example
 * ```ts
 * import { decodeBech32m } from '@aitbc/crypto';
 * const { hrp, words } = decodeBech32m('ait1…'); // hrp 'ait', 5-bit words of the payload
 * ```
 */
export function decodeBech32m(text: string): Bech32mDecoded {
  if (typeof text !== 'string') throw new AitbcError('CRYPTO_ADDRESS_FORMAT', 'address must be a string');
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) {
    throw new AitbcError('CRYPTO_ADDRESS_CASE', 'address mixes upper and lower case');
  }
  if (text.length > 90) throw new AitbcError('CRYPTO_ADDRESS_FORMAT', 'bech32m string is longer than 90 characters');
  const sep = text.lastIndexOf('1');
  if (sep < 1) throw new AitbcError('CRYPTO_ADDRESS_FORMAT', 'bech32m string has no human-readable part');
  if (text.length - sep - 1 < 6) throw new AitbcError('CRYPTO_ADDRESS_FORMAT', 'bech32m data part is too short');
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 33 || c > 126) throw new AitbcError('CRYPTO_ADDRESS_FORMAT', 'bech32m string has an invalid character');
  }
  try {
    const { prefix, words } = bech32m.decode(text as `${string}1${string}`, 90);
    return { hrp: prefix, words };
  } catch (cause) {
    const msg = cause instanceof Error ? cause.message : '';
    if (/checksum/i.test(msg)) {
      throw new AitbcError('CRYPTO_ADDRESS_CHECKSUM', 'address checksum does not match (mistyped?)', { cause });
    }
    throw new AitbcError('CRYPTO_ADDRESS_FORMAT', 'not a valid bech32m string', { cause });
  }
}

/**
 * Parses an `ait1…` address into its 20-byte payload.
 * @throws AitbcError `CRYPTO_ADDRESS_CASE`, `CRYPTO_ADDRESS_CHECKSUM`, `CRYPTO_ADDRESS_FORMAT`,
 * `CRYPTO_ADDRESS_HRP` (not `ait`), `CRYPTO_ADDRESS_LENGTH` (payload not 20 bytes).
 *
 * @example
 * ```ts
 * import { isAitbcError, parseAddress } from '@aitbc/crypto';
 * try {
 *   const payload = parseAddress(input); // 20 bytes
 * } catch (e) {
 *   if (isAitbcError(e, 'CRYPTO_ADDRESS_CHECKSUM')) console.error('mistyped address');
 * }
 * ```
 */
export function parseAddress(address: string): Uint8Array {
  const { hrp, words } = decodeBech32m(address);
  if (hrp.toLowerCase() !== ADDRESS_HRP) {
    throw new AitbcError('CRYPTO_ADDRESS_HRP', `address prefix must be "${ADDRESS_HRP}", got "${hrp}"`);
  }
  let payload: Uint8Array;
  try {
    payload = bech32m.fromWords(words as number[]);
  } catch (cause) {
    throw new AitbcError('CRYPTO_ADDRESS_LENGTH', 'address payload has invalid padding', { cause });
  }
  if (payload.length !== ADDRESS_BYTES) {
    throw new AitbcError('CRYPTO_ADDRESS_LENGTH', `address payload must be ${ADDRESS_BYTES} bytes`, {
      details: { actual: payload.length },
    });
  }
  return payload;
}

/**
 * Whether `address` is a valid lowercase `ait1…` address (the canonical form).
 *
 * @example
 * ```ts
 * import { isAddress } from '@aitbc/crypto';
 * if (!isAddress(body.to)) throw new Error('"to" must be an ait1… address');
 * ```
 */
export function isAddress(address: unknown): address is Address {
  if (typeof address !== 'string' || address !== address.toLowerCase()) return false;
  try {
    parseAddress(address);
    return true;
  } catch {
    return false;
  }
}
