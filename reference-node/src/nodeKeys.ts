import { chmodSync, existsSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { AitbcError, bytesToBase64url, type KeyPair, randomBytes } from '@aitbc/crypto';
import { createKeystore, type KdfParams, unlockKeystore } from '@aitbc/wallet';

/** The environment variable holding the keystore passphrase (wins over a passphrase file). */
export const PASSPHRASE_ENV = 'AITBC_KEY_PASSPHRASE';

/**
 * The keystore passphrase: `AITBC_KEY_PASSPHRASE` if set, else the first line of `file` (which must
 * not be readable by group or others).
 * @throws AitbcError `NODE_KEY_NO_PASSPHRASE`, `NODE_KEY_PASSPHRASE_FILE_MODE`, `NODE_KEY_UNREADABLE`.
 */
export function readPassphrase(
  file: string | undefined,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (file === undefined)
    throw new AitbcError(
      'NODE_KEY_NO_PASSPHRASE',
      `no keystore passphrase: set ${PASSPHRASE_ENV} or passphraseFile (AITBC_PASSPHRASE_FILE)`,
    );
  let mode: number;
  let text: string;
  try {
    mode = statSync(file).mode & 0o777;
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AitbcError('NODE_KEY_UNREADABLE', `cannot read the passphrase file ${file}`, {
      details: { file, reason: (err as NodeJS.ErrnoException).code ?? 'unknown' },
    });
  }
  if ((mode & 0o077) !== 0)
    throw new AitbcError(
      'NODE_KEY_PASSPHRASE_FILE_MODE',
      `the passphrase file ${file} is readable by others (mode ${mode.toString(8)}); chmod 600 it`,
      { details: { file, mode: mode.toString(8) } },
    );
  const line = text.split('\n')[0]?.trim() ?? '';
  if (line === '')
    throw new AitbcError('NODE_KEY_NO_PASSPHRASE', `the passphrase file ${file} is empty`, { details: { file } });
  return line;
}

/**
 * The passphrase for new keystores: `AITBC_KEY_PASSPHRASE` if set (nothing is written), else the one in
 * `file`, else a fresh random one written to `file` with mode 0600.
 */
export function ensurePassphrase(
  file: string,
  env: Readonly<Record<string, string | undefined>> = process.env,
): string {
  const fromEnv = env[PASSPHRASE_ENV];
  if (fromEnv !== undefined && fromEnv !== '') return fromEnv;
  if (existsSync(file)) return readPassphrase(file, {});
  const passphrase = bytesToBase64url(randomBytes(24));
  writeFileSync(file, `${passphrase}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
  return passphrase;
}

/** Writes a seed as an encrypted keystore file (mode 0600). */
export async function writeKeystoreFile(
  file: string,
  seed: Uint8Array,
  passphrase: string,
  kdf?: KdfParams,
): Promise<void> {
  const keystore = await createKeystore(seed, passphrase, kdf === undefined ? {} : { kdf });
  writeFileSync(file, `${JSON.stringify(keystore, null, 2)}\n`, { mode: 0o600 });
  chmodSync(file, 0o600);
}

/**
 * Reads and decrypts a keystore file. Files written with fast devnet parameters stay as they are (no
 * upgrade is written back: the node never rewrites its key file).
 * @throws AitbcError `NODE_KEY_UNREADABLE`, or the wallet's `WALLET_*` codes (wrong passphrase, tampered...).
 */
export async function readKeystoreFile(file: string, passphrase: string): Promise<KeyPair> {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (err) {
    throw new AitbcError('NODE_KEY_UNREADABLE', `cannot read the keystore ${file}`, {
      details: { file, reason: (err as NodeJS.ErrnoException).code ?? 'unknown' },
    });
  }
  const { seed, publicKey } = await unlockKeystore(text, passphrase, { upgrade: false });
  return { seed, publicKey };
}
