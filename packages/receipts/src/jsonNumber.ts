/**
 * A JSON number kept as the exact text it arrived with (`1.0`, `1e3`, `100000000000000000000001`).
 * Receipts signed elsewhere must re-canonicalize byte for byte, so {@link parseReceiptJson} returns
 * every number that is not a plain safe integer as a `JsonNumber`, and `canonicalizeReceipt` writes its
 * lexeme unchanged.
 *
 * @example
 * ```ts
 * import { canonicalizeReceipt, JsonNumber, parseReceiptJson } from '@aitbc/receipts';
 * const doc = parseReceiptJson('{"units":1.0}') as { units: JsonNumber };
 * doc.units.lexeme; // '1.0' (doc.units.toNumber() === 1)
 * canonicalizeReceipt({ units: new JsonNumber('1e3') }); // '{"units":1e3}'
 * ```
 */
export class JsonNumber {
  /** The number's text exactly as it appeared in the JSON document. */
  readonly lexeme: string;

  constructor(lexeme: string) {
    this.lexeme = lexeme;
  }

  /** The value as a JavaScript number (may round). */
  toNumber(): number {
    return Number(this.lexeme);
  }

  /** JSON.stringify writes the original lexeme's value. */
  toJSON(): number {
    return Number(this.lexeme);
  }
}

/**
 * JSON values as receipts hold them: numbers that are not safe integers stay {@link JsonNumber}s.
 *
 * @example
 * ```ts
 * import { JsonNumber, type ReceiptJsonValue } from '@aitbc/receipts';
 * const metadata: ReceiptJsonValue = { gpu: 'A100', tokens: 512, ratio: new JsonNumber('0.5') };
 * ```
 */
export type ReceiptJsonValue =
  | null
  | boolean
  | number
  | bigint
  | string
  | JsonNumber
  | readonly ReceiptJsonValue[]
  | { readonly [key: string]: ReceiptJsonValue | undefined };
