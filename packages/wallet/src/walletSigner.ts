import { type SignedTx, signTx, type TxBody, type TxJson, txIdHex, txToJson } from '@aitbc/chain-core';
import {
  AitbcError,
  addressFromPublicKey,
  bytesToHex,
  type CanonicalValue,
  publicKeyFromSeed,
  signMessage,
} from '@aitbc/crypto';

/**
 * Message kinds a wallet signs through {@link WalletSigner.signMessage}. Protocol kinds (`tx`,
 * `block`, `vote`, `proposal`, `handshake`) are refused there: a "message" signature must never be
 * usable as a transaction or a consensus vote, and transactions go through {@link WalletSigner.signTx}.
 *
 * @example
 * ```ts
 * import { createWalletSigner, MESSAGE_KINDS } from '@aitbc/wallet';
 * if (!MESSAGE_KINDS.includes(kind)) throw new Error(`cannot sign "${kind}" messages`);
 * const sig = createWalletSigner(seed).signMessage(kind, 'aitbc-devnet', body);
 * ```
 */
export const MESSAGE_KINDS: readonly string[] = Object.freeze(['message', 'login']);

/**
 * A signed transaction in the forms callers need.
 *
 * @example
 * ```ts
 * import { createWalletSigner, type SignedTransfer } from '@aitbc/wallet';
 * const signer = createWalletSigner(seed);
 * const signed: SignedTransfer = signer.signTx({ type: 'transfer', chainId: 'aitbc-devnet', from: signer.address,
 *   to, amount: 5n, nonce: 0, fee: 1n });
 * await node.sendTx(signed.json); // a NodeClient from @aitbc/rpc/client; resolves with signed.id
 * ```
 */
export interface SignedTransfer {
  readonly tx: SignedTx;
  /** `0x` + 64 hex. */
  readonly id: string;
  readonly json: TxJson;
}

/**
 * A domain-separated message signature.
 *
 * @example
 * ```ts
 * import { createWalletSigner, type MessageSignature } from '@aitbc/wallet';
 * const proof: MessageSignature = createWalletSigner(seed).signMessage('login', 'aitbc-devnet', { nonce });
 * // send proof.address, proof.publicKey and proof.signature (hex) to the server that issued `nonce`
 * ```
 */
export interface MessageSignature {
  readonly kind: string;
  readonly chainId: string;
  /** 64-byte Ed25519 signature, lowercase hex. */
  readonly signature: string;
  /** 32-byte public key, lowercase hex. */
  readonly publicKey: string;
  readonly address: string;
}

/**
 * Signs with one Ed25519 seed until {@link WalletSigner.wipe}.
 *
 * @example
 * ```ts
 * import { createWalletSigner, type WalletSigner } from '@aitbc/wallet';
 * const signer: WalletSigner = createWalletSigner(seed);
 * try {
 *   const { id } = signer.signTx({ type: 'transfer', chainId, from: signer.address, to, amount: 1n, nonce, fee: 1n });
 * } finally {
 *   signer.wipe();
 * }
 * ```
 */
export interface WalletSigner {
  readonly address: string;
  readonly publicKey: Uint8Array;
  /** Signs a transaction body whose `from` is this signer's address. @throws `WALLET_LOCKED` after wipe. */
  signTx(body: TxBody): SignedTransfer;
  /**
   * Signs `AITBC/v1/<kind>\n<chainId>\n ‖ JCS(body)` (DESIGN.md §2) with kind in {@link MESSAGE_KINDS}.
   * @throws AitbcError `WALLET_FORBIDDEN_KIND`, `WALLET_BAD_PARAMS` (body JCS cannot encode), `WALLET_LOCKED`.
   */
  signMessage(kind: string, chainId: string, body: CanonicalValue): MessageSignature;
  /** Zeroes the seed; later calls throw `WALLET_LOCKED`. */
  wipe(): void;
  /** Whether {@link wipe} was called. */
  readonly wiped: boolean;
}

/**
 * A signer over a 32-byte seed. The signer keeps its own copy (so the caller may zero theirs) and
 * zeroes it on {@link WalletSigner.wipe}. In Node the signing key object is cached per seed array
 * (≈38k signatures/s); JavaScript cannot wipe OpenSSL's copy, which is freed when collected.
 *
 * @example
 * ```ts
 * const signer = createWalletSigner(seed);
 * const { signature } = signer.signMessage('login', 'aitbc-devnet', { nonce: 'abc' });
 * signer.wipe();
 * ```
 * @throws AitbcError `WALLET_BAD_INPUT` for a seed that is not 32 bytes.
 */
export function createWalletSigner(seed: Uint8Array): WalletSigner {
  if (!(seed instanceof Uint8Array) || seed.length !== 32)
    throw new AitbcError('WALLET_BAD_INPUT', 'the seed must be 32 bytes');
  const own = seed.slice();
  const publicKey = publicKeyFromSeed(own);
  const publicKeyHex = bytesToHex(publicKey);
  const address = addressFromPublicKey(publicKey);
  let wiped = false;
  const live = () => {
    if (wiped) throw new AitbcError('WALLET_LOCKED', 'the wallet is locked');
  };
  return {
    address,
    publicKey,
    signTx(body) {
      live();
      const tx = signTx(body, own, publicKey);
      return { tx, id: txIdHex(tx), json: txToJson(tx) };
    },
    signMessage(kind, chainId, body) {
      live();
      if (!MESSAGE_KINDS.includes(kind))
        throw new AitbcError('WALLET_FORBIDDEN_KIND', `kind must be one of ${MESSAGE_KINDS.join(', ')}`, {
          details: { allowed: [...MESSAGE_KINDS] },
        });
      let signature: Uint8Array;
      try {
        signature = signMessage(kind, chainId, body, own);
      } catch (cause) {
        throw new AitbcError(
          'WALLET_BAD_PARAMS',
          'the chain id or the message cannot be signed (JCS-encodable JSON only)',
          {
            cause,
          },
        );
      }
      return { kind, chainId, signature: bytesToHex(signature), publicKey: publicKeyHex, address };
    },
    wipe() {
      own.fill(0);
      wiped = true;
    },
    get wiped() {
      return wiped;
    },
  };
}
