import { AitbcError, randomBytes } from '@aitbc/crypto';
import { entropyToMnemonic, mnemonicToEntropy, mnemonicToSeed } from '@scure/bip39';
import { wordlist } from '@scure/bip39/wordlists/english.js';
import { deriveSlip10Ed25519 } from './slip10.js';

/**
 * AITBC's BIP-44 coin type: 8006 (the node's RPC port). It was unassigned in SLIP-0044 when chosen
 * (neighbours: 8000 Skycoin, 8008 Berachain); register it before a public network.
 *
 * @example
 * ```ts
 * import { AITBC_COIN_TYPE } from '@aitbc/wallet';
 * const path = `m/44'/${AITBC_COIN_TYPE}'/0'/0'/0'`; // same as accountPath(0)
 * ```
 */
export const AITBC_COIN_TYPE = 8006;

/** Word counts BIP-39 defines. */
const WORD_COUNTS = new Set([12, 15, 18, 21, 24]);
const WORDS = new Set(wordlist);

/**
 * The all-hardened SLIP-0010 path of an account: `m/44'/8006'/<account>'/0'/0'` (BIP-44 levels,
 * every one hardened because Ed25519 has no public derivation).
 * @throws AitbcError `WALLET_BAD_INPUT` for an account outside [0, 2^31).
 *
 * @example
 * ```ts
 * import { accountPath } from '@aitbc/wallet';
 * accountPath(); // "m/44'/8006'/0'/0'/0'"
 * accountPath(2); // "m/44'/8006'/2'/0'/0'"
 * ```
 */
export function accountPath(account = 0): string {
  if (!Number.isInteger(account) || account < 0 || account >= 0x8000_0000)
    throw new AitbcError('WALLET_BAD_INPUT', 'account must be an integer in [0, 2^31)');
  return `m/44'/${AITBC_COIN_TYPE}'/${account}'/0'/0'`;
}

/**
 * A fresh English BIP-39 mnemonic: 24 words (256 bits of entropy) by default, or 12 (128 bits).
 * @throws AitbcError `WALLET_BAD_INPUT` for another word count.
 *
 * @example
 * ```ts
 * import { generateMnemonic, seedFromMnemonic } from '@aitbc/wallet';
 * const words = generateMnemonic(); // 24 words; show once, let the user write them down
 * const seed = await seedFromMnemonic(words);
 * ```
 */
export function generateMnemonic(words: 12 | 24 = 24): string {
  if (words !== 12 && words !== 24) throw new AitbcError('WALLET_BAD_INPUT', 'a new mnemonic has 12 or 24 words');
  const entropy = randomBytes(words === 24 ? 32 : 16);
  try {
    return entropyToMnemonic(entropy, wordlist);
  } finally {
    entropy.fill(0);
  }
}

/**
 * Normalizes (NFKD, single spaces, lowercase) and checks a mnemonic: the word count, every word
 * against the English list, then the checksum. Errors name the position of a bad word, never the word.
 * @throws AitbcError `WALLET_BAD_MNEMONIC_LENGTH`, `WALLET_BAD_MNEMONIC_WORD` (details.position, 1-based),
 * `WALLET_BAD_MNEMONIC_CHECKSUM`.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * import { normalizeMnemonic } from '@aitbc/wallet';
 * try {
 *   const phrase = normalizeMnemonic(userInput); // '  Abandon  abandon …' → 'abandon abandon …'
 * } catch (e) {
 *   if (isAitbcError(e, 'WALLET_BAD_MNEMONIC_WORD')) console.error(`word ${e.details?.position} is not in the list`);
 * }
 * ```
 */
export function normalizeMnemonic(mnemonic: string): string {
  if (typeof mnemonic !== 'string' || mnemonic.length > 1024)
    throw new AitbcError('WALLET_BAD_MNEMONIC_LENGTH', 'a mnemonic is a string of 12 to 24 words');
  const words = mnemonic.normalize('NFKD').toLowerCase().trim().split(/\s+/u);
  if (!WORD_COUNTS.has(words.length))
    throw new AitbcError('WALLET_BAD_MNEMONIC_LENGTH', 'a mnemonic has 12, 15, 18, 21 or 24 words', {
      details: { words: words.length },
    });
  const bad = words.findIndex((w) => !WORDS.has(w));
  if (bad >= 0)
    throw new AitbcError('WALLET_BAD_MNEMONIC_WORD', `word ${bad + 1} is not in the BIP-39 English list`, {
      details: { position: bad + 1 },
    });
  const phrase = words.join(' ');
  let entropy: Uint8Array;
  try {
    entropy = mnemonicToEntropy(phrase, wordlist);
  } catch {
    // No cause: the library's message could quote the phrase.
    throw new AitbcError(
      'WALLET_BAD_MNEMONIC_CHECKSUM',
      'the mnemonic checksum does not match (a word is wrong or out of order)',
    );
  }
  entropy.fill(0);
  return phrase;
}

/**
 * The 64-byte BIP-39 seed (PBKDF2-HMAC-SHA512, 2048 rounds) of a checked mnemonic. @throws as {@link normalizeMnemonic}.
 *
 * @example
 * ```ts
 * import { mnemonicToBip39Seed, slip10MasterNode } from '@aitbc/wallet';
 * const bip39Seed = await mnemonicToBip39Seed(mnemonic); // 64 bytes
 * const master = slip10MasterNode(bip39Seed);
 * ```
 */
export async function mnemonicToBip39Seed(mnemonic: string, bip39Passphrase = ''): Promise<Uint8Array> {
  if (typeof bip39Passphrase !== 'string' || bip39Passphrase.length > 1024)
    throw new AitbcError('WALLET_BAD_INPUT', 'the BIP-39 passphrase must be a string of at most 1024 characters');
  return mnemonicToSeed(normalizeMnemonic(mnemonic), bip39Passphrase);
}

/**
 * The Ed25519 seed of an account of a mnemonic: BIP-39 seed, then SLIP-0010 at {@link accountPath}.
 *
 * @example
 * ```ts
 * const seed = await seedFromMnemonic(generateMnemonic(), { account: 0 });
 * ```
 * @throws as {@link normalizeMnemonic}, `WALLET_BAD_INPUT`.
 */
export async function seedFromMnemonic(
  mnemonic: string,
  options: { bip39Passphrase?: string; account?: number } = {},
): Promise<Uint8Array> {
  const path = accountPath(options.account ?? 0);
  const bip39 = await mnemonicToBip39Seed(mnemonic, options.bip39Passphrase ?? '');
  try {
    const node = deriveSlip10Ed25519(bip39, path);
    node.chainCode.fill(0);
    return node.key;
  } finally {
    bip39.fill(0);
  }
}
