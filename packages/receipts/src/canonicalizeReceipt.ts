import { AitbcError, sha256, toHex0x, utf8ToBytes } from '@aitbc/crypto';
import { JsonNumber, type ReceiptJsonValue } from './jsonNumber.js';
import type { Receipt } from './receipt.js';

/**
 * Fields that are not part of the signed payload: the signatures themselves and unsigned annotations.
 *
 * @example
 * ```ts
 * import { UNSIGNED_FIELDS } from '@aitbc/receipts';
 * const signedKeys = Object.keys(receipt).filter((k) => !UNSIGNED_FIELDS.includes(k));
 * ```
 */
export const UNSIGNED_FIELDS: readonly string[] = ['signature', 'attestations', 'annotations'];

const HEX = '0123456789abcdef';

/** Python `json.dumps(..., ensure_ascii=True)` string escaping: `\uXXXX` (lowercase) outside printable ASCII. */
function pyString(s: string): string {
  let out = '"';
  let run = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c >= 0x20 && c <= 0x7e && c !== 0x22 && c !== 0x5c) continue;
    out += s.slice(run, i);
    run = i + 1;
    switch (c) {
      case 0x22:
        out += '\\"';
        break;
      case 0x5c:
        out += '\\\\';
        break;
      case 0x0a:
        out += '\\n';
        break;
      case 0x0d:
        out += '\\r';
        break;
      case 0x09:
        out += '\\t';
        break;
      case 0x08:
        out += '\\b';
        break;
      case 0x0c:
        out += '\\f';
        break;
      default:
        out += `\\u${HEX[(c >> 12) & 15]}${HEX[(c >> 8) & 15]}${HEX[(c >> 4) & 15]}${HEX[c & 15]}`;
    }
  }
  return `${out}${s.slice(run)}"`;
}

/** Python sorts keys by code point; JavaScript's default order is by UTF-16 unit. They differ only with astral characters. */
function compareCodePoints(a: string, b: string): number {
  const ca = [...a];
  const cb = [...b];
  const n = Math.min(ca.length, cb.length);
  for (let i = 0; i < n; i++) {
    const d = ca[i]!.codePointAt(0)! - cb[i]!.codePointAt(0)!;
    if (d !== 0) return d;
  }
  return ca.length - cb.length;
}

const HAS_SURROGATE = /[\ud800-\udfff]/;

function sortKeys(keys: string[]): string[] {
  return keys.some((k) => HAS_SURROGATE.test(k)) ? keys.sort(compareCodePoints) : keys.sort();
}

function write(value: ReceiptJsonValue | undefined, depth: number): string {
  if (depth > 64) throw new AitbcError('RECEIPT_MALFORMED', 'receipt is nested more than 64 levels deep');
  if (value === null || value === undefined) return 'null';
  switch (typeof value) {
    case 'string':
      if (!(value as unknown as { isWellFormed(): boolean }).isWellFormed()) {
        throw new AitbcError('RECEIPT_MALFORMED', 'receipt string contains a lone surrogate');
      }
      return pyString(value);
    case 'boolean':
      return value ? 'true' : 'false';
    case 'bigint':
      return value.toString(10);
    case 'number':
      if (!Number.isSafeInteger(value)) {
        throw new AitbcError(
          'RECEIPT_MALFORMED',
          'receipt numbers must be safe integers; use a decimal string, a bigint or a JsonNumber for anything else',
        );
      }
      return String(value);
    case 'object': {
      if (value instanceof JsonNumber) return value.lexeme;
      if (Array.isArray(value)) {
        const parts: string[] = [];
        for (const item of value as readonly ReceiptJsonValue[])
          if (item !== null && item !== undefined) parts.push(write(item, depth + 1));
        return `[${parts.join(',')}]`;
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new AitbcError('RECEIPT_MALFORMED', 'receipt values must be plain JSON (no class instances or bytes)');
      }
      const obj = value as Readonly<Record<string, ReceiptJsonValue | undefined>>;
      const parts: string[] = [];
      for (const k of sortKeys(Object.keys(obj))) {
        const v = obj[k];
        if (v === null || v === undefined) continue;
        parts.push(`${pyString(k)}:${write(v, depth + 1)}`);
      }
      return `{${parts.join(',')}}`;
    }
    default:
      throw new AitbcError('RECEIPT_MALFORMED', `cannot canonicalize a ${typeof value}`);
  }
}

/**
 * The canonical form of the original AITBC receipts (Python `json.dumps(drop_nulls(x), sort_keys=True,
 * separators=(",", ":"))`): `null`s dropped from objects and arrays at every depth, keys sorted by code
 * point, no whitespace, every character outside printable ASCII escaped as lowercase `\uXXXX` (astral
 * characters as surrogate pairs), and numbers written exactly as they arrived ({@link JsonNumber}).
 * This canonicalizes the value as given; see {@link receiptSigningBytes} for the signed payload.
 * @throws AitbcError `RECEIPT_MALFORMED` for non-integer JS numbers, lone surrogates, class instances.
 *
 * @example
 * ```ts
 * import { canonicalizeReceipt } from '@aitbc/receipts';
 * canonicalizeReceipt({ b: 'é', a: null, c: [1, null] }); // '{"b":"\\u00e9","c":[1]}'
 * ```
 */
export function canonicalizeReceipt(value: ReceiptJsonValue | Receipt): string {
  return write(value as ReceiptJsonValue, 0);
}

/**
 * The receipt without its signatures and annotations: the payload every signature covers.
 *
 * @example
 * ```ts
 * import { signedPayload } from '@aitbc/receipts';
 * const payload = signedPayload(receipt); // no signature, attestations or annotations
 * ```
 */
export function signedPayload(receipt: object): Record<string, ReceiptJsonValue | undefined> {
  if (typeof receipt !== 'object' || receipt === null || Array.isArray(receipt)) {
    throw new AitbcError('RECEIPT_MALFORMED', 'a receipt must be a JSON object');
  }
  const payload: Record<string, ReceiptJsonValue | undefined> = {};
  for (const [k, v] of Object.entries(receipt)) if (!UNSIGNED_FIELDS.includes(k)) payload[k] = v as ReceiptJsonValue;
  return payload;
}

/**
 * The exact bytes the miner signature and every coordinator attestation sign: UTF-8 of the canonical payload.
 *
 * @example
 * ```ts
 * import { receiptSigningBytes } from '@aitbc/receipts';
 * import { verify } from '@aitbc/crypto';
 * const minerSigned = verify(signatureBytes, receiptSigningBytes(receipt), minerPublicKey);
 * ```
 */
export function receiptSigningBytes(receipt: object): Uint8Array {
  return utf8ToBytes(canonicalizeReceipt(signedPayload(receipt)));
}

/**
 * SHA-256 of {@link receiptSigningBytes}, as `0x` + hex: the receipt's content id.
 *
 * @example
 * ```ts
 * import { receiptHash } from '@aitbc/receipts';
 * const id = receiptHash(receipt); // '0x…' — unchanged by adding signatures or annotations
 * ```
 */
export function receiptHash(receipt: object): string {
  return toHex0x(sha256(receiptSigningBytes(receipt)));
}

/**
 * The wire text of a whole receipt (signatures and annotations included) in canonical form: safe to
 * send anywhere, since big integers and {@link JsonNumber} lexemes survive, unlike `JSON.stringify`.
 *
 * @example
 * ```ts
 * import { parseReceiptJson, serializeReceipt, validateReceipt } from '@aitbc/receipts';
 * const wire = serializeReceipt(signed);
 * const back = validateReceipt(parseReceiptJson(wire)); // same receipt, byte for byte
 * ```
 */
export function serializeReceipt(receipt: object): string {
  return canonicalizeReceipt(receipt as ReceiptJsonValue);
}
