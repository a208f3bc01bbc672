import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToHex, hexToBytes, publicKeyFromSeed } from '@aitbc/crypto';
import { entropyToMnemonic } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { describe, expect, it } from 'vitest';
import {
  AITBC_COIN_TYPE,
  accountPath,
  deriveSlip10Ed25519,
  generateMnemonic,
  mnemonicToBip39Seed,
  normalizeMnemonic,
  parseHardenedPath,
  seedFromMnemonic,
} from '../src/index.js';

const vectors = (name: string) => JSON.parse(readFileSync(join(import.meta.dirname, 'vectors', name), 'utf8'));
const bip39 = vectors('bip39-english.json') as {
  passphrase: string;
  english: { entropy: string; mnemonic: string; seed: string }[];
};
const slip10 = vectors('slip10-ed25519.json') as {
  vectors: { seed: string; chains: { path: string; chainCode: string; private: string; public: string }[] }[];
};

describe('BIP-39 (reference vectors, passphrase "TREZOR")', () => {
  it.each(bip39.english)('$mnemonic', async (v) => {
    expect(entropyToMnemonic(hexToBytes(v.entropy), wordlist)).toBe(v.mnemonic);
    expect(normalizeMnemonic(v.mnemonic)).toBe(v.mnemonic);
    expect(bytesToHex(await mnemonicToBip39Seed(v.mnemonic, bip39.passphrase))).toBe(v.seed);
  });
});

describe('SLIP-0010 Ed25519 (test vectors 1 and 2)', () => {
  const cases = slip10.vectors.flatMap((v) => v.chains.map((c) => ({ seed: v.seed, ...c })));
  it.each(cases)('$seed $path', (c) => {
    const node = deriveSlip10Ed25519(hexToBytes(c.seed), c.path);
    expect(bytesToHex(node.chainCode)).toBe(c.chainCode);
    expect(bytesToHex(node.key)).toBe(c.private);
    expect(`00${bytesToHex(publicKeyFromSeed(node.key))}`).toBe(c.public);
  });

  it('refuses unhardened and malformed paths', () => {
    expect(() => parseHardenedPath("m/44'/8006'/0")).toThrow(expect.objectContaining({ code: 'WALLET_BAD_PATH' }));
    expect(() => parseHardenedPath("44'/0'")).toThrow(expect.objectContaining({ code: 'WALLET_BAD_PATH' }));
    expect(() => parseHardenedPath("m/2147483648'")).toThrow(expect.objectContaining({ code: 'WALLET_BAD_PATH' }));
    expect(() => parseHardenedPath("m/01'")).toThrow(expect.objectContaining({ code: 'WALLET_BAD_PATH' }));
    expect(parseHardenedPath("m/0H/1'")).toEqual([0x8000_0000, 0x8000_0001]);
    expect(() => deriveSlip10Ed25519(new Uint8Array(8), 'm')).toThrow(
      expect.objectContaining({ code: 'WALLET_BAD_INPUT' }),
    );
  });
});

describe('AITBC accounts from mnemonics', () => {
  const phrase = bip39.english[0]!.mnemonic; // abandon ×11 about

  it("derives m/44'/8006'/<account>'/0'/0' deterministically, distinct per account and BIP-39 passphrase", async () => {
    expect(AITBC_COIN_TYPE).toBe(8006);
    expect(accountPath(3)).toBe("m/44'/8006'/3'/0'/0'");
    const a0 = await seedFromMnemonic(phrase);
    const bip39Seed = await mnemonicToBip39Seed(phrase);
    expect(a0).toEqual(deriveSlip10Ed25519(bip39Seed, "m/44'/8006'/0'/0'/0'").key);
    expect(await seedFromMnemonic(`  ${phrase.toUpperCase().replaceAll(' ', '   ')} `)).toEqual(a0);
    const a1 = await seedFromMnemonic(phrase, { account: 1 });
    const withPass = await seedFromMnemonic(phrase, { bip39Passphrase: 'x' });
    expect(new Set([a0, a1, withPass].map(bytesToHex)).size).toBe(3);
    // A regression pin (computed by this code from the vectors above): a change in derivation would
    // restore users' mnemonics to different, empty accounts, so it must fail loudly.
    expect(addressFromPublicKey(publicKeyFromSeed(a0))).toBe('ait10kmz7d4kvpwcee83dw2z29n0nxxvea9nntrqdh');
    expect(() => accountPath(-1)).toThrow(expect.objectContaining({ code: 'WALLET_BAD_INPUT' }));
  });

  it('generates valid 24- and 12-word mnemonics', () => {
    const a = generateMnemonic();
    expect(a.split(' ')).toHaveLength(24);
    expect(normalizeMnemonic(a)).toBe(a);
    expect(generateMnemonic(12).split(' ')).toHaveLength(12);
    expect(a).not.toBe(generateMnemonic());
    expect(() => generateMnemonic(13 as 12)).toThrow(expect.objectContaining({ code: 'WALLET_BAD_INPUT' }));
  });

  it('tells a bad word (by position, never the word) from a bad checksum and a bad length', () => {
    const words = phrase.split(' ');
    const badWord = [...words.slice(0, 4), 'notaword', ...words.slice(5)].join(' ');
    let err: unknown;
    try {
      normalizeMnemonic(badWord);
    } catch (e) {
      err = e;
    }
    expect(err).toMatchObject({ code: 'WALLET_BAD_MNEMONIC_WORD', details: { position: 5 } });
    expect(JSON.stringify(err) + String((err as Error).message)).not.toContain('notaword');
    // every word valid, last word changed: checksum fails
    const badSum = [...words.slice(0, 11), 'abandon'].join(' ');
    expect(() => normalizeMnemonic(badSum)).toThrow(expect.objectContaining({ code: 'WALLET_BAD_MNEMONIC_CHECKSUM' }));
    expect(() => normalizeMnemonic(words.slice(0, 11).join(' '))).toThrow(
      expect.objectContaining({ code: 'WALLET_BAD_MNEMONIC_LENGTH' }),
    );
    expect(() => normalizeMnemonic(42 as unknown as string)).toThrow(
      expect.objectContaining({ code: 'WALLET_BAD_MNEMONIC_LENGTH' }),
    );
  });
});
