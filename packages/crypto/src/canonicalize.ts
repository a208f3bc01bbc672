import { utf8ToBytes } from './bytes.js';
import { AitbcError } from './errors.js';

/** A value that {@link canonicalize} accepts. `bigint` becomes a decimal string; `undefined` properties are omitted. */
export type CanonicalValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | readonly CanonicalValue[]
  | { readonly [key: string]: CanonicalValue | undefined };

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

function serializeString(s: string): string {
  if (LONE_SURROGATE.test(s)) {
    throw new AitbcError('CRYPTO_CANONICAL_JSON', 'string contains a lone surrogate (not valid I-JSON)');
  }
  return JSON.stringify(s);
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
      const keys = Object.keys(obj).sort(); // UTF-16 code unit order, as RFC 8785 §3.2.3 requires
      let out = '{';
      let first = true;
      for (const k of keys) {
        const v = obj[k];
        if (v === undefined) continue;
        if (!first) out += ',';
        first = false;
        out += `${serializeString(k)}:${write(v, depth + 1)}`;
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
 */
export function canonicalizeToString(value: CanonicalValue): string {
  return write(value, 0);
}

/** RFC 8785 canonical JSON as UTF-8 bytes (see {@link canonicalizeToString}). */
export function canonicalize(value: CanonicalValue): Uint8Array {
  return utf8ToBytes(write(value, 0));
}
