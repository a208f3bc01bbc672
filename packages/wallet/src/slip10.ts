import { AitbcError, concatBytes, utf8ToBytes } from '@aitbc/crypto';
import { hmac } from '@noble/hashes/hmac.js';
import { sha512 } from '@noble/hashes/sha2.js';

/**
 * A SLIP-0010 extended private key: the 32-byte Ed25519 seed and its chain code.
 *
 * @example
 * ```ts
 * import { mnemonicToBip39Seed, type Slip10Node, slip10Child, slip10MasterNode } from '@aitbc/wallet';
 * const master: Slip10Node = slip10MasterNode(await mnemonicToBip39Seed(mnemonic));
 * const child: Slip10Node = slip10Child(master, 0x8000_002c); // m/44'
 * ```
 */
export interface Slip10Node {
  /** The private key: an Ed25519 seed (RFC 8032 "private key"). */
  readonly key: Uint8Array;
  readonly chainCode: Uint8Array;
}

/**
 * Index offset of hardened children (2^31).
 *
 * @example
 * ```ts
 * import { HARDENED_OFFSET, slip10Child } from '@aitbc/wallet';
 * const purpose = slip10Child(master, HARDENED_OFFSET + 44); // m/44'
 * ```
 */
export const HARDENED_OFFSET = 0x8000_0000;
const MAX_DEPTH = 32;
const MASTER_KEY = utf8ToBytes('ed25519 seed');
const SEGMENT_RE = /^(0|[1-9][0-9]{0,9})'$/;

/**
 * Parses an all-hardened derivation path such as `m/44'/8006'/0'/0'/0'` into child indexes (each
 * `+ 2^31`). Ed25519 under SLIP-0010 has hardened derivation only, so an unhardened segment is refused.
 * @throws AitbcError `WALLET_BAD_PATH`.
 *
 * @example
 * ```ts
 * import { parseHardenedPath } from '@aitbc/wallet';
 * parseHardenedPath("m/44'/8006'/0'"); // [0x8000002c, 0x80001f46, 0x80000000]
 * ```
 */
export function parseHardenedPath(path: string): number[] {
  if (typeof path !== 'string' || path.length > 512)
    throw new AitbcError('WALLET_BAD_PATH', "a derivation path is a string like m/44'/8006'/0'/0'/0'");
  const parts = path.split('/');
  if (parts[0] !== 'm' || parts.length - 1 > MAX_DEPTH)
    throw new AitbcError('WALLET_BAD_PATH', `a derivation path starts with m and has at most ${MAX_DEPTH} levels`);
  return parts.slice(1).map((segment, i) => {
    const m = SEGMENT_RE.exec(segment.replace(/H$/, "'"));
    const n = m === null ? Number.NaN : Number(m[1]);
    if (!(n < HARDENED_OFFSET))
      throw new AitbcError('WALLET_BAD_PATH', 'every level must be hardened (Ed25519 has no public derivation)', {
        details: { level: i + 1 },
      });
    return n + HARDENED_OFFSET;
  });
}

/**
 * The SLIP-0010 Ed25519 master node of a BIP-39 seed (16–64 bytes): HMAC-SHA512("ed25519 seed", seed).
 *
 * @example
 * ```ts
 * import { mnemonicToBip39Seed, slip10MasterNode } from '@aitbc/wallet';
 * const { key, chainCode } = slip10MasterNode(await mnemonicToBip39Seed(mnemonic));
 * ```
 */
export function slip10MasterNode(seed: Uint8Array): Slip10Node {
  if (!(seed instanceof Uint8Array) || seed.length < 16 || seed.length > 64)
    throw new AitbcError('WALLET_BAD_INPUT', 'a SLIP-0010 seed is 16 to 64 bytes');
  const i = hmac(sha512, MASTER_KEY, seed);
  return { key: i.slice(0, 32), chainCode: i.slice(32) };
}

/**
 * One hardened child: HMAC-SHA512(chainCode, 0x00 ‖ key ‖ ser32(index)).
 *
 * @example
 * ```ts
 * import { HARDENED_OFFSET, parseHardenedPath, slip10Child, slip10MasterNode } from '@aitbc/wallet';
 * let node = slip10MasterNode(bip39Seed);
 * for (const index of parseHardenedPath("m/44'/8006'/0'/0'/0'")) node = slip10Child(node, index);
 * // node.key is the account's Ed25519 seed (same as deriveSlip10Ed25519(bip39Seed, path).key)
 * ```
 */
export function slip10Child(parent: Slip10Node, index: number): Slip10Node {
  if (!Number.isInteger(index) || index < HARDENED_OFFSET || index > 0xffff_ffff)
    throw new AitbcError('WALLET_BAD_PATH', 'Ed25519 children are hardened: index must be in [2^31, 2^32)');
  const data = concatBytes(new Uint8Array([0]), parent.key, new Uint8Array(4));
  new DataView(data.buffer, data.byteOffset).setUint32(33, index, false);
  const i = hmac(sha512, parent.chainCode, data);
  data.fill(0);
  return { key: i.slice(0, 32), chainCode: i.slice(32) };
}

/**
 * Derives the Ed25519 key at an all-hardened path from a BIP-39 seed (SLIP-0010). Intermediate keys
 * are zeroed.
 *
 * @example
 * ```ts
 * const { key } = deriveSlip10Ed25519(bip39Seed, "m/44'/8006'/0'/0'/0'");
 * ```
 * @throws AitbcError `WALLET_BAD_PATH`, `WALLET_BAD_INPUT`.
 */
export function deriveSlip10Ed25519(seed: Uint8Array, path: string): Slip10Node {
  const indexes = parseHardenedPath(path);
  let node = slip10MasterNode(seed);
  for (const index of indexes) {
    const next = slip10Child(node, index);
    node.key.fill(0);
    node = next;
  }
  return node;
}
