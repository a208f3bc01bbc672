import {
  type Block,
  blockHash,
  type Chain,
  commitToJson,
  encodeAccount,
  headerToJson,
  MAX_ADD_BATCH,
  type Mempool,
  type SignedTx,
  stateProofToJson,
  txIdHex,
  txToJson,
} from '@aitbc/chain-core';
import { AitbcError, bytesToHex, hexToBytes, isAddress, isAitbcError } from '@aitbc/crypto';
import type {
  BlockWire,
  ConsensusEventWire,
  JsonObject,
  NodeBackend,
  NodeBackendEvents,
  PeerWire,
  SyncStatusWire,
} from '@aitbc/rpc';

type Listeners = { [E in keyof NodeBackendEvents]: Set<NodeBackendEvents[E]> };

/**
 * A block in the API's wire shape. The transaction list is computed on first read (and kept): the
 * subscription hub receives every committed block but renders it only when someone subscribed.
 */
function blockWire(block: Block): BlockWire {
  let txs: JsonObject[] | undefined;
  const wire = {
    header: headerToJson(block.header),
    lastCommit: block.lastCommit === null ? null : (commitToJson(block.lastCommit) as JsonObject),
    signature: bytesToHex(block.signature),
    height: block.header.height,
    hash: bytesToHex(blockHash(block.header)),
  } as JsonObject;
  Object.defineProperty(wire, 'txs', {
    enumerable: true,
    get: () => {
      txs ??= block.txs.map((t) => ({ ...txToJson(t), id: txIdHex(t) }));
      return txs;
    },
  });
  return wire as BlockWire;
}

function txWire(tx: SignedTx, extra: JsonObject = {}): JsonObject {
  return { ...txToJson(tx), id: txIdHex(tx), ...extra };
}

/**
 * {@link txWire} computed on first read: every admitted transaction goes to the subscription hub,
 * which reads it only when someone subscribed to `new_transactions`.
 */
function lazyTxWire(tx: SignedTx): JsonObject {
  let wire: JsonObject | undefined;
  const get = () => {
    wire ??= txWire(tx);
    return wire;
  };
  return new Proxy({} as JsonObject, {
    get: (_, key) => Reflect.get(get(), key),
    has: (_, key) => Reflect.has(get(), key),
    ownKeys: () => Reflect.ownKeys(get()),
    getOwnPropertyDescriptor: (_, key) => {
      const d = Reflect.getOwnPropertyDescriptor(get(), key);
      return d === undefined ? undefined : { ...d, configurable: true };
    },
  });
}

/** Network views a {@link createChainBackend} serves when the node has peers. */
export interface ChainBackendNetwork {
  /** Connected peers (default: none). */
  readonly peers?: () => PeerWire[];
  /** Sync progress (default: not syncing, at the head). */
  readonly syncStatus?: () => SyncStatusWire;
  /** Called with each transaction admitted through the API (e.g. to gossip it). */
  readonly onAdmitted?: (tx: JsonObject) => void;
  /**
   * Makes the transactions of one submission batch durable (the local transaction journal); the API
   * answers "accepted" only once it resolves. A failure answers `RPC_UNAVAILABLE` (503) to each of them.
   */
  readonly persist?: (txs: ReadonlyArray<{ readonly tx: SignedTx; readonly json: JsonObject }>) => Promise<void>;
  /**
   * Runs the admission (verification and insertion) of each slice of submissions, e.g. so that a
   * block being built, validated or imported goes first (`ConsensusPriority.intakeSlice`).
   */
  readonly admitSlice?: <T>(work: () => Promise<T>) => Promise<T>;
}

/** A {@link NodeBackend} with the hooks the node uses to fan out its own events. */
export interface ChainBackend extends NodeBackend {
  /** Tells API subscribers about a committed block. */
  emitBlock(block: Block): void;
  /** Tells API subscribers about a consensus event (`consensus_events` topic). */
  emitConsensus(event: ConsensusEventWire): void;
  /** Tells API subscribers about a transaction that entered the mempool by another path (gossip). */
  emitTx(tx: SignedTx): void;
}

/** Serves a chain-core {@link Chain} and {@link Mempool} through the node API's `NodeBackend`. */
export function createChainBackend(
  chain: Chain,
  mempool: Mempool,
  onSubmitted?: () => void,
  network: ChainBackendNetwork = {},
): ChainBackend {
  const listeners: Listeners = { block: new Set(), tx: new Set(), consensus: new Set() };
  const id = (hex: string) => hexToBytes(hex.startsWith('0x') ? hex : `0x${hex}`, 32);
  /**
   * Submissions made in the same tick — a JSON-RPC batch calls `submitTx` for all its requests at
   * once — admitted together, in order, by `mempool.addManyJson`: their signatures are checked as one
   * batch (`verifyMany`: libsodium in slices with the event loop running between them, or worker threads
   * for large batches) instead of one by one, which held the event loop ~40 ms for a 500-transaction
   * batch, delaying every consensus message behind it.
   */
  let queued: Array<{ json: JsonObject; resolve: (id: string) => void; reject: (err: unknown) => void }> = [];
  const admitted = (json: JsonObject, txId: string, status: string) => {
    const tx = mempool.get(id(txId));
    if (status !== 'known' && tx !== undefined) {
      if (listeners.tx.size > 0) {
        const wire = lazyTxWire(tx);
        for (const l of listeners.tx) l(wire);
      }
      network.onAdmitted?.(json);
    }
    onSubmitted?.();
  };
  const admitQueued = async () => {
    const batch = queued;
    queued = [];
    for (let i = 0; i < batch.length; i += MAX_ADD_BATCH) {
      const part = batch.slice(i, i + MAX_ADD_BATCH);
      let results: Awaited<ReturnType<Mempool['addManyJson']>>;
      try {
        const admit = () => mempool.addManyJson(part.map((p) => p.json));
        results = await (network.admitSlice === undefined ? admit() : network.admitSlice(admit));
      } catch (err) {
        for (const p of part) p.reject(err);
        continue;
      }
      const accepted: Array<{ p: (typeof part)[number]; id: string }> = [];
      part.forEach((p, k) => {
        const r = results[k]!;
        if (isAitbcError(r)) {
          p.reject(r);
          return;
        }
        try {
          admitted(p.json, r.id, r.status);
          accepted.push({ p, id: r.id }); // 0x-prefixed, like every wire tx id
        } catch (err) {
          p.reject(err);
        }
      });
      if (network.persist !== undefined && accepted.length > 0) {
        const txs: Array<{ tx: SignedTx; json: JsonObject }> = [];
        for (const a of accepted) {
          const tx = mempool.get(id(a.id));
          if (tx !== undefined) txs.push({ tx, json: a.p.json });
        }
        try {
          await network.persist(txs);
        } catch (err) {
          const error = new AitbcError('RPC_UNAVAILABLE', 'the node cannot store accepted transactions now', {
            details: { reason: isAitbcError(err) ? err.code : 'unknown' },
            cause: err,
          });
          for (const a of accepted) a.p.reject(error);
          continue;
        }
      }
      for (const a of accepted) a.p.resolve(a.id);
    }
  };
  return {
    head: () => ({
      height: chain.head.height,
      hash: bytesToHex(chain.headHash),
      stateRoot: bytesToHex(chain.head.stateRoot),
      timestamp: chain.head.timestamp,
    }),
    async blockByHeight(height) {
      const b = await chain.getBlock(height);
      return b === undefined ? undefined : blockWire(b);
    },
    async blockByHash(hash) {
      const b = await chain.getBlock(id(hash));
      return b === undefined ? undefined : blockWire(b);
    },
    async commit(height) {
      const c = await chain.getCommit(height);
      return c === undefined ? undefined : (commitToJson(c) as JsonObject);
    },
    async tx(hex) {
      // A tx moving from the mempool into a block is in the chain's index before it leaves the
      // mempool, but a lookup of the chain first and the mempool second can straddle that move and
      // miss it in both. So: mempool, chain, mempool again, chain again.
      const key = id(hex);
      const committed = (f: Awaited<ReturnType<Chain['getTx']>>) =>
        f === undefined ? undefined : txWire(f.tx, { status: 'committed', height: f.height, index: f.index });
      const pendingBefore = mempool.get(key);
      const found = committed(await chain.getTx(key));
      if (found !== undefined) return found;
      const pending = pendingBefore ?? mempool.get(key);
      if (pending !== undefined) return txWire(pending, { status: 'pending' });
      return committed(await chain.getTx(key));
    },
    async account(address, { proof }) {
      if (!isAddress(address)) return undefined;
      const a = await chain.account(address);
      const out: JsonObject = {
        address,
        balance: a.balance.toString(),
        nonce: a.nonce,
        height: chain.head.height,
        stateRoot: bytesToHex(chain.head.stateRoot),
      };
      if (proof)
        out.proof = {
          ...stateProofToJson(await chain.accountProof(address)),
          value: bytesToHex(encodeAccount(a)),
        } as unknown as JsonObject;
      return out;
    },
    async escrow(jobId, { proof }) {
      const e = await chain.escrow(jobId);
      if (e === undefined) return undefined;
      const out: JsonObject = {
        jobId: e.jobId,
        client: e.client,
        coordinator: e.coordinator,
        amount: e.amount.toString(),
        expiresAtHeight: e.expiresAtHeight,
        status: e.status,
        provider: e.provider ?? null,
        paid: e.paid?.toString() ?? null,
        receiptId: e.receiptId ?? null,
      };
      if (proof) out.proof = stateProofToJson(await chain.escrowProof(jobId)) as unknown as JsonObject;
      return out;
    },
    validators: () =>
      chain.validators.validators.map((v) => ({
        address: v.address,
        publicKey: bytesToHex(v.publicKey),
        power: v.power,
        name: v.name,
      })),
    async mempool(limit) {
      const txs = await mempool.select(limit, Number.MAX_SAFE_INTEGER);
      return { size: mempool.size, txs: txs.map((t) => txWire(t)) };
    },
    submitTx(json) {
      return new Promise<string>((resolve, reject) => {
        queued.push({ json, resolve, reject });
        if (queued.length === 1) queueMicrotask(() => void admitQueued());
      });
    },
    async txsByAddress(address, page) {
      const { items, nextCursor } = await chain.txsByAddress(address, {
        ...(page.cursor !== undefined ? { cursor: page.cursor } : {}),
        limit: page.limit,
      });
      return { items: items.map((i) => txWire(i.tx, { height: i.height, index: i.index })), nextCursor };
    },
    syncStatus: () =>
      network.syncStatus?.() ?? { syncing: false, height: chain.head.height, targetHeight: chain.head.height },
    peers: () => network.peers?.() ?? [],
    on(event, listener) {
      (listeners[event] as Set<typeof listener>).add(listener);
      return () => (listeners[event] as Set<typeof listener>).delete(listener);
    },
    emitBlock(block) {
      if (listeners.block.size === 0) return;
      const wire = blockWire(block);
      for (const l of listeners.block) l(wire);
    },
    emitConsensus(event) {
      for (const l of listeners.consensus) l(event);
    },
    emitTx(tx) {
      if (listeners.tx.size === 0) return;
      const wire = lazyTxWire(tx);
      for (const l of listeners.tx) l(wire);
    },
  };
}
