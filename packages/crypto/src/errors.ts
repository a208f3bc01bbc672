/**
 * Structured details attached to an {@link AitbcError}. Values must be JSON-safe
 * (no secrets: errors are logged and returned over HTTP).
 *
 * @example
 * ```ts
 * import { AitbcError, type ErrorDetails } from '@aitbc/crypto';
 * const details: ErrorDetails = { expected: 32, actual: key.length };
 * throw new AitbcError('CRYPTO_BAD_LENGTH', 'key must be 32 bytes', { details });
 * ```
 */
export type ErrorDetails = Readonly<Record<string, unknown>>;

/**
 * The one error base class of every AITBC package.
 *
 * `code` is stable and package-prefixed (`CRYPTO_*`, `RECEIPT_*`, `CHAIN_*`, ...); servers return the
 * same code in their HTTP error bodies (`{error:{code,message,details}}`). Never put secrets in
 * `message` or `details`.
 *
 * @example
 * ```ts
 * import { isAitbcError, parseAddress } from '@aitbc/crypto';
 * try { parseAddress(input); } catch (e) {
 *   if (isAitbcError(e) && e.code === 'CRYPTO_ADDRESS_CHECKSUM') console.log('typo in address');
 * }
 * ```
 */
export class AitbcError extends Error {
  /** Stable, package-prefixed machine-readable code, e.g. `CRYPTO_BAD_LENGTH`. */
  readonly code: string;
  /** JSON-safe metadata about the failure (never secrets). */
  readonly details: ErrorDetails | undefined;

  constructor(code: string, message: string, options: { details?: ErrorDetails; cause?: unknown } = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.name = 'AitbcError';
    this.code = code;
    this.details = options.details;
  }

  /** The JSON error body servers send: `{ code, message, details? }`. */
  toJSON(): { code: string; message: string; details?: ErrorDetails } {
    return this.details === undefined
      ? { code: this.code, message: this.message }
      : { code: this.code, message: this.message, details: this.details };
  }
}

/**
 * Type guard for {@link AitbcError}, optionally narrowed to one code. Works across duplicated
 * copies of this package (checks the shape, not only the prototype chain).
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * try { parseAddress(input); } catch (e) {
 *   if (isAitbcError(e, 'CRYPTO_ADDRESS_HRP')) console.error('not an ait1… address');
 *   else if (isAitbcError(e)) console.error(e.code, e.details);
 * }
 * ```
 */
export function isAitbcError(value: unknown, code?: string): value is AitbcError {
  if (!(value instanceof Error)) return false;
  const c = (value as { code?: unknown }).code;
  if (typeof c !== 'string' || (value as { name?: unknown }).name !== 'AitbcError') return false;
  return code === undefined || c === code;
}
