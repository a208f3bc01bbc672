/**
 * The AITBC wallet keystore: a 32-byte Ed25519 seed encrypted under a passphrase with Argon2id and
 * XChaCha20-Poly1305, the header bound as associated data. Browser-safe.
 * @packageDocumentation
 */
export {
  changePassphrase,
  createKeystore,
  DEFAULT_KDF,
  deriveKey,
  type KdfParams,
  type Keystore,
  MIN_KDF,
  open,
  seal,
  type UnlockedKey,
  unlockKeystore,
} from './keystore.js';
