import { addressFromPublicKey, canonicalize, generateKeyPair, utf8ToBytes } from '@aitbc/crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { accountKey, decodeAccount, encodeAccount } from '../src/index.js';

describe('account records', () => {
  it('encodeAccount is byte for byte the JCS of {balance, nonce}, and decodeAccount inverts it', () => {
    fc.assert(
      fc.property(
        fc.bigInt({ min: 0n, max: 10n ** 77n }),
        fc.integer({ min: 0, max: Number.MAX_SAFE_INTEGER }),
        (balance, nonce) => {
          const bytes = encodeAccount({ balance, nonce });
          expect(bytes).toEqual(canonicalize({ balance, nonce }));
          expect(decodeAccount(bytes)).toEqual({ balance, nonce });
        },
      ),
      { numRuns: 300 },
    );
  });

  it('decodes other JSON spellings of an account the same way, and rejects records that are no account', () => {
    expect(decodeAccount(utf8ToBytes('{"nonce":3,"balance":"7"}'))).toEqual({ balance: 7n, nonce: 3 });
    expect(decodeAccount(utf8ToBytes('{"balance":"007","nonce":3}'))).toEqual({ balance: 7n, nonce: 3 });
    expect(decodeAccount(utf8ToBytes('{ "balance": "5", "nonce": 0 }'))).toEqual({ balance: 5n, nonce: 0 });
    expect(() => decodeAccount(utf8ToBytes('{"balance":5,"nonce":0}'))).toThrow(
      expect.objectContaining({ code: 'CHAIN_STATE_CORRUPT' }),
    );
    expect(() => decodeAccount(utf8ToBytes('{"balance":"5","nonce":"0"}'))).toThrow(
      expect.objectContaining({ code: 'CHAIN_STATE_CORRUPT' }),
    );
    expect(() => decodeAccount(utf8ToBytes('{"balance":"5","nonce":0}x'))).toThrow();
  });

  it('accountKey hands out copies (mutating one leaves the next intact) and rejects invalid addresses', () => {
    const address = addressFromPublicKey(generateKeyPair().publicKey);
    const first = accountKey(address);
    const expected = first.slice();
    first.fill(0);
    expect(accountKey(address)).toEqual(expected);
    const typo = `${address.slice(0, -1)}${address.endsWith('x') ? 'q' : 'x'}`; // never the same character
    expect(() => accountKey(typo)).toThrow(expect.objectContaining({ name: 'AitbcError' }));
  });
});
