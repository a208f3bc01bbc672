import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  AitbcError,
  assertLength,
  base64urlToBytes,
  bytesEqual,
  bytesToBase64url,
  bytesToHex,
  bytesToUtf8,
  type CanonicalValue,
  canonicalizeToString,
  compareBytes,
  concatBytes,
  constantTimeEqual,
  generateKeyPair,
  hexToBytes,
  isAitbcError,
  messageId,
  parseId,
  sha256,
  signingBytes,
  signingBytesOfCanonical,
  signingBytesOfCanonicalString,
  signingTextOfCanonical,
  signMessage,
  toHex0x,
  utf8ToBytes,
  verifyMessage,
} from '../src/index.js';

describe('hex', () => {
  it('round-trips any bytes (property), accepting 0x and upper case', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
        const h = bytesToHex(b);
        expect(h).toMatch(/^[0-9a-f]*$/);
        expect(hexToBytes(h)).toEqual(b);
        expect(hexToBytes(`0x${h.toUpperCase()}`)).toEqual(b);
      }),
    );
  });

  it.each([['abc'], ['zz'], ['0xg0'], ['12 34']])('rejects %j with CRYPTO_BAD_HEX', (h) => {
    expect(() => hexToBytes(h)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_HEX' }));
  });

  it('checks the expected length', () => {
    expect(() => hexToBytes('00', 2)).toThrow(
      expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH', details: { expected: 2, actual: 1 } }),
    );
  });

  it('parses only canonical 0x ids', () => {
    const id = toHex0x(sha256(new Uint8Array()));
    expect(id).toBe('0xe3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(parseId(id)).toEqual(sha256(new Uint8Array()));
    for (const bad of [id.toUpperCase(), id.slice(2), `${id}00`, id.slice(0, -1)]) {
      expect(() => parseId(bad)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_ID' }));
    }
  });
});

describe('base64url', () => {
  it('round-trips any bytes and matches Node (property)', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 256 }), (b) => {
        const s = bytesToBase64url(b);
        expect(s).toBe(Buffer.from(b).toString('base64url'));
        expect(base64urlToBytes(s)).toEqual(b);
      }),
    );
  });

  it.each([
    ['padding', 'AA=='],
    ['standard alphabet +', 'a+b_'],
    ['standard alphabet /', 'ab/_'],
    ['impossible length', 'AAAAA'],
    ['non-zero trailing bits', 'AB'],
    ['non-ASCII', 'AAé'],
  ])('rejects %s', (_name, s) => {
    expect(() => base64urlToBytes(s)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_BASE64URL' }));
  });

  it('has exactly one accepted encoding per value (property)', () => {
    fc.assert(
      fc.property(fc.stringMatching(/^[A-Za-z0-9_-]{0,24}$/), (s) => {
        let bytes: Uint8Array;
        try {
          bytes = base64urlToBytes(s);
        } catch {
          return;
        }
        expect(bytesToBase64url(bytes)).toBe(s);
      }),
    );
  });
});

describe('utf8 and byte helpers', () => {
  it('round-trips strings and rejects malformed UTF-8', () => {
    fc.assert(
      fc.property(fc.string({ unit: 'grapheme' }), (s) => {
        expect(bytesToUtf8(utf8ToBytes(s))).toBe(s);
      }),
    );
    expect(() => bytesToUtf8(new Uint8Array([0xc3]))).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_UTF8' }));
  });

  it('compares, concatenates and checks lengths', () => {
    const a = new Uint8Array([1, 2, 3]);
    expect(constantTimeEqual(a, new Uint8Array([1, 2, 3]))).toBe(true);
    expect(constantTimeEqual(a, new Uint8Array([1, 2, 4]))).toBe(false);
    expect(constantTimeEqual(a, new Uint8Array([1, 2]))).toBe(false);
    expect(bytesEqual(a, a.slice())).toBe(true);
    expect(compareBytes(new Uint8Array([1, 255]), new Uint8Array([2]))).toBeLessThan(0);
    expect(compareBytes(new Uint8Array([1]), new Uint8Array([1, 0]))).toBeLessThan(0);
    expect(concatBytes(a, new Uint8Array(), new Uint8Array([9]))).toEqual(new Uint8Array([1, 2, 3, 9]));
    expect(() => assertLength('x', 1)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_LENGTH' }));
  });

  it('hashes with SHA-256 (FIPS 180-2 "abc")', () => {
    expect(bytesToHex(sha256(utf8ToBytes('abc')))).toBe(
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
    );
    expect(() => sha256('abc' as unknown as Uint8Array)).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_INPUT' }));
  });
});

describe('domain-separated signing (DESIGN.md §2)', () => {
  const kp = generateKeyPair();
  const body = { from: 'ait1x', nonce: 1, amount: 5n };

  it('signs utf8("AITBC/v1/" + kind + "\\n" + chainId + "\\n") || JCS(body)', () => {
    expect(bytesToUtf8(signingBytes('tx', 'aitbc-devnet', body))).toBe(
      'AITBC/v1/tx\naitbc-devnet\n{"amount":"5","from":"ait1x","nonce":1}',
    );
    expect(messageId('tx', 'aitbc-devnet', body)).toEqual(sha256(signingBytes('tx', 'aitbc-devnet', body)));
  });

  it('never verifies a signature for another kind, chain or body', () => {
    const sig = signMessage('tx', 'aitbc-devnet', body, kp.seed);
    expect(verifyMessage('tx', 'aitbc-devnet', body, sig, kp.publicKey)).toBe(true);
    expect(verifyMessage('vote', 'aitbc-devnet', body, sig, kp.publicKey)).toBe(false);
    expect(verifyMessage('tx', 'aitbc-mainnet', body, sig, kp.publicKey)).toBe(false);
    expect(verifyMessage('tx', 'aitbc-devnet', { ...body, nonce: 2 }, sig, kp.publicKey)).toBe(false);
    expect(verifyMessage('tx', 'aitbc-devnet', { x: Number.NaN }, sig, kp.publicKey)).toBe(false);
  });

  it('signingBytesOfCanonicalString gives the bytes of signingBytesOfCanonical, for any kind, chain and text', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('tx', 'block', 'vote'),
        fc.constantFrom('aitbc-devnet', 'aitbc-mainnet', 'c'),
        fc.jsonValue(),
        (kind, chainId, value) => {
          const text = canonicalizeToString(value as CanonicalValue);
          expect(signingBytesOfCanonicalString(kind, chainId, text)).toEqual(
            signingBytesOfCanonical(kind, chainId, utf8ToBytes(text)),
          );
          expect(signingBytesOfCanonicalString(kind, chainId, text)).toEqual(
            signingBytes(kind, chainId, value as CanonicalValue),
          );
          expect(utf8ToBytes(signingTextOfCanonical(kind, chainId, text))).toEqual(
            signingBytes(kind, chainId, value as CanonicalValue),
          );
        },
      ),
      { numRuns: 200 },
    );
    expect(() => signingBytesOfCanonicalString('Bad Kind', 'c', '{}')).toThrow(
      expect.objectContaining({ code: 'CRYPTO_BAD_DOMAIN' }),
    );
    // the last prefix is remembered: switching chains and kinds back and forth never mixes them up
    for (const [kind, chainId] of [
      ['tx', 'a'],
      ['tx', 'b'],
      ['vote', 'b'],
      ['tx', 'a'],
    ] as const)
      expect(bytesToUtf8(signingBytesOfCanonicalString(kind, chainId, '{}'))).toBe(`AITBC/v1/${kind}\n${chainId}\n{}`);
    expect(() => signingBytesOfCanonicalString('tx', 'chain\nid', '{}')).toThrow(
      expect.objectContaining({ code: 'CRYPTO_BAD_DOMAIN' }),
    );
  });

  it('rejects malformed kinds and chain ids', () => {
    expect(() => signingBytes('Bad Kind', 'c', {})).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_DOMAIN' }));
    expect(() => signingBytes('tx', 'chain\nid', {})).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_DOMAIN' }));
    expect(() => signingBytes('tx', '', {})).toThrow(expect.objectContaining({ code: 'CRYPTO_BAD_DOMAIN' }));
  });
});

describe('AitbcError', () => {
  it('carries code, details and cause, and serializes without the stack', () => {
    const cause = new Error('root');
    const e = new AitbcError('CRYPTO_TEST', 'something failed', { details: { field: 'x' }, cause });
    expect(e).toBeInstanceOf(Error);
    expect(e.name).toBe('AitbcError');
    expect(e.cause).toBe(cause);
    expect(e.toJSON()).toEqual({ code: 'CRYPTO_TEST', message: 'something failed', details: { field: 'x' } });
    expect(new AitbcError('X', 'y').toJSON()).toEqual({ code: 'X', message: 'y' });
    expect(isAitbcError(e)).toBe(true);
    expect(isAitbcError(e, 'CRYPTO_TEST')).toBe(true);
    expect(isAitbcError(e, 'OTHER')).toBe(false);
    expect(isAitbcError(new Error('x'))).toBe(false);
    expect(isAitbcError({ code: 'X', name: 'AitbcError' })).toBe(false);
  });
});
