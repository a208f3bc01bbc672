import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bytesToUtf8, canonicalize, canonicalizeToString } from '../src/index.js';

function fromIeeeHex(hex: string): number {
  const view = new DataView(new ArrayBuffer(8));
  view.setBigUint64(0, BigInt(`0x${hex}`));
  return view.getFloat64(0);
}

describe('RFC 8785 JSON Canonicalization Scheme', () => {
  it('§3.2.2: the sample with numbers, string escapes and literals', () => {
    const input = JSON.parse(
      '{"numbers":[333333333.33333329,1E30,4.50,2e-3,0.000000000000000000000000001],' +
        '"string":"\\u20ac$\\u000F\\u000aA\'\\u0042\\u0022\\u005c\\\\\\"\\/","literals":[null,true,false]}',
    );
    expect(canonicalizeToString(input)).toBe(
      '{"literals":[null,true,false],"numbers":[333333333.3333333,1e+30,4.5,0.002,1e-27],"string":"€$\\u000f\\nA\'B\\"\\\\\\\\\\"/"}',
    );
  });

  it('§3.2.3: sorts keys by UTF-16 code units', () => {
    const input = {
      '\u20ac': 'Euro Sign',
      '\r': 'Carriage Return',
      '\ufb33': 'Hebrew Letter Dalet With Dagesh',
      '1': 'One',
      '\ud83d\ude00': 'Emoji: Grinning Face',
      '\u0080': 'Control',
      '\u00f6': 'Latin Small Letter O With Diaeresis',
    };
    expect(canonicalizeToString(input)).toBe(
      '{"\\r":"Carriage Return","1":"One","\u0080":"Control","\u00f6":"Latin Small Letter O With Diaeresis",' +
        '"\u20ac":"Euro Sign","\ud83d\ude00":"Emoji: Grinning Face","\ufb33":"Hebrew Letter Dalet With Dagesh"}',
    );
  });

  it.each([
    ['0000000000000000', '0'],
    ['8000000000000000', '0'],
    ['0000000000000001', '5e-324'],
    ['8000000000000001', '-5e-324'],
    ['7fefffffffffffff', '1.7976931348623157e+308'],
    ['ffefffffffffffff', '-1.7976931348623157e+308'],
    ['4340000000000000', '9007199254740992'],
    ['c340000000000000', '-9007199254740992'],
    ['4430000000000000', '295147905179352830000'],
    ['44b52d02c7e14af5', '9.999999999999997e+22'],
    ['44b52d02c7e14af6', '1e+23'],
    ['44b52d02c7e14af7', '1.0000000000000001e+23'],
    ['444b1ae4d6e2ef4e', '999999999999999700000'],
    ['444b1ae4d6e2ef4f', '999999999999999900000'],
    ['444b1ae4d6e2ef50', '1e+21'],
    ['3eb0c6f7a0b5ed8c', '9.999999999999997e-7'],
    ['3eb0c6f7a0b5ed8d', '0.000001'],
    ['41b3de4355555553', '333333333.3333332'],
    ['41b3de4355555554', '333333333.33333325'],
    ['41b3de4355555555', '333333333.3333333'],
    ['41b3de4355555556', '333333333.3333334'],
    ['41b3de4355555557', '333333333.33333343'],
    ['becbf647612f3696', '-0.0000033333333333333333'],
    ['43143ff3c1cb0959', '1424953923781206.2'],
  ])('Appendix B: IEEE-754 %s serializes as %s', (hex, expected) => {
    expect(canonicalizeToString(fromIeeeHex(hex))).toBe(expected);
  });

  it.each([
    ['7fffffffffffffff'],
    ['7ff0000000000000'],
    ['fff0000000000000'],
  ])('Appendix B: %s (NaN/Infinity) is an error', (hex) => {
    expect(() => canonicalize(fromIeeeHex(hex))).toThrow(expect.objectContaining({ code: 'CRYPTO_CANONICAL_JSON' }));
  });

  it('writes bigint as a decimal string and omits undefined properties', () => {
    expect(canonicalizeToString({ amount: 10n ** 30n, b: undefined, a: [undefined as never, -5n] })).toBe(
      '{"a":[null,"-5"],"amount":"1000000000000000000000000000000"}',
    );
  });

  it('produces UTF-8 bytes', () => {
    const bytes = canonicalize({ s: 'é€😀' });
    expect(bytesToUtf8(bytes)).toBe('{"s":"é€😀"}');
    expect(bytes.length).toBe(6 + 2 + 3 + 4 + 2);
  });

  it.each([
    ['a lone high surrogate', { s: '\ud800' }],
    ['a lone low surrogate key', { '\udc00': 1 }],
    ['bytes', { b: new Uint8Array(2) }],
    ['a Date', { d: new Date(0) }],
    ['a Map', new Map()],
    ['a function', { f: () => 1 }],
    ['a symbol', { s: Symbol('x') }],
  ])('rejects %s', (_name, value) => {
    expect(() => canonicalize(value as never)).toThrow(expect.objectContaining({ code: 'CRYPTO_CANONICAL_JSON' }));
  });

  it('rejects nesting deeper than 128', () => {
    let deep: unknown = 1;
    for (let i = 0; i < 130; i++) deep = [deep];
    expect(() => canonicalize(deep as never)).toThrow(expect.objectContaining({ code: 'CRYPTO_CANONICAL_JSON' }));
  });

  it('is idempotent and independent of key order (property)', () => {
    fc.assert(
      fc.property(fc.jsonValue(), (value) => {
        const once = canonicalizeToString(value as never);
        expect(canonicalizeToString(JSON.parse(once))).toBe(once);
        // Same object with keys inserted in reverse order canonicalizes identically.
        const reversed = JSON.parse(once, (_k, v) =>
          v !== null && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).reverse())
            : v,
        );
        expect(canonicalizeToString(reversed)).toBe(once);
        expect(JSON.parse(once)).toEqual(JSON.parse(JSON.stringify(value)));
      }),
      { numRuns: 300 },
    );
  });
});
