/**
 * The ledger and network view the node API serves. Declared here, by its consumer (STYLE.md habit 2);
 * the reference node implements it over `@aitbc/chain-core` and `@aitbc/consensus-poa`.
 *
 * Wire values are chain-core's JSON shapes (`TxJson` for transactions); where chain-core has no wire
 * shape yet they are opaque JSON objects of which this package reads only the fields typed below.
 */

/**
 * A JSON value as it travels on the wire.
 *
 * @example
 * ```ts
 * import type { JsonValue } from '@aitbc/rpc';
 * const result: JsonValue = await NODE_OPERATIONS.get('get_head')!.run(backend, {}); // { height, hash, … }
 * ```
 */
export type JsonValue = string | number | boolean | null | JsonValue[] | { [key: string]: JsonValue };

/**
 * A JSON object as it travels on the wire.
 *
 * @example
 * ```ts
 * import type { JsonObject } from '@aitbc/rpc';
 * const account: JsonObject = { address: 'ait1…', balance: '1000', nonce: 3 };
 * ```
 */
export type JsonObject = { [key: string]: JsonValue };

/**
 * A block on the wire: opaque JSON plus the fields the API needs.
 *
 * @example
 * ```ts
 * import type { BlockWire } from '@aitbc/rpc';
 * const block: BlockWire = { height: 12, hash: 'ab'.repeat(32), txs: [], proposer: 'ait1…' };
 * ```
 */
export interface BlockWire extends JsonObject {
  /** Block height (a bounded counter, `number`). */
  height: number;
  /** Block hash, lowercase hex (64 chars). */
  hash: string;
  /** The block's transactions in chain-core `TxJson` shape (used for subscription filters). */
  txs: JsonObject[];
}

/**
 * The chain head summary.
 *
 * @example
 * ```ts
 * import type { HeadWire } from '@aitbc/rpc';
 * const head: HeadWire = await backend.head();
 * console.log(`head ${head.height} ${head.hash}`);
 * ```
 */
export interface HeadWire extends JsonObject {
  height: number;
  hash: string;
}

/**
 * A page of results with an opaque cursor for the next page (`null` when done).
 *
 * @example
 * ```ts
 * import type { JsonObject, Page } from '@aitbc/rpc';
 * const page: Page<JsonObject> = await backend.txsByAddress('ait1…', { cursor: undefined, limit: 20 });
 * if (page.nextCursor !== null) await backend.txsByAddress('ait1…', { cursor: page.nextCursor, limit: 20 });
 * ```
 */
export interface Page<T> {
  readonly items: readonly T[];
  readonly nextCursor: string | null;
}

/**
 * Sync progress of the node.
 *
 * @example
 * ```ts
 * import type { SyncStatusWire } from '@aitbc/rpc';
 * const s: SyncStatusWire = { syncing: true, height: 90, targetHeight: 120 };
 * ```
 */
export interface SyncStatusWire extends JsonObject {
  syncing: boolean;
  height: number;
  targetHeight: number;
}

/**
 * A connected peer as the API shows it.
 *
 * @example
 * ```ts
 * import type { PeerWire } from '@aitbc/rpc';
 * const peer: PeerWire = { nodeId: 'ab12…', address: '127.0.0.1:7070', direction: 'outbound', score: 100 };
 * ```
 */
export interface PeerWire extends JsonObject {
  nodeId: string;
  address: string;
  direction: 'inbound' | 'outbound';
  score: number;
}

/**
 * A consensus event (round, proposal, vote, commit...) as opaque JSON with a `type`.
 *
 * @example
 * ```ts
 * import type { ConsensusEventWire } from '@aitbc/rpc';
 * const event: ConsensusEventWire = { type: 'commit', height: 42, round: 0 };
 * ```
 */
export interface ConsensusEventWire extends JsonObject {
  type: string;
  height: number;
}

/**
 * Events the API fans out to WebSocket subscribers.
 *
 * @example
 * ```ts
 * import type { NodeBackendEvents } from '@aitbc/rpc';
 * const onBlock: NodeBackendEvents['block'] = (block) => console.log('committed', block.height, block.txs.length);
 * const unsubscribe = backend.on('block', onBlock);
 * ```
 */
export interface NodeBackendEvents {
  /** A block was committed (and is readable through `blockByHeight`). */
  block: (block: BlockWire) => void;
  /** A transaction entered the mempool. */
  tx: (tx: JsonObject) => void;
  /** A consensus event happened. */
  consensus: (event: ConsensusEventWire) => void;
}

/**
 * What the node API serves. Lookups resolve `undefined` for unknown ids; the server answers those
 * with `RPC_NOT_FOUND`. `submitTx` throws an `AitbcError` (e.g. `CHAIN_*`) for a rejected transaction;
 * the server passes the code through.
 *
 * @example
 * ```ts
 * import { createNodeApiServer, type NodeBackend } from '@aitbc/rpc';
 * import { createChainBackend } from 'aitbc-node';
 * const backend: NodeBackend = createChainBackend(chain, mempool); // the reference node's chain-core adapter
 * const server = createNodeApiServer({ backend, port: 0 });
 * const url = await server.start();
 * ```
 */
export interface NodeBackend {
  /** The current head. */
  head(): Promise<HeadWire> | HeadWire;
  /** A committed block by height. */
  blockByHeight(height: number): Promise<BlockWire | undefined> | BlockWire | undefined;
  /** A committed block by hash (lowercase hex). */
  blockByHash(hash: string): Promise<BlockWire | undefined> | BlockWire | undefined;
  /**
   * The commit that finalized the block at `height` (consensus-poa `CommitJson`: height, round,
   * block hash, precommit signatures), `undefined` when there is none (yet). Optional: without it
   * `GET /rpc/commit/{height}` answers `RPC_METHOD_NOT_FOUND`, and light clients read the next
   * block's `lastCommit` instead.
   */
  commit?(height: number): Promise<JsonObject | undefined> | JsonObject | undefined;
  /** A committed or pending transaction by id (lowercase hex). */
  tx(id: string): Promise<JsonObject | undefined> | JsonObject | undefined;
  /** Account state (balance as a decimal string, nonce...); with `proof`, a state proof is included. */
  account(address: string, options: { proof: boolean }): Promise<JsonObject | undefined> | JsonObject | undefined;
  /** Escrow state of a job; with `proof`, a state proof is included. */
  escrow(jobId: string, options: { proof: boolean }): Promise<JsonObject | undefined> | JsonObject | undefined;
  /** The validator set. */
  validators(): Promise<JsonObject[]> | JsonObject[];
  /** The mempool view (size and up to `limit` pending transactions). */
  mempool(limit: number): Promise<{ size: number; txs: JsonObject[] }> | { size: number; txs: JsonObject[] };
  /**
   * Admits a wire transaction (chain-core `TxJson`) and resolves its id: lowercase hex, `0x`-prefixed
   * like every wire tx id (`send_tx` adds the prefix when a backend leaves it out). Resolving is what
   * `send_tx` reports as "accepted" (the `SEND_TX_ACCEPTED` text): resolve only once the transaction is
   * admitted and stored durably (it must survive a crash or restart of the node), and keep announcing it
   * to peers until it is included or invalid; throw `RPC_UNAVAILABLE` when it cannot be stored.
   */
  submitTx(tx: JsonObject): Promise<string> | string;
  /** Transactions touching an address, newest first, paged by an opaque cursor. */
  txsByAddress(
    address: string,
    page: { cursor: string | undefined; limit: number },
  ): Promise<Page<JsonObject>> | Page<JsonObject>;
  /** Sync progress. */
  syncStatus(): Promise<SyncStatusWire> | SyncStatusWire;
  /**
   * Throws an `AitbcError` while the node cannot do its work — e.g. its store cannot write: `/health`
   * (and JSON-RPC `health`) then answers that error instead of `{status: 'ok'}`, with HTTP 503 for a
   * code ending in `_UNAVAILABLE` and a `Retry-After` from `details.retryAfterSeconds`. Optional:
   * without it the node is healthy whenever it answers.
   */
  health?(): Promise<void> | void;
  /** Connected peers. */
  peers(): Promise<PeerWire[]> | PeerWire[];
  /** Subscribes to backend events; returns the unsubscribe function. */
  on<E extends keyof NodeBackendEvents>(event: E, listener: NodeBackendEvents[E]): () => void;
}
