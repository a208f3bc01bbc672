import type { StateProofJson, TxJson } from '@aitbc/chain-core';
import { AitbcError } from '@aitbc/crypto';
import type { CallOptions, HttpTransport } from './httpTransport.js';
import {
  type NodeSubscription,
  type SubscribeOptions,
  subscribeNode,
  type WebSocketConstructor,
} from './nodeSubscription.js';
import { type CursorPage, type PageOptions, paginate } from './paginate.js';

/**
 * The chain head as the node reports it.
 *
 * @example
 * ```ts
 * const { height, hash } = await client.node.head();
 * console.log(`head ${height} 0x${hash}`);
 * ```
 */
export interface NodeHead {
  readonly height: number;
  /** Block hash, lowercase hex (no `0x`). */
  readonly hash: string;
  readonly stateRoot?: string;
  readonly timestamp?: number;
}

/**
 * A block header on the wire (ids as `0x` + hex).
 *
 * @example
 * ```ts
 * const { header } = await client.node.block(42);
 * console.log(header.proposer, header.stateRoot, new Date(header.timestamp));
 * ```
 */
export interface BlockHeaderJson {
  readonly chainId: string;
  readonly height: number;
  readonly round: number;
  readonly timestamp: number;
  readonly parentHash: string;
  readonly proposer: string;
  readonly txRoot: string;
  readonly stateRoot: string;
  readonly validatorsHash: string;
  readonly lastCommitHash: string;
}

/**
 * A commit (the precommits that finalized a block) on the wire.
 *
 * @example
 * ```ts
 * const commit = await client.node.commit(42);
 * console.log(commit.round, commit.signatures.map((s) => s.validator));
 * ```
 */
export interface CommitJson {
  readonly height: number;
  readonly round: number;
  readonly blockHash: string;
  readonly signatures: readonly { readonly validator: string; readonly signature: string }[];
}

/**
 * A transaction as the node serves it: chain-core's `TxJson` plus its id and, when known, where it is.
 *
 * @example
 * ```ts
 * const tx = await client.node.tx(txId);
 * if (tx.status === 'committed') console.log(`in block ${tx.height} at index ${tx.index}`);
 * ```
 */
export type NodeTx = TxJson & {
  readonly id: string;
  readonly status?: 'committed' | 'pending';
  readonly height?: number;
  readonly index?: number;
};

/**
 * A committed block. `lastCommit` is the commit of the parent block.
 *
 * @example
 * ```ts
 * const block = await client.node.block(42); // or by hash
 * for (const tx of block.txs) console.log(tx.id, tx.type);
 * ```
 */
export interface NodeBlock {
  readonly height: number;
  readonly hash: string;
  readonly header: BlockHeaderJson;
  readonly txs: readonly NodeTx[];
  readonly lastCommit: CommitJson | null;
  readonly signature: string;
}

/**
 * Account state; with `proof`, a state proof against `stateRoot` at `height`.
 *
 * @example
 * ```ts
 * const account = await client.node.account('ait1…', { proof: true });
 * console.log(BigInt(account.balance), account.nonce, account.height, account.proof !== undefined);
 * ```
 */
export interface NodeAccount {
  readonly address: string;
  /** Base units, decimal string. */
  readonly balance: string;
  readonly nonce: number;
  readonly height: number;
  readonly stateRoot: string;
  readonly proof?: StateProofJson & { readonly value: string };
}

/**
 * Escrow state of a job.
 *
 * @example
 * ```ts
 * const escrow = await client.node.escrow(jobId);
 * if (escrow.status === 'settled') console.log(`paid ${escrow.paid} to ${escrow.provider}`);
 * ```
 */
export interface NodeEscrow {
  readonly jobId: string;
  readonly client: string;
  readonly coordinator: string;
  readonly amount: string;
  readonly expiresAtHeight: number;
  readonly status: 'locked' | 'settled' | 'refunded';
  readonly provider: string | null;
  readonly paid: string | null;
  readonly receiptId: string | null;
  readonly proof?: StateProofJson;
}

/**
 * A validator as the node lists it.
 *
 * @example
 * ```ts
 * for (const v of await client.node.validators()) console.log(v.name, v.address, v.power);
 * ```
 */
export interface NodeValidator {
  readonly address: string;
  /** Ed25519 public key, lowercase hex. */
  readonly publicKey: string;
  readonly power: number;
  readonly name: string;
}

/**
 * Sync progress.
 *
 * @example
 * ```ts
 * const { syncing, height, targetHeight } = await client.node.syncStatus();
 * if (syncing) console.log(`syncing ${height}/${targetHeight}`);
 * ```
 */
export interface NodeSyncStatus {
  readonly syncing: boolean;
  readonly height: number;
  readonly targetHeight: number;
}

/**
 * A connected peer.
 *
 * @example
 * ```ts
 * for (const p of await client.node.peers()) console.log(p.nodeId, p.address, p.direction, p.score);
 * ```
 */
export interface NodePeer {
  readonly nodeId: string;
  readonly address: string;
  readonly direction: 'inbound' | 'outbound';
  readonly score: number;
}

/**
 * A consensus event (`consensus_events` topic).
 *
 * @example
 * ```ts
 * for await (const event of client.node.subscribeConsensus()) console.log(event.type, event.height);
 * ```
 */
export interface NodeConsensusEvent {
  readonly type: string;
  readonly height: number;
  readonly [field: string]: unknown;
}

/**
 * One call of a JSON-RPC batch.
 *
 * @example
 * ```ts
 * import type { JsonRpcCall } from '@aitbc/sdk';
 * const calls: JsonRpcCall[] = [{ method: 'get_head' }, { method: 'get_balance', params: { address } }];
 * const [head, balance] = await client.node.rpcBatch(calls); // an AitbcError in place of a failed call
 * ```
 */
export interface JsonRpcCall {
  readonly method: string;
  readonly params?: Readonly<Record<string, unknown>>;
}

/**
 * The typed client of the node API (REST, JSON-RPC, `/metrics`, `/ws`).
 *
 * @example
 * ```ts
 * const node = client.node;
 * const balance = await node.balance('ait1…'); // bigint of base units
 * const txId = await node.sendTx(await signer.signTx(body));
 * for await (const block of node.subscribeBlocks({ fromHeight: 1 })) console.log(block.height);
 * ```
 */
export interface NodeApi {
  /** `GET /health`. */
  health(options?: CallOptions): Promise<{ status: string }>;
  /** `GET /sync_status`. */
  syncStatus(options?: CallOptions): Promise<NodeSyncStatus>;
  /** `GET /rpc/head` (alias `/rpc/get_head`). */
  head(options?: CallOptions): Promise<NodeHead>;
  /** `GET /rpc/block/{height|hash}` (alias `/rpc/get_block/{height}`). */
  block(id: number | string, options?: CallOptions): Promise<NodeBlock>;
  /**
   * `GET /rpc/commit/{height}`: the commit (precommit signatures) that finalized the block at
   * `height`, the head's included. `RPC_NOT_FOUND` before it exists; a node without the route answers
   * `RPC_NOT_FOUND` or `RPC_METHOD_NOT_FOUND` (the next block's `lastCommit` carries the same commit).
   */
  commit(height: number, options?: CallOptions): Promise<CommitJson>;
  /** `GET /rpc/tx/{id}`: committed or pending. */
  tx(id: string, options?: CallOptions): Promise<NodeTx>;
  /** `POST /rpc/send_tx` with a signed chain-core `TxJson`; resolves the tx id (`0x` + 64 hex, DESIGN.md §2). */
  sendTx(tx: TxJson, options?: CallOptions): Promise<string>;
  /** `GET /rpc/account/{address}[?proof=true]`. */
  account(address: string, options?: CallOptions & { proof?: boolean }): Promise<NodeAccount>;
  /** `GET /rpc/get_balance/{address}` as a bigint of base units. */
  balance(address: string, options?: CallOptions): Promise<bigint>;
  /** `GET /rpc/escrow/{jobId}[?proof=true]`. */
  escrow(jobId: string, options?: CallOptions & { proof?: boolean }): Promise<NodeEscrow>;
  /** `GET /rpc/validators`. */
  validators(options?: CallOptions): Promise<NodeValidator[]>;
  /** `GET /rpc/peers`. */
  peers(options?: CallOptions): Promise<NodePeer[]>;
  /** `GET /rpc/mempool?limit=`. */
  mempool(options?: CallOptions & { limit?: number }): Promise<{ size: number; txs: NodeTx[] }>;
  /** One page of `GET /rpc/account/{address}/txs` (newest first). */
  txsByAddressPage(
    address: string,
    page?: CallOptions & { cursor?: string; limit?: number },
  ): Promise<CursorPage<NodeTx>>;
  /** Every transaction touching `address`, newest first, following the cursor. */
  txsByAddress(address: string, options?: PageOptions): AsyncGenerator<NodeTx, void, undefined>;
  /** `GET /metrics`: Prometheus text. */
  metrics(options?: CallOptions): Promise<string>;
  /** One JSON-RPC 2.0 call at `POST /rpc`; a JSON-RPC error rejects with its AITBC code. */
  rpc<T = unknown>(method: string, params?: Readonly<Record<string, unknown>>, options?: CallOptions): Promise<T>;
  /** A JSON-RPC batch; results (or `AitbcError`s) in call order. */
  rpcBatch(calls: readonly JsonRpcCall[], options?: CallOptions): Promise<Array<unknown | AitbcError>>;
  /** `/ws` topic `new_blocks`: resumes from the last height seen after a reconnect (no gap, no duplicate). */
  subscribeBlocks(options?: SubscribeOptions): NodeSubscription<NodeBlock>;
  /** `/ws` topic `new_transactions` (mempool admissions live; committed txs replayed from `fromHeight`). */
  subscribeTransactions(options?: SubscribeOptions): NodeSubscription<NodeTx>;
  /** `/ws` topic `consensus_events` (live only: the node cannot replay them). */
  subscribeConsensus(options?: Omit<SubscribeOptions, 'fromHeight'>): NodeSubscription<NodeConsensusEvent>;
}

function rpcError(error: { code?: unknown; message?: unknown; data?: { code?: unknown; details?: unknown } }) {
  const code = typeof error?.data?.code === 'string' ? error.data.code : 'SDK_BAD_RESPONSE';
  const details: Record<string, unknown> = { jsonRpcCode: error?.code };
  if (error?.data?.details !== undefined) details.details = error.data.details;
  return new AitbcError(code, typeof error?.message === 'string' ? error.message : code, { details });
}

const enc = encodeURIComponent;
const callOf = (o: CallOptions | undefined): CallOptions => o ?? {};

/**
 * Builds the {@link NodeApi} over a transport (the WebSocket constructor is for subscriptions).
 *
 * @example
 * ```ts
 * import { createHttpTransport, createNodeApi } from '@aitbc/sdk';
 * import WebSocket from 'ws';
 * const node = createNodeApi(createHttpTransport({ service: 'node', baseUrl: 'http://127.0.0.1:8006' }), WebSocket);
 * console.log((await node.head()).height);
 * ```
 */
export function createNodeApi(http: HttpTransport, webSocket: WebSocketConstructor | undefined): NodeApi {
  let nextId = 1;
  const get = <T>(
    path: string,
    options: CallOptions | undefined,
    query?: Record<string, string | number | boolean | undefined>,
  ) => http.request<T>({ method: 'GET', path, ...(query !== undefined ? { query } : {}) }, options);
  const proofQuery = (o: { proof?: boolean } | undefined) => ({ proof: o?.proof === true ? true : undefined });
  const page = (address: string, o: (CallOptions & { cursor?: string; limit?: number }) | undefined) =>
    get<{ items: NodeTx[]; nextCursor: string | null }>(`/rpc/account/${enc(address)}/txs`, callOf(o), {
      cursor: o?.cursor,
      limit: o?.limit,
    });
  const subscribe = <T>(topic: 'new_blocks' | 'new_transactions' | 'consensus_events', o: SubscribeOptions = {}) =>
    subscribeNode<T>({
      baseUrl: http.baseUrl,
      topic,
      ...o,
      ...(o.webSocket === undefined && webSocket !== undefined ? { webSocket } : {}),
    });

  return {
    health: async (o) => get('/health', o),
    syncStatus: async (o) => get('/sync_status', o),
    head: async (o) => get('/rpc/head', o),
    block: async (id, o) => get(`/rpc/block/${enc(String(id))}`, o),
    async commit(height, o) {
      if (!Number.isSafeInteger(height) || height < 0)
        throw new AitbcError('SDK_BAD_INPUT', 'height must be a non-negative integer', {
          details: { field: 'height' },
        });
      return get(`/rpc/commit/${height}`, o);
    },
    tx: async (id, o) => get(`/rpc/tx/${enc(id)}`, o),
    async sendTx(tx, o) {
      // A signed tx is naturally idempotent (same id), so network failures may be retried.
      const r = await http.request<{ id: string }>(
        { method: 'POST', path: '/rpc/send_tx', body: tx, idempotent: true },
        o,
      );
      if (typeof r?.id !== 'string' || !/^(0x)?[0-9a-f]{64}$/.test(r.id))
        throw new AitbcError('SDK_BAD_RESPONSE', 'send_tx answered without a tx id');
      return r.id.startsWith('0x') ? r.id : `0x${r.id}`;
    },
    account: async (address, o) => get(`/rpc/account/${enc(address)}`, callOf(o), proofQuery(o)),
    async balance(address, o) {
      const r = await get<{ balance?: unknown }>(`/rpc/get_balance/${enc(address)}`, o);
      if (typeof r?.balance !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(r.balance))
        throw new AitbcError('SDK_BAD_RESPONSE', 'balance is not a decimal string');
      return BigInt(r.balance);
    },
    escrow: async (jobId, o) => get(`/rpc/escrow/${enc(jobId)}`, callOf(o), proofQuery(o)),
    validators: async (o) => (await get<{ validators: NodeValidator[] }>('/rpc/validators', o)).validators,
    peers: async (o) => (await get<{ peers: NodePeer[] }>('/rpc/peers', o)).peers,
    mempool: async (o) => get('/rpc/mempool', callOf(o), { limit: o?.limit }),
    txsByAddressPage: page,
    txsByAddress(address, o = {}) {
      const { cursor, maxItems, ...call } = o;
      return paginate((c) => page(address, { ...call, ...(c !== undefined ? { cursor: c } : {}) }), {
        ...(cursor !== undefined ? { cursor } : {}),
        ...(maxItems !== undefined ? { maxItems } : {}),
      });
    },
    metrics: async (o) => http.request<string>({ method: 'GET', path: '/metrics', responseType: 'text' }, o),
    async rpc<T>(method: string, params?: Readonly<Record<string, unknown>>, o?: CallOptions): Promise<T> {
      const body = await http.request<{ result?: T; error?: Parameters<typeof rpcError>[0] }>(
        {
          method: 'POST',
          path: '/rpc',
          body: { jsonrpc: '2.0', id: nextId++, method, params: params ?? {} },
          idempotent: true,
        },
        o,
      );
      if (body?.error !== undefined) throw rpcError(body.error);
      if (body === undefined || !('result' in body))
        throw new AitbcError('SDK_BAD_RESPONSE', 'JSON-RPC answer has no result');
      return body.result as T;
    },
    async rpcBatch(calls, o) {
      const first = nextId;
      nextId += calls.length;
      const res = await http.request<unknown>(
        {
          method: 'POST',
          path: '/rpc',
          body: calls.map((c, i) => ({ jsonrpc: '2.0', id: first + i, method: c.method, params: c.params ?? {} })),
          idempotent: true,
        },
        o,
      );
      if (!Array.isArray(res)) {
        const r = res as { error?: Parameters<typeof rpcError>[0] } | undefined;
        throw r?.error !== undefined
          ? rpcError(r.error)
          : new AitbcError('SDK_BAD_RESPONSE', 'expected a batch answer');
      }
      const byId = new Map<unknown, { result?: unknown; error?: Parameters<typeof rpcError>[0] }>();
      for (const r of res as Array<{ id: unknown }>) byId.set(r?.id, r as never);
      return calls.map((_c, i) => {
        const r = byId.get(first + i);
        if (r === undefined)
          return new AitbcError('SDK_BAD_RESPONSE', 'missing batch answer', { details: { index: i } });
        return r.error !== undefined ? rpcError(r.error) : r.result;
      });
    },
    subscribeBlocks: (o) => subscribe<NodeBlock>('new_blocks', o),
    subscribeTransactions: (o) => subscribe<NodeTx>('new_transactions', o),
    subscribeConsensus: (o) => subscribe<NodeConsensusEvent>('consensus_events', o),
  };
}
