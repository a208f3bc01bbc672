import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  addressFromPublicKey,
  decodeBech32m,
  encodeAddress,
  generateKeyPair,
  isAddress,
  parseAddress,
  sha256,
} from '../src/index.js';

// BIP-350 test vectors (https://github.com/bitcoin/bips/blob/master/bip-0350.mediawiki#test-vectors).
const VALID = [
  'A1LQFN3A',
  'a1lqfn3a',
  'an83characterlonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11sg7hg6',
  'abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx',
  '11llllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllllludsr8',
  'split1checkupstagehandshakeupstreamerranterredcaperredlc445v',
  '?1v759aa',
];

const INVALID: [string, string][] = [
  [`${String.fromCharCode(0x20)}1xj0phk`, 'HRP character out of range'],
  [`${String.fromCharCode(0x7f)}1g6xzxy`, 'HRP character out of range'],
  [`${String.fromCharCode(0x80)}1vctc34`, 'HRP character out of range'],
  [
    'an84characterslonghumanreadablepartthatcontainsthetheexcludedcharactersbioandnumber11d6pts4',
    'overall max length exceeded',
  ],
  ['qyrz8wqd2c9m', 'no separator character'],
  ['1qyrz8wqd2c9m', 'empty HRP'],
  ['y1b0jsk6g', 'invalid data character'],
  ['lt1igcx5c0', 'invalid data character'],
  ['in1muywd', 'too short checksum'],
  ['mm1crxm3i', 'invalid character in checksum'],
  ['au1s5cgom', 'invalid character in checksum'],
  ['M1VUXWEZ', 'checksum calculated with uppercase form of HRP'],
  ['16plkw9', 'empty HRP'],
  ['1p2gdwpf', 'empty HRP'],
];

describe('BIP-350 bech32m vectors', () => {
  it.each(VALID)('accepts %s', (s) => {
    const { hrp } = decodeBech32m(s);
    expect(hrp).toBe(s.slice(0, s.lastIndexOf('1')).toLowerCase());
  });

  it.each(INVALID)('rejects %j (%s)', (s) => {
    expect(() => decodeBech32m(s)).toThrow(expect.objectContaining({ name: 'AitbcError' }));
  });

  it('rejects a valid bech32 (not bech32m) checksum', () => {
    // BIP-173 valid bech32 string: the bech32m checksum constant differs, so it must not verify.
    expect(() => decodeBech32m('a12uel5l')).toThrow(expect.objectContaining({ code: 'CRYPTO_ADDRESS_CHECKSUM' }));
  });
});

describe('ait1 addresses', () => {
  const { publicKey } = generateKeyPair();
  const address = addressFromPublicKey(publicKey);

  it('is bech32m over the first 20 bytes of SHA-256(publicKey)', () => {
    expect(address).toMatch(/^ait1[02-9ac-hj-np-z]{38}$/);
    expect(parseAddress(address)).toEqual(sha256(publicKey).subarray(0, 20));
    expect(isAddress(address)).toBe(true);
  });

  it('accepts the all-uppercase form but treats only lowercase as canonical', () => {
    expect(parseAddress(address.toUpperCase())).toEqual(parseAddress(address));
    expect(isAddress(address.toUpperCase())).toBe(false);
  });

  it('catches every single-character typo with CRYPTO_ADDRESS_CHECKSUM', () => {
    const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    for (let i = 4; i < address.length; i++) {
      const c = address[i]!;
      const replacement = charset[(charset.indexOf(c) + 1) % 32]!;
      const typo = address.slice(0, i) + replacement + address.slice(i + 1);
      expect(() => parseAddress(typo)).toThrow(expect.objectContaining({ code: 'CRYPTO_ADDRESS_CHECKSUM' }));
    }
  });

  it('names each kind of bad address with its own code', () => {
    const i = [...address].findIndex((c, k) => k > 3 && /[a-z]/.test(c));
    const mixed = `${address.slice(0, i)}${address[i]!.toUpperCase()}${address.slice(i + 1)}`;
    expect(() => parseAddress(mixed)).toThrow(expect.objectContaining({ code: 'CRYPTO_ADDRESS_CASE' }));
    expect(() => parseAddress('abcdef1l7aum6echk45nj3s0wdvt2fg8x9yrzpqzd3ryx')).toThrow(
      expect.objectContaining({ code: 'CRYPTO_ADDRESS_HRP' }),
    );
    expect(() => parseAddress(encodeAddressOfLength(19))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_ADDRESS_LENGTH' }),
    );
    expect(() => parseAddress(encodeAddressOfLength(32))).toThrow(
      expect.objectContaining({ code: 'CRYPTO_ADDRESS_LENGTH' }),
    );
    expect(() => parseAddress('ait1')).toThrow(expect.objectContaining({ code: 'CRYPTO_ADDRESS_FORMAT' }));
    expect(() => parseAddress('no-separator')).toThrow(expect.objectContaining({ code: 'CRYPTO_ADDRESS_FORMAT' }));
    expect(() => parseAddress(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'CRYPTO_ADDRESS_FORMAT' }),
    );
    expect(isAddress('ait1xyz')).toBe(false);
    expect(isAddress(undefined)).toBe(false);
  });

  it('round-trips any 20-byte payload (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 20, maxLength: 20 }), (payload) => {
        expect(parseAddress(encodeAddress(payload))).toEqual(payload);
      }),
    );
  });

  it('refuses payloads that are not 20 bytes', () => {
    expect(() => encodeAddress(new Uint8Array(21))).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }));
  });
});

/** A syntactically valid `ait` bech32m string whose payload has the wrong length. */
function encodeAddressOfLength(n: number): string {
  const words: number[] = [];
  let acc = 0;
  let bits = 0;
  for (let i = 0; i < n; i++) {
    acc = (acc << 8) | 0xab;
    bits += 8;
    while (bits >= 5) {
      bits -= 5;
      words.push((acc >> bits) & 31);
    }
  }
  if (bits > 0) words.push((acc << (5 - bits)) & 31);
  return bech32mEncode('ait', words);
}

function bech32mEncode(hrp: string, words: number[]): string {
  const charset = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
  const polymod = (values: number[]) => {
    const gen = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];
    let chk = 1;
    for (const v of values) {
      const b = chk >> 25;
      chk = ((chk & 0x1ffffff) << 5) ^ v;
      for (let i = 0; i < 5; i++) if ((b >> i) & 1) chk ^= gen[i]!;
    }
    return chk;
  };
  const expand = [...hrp]
    .map((c) => c.charCodeAt(0) >> 5)
    .concat(
      [0],
      [...hrp].map((c) => c.charCodeAt(0) & 31),
    );
  const mod = polymod([...expand, ...words, 0, 0, 0, 0, 0, 0]) ^ 0x2bc830a3;
  const checksum = Array.from({ length: 6 }, (_, i) => (mod >> (5 * (5 - i))) & 31);
  return `${hrp}1${[...words, ...checksum].map((w) => charset[w]).join('')}`;
}
