import { AitbcError, bytesToHex } from '@aitbc/crypto';
import type { ReceiptVerification } from '@aitbc/receipts';
import type { CallOptions, HttpTransport } from './httpTransport.js';
import type { PinnedKey } from './receiptTrust.js';

/**
 * A stored wallet as the daemon shows it (no secret).
 *
 * @example
 * ```ts
 * for (const w of await client.wallet.list()) console.log(w.id, w.address, w.unlocked ? 'unlocked' : 'locked');
 * ```
 */
export interface WalletInfo {
  readonly id: string;
  readonly address: string;
  /** Lowercase hex. */
  readonly publicKey: string;
  readonly unlocked: boolean;
  readonly kdf: { readonly name: string; readonly m: number; readonly t: number; readonly p: number };
  /** With `get`: the account on chain (when the daemon has a node). */
  readonly balance?: string;
  readonly nonce?: number;
}

/**
 * How to create a wallet: a fresh mnemonic (default 24 words), or an import.
 *
 * @example
 * ```ts
 * import type { WalletCreate } from '@aitbc/sdk';
 * const fresh: WalletCreate = { passphrase, words: 24 };
 * const restored: WalletCreate = { passphrase, mnemonic: 'abandon … art' };
 * const { wallet, mnemonic } = await client.wallet.create(fresh); // the mnemonic is shown only once
 * ```
 */
export type WalletCreate =
  | { readonly passphrase: string; readonly words?: 12 | 24 }
  | {
      readonly passphrase: string;
      readonly mnemonic: string;
      readonly bip39Passphrase?: string;
      readonly account?: number;
    }
  | { readonly passphrase: string; readonly keystore: unknown };

/**
 * An unlocked session: pass `session` to sign and send.
 *
 * @example
 * ```ts
 * const { session, expiresAt } = await client.wallet.unlock(walletId, { passphrase, ttlSeconds: 600 });
 * console.log(`unlocked until ${new Date(expiresAt).toISOString()}`);
 * ```
 */
export interface WalletSession {
  readonly session: string;
  /** Epoch ms. */
  readonly expiresAt: number;
}

/**
 * A domain-separated message signature.
 *
 * @example
 * ```ts
 * const sig = await client.wallet.sign(walletId, { session, message: { hello: 'world' } });
 * console.log(sig.kind, sig.address, sig.signature);
 * ```
 */
export interface WalletMessageSignature {
  readonly kind: string;
  readonly chainId: string;
  /** 64 bytes, lowercase hex. */
  readonly signature: string;
  readonly publicKey: string;
  readonly address: string;
}

/**
 * What `send` builds, signs with the next nonce and submits. Amounts are bigint.
 *
 * @example
 * ```ts
 * import type { WalletSendBody } from '@aitbc/sdk';
 * const tx: WalletSendBody = { type: 'transfer', to: 'ait1…', amount: 10n ** 18n };
 * await client.wallet.send(walletId, { session, tx, wait: true });
 * ```
 */
export type WalletSendBody =
  | { readonly type: 'transfer'; readonly to: string; readonly amount: bigint }
  | {
      readonly type: 'escrow.lock';
      readonly jobId: string;
      readonly amount: bigint;
      readonly coordinator: string;
      readonly expiresAtHeight: number;
    }
  | { readonly type: 'escrow.refund'; readonly jobId: string };

/**
 * The result of a send.
 *
 * @example
 * ```ts
 * const result = await client.wallet.send(walletId, { session, tx, wait: true, timeoutSeconds: 30 });
 * if (result.status === 'final') console.log(`${result.id} final at ${result.height}`);
 * ```
 */
export interface WalletSendResult {
  /** `0x` + 64 hex. */
  readonly id: string;
  readonly nonce: number;
  readonly fee: string;
  readonly status: 'final' | 'pending' | 'unknown' | 'submitted';
  readonly height?: number;
}

/**
 * The wallet daemon API (DESIGN.md §6; bearer token on every route).
 *
 * @example
 * ```ts
 * const { wallet } = await client.wallet.create({ passphrase });
 * const { session } = await client.wallet.unlock(wallet.id, { passphrase });
 * await client.wallet.send(wallet.id, { session, tx: { type: 'transfer', to, amount: 5n } });
 * await client.wallet.lock(wallet.id);
 * ```
 */
export interface WalletApi {
  /** `POST /v1/wallets`: create or import. A fresh wallet's mnemonic is returned once. */
  create(params: WalletCreate, options?: CallOptions): Promise<{ wallet: WalletInfo; mnemonic?: string }>;
  /** `GET /v1/wallets`. */
  list(options?: CallOptions): Promise<WalletInfo[]>;
  /** `GET /v1/wallets/{id}` (with balance and nonce when the daemon has a node). */
  get(id: string, options?: CallOptions): Promise<WalletInfo>;
  /** `POST /v1/wallets/{id}/unlock`: a session that expires after `ttlSeconds`. */
  unlock(
    id: string,
    params: { passphrase: string; ttlSeconds?: number },
    options?: CallOptions,
  ): Promise<WalletSession>;
  /** `POST /v1/wallets/{id}/lock`: closes every session of the wallet. */
  lock(id: string, options?: CallOptions): Promise<unknown>;
  /** `POST /v1/wallets/{id}/sign`: signs a message of kind `message` or `login`. */
  sign(
    id: string,
    params: { session: string; message: unknown; kind?: 'message' | 'login'; chainId?: string },
    options?: CallOptions,
  ): Promise<WalletMessageSignature>;
  /**
   * `POST /v1/wallets/{id}/send`: build, sign, submit (and with `wait`, wait for finality). Sent with an
   * `Idempotency-Key` (the daemon answers a repeat with the first result), so it is retried safely.
   */
  send(
    id: string,
    params: { session: string; tx: WalletSendBody; fee?: bigint; wait?: boolean; timeoutSeconds?: number },
    options?: CallOptions,
  ): Promise<WalletSendResult>;
  /** `POST /v1/receipts/verify` against pinned keys (hex). */
  verifyReceipt(
    params: {
      receipt: unknown;
      minerKeys: readonly PinnedKey[];
      coordinatorKeys?: readonly PinnedKey[];
      requireAttestation?: boolean;
    },
    options?: CallOptions,
  ): Promise<ReceiptVerification>;
}

function walletPath(id: string): string {
  if (typeof id !== 'string' || !/^[0-9a-f]{32}$/.test(id))
    throw new AitbcError('SDK_BAD_INPUT', 'a wallet id is 32 lowercase hex digits', { details: { field: 'id' } });
  return `/v1/wallets/${id}`;
}

const hexKey = (k: PinnedKey) => (typeof k === 'string' ? k : bytesToHex(k));

function sendJson(tx: WalletSendBody): Record<string, unknown> {
  switch (tx.type) {
    case 'transfer':
      return { type: tx.type, to: tx.to, amount: tx.amount.toString() };
    case 'escrow.lock':
      return {
        type: tx.type,
        jobId: tx.jobId,
        amount: tx.amount.toString(),
        coordinator: tx.coordinator,
        expiresAtHeight: tx.expiresAtHeight,
      };
    case 'escrow.refund':
      return { type: tx.type, jobId: tx.jobId };
    default:
      throw new AitbcError('SDK_BAD_INPUT', 'tx.type must be transfer, escrow.lock or escrow.refund');
  }
}

/**
 * Builds the {@link WalletApi} over a transport.
 *
 * @example
 * ```ts
 * import { createHttpTransport, createWalletApi } from '@aitbc/sdk';
 * const http = createHttpTransport({ service: 'wallet', baseUrl: 'http://127.0.0.1:8002', headers: { Authorization: `Bearer ${token}` } });
 * const wallets = await createWalletApi(http).list();
 * ```
 */
export function createWalletApi(http: HttpTransport): WalletApi {
  return {
    create: async (params, o) => http.request({ method: 'POST', path: '/v1/wallets', body: params }, o),
    list: async (o) => (await http.request<{ items: WalletInfo[] }>({ method: 'GET', path: '/v1/wallets' }, o)).items,
    get: async (id, o) => http.request({ method: 'GET', path: walletPath(id) }, o),
    unlock: async (id, params, o) =>
      http.request({ method: 'POST', path: `${walletPath(id)}/unlock`, body: params }, o),
    lock: async (id, o) =>
      http.request({ method: 'POST', path: `${walletPath(id)}/lock`, body: {}, idempotent: true }, o),
    sign: async (id, params, o) =>
      http.request({ method: 'POST', path: `${walletPath(id)}/sign`, body: params, idempotent: true }, o),
    send: async (id, params, o) =>
      http.request(
        {
          method: 'POST',
          path: `${walletPath(id)}/send`,
          body: {
            session: params.session,
            ...sendJson(params.tx),
            ...(params.fee !== undefined ? { fee: params.fee.toString() } : {}),
            ...(params.wait !== undefined ? { wait: params.wait } : {}),
            ...(params.timeoutSeconds !== undefined ? { timeoutSeconds: params.timeoutSeconds } : {}),
          },
          // The daemon answers a repeated Idempotency-Key with the first result, so retries are safe.
          idempotencyKey: true,
        },
        o,
      ),
    verifyReceipt: async (params, o) =>
      http.request(
        {
          method: 'POST',
          path: '/v1/receipts/verify',
          body: {
            receipt: params.receipt,
            minerKeys: params.minerKeys.map(hexKey),
            ...(params.coordinatorKeys !== undefined ? { coordinatorKeys: params.coordinatorKeys.map(hexKey) } : {}),
            ...(params.requireAttestation !== undefined ? { requireAttestation: params.requireAttestation } : {}),
          },
          idempotent: true,
        },
        o,
      ),
  };
}
