import {
  AitbcError,
  addressFromPublicKey,
  bytesEqual,
  bytesToHex,
  canonicalize,
  constantTimeEqual,
  hexToBytes,
  publicKeyFromSeed,
  randomBytes,
  sha256,
} from '@aitbc/crypto';
import { xchacha20poly1305 } from '@noble/ciphers/chacha.js';
import { argon2id } from 'hash-wasm';

/**
 * Argon2id parameters: memory in KiB, iterations, parallelism.
 *
 * @example
 * ```ts
 * import { createKeystore, type KdfParams } from '@aitbc/wallet';
 * const kdf: KdfParams = { m: 131_072, t: 4, p: 1 }; // 128 MiB, 4 passes
 * const file = await createKeystore(seed, passphrase, { kdf });
 * ```
 */
export interface KdfParams {
  readonly m: number;
  readonly t: number;
  readonly p: number;
}

/**
 * The keystore file (DESIGN.md §6). Binary fields are lowercase hex.
 *
 * @example
 * ```ts
 * import { createKeystore, type Keystore, unlockKeystore } from '@aitbc/wallet';
 * const file: Keystore = await createKeystore(seed, passphrase);
 * await writeFile('wallet.json', JSON.stringify(file)); // file.address is readable without the passphrase
 * const { address } = await unlockKeystore(await readFile('wallet.json', 'utf8'), passphrase);
 * ```
 */
export interface Keystore {
  readonly version: 1;
  readonly id: string;
  readonly address: string;
  readonly publicKey: string;
  readonly kdf: {
    readonly name: 'argon2id';
    readonly m: number;
    readonly t: number;
    readonly p: number;
    readonly salt: string;
  };
  readonly cipher: { readonly name: 'xchacha20-poly1305'; readonly nonce: string };
  /** First 8 bytes of SHA-256 of the derived key: tells a wrong passphrase from a tampered file. */
  readonly check: string;
  readonly ciphertext: string;
}

/**
 * Default Argon2id parameters: 64 MiB, 3 passes, 1 lane (≈0.3 s here, by design).
 *
 * @example
 * ```ts
 * import { createKeystore, DEFAULT_KDF } from '@aitbc/wallet';
 * const file = await createKeystore(seed, passphrase, { kdf: DEFAULT_KDF }); // the default, spelled out
 * ```
 */
export const DEFAULT_KDF: KdfParams = Object.freeze({ m: 65_536, t: 3, p: 1 });
/**
 * The lowest parameters accepted when creating a keystore (for tests and constrained devices).
 *
 * @example
 * ```ts
 * import { createKeystore, MIN_KDF } from '@aitbc/wallet';
 * const testFile = await createKeystore(seed, 'test', { kdf: MIN_KDF }); // fast, for tests only
 * ```
 */
export const MIN_KDF: KdfParams = Object.freeze({ m: 8_192, t: 1, p: 1 });
const MAX_KDF: KdfParams = Object.freeze({ m: 4_194_304, t: 64, p: 16 });

/**
 * A key-derivation function with {@link deriveKey}'s contract. The wallet daemon passes one that runs
 * Argon2id on a worker thread, so the event loop stays free during an unlock.
 *
 * @example
 * ```ts
 * import { type DeriveKey, deriveKey, unlockKeystore } from '@aitbc/wallet';
 * const timed: DeriveKey = async (passphrase, salt, params) => {
 *   const t0 = performance.now();
 *   try { return await deriveKey(passphrase, salt, params); } finally { console.log(`kdf ${performance.now() - t0} ms`); }
 * };
 * await unlockKeystore(file, passphrase, { derive: timed });
 * ```
 */
export type DeriveKey = (passphrase: string, salt: Uint8Array, params: KdfParams) => Promise<Uint8Array>;

/**
 * Argon2id through hash-wasm (WASM; the library API is async).
 * @throws AitbcError `WALLET_BAD_KDF` for parameters out of range.
 *
 * @example
 * ```ts
 * import { deriveKey, MIN_KDF } from '@aitbc/wallet';
 * import { randomBytes } from '@aitbc/crypto';
 * const key = await deriveKey('passphrase', randomBytes(16), MIN_KDF); // 32 bytes
 * ```
 */
export async function deriveKey(passphrase: string, salt: Uint8Array, params: KdfParams): Promise<Uint8Array> {
  checkKdf(params);
  return argon2id({
    password: passphrase,
    salt,
    iterations: params.t,
    memorySize: params.m,
    parallelism: params.p,
    hashLength: 32,
    outputType: 'binary',
  });
}

/**
 * XChaCha20-Poly1305 seal (ciphertext ‖ 16-byte tag).
 *
 * @example
 * ```ts
 * import { open, seal } from '@aitbc/wallet';
 * import { randomBytes, utf8ToBytes } from '@aitbc/crypto';
 * const key = randomBytes(32);
 * const nonce = randomBytes(24);
 * const sealed = seal(key, nonce, utf8ToBytes('secret'), utf8ToBytes('header'));
 * open(key, nonce, sealed, utf8ToBytes('header')); // the plaintext bytes again
 * ```
 */
export function seal(key: Uint8Array, nonce: Uint8Array, plaintext: Uint8Array, aad: Uint8Array): Uint8Array {
  return xchacha20poly1305(key, nonce, aad).encrypt(plaintext);
}

/**
 * XChaCha20-Poly1305 open; `undefined` when authentication fails.
 *
 * @example
 * ```ts
 * import { open } from '@aitbc/wallet';
 * const plaintext = open(key, nonce, sealed, aad);
 * if (plaintext === undefined) throw new Error('wrong key or tampered data');
 * ```
 */
export function open(key: Uint8Array, nonce: Uint8Array, sealed: Uint8Array, aad: Uint8Array): Uint8Array | undefined {
  try {
    return xchacha20poly1305(key, nonce, aad).decrypt(sealed);
  } catch {
    return undefined;
  }
}

function checkKdf(p: KdfParams): void {
  const ok = (v: number, lo: number, hi: number) => Number.isSafeInteger(v) && v >= lo && v <= hi;
  if (
    !ok(p.m, MIN_KDF.m, MAX_KDF.m) ||
    !ok(p.t, MIN_KDF.t, MAX_KDF.t) ||
    !ok(p.p, MIN_KDF.p, MAX_KDF.p) ||
    p.m < 8 * p.p
  ) {
    throw new AitbcError(
      'WALLET_BAD_KDF',
      `Argon2id parameters must be m in [${MIN_KDF.m}, ${MAX_KDF.m}] KiB, t in [1, 64], p in [1, 16]`,
    );
  }
}

/** The associated data: the canonical JSON of every field but the ciphertext. */
function header(k: Omit<Keystore, 'ciphertext'>): Uint8Array {
  return canonicalize({
    version: k.version,
    id: k.id,
    address: k.address,
    publicKey: k.publicKey,
    kdf: k.kdf,
    cipher: k.cipher,
    check: k.check,
  });
}

const ID_RE = /^[A-Za-z0-9._-]{1,128}$/;
const checkOf = (key: Uint8Array) => bytesToHex(sha256(key).subarray(0, 8));

/**
 * Encrypts a 32-byte Ed25519 seed under a passphrase: Argon2id (random 16-byte salt) derives the key,
 * XChaCha20-Poly1305 (random 24-byte nonce) encrypts the seed with the whole header as associated
 * data, so no header field can be swapped. The id is random (16 bytes hex) unless given; an upgrade
 * on unlock keeps the file's id.
 *
 * @example
 * ```ts
 * const file = await createKeystore(seed, 'correct horse battery staple');
 * const { seed: back } = await unlockKeystore(file, 'correct horse battery staple');
 * ```
 * @throws AitbcError `WALLET_BAD_KDF`, `WALLET_BAD_INPUT`.
 */
export async function createKeystore(
  seed: Uint8Array,
  passphrase: string,
  options: { kdf?: KdfParams; derive?: DeriveKey; id?: string } = {},
): Promise<Keystore> {
  if (options.id !== undefined && (typeof options.id !== 'string' || !ID_RE.test(options.id)))
    throw new AitbcError('WALLET_BAD_INPUT', 'a keystore id is 1-128 characters of [A-Za-z0-9._-]');
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new AitbcError('WALLET_BAD_INPUT', 'the seed must be 32 bytes');
  if (typeof passphrase !== 'string' || passphrase.length === 0)
    throw new AitbcError('WALLET_BAD_INPUT', 'the passphrase must be a non-empty string');
  const params = options.kdf ?? DEFAULT_KDF;
  checkKdf(params);
  const salt = randomBytes(16);
  const nonce = randomBytes(24);
  const key = await (options.derive ?? deriveKey)(passphrase, salt, params);
  const publicKey = publicKeyFromSeed(seed);
  const head = {
    version: 1 as const,
    id: options.id ?? bytesToHex(randomBytes(16)),
    address: addressFromPublicKey(publicKey),
    publicKey: bytesToHex(publicKey),
    kdf: { name: 'argon2id' as const, m: params.m, t: params.t, p: params.p, salt: bytesToHex(salt) },
    cipher: { name: 'xchacha20-poly1305' as const, nonce: bytesToHex(nonce) },
    check: checkOf(key),
  };
  const ciphertext = seal(key, nonce, seed, header(head));
  key.fill(0);
  return { ...head, ciphertext: bytesToHex(ciphertext) };
}

function parse(input: unknown): Keystore {
  let o: unknown = input;
  if (typeof input === 'string') {
    try {
      o = JSON.parse(input);
    } catch {
      throw new AitbcError('WALLET_TRUNCATED', 'the keystore is not complete JSON (truncated or corrupted)');
    }
  }
  if (typeof o !== 'object' || o === null)
    throw new AitbcError('WALLET_MALFORMED', 'the keystore must be a JSON object');
  const k = o as Record<string, unknown>;
  if (k.version !== 1)
    throw new AitbcError('WALLET_UNSUPPORTED_VERSION', `keystore version ${String(k.version)} is not supported`, {
      details: { version: typeof k.version === 'number' ? k.version : null },
    });
  const kdf = k.kdf as Record<string, unknown> | undefined;
  const cipher = k.cipher as Record<string, unknown> | undefined;
  const hex = (v: unknown, len?: number) =>
    typeof v === 'string' && /^([0-9a-f]{2})*$/.test(v) && (len === undefined || v.length === len * 2);
  if (
    typeof k.id !== 'string' ||
    typeof k.address !== 'string' ||
    !hex(k.publicKey, 32) ||
    kdf?.name !== 'argon2id' ||
    !hex(kdf.salt, 16) ||
    typeof kdf.m !== 'number' ||
    typeof kdf.t !== 'number' ||
    typeof kdf.p !== 'number' ||
    cipher?.name !== 'xchacha20-poly1305' ||
    !hex(cipher.nonce, 24) ||
    !hex(k.check, 8)
  ) {
    throw new AitbcError('WALLET_MALFORMED', 'the keystore header is incomplete or malformed');
  }
  if (!hex(k.ciphertext, 48))
    throw new AitbcError('WALLET_TRUNCATED', 'the keystore ciphertext is missing or truncated');
  return k as unknown as Keystore;
}

/**
 * What {@link unlockKeystore} returns.
 *
 * @example
 * ```ts
 * import { type UnlockedKey, unlockKeystore } from '@aitbc/wallet';
 * const unlocked: UnlockedKey = await unlockKeystore(fileText, passphrase);
 * if (unlocked.upgraded) await writeFile(path, JSON.stringify(unlocked.upgraded)); // stronger KDF, same key
 * ```
 */
export interface UnlockedKey {
  readonly seed: Uint8Array;
  readonly publicKey: Uint8Array;
  readonly address: string;
  /** A re-encrypted keystore when the file was below the current default parameters (save it). */
  readonly upgraded?: Keystore;
}

/**
 * Options of {@link unlockKeystore}.
 *
 * @example
 * ```ts
 * import { unlockKeystore, type UnlockOptions } from '@aitbc/wallet';
 * const options: UnlockOptions = { upgrade: false }; // read-only: never re-encrypt
 * const { seed, address } = await unlockKeystore(fileText, passphrase, options);
 * ```
 */
export interface UnlockOptions {
  /** Re-encrypt a file below `upgradeTo` (default true). */
  readonly upgrade?: boolean;
  /** The parameters to upgrade to (default {@link DEFAULT_KDF}). */
  readonly upgradeTo?: KdfParams;
  /** The key-derivation function (default {@link deriveKey}, on the calling thread). */
  readonly derive?: DeriveKey;
}

/**
 * Decrypts a keystore (object or JSON text). A file below {@link DEFAULT_KDF} (or `upgradeTo`) is
 * re-encrypted with those parameters and returned as `upgraded` (opt out with `upgrade: false`).
 * @throws AitbcError `WALLET_WRONG_PASSPHRASE`, `WALLET_TAMPERED` (a header field or the ciphertext was
 * changed), `WALLET_UNSUPPORTED_VERSION`, `WALLET_TRUNCATED`, `WALLET_MALFORMED`, `WALLET_BAD_KDF`.
 * None of them says which byte was wrong.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * import { unlockKeystore } from '@aitbc/wallet';
 * try {
 *   const { seed, address } = await unlockKeystore(fileText, passphrase);
 * } catch (e) {
 *   if (isAitbcError(e, 'WALLET_WRONG_PASSPHRASE')) console.error('wrong passphrase');
 * }
 * ```
 */
export async function unlockKeystore(
  input: Keystore | string,
  passphrase: string,
  options: UnlockOptions = {},
): Promise<UnlockedKey> {
  const k = parse(input);
  const params = { m: k.kdf.m, t: k.kdf.t, p: k.kdf.p };
  checkKdf(params);
  const derive = options.derive ?? deriveKey;
  const key = await derive(passphrase, hexToBytes(k.kdf.salt), params);
  try {
    if (!constantTimeEqual(hexToBytes(checkOf(key)), hexToBytes(k.check)))
      throw new AitbcError('WALLET_WRONG_PASSPHRASE', 'the passphrase is wrong');
    const seed = open(key, hexToBytes(k.cipher.nonce), hexToBytes(k.ciphertext), header(k));
    if (seed === undefined) throw new AitbcError('WALLET_TAMPERED', 'the keystore was modified after it was written');
    const publicKey = publicKeyFromSeed(seed);
    if (!bytesEqual(publicKey, hexToBytes(k.publicKey)) || addressFromPublicKey(publicKey) !== k.address) {
      throw new AitbcError('WALLET_TAMPERED', 'the keystore was modified after it was written');
    }
    const target = options.upgradeTo ?? DEFAULT_KDF;
    const below = params.m < target.m || params.t < target.t;
    const upgraded =
      below && options.upgrade !== false
        ? await createKeystore(seed, passphrase, { kdf: target, derive, ...(ID_RE.test(k.id) ? { id: k.id } : {}) })
        : undefined;
    return upgraded === undefined
      ? { seed, publicKey, address: k.address }
      : { seed, publicKey, address: k.address, upgraded };
  } finally {
    key.fill(0);
  }
}

/**
 * Re-encrypts a keystore under a new passphrase (fresh salt and nonce; current default parameters
 * unless given).
 * @throws as {@link unlockKeystore} and {@link createKeystore}.
 *
 * @example
 * ```ts
 * import { changePassphrase } from '@aitbc/wallet';
 * const next = await changePassphrase(fileText, 'old passphrase', 'new passphrase');
 * await writeFile(path, JSON.stringify(next));
 * ```
 */
export async function changePassphrase(
  input: Keystore | string,
  oldPassphrase: string,
  newPassphrase: string,
  options: { kdf?: KdfParams; derive?: DeriveKey } = {},
): Promise<Keystore> {
  const { seed } = await unlockKeystore(input, oldPassphrase, {
    upgrade: false,
    ...(options.derive !== undefined ? { derive: options.derive } : {}),
  });
  try {
    return await createKeystore(seed, newPassphrase, options);
  } finally {
    seed.fill(0);
  }
}
