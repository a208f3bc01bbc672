import { utf8ToBytes } from './bytes.js';
import { AitbcError } from './errors.js';

/**
 * A value that {@link canonicalize} accepts. `bigint` becomes a decimal string; `undefined` properties are omitted.
 *
 * @example
 * ```ts
 * import { type CanonicalValue, canonicalizeToString } from '@aitbc/crypto';
 * const body: CanonicalValue = { to: 'ait1…', amount: 5n, memo: undefined };
 * canonicalizeToString(body); // '{"amount":"5","to":"ait1…"}'
 * ```
 */
export type CanonicalValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

// `String.prototype.isWellFormed` (ES2024, Node ≥ 20) is native; TypeScript's ES2023 lib lacks its type.
const isWellFormed = (s: string): boolean => (s as unknown as { isWellFormed(): boolean }).isWellFormed();

/** Printable ASCII other than `"` and `\\`: such strings need no escaping (most protocol strings). */
const PLAIN_ASCII = /^[\x20\x21\x23-\x5b\x5d-\x7e]*$/;

function serializeString(s: string): string {
  if (PLAIN_ASCII.test(s)) return `"${s}"`;
  if (!isWellFormed(s)) {
    throw new AitbcError('CRYPTO_CANONICAL_JSON', 'string contains a lone surrogate (not valid I-JSON)');
  }
  return JSON.stringify(s);
}

/** Serialized forms of object keys: the same few keys recur in every object of a block. */
const keyCache = new Map<string, string>();

function serializeKey(k: string): string {
  let out = keyCache.get(k);
  if (out === undefined) {
    out = serializeString(k);
    if (keyCache.size < 4096) keyCache.set(k, out);
  }
  return out;
}

/** Sorts keys by UTF-16 code units; insertion sort beats Array#sort for the small key sets of protocol objects. */
function sortKeys(keys: string[]): string[] {
  if (keys.length > 24) return keys.sort();
  for (let i = 1; i < keys.length; i++) {
    const k = keys[i]!;
    let j = i - 1;
    while (j >= 0 && keys[j]! > k) {
      keys[j + 1] = keys[j]!;
      j--;
    }
    keys[j + 1] = k;
  }
  return keys;
}

function write(value: unknown, depth: number): string {
  if (depth > 128) throw new AitbcError('CRYPTO_CANONICAL_JSON', 'value is nested more than 128 levels deep');
  switch (typeof value) {
    case 'string':
      return serializeString(value);
    case 'number':
      if (!Number.isFinite(value)) {
        throw new AitbcError('CRYPTO_CANONICAL_JSON', 'NaN and Infinity have no JSON form');
      }
      return JSON.stringify(value); // ECMAScript Number::toString, as RFC 8785 §3.2.2.3 requires
    case 'bigint':
      return `"${value.toString(10)}"`;
    case 'boolean':
      return value ? 'true' : 'false';
    case 'object': {
      if (value === null) return 'null';
      if (Array.isArray(value)) {
        let out = '[';
        for (let i = 0; i < value.length; i++) {
          if (i > 0) out += ',';
          const item: unknown = value[i];
          out += item === undefined ? 'null' : write(item, depth + 1);
        }
        return `${out}]`;
      }
      if (ArrayBuffer.isView(value)) {
        throw new AitbcError('CRYPTO_CANONICAL_JSON', 'bytes must be encoded (hex/base64url) before canonicalization');
      }
      const proto = Object.getPrototypeOf(value);
      if (proto !== Object.prototype && proto !== null) {
        throw new AitbcError('CRYPTO_CANONICAL_JSON', 'only plain objects can be canonicalized');
      }
      const obj = value as Record<string, unknown>;
      const keys = sortKeys(Object.keys(obj)); // UTF-16 code unit order, as RFC 8785 §3.2.3 requires
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${serializeKey(k)}:${write(v, depth + 1)}`;
      }
      return `${out}}`;
    }
    default:
      throw new AitbcError('CRYPTO_CANONICAL_JSON', `cannot canonicalize a value of type ${typeof value}`);
  }
}

/**
 * RFC 8785 JSON Canonicalization Scheme, as a string: sorted keys (UTF-16 code units), no whitespace,
 * ECMAScript number serialization, minimal string escaping. `bigint` is written as a decimal string.
 * @throws AitbcError `CRYPTO_CANONICAL_JSON` for non-finite numbers, lone surrogates, bytes, class
 * instances, functions or nesting deeper than 128.
 *
 * @example
 * ```ts
 * import { canonicalizeToString } from '@aitbc/crypto';
 * canonicalizeToString({ b: 1, a: [true, null], n: 10n }); // '{"a":[true,null],"b":1,"n":"10"}'
 * ```
 */
export function canonicalizeToString(value: CanonicalValue): string {
  return write(value, 0);
}

/**
 * RFC 8785 canonical JSON as UTF-8 bytes (see {@link canonicalizeToString}).
 *
 * @example
 * ```ts
 * import { canonicalize, sha256 } from '@aitbc/crypto';
 * const hash = sha256(canonicalize({ jobId, result })); // same bytes on every platform
 * ```
 */
export function canonicalize(value: CanonicalValue): Uint8Array {
  return utf8ToBytes(write(value, 0));
}
