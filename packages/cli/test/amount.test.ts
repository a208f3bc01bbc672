import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { formatAmount, MAX_AMOUNT, parseAmount } from '../src/amount.js';

const AIT = 10n ** 18n;

describe('parseAmount', () => {
  it.each([
    ['1', AIT],
    ['1.5', 15n * 10n ** 17n],
    ['1.5AIT', 15n * 10n ** 17n],
    ['1.5 ait', 15n * 10n ** 17n],
    [' 2AIT ', 2n * AIT],
    ['0', 0n],
    ['0.000000000000000001', 1n],
    ['1.000000000000000000', AIT],
    ['42base', 42n],
    ['42 BASE', 42n],
    ['1500000000000000000base', 15n * 10n ** 17n],
    ['0base', 0n],
  ])('%s → %s base units', (text, expected) => {
    expect(parseAmount(text)).toBe(expected);
  });

  it.each([
    '',
    '-1',
    '+1',
    '1e18',
    '.5',
    '1.',
    '1,5',
    '1_000',
    '01',
    '1.5base',
    'abc',
    'AIT',
    '0.0000000000000000001',
    '0x10',
    `${MAX_AMOUNT + 1n}base`,
  ])('refuses %j with CLI_BAD_AMOUNT', (text) => {
    expect(() => parseAmount(text)).toThrow(expect.objectContaining({ code: 'CLI_BAD_AMOUNT' }));
  });

  it('accepts the largest amount and nothing above it', () => {
    expect(parseAmount(`${MAX_AMOUNT}base`)).toBe(MAX_AMOUNT);
  });
});

describe('formatAmount', () => {
  it.each([
    [0n, '0 AIT'],
    [1n, '0.000000000000000001 AIT'],
    [AIT, '1 AIT'],
    [15n * 10n ** 17n, '1.5 AIT'],
    [1_000_000n * AIT, '1000000 AIT'],
    [-15n * 10n ** 17n, '-1.5 AIT'],
    [123456789012345678901234567890n, '123456789012.34567890123456789 AIT'],
  ])('%s → %s', (value, text) => {
    expect(formatAmount(value)).toBe(text);
  });

  it('omits the unit on request', () => {
    expect(formatAmount(25n * 10n ** 17n, { unit: false })).toBe('2.5');
  });

  it('round-trips through parseAmount for any amount (property)', () => {
    fc.assert(
      fc.property(fc.bigInt({ min: 0n, max: MAX_AMOUNT }), (v) => {
        expect(parseAmount(formatAmount(v))).toBe(v);
        expect(parseAmount(formatAmount(v, { unit: false }))).toBe(v);
        expect(parseAmount(`${v}base`)).toBe(v);
      }),
      { numRuns: 300 },
    );
  });
});
