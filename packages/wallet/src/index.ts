/**
 * The AITBC wallet: the encrypted keystore (Argon2id + XChaCha20-Poly1305, header as associated
 * data), BIP-39 mnemonics with SLIP-0010 Ed25519 derivation, and a signer. Browser-safe. The wallet
 * daemon (Node) is the `@aitbc/wallet/daemon` entry.
 * @packageDocumentation
 */
export {
  changePassphrase,
  createKeystore,
  DEFAULT_KDF,
  type DeriveKey,
  deriveKey,
  type KdfParams,
  type Keystore,
  MIN_KDF,
  open,
  seal,
  type UnlockedKey,
  type UnlockOptions,
  unlockKeystore,
} from './keystore.js';
export {
  AITBC_COIN_TYPE,
  accountPath,
  generateMnemonic,
  mnemonicToBip39Seed,
  normalizeMnemonic,
  seedFromMnemonic,
} from './mnemonic.js';
export {
  deriveSlip10Ed25519,
  HARDENED_OFFSET,
  parseHardenedPath,
  type Slip10Node,
  slip10Child,
  slip10MasterNode,
} from './slip10.js';
export {
  createWalletSigner,
  MESSAGE_KINDS,
  type MessageSignature,
  type SignedTransfer,
  type WalletSigner,
} from './walletSigner.js';
