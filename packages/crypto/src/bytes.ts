import { AitbcError } from './errors.js';

const HEX_CHARS = '0123456789abcdef';
const HEX_TABLE: string[] = Array.from({ length: 256 }, (_, i) => HEX_CHARS[i >> 4]! + HEX_CHARS[i & 15]!);
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true });

function hexNibble(code: number): number {
  if (code >= 48 && code <= 57) return code - 48; // 0-9
  if (code >= 97 && code <= 102) return code - 87; // a-f
  if (code >= 65 && code <= 70) return code - 55; // A-F
  return -1;
}

/**
 * Encodes bytes as lowercase hex without a prefix.
 *
 * @example
 * ```ts
 * import { bytesToHex } from '@aitbc/crypto';
 * bytesToHex(new Uint8Array([0xde, 0xad, 0x01])); // 'dead01'
 * ```
 */
export function bytesToHex(bytes: Uint8Array): string {
  let out = '';
  for (let i = 0; i < bytes.length; i++) out += HEX_TABLE[bytes[i]!];
  return out;
}

/**
 * Decodes hex (optionally `0x`-prefixed, either case) into bytes.
 * @param expectedLength - if given, the decoded length must match exactly.
 * @throws AitbcError `CRYPTO_BAD_HEX` on odd length or a non-hex character, `CRYPTO_BAD_LENGTH` on a length mismatch.
 *
 * @example
 * ```ts
 * import { hexToBytes } from '@aitbc/crypto';
 * hexToBytes('0xdead01'); // Uint8Array [222, 173, 1]
 * const seed = hexToBytes(process.env.SEED_HEX ?? '', 32); // throws CRYPTO_BAD_LENGTH unless 32 bytes
 * ```
 */
export function hexToBytes(hex: string, expectedLength?: number): Uint8Array {
  if (typeof hex !== 'string') throw new AitbcError('CRYPTO_BAD_HEX', 'hex input must be a string');
  const body = hex.startsWith('0x') || hex.startsWith('0X') ? hex.slice(2) : hex;
  if (body.length % 2 !== 0) throw new AitbcError('CRYPTO_BAD_HEX', 'hex string has an odd number of digits');
  const out = new Uint8Array(body.length / 2);
  for (let i = 0; i < out.length; i++) {
    const hi = hexNibble(body.charCodeAt(2 * i));
    const lo = hexNibble(body.charCodeAt(2 * i + 1));
    if (hi < 0 || lo < 0) throw new AitbcError('CRYPTO_BAD_HEX', 'hex string contains a non-hex character');
    out[i] = (hi << 4) | lo;
  }
  if (expectedLength !== undefined) assertLength(out, expectedLength, 'hex value');
  return out;
}

/**
 * `0x` + lowercase hex: the wire form of ids (tx ids, block hashes, receipt hashes).
 *
 * @example
 * ```ts
 * import { sha256, toHex0x, utf8ToBytes } from '@aitbc/crypto';
 * const id = toHex0x(sha256(utf8ToBytes('payload'))); // '0x' + 64 hex digits
 * ```
 */
export function toHex0x(bytes: Uint8Array): string {
  return `0x${bytesToHex(bytes)}`;
}

/**
 * Parses a 32-byte id in wire form (`0x` + 64 lowercase hex digits).
 * @throws AitbcError `CRYPTO_BAD_ID` if the string is not exactly that shape.
 *
 * @example
 * ```ts
 * import { parseId } from '@aitbc/crypto';
 * const jobId = parseId(req.params.id, 'job id'); // 32 bytes, or AitbcError CRYPTO_BAD_ID
 * ```
 */
export function parseId(value: string, what = 'id'): Uint8Array {
  if (typeof value !== 'string' || !/^0x[0-9a-f]{64}$/.test(value)) {
    throw new AitbcError('CRYPTO_BAD_ID', `${what} must be 0x followed by 64 lowercase hex digits`);
  }
  return hexToBytes(value, 32);
}

const B64URL = 'ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_';
const B64URL_LOOKUP = new Int16Array(128).fill(-1);
for (let i = 0; i < B64URL.length; i++) B64URL_LOOKUP[B64URL.charCodeAt(i)] = i;

/**
 * Encodes bytes as base64url without padding (RFC 4648 §5).
 *
 * @example
 * ```ts
 * import { bytesToBase64url, randomBytes } from '@aitbc/crypto';
 * const token = bytesToBase64url(randomBytes(32)); // 43 characters, URL-safe, no padding
 * ```
 */
export function bytesToBase64url(bytes: Uint8Array): string {
  let out = '';
  let i = 0;
  for (; i + 2 < bytes.length; i += 3) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8) | bytes[i + 2]!;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]! + B64URL[n & 63]!;
  }
  const rest = bytes.length - i;
  if (rest === 1) {
    const n = bytes[i]! << 16;
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]!;
  } else if (rest === 2) {
    const n = (bytes[i]! << 16) | (bytes[i + 1]! << 8);
    out += B64URL[n >> 18]! + B64URL[(n >> 12) & 63]! + B64URL[(n >> 6) & 63]!;
  }
  return out;
}

/**
 * Decodes unpadded base64url. Rejects padding, the standard-alphabet `+` and `/`, impossible lengths,
 * and non-zero trailing bits (so every byte string has exactly one accepted encoding).
 * @param expectedLength - if given, the decoded length must match exactly.
 * @throws AitbcError `CRYPTO_BAD_BASE64URL` or `CRYPTO_BAD_LENGTH`.
 *
 * @example
 * ```ts
 * import { base64urlToBytes } from '@aitbc/crypto';
 * const signature = base64urlToBytes(body.signature, 64); // throws CRYPTO_BAD_LENGTH unless 64 bytes
 * ```
 */
export function base64urlToBytes(text: string, expectedLength?: number): Uint8Array {
  if (typeof text !== 'string') throw new AitbcError('CRYPTO_BAD_BASE64URL', 'base64url input must be a string');
  const len = text.length;
  if (len % 4 === 1) throw new AitbcError('CRYPTO_BAD_BASE64URL', 'base64url string has an impossible length');
  const out = new Uint8Array(Math.floor((len * 3) / 4));
  let acc = 0;
  let bits = 0;
  let o = 0;
  for (let i = 0; i < len; i++) {
    const c = text.charCodeAt(i);
    const v = c < 128 ? B64URL_LOOKUP[c]! : -1;
    if (v < 0) throw new AitbcError('CRYPTO_BAD_BASE64URL', 'base64url string contains an invalid character');
    acc = (acc << 6) | v;
    bits += 6;
    if (bits >= 8) {
      bits -= 8;
      out[o++] = (acc >> bits) & 0xff;
    }
  }
  if ((acc & ((1 << bits) - 1)) !== 0) {
    throw new AitbcError('CRYPTO_BAD_BASE64URL', 'base64url string has non-zero trailing bits');
  }
  if (expectedLength !== undefined) assertLength(out, expectedLength, 'base64url value');
  return out;
}

/**
 * UTF-8 encodes a string.
 *
 * @example
 * ```ts
 * import { sha256, utf8ToBytes } from '@aitbc/crypto';
 * const digest = sha256(utf8ToBytes('héllo'));
 * ```
 */
export function utf8ToBytes(text: string): Uint8Array {
  return encoder.encode(text);
}

/**
 * Decodes UTF-8 strictly.
 * @throws AitbcError `CRYPTO_BAD_UTF8` on malformed input.
 *
 * @example
 * ```ts
 * import { bytesToUtf8, utf8ToBytes } from '@aitbc/crypto';
 * bytesToUtf8(utf8ToBytes('héllo')); // 'héllo'
 * ```
 */
export function bytesToUtf8(bytes: Uint8Array): string {
  try {
    return decoder.decode(bytes);
  } catch (cause) {
    throw new AitbcError('CRYPTO_BAD_UTF8', 'bytes are not valid UTF-8', { cause });
  }
}

/**
 * Concatenates byte arrays into a new array.
 *
 * @example
 * ```ts
 * import { concatBytes, utf8ToBytes } from '@aitbc/crypto';
 * const framed = concatBytes(new Uint8Array([1]), utf8ToBytes('body')); // 5 bytes
 * ```
 */
export function concatBytes(...parts: Uint8Array[]): Uint8Array {
  let total = 0;
  for (const p of parts) total += p.length;
  const out = new Uint8Array(total);
  let offset = 0;
  for (const p of parts) {
    out.set(p, offset);
    offset += p.length;
  }
  return out;
}

/**
 * Compares two byte arrays in time that depends only on their lengths, never on their contents.
 * Use it for every comparison involving secrets, MACs or tokens.
 *
 * @example
 * ```ts
 * import { constantTimeEqual, utf8ToBytes } from '@aitbc/crypto';
 * const authorized = constantTimeEqual(utf8ToBytes(presentedToken), utf8ToBytes(expectedToken));
 * ```
 */
export function constantTimeEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  let diff = 0;
  for (let i = 0; i < a.length; i++) diff |= a[i]! ^ b[i]!;
  return diff === 0;
}

/**
 * Plain (variable-time) byte equality, for public data such as hashes.
 *
 * @example
 * ```ts
 * import { bytesEqual, sha256 } from '@aitbc/crypto';
 * if (!bytesEqual(sha256(block), expectedHash)) throw new Error('hash mismatch');
 * ```
 */
export function bytesEqual(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/**
 * Lexicographic comparison of byte arrays (negative, zero or positive).
 *
 * @example
 * ```ts
 * import { compareBytes } from '@aitbc/crypto';
 * const sorted = [...keys].sort(compareBytes); // lexicographic byte order
 * ```
 */
export function compareBytes(a: Uint8Array, b: Uint8Array): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) {
    const d = a[i]! - b[i]!;
    if (d !== 0) return d;
  }
  return a.length - b.length;
}

/**
 * Checks that a value is a `Uint8Array` of exactly `length` bytes.
 * @throws AitbcError `CRYPTO_BAD_LENGTH` (with `details.expected` / `details.actual`).
 *
 * @example
 * ```ts
 * import { assertLength } from '@aitbc/crypto';
 * assertLength(publicKey, 32, 'public key'); // throws AitbcError CRYPTO_BAD_LENGTH otherwise
 * ```
 */
export function assertLength(value: unknown, length: number, what = 'value'): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) {
    throw new AitbcError('CRYPTO_BAD_LENGTH', `${what} must be a Uint8Array`, { details: { expected: length } });
  }
  if (value.length !== length) {
    throw new AitbcError('CRYPTO_BAD_LENGTH', `${what} must be ${length} bytes, got ${value.length}`, {
      details: { expected: length, actual: value.length },
    });
  }
}
