import type { TxJson } from '@aitbc/chain-core';

/**
 * An account as the wallet needs it. Unknown accounts are `{ balance: 0n, nonce: 0 }`.
 *
 * @example
 * ```ts
 * import type { WalletAccount } from '@aitbc/wallet/daemon';
 * const account: WalletAccount = { balance: 1_000n, nonce: 3 }; // the next transaction carries nonce 3
 * ```
 */
export interface WalletAccount {
  readonly balance: bigint;
  /** The nonce the account's next transaction must carry (bounded counter). */
  readonly nonce: number;
}

/**
 * Where a submitted transaction is.
 *
 * @example
 * ```ts
 * import type { WalletTxStatus } from '@aitbc/wallet/daemon';
 * const status: WalletTxStatus = await walletNode.txStatus(txId);
 * if (status.status === 'final') console.log(`in block ${status.height}`);
 * ```
 */
export interface WalletTxStatus {
  /** `final`: in a committed block (single-block finality); `pending`: in the mempool; `unknown`: neither. */
  readonly status: 'final' | 'pending' | 'unknown';
  /** Block height when final. */
  readonly height?: number;
}

/**
 * The chain access the wallet daemon needs, declared by its consumer (STYLE.md habit 2). The
 * reference node adapts `@aitbc/rpc/client`'s `NodeClient` to it (`createWalletNodeGateway`); the
 * wallet never imports the rpc package.
 *
 * Failures are `AitbcError`s: a rejected transaction keeps the chain's code (`CHAIN_BAD_NONCE`…);
 * an unreachable node is reported with a code ending in `_HTTP_ERROR` or `_UNAVAILABLE`.
 *
 * @example
 * ```ts
 * import { createNodeClient } from '@aitbc/rpc/client';
 * import { createWalletDaemon, type WalletNode } from '@aitbc/wallet/daemon';
 * import { createWalletNodeGateway } from 'aitbc-node';
 * const node: WalletNode = createWalletNodeGateway(createNodeClient({ baseUrl: 'http://127.0.0.1:8006' }));
 * const daemon = createWalletDaemon({ dataDir, node });
 * ```
 */
export interface WalletNode {
  /** Balance and next nonce of an address. */
  account(address: string): Promise<WalletAccount>;
  /** Submits a signed transaction (chain-core `TxJson`); resolves its id (`0x` + 64 hex). */
  submitTx(tx: TxJson): Promise<string>;
  /** Where a transaction is (id with or without `0x`). */
  txStatus(id: string): Promise<WalletTxStatus>;
}
