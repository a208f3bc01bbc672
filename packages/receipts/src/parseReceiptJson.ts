import { AitbcError } from '@aitbc/crypto';
import { JsonNumber, type ReceiptJsonValue } from './jsonNumber.js';

/**
 * Largest receipt document accepted by {@link parseReceiptJson}, in characters.
 *
 * @example
 * ```ts
 * import { MAX_RECEIPT_JSON_LENGTH, parseReceiptJson } from '@aitbc/receipts';
 * if (body.length > MAX_RECEIPT_JSON_LENGTH) return reply(413, 'receipt too large');
 * const receipt = parseReceiptJson(body);
 * ```
 */
export const MAX_RECEIPT_JSON_LENGTH = 64 * 1024;
/**
 * Deepest nesting accepted by {@link parseReceiptJson}.
 *
 * @example
 * ```ts
 * import { MAX_RECEIPT_DEPTH, parseReceiptJson } from '@aitbc/receipts';
 * const deep = `${'['.repeat(MAX_RECEIPT_DEPTH + 1)}${']'.repeat(MAX_RECEIPT_DEPTH + 1)}`;
 * parseReceiptJson(deep); // throws AitbcError RECEIPT_MALFORMED
 * ```
 */
export const MAX_RECEIPT_DEPTH = 64;

const NUMBER_RE = /-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?/y;
const SAFE_INT_RE = /^-?(?:0|[1-9][0-9]{0,15})$/;

function fail(message: string, at: number): never {
  throw new AitbcError('RECEIPT_MALFORMED', `receipt JSON: ${message} at position ${at}`, {
    details: { position: at },
  });
}

/**
 * Parses a receipt document strictly (RFC 8259 grammar): rejects duplicate keys, trailing content,
 * lone surrogates, control characters in strings, nesting deeper than 64 and documents over 64 KiB.
 * Numbers that are safe integers become `number`; every other number keeps its exact text as a
 * {@link JsonNumber}, so a receipt signed elsewhere (say with `1.0`) re-canonicalizes byte for byte.
 *
 * @example
 * ```ts
 * const receipt = parseReceiptJson('{"units":1.0,"job_id":"j1"}');
 * canonicalizeReceipt(receipt); // '{"job_id":"j1","units":1.0}'
 * ```
 * @throws AitbcError `RECEIPT_MALFORMED` with `details.position`.
 */
export function parseReceiptJson(text: string): ReceiptJsonValue {
  if (typeof text !== 'string') throw new AitbcError('RECEIPT_MALFORMED', 'receipt JSON must be a string');
  if (text.length > MAX_RECEIPT_JSON_LENGTH) {
    throw new AitbcError('RECEIPT_MALFORMED', `receipt JSON is longer than ${MAX_RECEIPT_JSON_LENGTH} characters`);
  }
  let i = 0;
  const ws = () => {
    for (;;) {
      const c = text.charCodeAt(i);
      if (c === 0x20 || c === 0x0a || c === 0x0d || c === 0x09) i++;
      else return;
    }
  };
  const parseString = (): string => {
    const start = i;
    i++; // opening quote
    let out = '';
    let run = i;
    for (;;) {
      if (i >= text.length) fail('unterminated string', start);
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        out += text.slice(run, i);
        i++;
        break;
      }
      if (c < 0x20) fail('control character in string', i);
      if (c === 0x5c) {
        out += text.slice(run, i);
        const e = text[i + 1];
        i += 2;
        switch (e) {
          case '"':
            out += '"';
            break;
          case '\\':
            out += '\\';
            break;
          case '/':
            out += '/';
            break;
          case 'b':
            out += '\b';
            break;
          case 'f':
            out += '\f';
            break;
          case 'n':
            out += '\n';
            break;
          case 'r':
            out += '\r';
            break;
          case 't':
            out += '\t';
            break;
          case 'u': {
            const hex = text.slice(i, i + 4);
            if (!/^[0-9a-fA-F]{4}$/.test(hex)) fail('bad \\u escape', i);
            out += String.fromCharCode(Number.parseInt(hex, 16));
            i += 4;
            break;
          }
          default:
            fail('bad escape', i - 1);
        }
        run = i;
        continue;
      }
      i++;
    }
    if (!(out as unknown as { isWellFormed(): boolean }).isWellFormed()) fail('lone surrogate in string', start);
    return out;
  };
  const parseValue = (depth: number): ReceiptJsonValue => {
    if (depth > MAX_RECEIPT_DEPTH) fail(`nesting deeper than ${MAX_RECEIPT_DEPTH}`, i);
    ws();
    const c = text[i];
    if (c === '{') {
      i++;
      const obj: Record<string, ReceiptJsonValue> = Object.create(null) as Record<string, ReceiptJsonValue>;
      ws();
      if (text[i] === '}') {
        i++;
        return { ...obj };
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail('expected a string key', i);
        const keyAt = i;
        const key = parseString();
        if (Object.hasOwn(obj, key)) fail(`duplicate key "${key}"`, keyAt);
        ws();
        if (text[i] !== ':') fail('expected ":"', i);
        i++;
        obj[key] = parseValue(depth + 1);
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === '}') {
          i++;
          return { ...obj };
        }
        fail('expected "," or "}"', i);
      }
    }
    if (c === '[') {
      i++;
      const arr: ReceiptJsonValue[] = [];
      ws();
      if (text[i] === ']') {
        i++;
        return arr;
      }
      for (;;) {
        arr.push(parseValue(depth + 1));
        ws();
        if (text[i] === ',') {
          i++;
          continue;
        }
        if (text[i] === ']') {
          i++;
          return arr;
        }
        fail('expected "," or "]"', i);
      }
    }
    if (c === '"') return parseString();
    if (text.startsWith('true', i)) {
      i += 4;
      return true;
    }
    if (text.startsWith('false', i)) {
      i += 5;
      return false;
    }
    if (text.startsWith('null', i)) {
      i += 4;
      return null;
    }
    NUMBER_RE.lastIndex = i;
    const m = NUMBER_RE.exec(text);
    if (m === null) fail('unexpected character', i);
    i += m[0].length;
    return SAFE_INT_RE.test(m[0]) && Number.isSafeInteger(Number(m[0])) && m[0] !== '-0'
      ? Number(m[0])
      : new JsonNumber(m[0]);
  };
  const value = parseValue(0);
  ws();
  if (i !== text.length) fail('unexpected content after the document', i);
  return value;
}
