import { AitbcError } from '@aitbc/crypto';

/**
 * Decimals of one AIT: 1 AIT = 10^18 base units.
 *
 * @example
 * ```ts
 * import { AIT_DECIMALS } from '@aitbc/cli';
 * const oneAit = 10n ** BigInt(AIT_DECIMALS); // 1_000_000_000_000_000_000n base units
 * ```
 */
export const AIT_DECIMALS = 18;
const ONE_AIT = 10n ** 18n;
/**
 * The largest amount the CLI accepts (2^256 − 1 base units).
 *
 * @example
 * ```ts
 * import { MAX_AMOUNT, parseAmount } from '@aitbc/cli';
 * parseAmount(`${MAX_AMOUNT}base`); // the largest accepted; one more throws CLI_BAD_AMOUNT
 * ```
 */
export const MAX_AMOUNT = 2n ** 256n - 1n;

const AIT_FORM = /^(0|[1-9][0-9]*)(?:\.([0-9]+))?\s*(?:ait)?$/i;
const BASE_FORM = /^(0|[1-9][0-9]*)\s*base$/i;

function bad(text: string, why: string): AitbcError {
  return new AitbcError('CLI_BAD_AMOUNT', `bad amount "${text}": ${why}`, {
    details: { hint: 'write AIT as 1.5 or 1.5AIT, or base units as 1500000000000000000base' },
  });
}

/**
 * Parses an amount typed by a user into base units: `1.5`, `1.5AIT` and `1.5 ait` are AIT (up to 18
 * decimals); `1500base` is base units. Signs, exponents, separators and more than 18 decimals are
 * refused rather than rounded.
 * @throws AitbcError `CLI_BAD_AMOUNT` (exit code 2).
 *
 * @example
 * ```ts
 * import { parseAmount } from '@aitbc/cli';
 * parseAmount('1.5'); // 1_500_000_000_000_000_000n
 * parseAmount('2 AIT'); // 2_000_000_000_000_000_000n
 * parseAmount('1500base'); // 1500n
 * ```
 */
export function parseAmount(text: string): bigint {
  const t = text.trim();
  let value: bigint;
  const base = BASE_FORM.exec(t);
  if (base !== null) {
    value = BigInt(base[1]!);
  } else {
    const m = AIT_FORM.exec(t);
    if (m === null) throw bad(text, 'not a non-negative decimal number');
    const fraction = m[2] ?? '';
    if (fraction.length > AIT_DECIMALS) throw bad(text, `more than ${AIT_DECIMALS} decimals`);
    value = BigInt(m[1]!) * ONE_AIT + BigInt(fraction.padEnd(AIT_DECIMALS, '0') || '0');
  }
  if (value > MAX_AMOUNT) throw bad(text, 'too large');
  return value;
}

/**
 * Formats base units as AIT with up to 18 decimals and no trailing zeros: `1500000000000000000n` →
 * `1.5 AIT`, `1n` → `0.000000000000000001 AIT`. Exact (no floating point).
 *
 * @example
 * ```ts
 * import { formatAmount } from '@aitbc/cli';
 * formatAmount(1_500_000_000_000_000_000n); // '1.5 AIT'
 * formatAmount(1n, { unit: false }); // '0.000000000000000001'
 * ```
 */
export function formatAmount(value: bigint, options: { unit?: boolean } = {}): string {
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / ONE_AIT;
  const fraction = (abs % ONE_AIT).toString().padStart(AIT_DECIMALS, '0').replace(/0+$/, '');
  const number = `${negative ? '-' : ''}${whole}${fraction === '' ? '' : `.${fraction}`}`;
  return options.unit === false ? number : `${number} AIT`;
}
