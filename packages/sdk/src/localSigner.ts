import { signTx, type TxBody, type TxJson, txToJson } from '@aitbc/chain-core';
import {
  AitbcError,
  addressFromPublicKey,
  bytesToBase64url,
  bytesToHex,
  type CanonicalValue,
  publicKeyFromSeed,
  signMessage,
} from '@aitbc/crypto';

/**
 * Signs transactions and login challenges for one account (a local key, or a wallet adapter).
 *
 * @example
 * ```ts
 * import { createLocalSigner, type TxSigner } from '@aitbc/sdk';
 * const signer: TxSigner = createLocalSigner(seed);
 * const session = await client.login(signer);
 * ```
 */
export interface TxSigner {
  readonly address: string;
  /** Ed25519 public key, lowercase hex. */
  readonly publicKey: string;
  /** Signs a transaction body whose `from` is this address; resolves the wire `TxJson`. */
  signTx(body: TxBody): TxJson | Promise<TxJson>;
  /** Signs a coordinator login challenge (kind `login`); resolves the base64url signature. */
  signLogin(chainId: string, message: CanonicalValue): string | Promise<string>;
}

/**
 * A signer over a 32-byte Ed25519 seed held in memory (for scripts, tests and browser apps that
 * manage their own key). Prefer the wallet daemon for keys at rest. The seed is copied.
 *
 * @example
 * ```ts
 * const signer = createLocalSigner(seed);
 * const tx = await signer.signTx({ type: 'transfer', chainId, from: signer.address, nonce: 0, fee: 1000n, to, amount: 5n });
 * ```
 * @throws AitbcError `SDK_BAD_INPUT` for a seed that is not 32 bytes.
 */
export function createLocalSigner(seed: Uint8Array): TxSigner {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new AitbcError('SDK_BAD_INPUT', 'the seed must be 32 bytes');
  const own = seed.slice();
  const pk = publicKeyFromSeed(own);
  return {
    address: addressFromPublicKey(pk),
    publicKey: bytesToHex(pk),
    signTx: (body) => txToJson(signTx(body, own, pk)),
    signLogin: (chainId, message) => bytesToBase64url(signMessage('login', chainId, message, own)),
  };
}
