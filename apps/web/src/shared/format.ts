/** Base units per AIT (18 decimals, like the chain's genesis amounts). */
export const BASE_UNITS = 10n ** 18n;

/** `1500000000000000000` → `1.5 AIT` (exact: bigint arithmetic, trailing zeros dropped). */
export function formatAmount(base: bigint | string | number | null | undefined): string {
  if (base === null || base === undefined) return '—';
  let v: bigint;
  try {
    v = BigInt(base);
  } catch {
    return String(base);
  }
  const neg = v < 0n;
  if (neg) v = -v;
  const whole = v / BASE_UNITS;
  const frac = (v % BASE_UNITS).toString().padStart(18, '0').replace(/0+$/, '');
  return `${neg ? '-' : ''}${whole.toLocaleString('en-US')}${frac === '' ? '' : `.${frac}`} AIT`;
}

/** Parses a decimal AIT amount typed by a user (`1.5`) into base units; `undefined` if it is not one. */
export function parseAmount(text: string): bigint | undefined {
  const m = /^\s*(\d{1,30})(?:\.(\d{1,18}))?\s*$/.exec(text);
  if (m === null) return undefined;
  return BigInt(m[1] as string) * BASE_UNITS + BigInt((m[2] ?? '').padEnd(18, '0'));
}

/** `0x1234…abcd` for long ids (the full id stays in the link target and the title). */
export function shortId(id: string, keep = 8): string {
  return id.length <= keep * 2 + 1 ? id : `${id.slice(0, keep)}…${id.slice(-keep + 2)}`;
}

/** A Unix-milliseconds time as an ISO string (UTC, seconds). */
export function formatTime(ms: number | null | undefined): string {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  return `${new Date(ms).toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}
