import type { JsonObject } from '../nodeBackend.js';
import type { PeerNetwork } from './createPeerNetwork.js';
import { MAX_TX_ANNOUNCE_IDS, MAX_TX_REQUEST_IDS, type TxExchangeMessage } from './peerMessages.js';

/**
 * What {@link TxExchangePool.admit} did with one fetched transaction.
 *
 * @example
 * ```ts
 * import type { TxAdmission } from '@aitbc/rpc';
 * const refused: TxAdmission = { id: 'ab'.repeat(32), status: 'refused' }; // e.g. its nonce was used meanwhile
 * const junk: TxAdmission = { status: 'invalid' }; // did not decode: the sender is scored down
 * ```
 */
export interface TxAdmission {
  /** The transaction's id (64 lowercase hex), when it decoded. */
  readonly id?: string;
  /**
   * `admitted` (now pending here, announced on to the other peers), `refused` (valid data the pool did not
   * take: already included, a nonce used meanwhile, the pool full), `invalid` (does not decode, bad signature,
   * wrong chain: the sending peer is scored down).
   */
  readonly status: 'admitted' | 'refused' | 'invalid';
}

/**
 * The mempool as {@link createTxExchange} sees it. Ids are 64 lowercase hex digits (no `0x`).
 *
 * @example
 * ```ts
 * import type { TxExchangePool } from '@aitbc/rpc';
 * const pool: TxExchangePool = {
 *   pendingIds: () => [...pending.keys()],
 *   has: (id) => pending.has(id),
 *   body: (id) => pending.get(id),
 *   admit: async (from, txs) => txs.map((tx) => ({ id: idOf(tx), status: 'admitted' })),
 * };
 * ```
 */
export interface TxExchangePool {
  /** Ids of the pending transactions, oldest first. */
  pendingIds(): Iterable<string>;
  /** Whether a transaction is pending here (or otherwise needs no fetch). */
  has(id: string): boolean;
  /** A pending transaction's wire body, or undefined when it is not pending. */
  body(id: string): JsonObject | undefined;
  /** Validates and admits fetched transactions; one result per transaction, in order. */
  admit(from: string, txs: readonly JsonObject[]): Promise<readonly TxAdmission[]>;
}

/**
 * Bounds and timings of {@link createTxExchange}.
 *
 * @example
 * ```ts
 * import type { TxExchangeLimits } from '@aitbc/rpc';
 * const limits: TxExchangeLimits = { maxInflightPerPeer: 2, reannounceIntervalMs: 3_000, reannounceAfterMs: 3_000 };
 * ```
 */
export interface TxExchangeLimits {
  /** Ids per `tx_announce` frame (default and most {@link MAX_TX_ANNOUNCE_IDS}). */
  readonly maxAnnounceIds?: number;
  /** Ids per `tx_request` (default and most {@link MAX_TX_REQUEST_IDS}). */
  readonly maxRequestIds?: number;
  /** Requests outstanding per peer (default 4). */
  readonly maxInflightPerPeer?: number;
  /** Announced ids waiting to be requested, per peer; more are forgotten until announced again (default 16 384). */
  readonly maxQueuedPerPeer?: number;
  /** Bytes of bodies in one `tx_bodies` response (default 2 MiB; at least one body is sent). */
  readonly maxResponseBytes?: number;
  /** A request not answered in this time is given up, its ids free to fetch elsewhere (default 10 000). */
  readonly requestTimeoutMs?: number;
  /** How often pending transactions are re-announced to every peer (default 5 000 ms; 0: never). */
  readonly reannounceIntervalMs?: number;
  /** Only those pending at least this long are re-announced (default 5 000 ms). */
  readonly reannounceAfterMs?: number;
  /** Most ids re-announced per interval, oldest first (default 16 384). */
  readonly maxReannounceIds?: number;
}

/**
 * Options of {@link createTxExchange}.
 *
 * @example
 * ```ts
 * import { createTxExchange, type TxExchangeOptions } from '@aitbc/rpc';
 * const options: TxExchangeOptions = { network, pool, limits: { reannounceIntervalMs: 2_000 } };
 * const exchange = createTxExchange(options);
 * ```
 */
export interface TxExchangeOptions {
  /** The peer network (its `onTxExchange` option must call {@link TxExchange.handle}). */
  readonly network: Pick<PeerNetwork, 'on' | 'peers' | 'sendTo' | 'reportInvalid'>;
  readonly pool: TxExchangePool;
  readonly limits?: TxExchangeLimits;
  /** Called when admitting fetched transactions fails as a whole (the exchange goes on). */
  readonly onError?: (error: unknown) => void;
}

/**
 * Counters of a {@link TxExchange} since creation.
 *
 * @example
 * ```ts
 * import type { TxExchangeStats } from '@aitbc/rpc';
 * const { fetched, admitted }: TxExchangeStats = exchange.stats();
 * ```
 */
export interface TxExchangeStats {
  /** Ids sent in `tx_announce` frames (all peers). */
  readonly announced: number;
  /** Ids requested from peers. */
  readonly requested: number;
  /** Bodies received in answers to our requests. */
  readonly fetched: number;
  /** Of those, the transactions the pool admitted. */
  readonly admitted: number;
  /** Bodies sent in answers to peers' requests. */
  readonly served: number;
}

/**
 * A running pending-transaction exchange; see {@link createTxExchange}.
 *
 * @example
 * ```ts
 * import { createPeerNetwork, createTxExchange, type TxExchange } from '@aitbc/rpc';
 * let exchange: TxExchange | undefined;
 * const network = createPeerNetwork({ ...options, onTxExchange: (from, m) => exchange?.handle(from, m) ?? true });
 * exchange = createTxExchange({ network, pool });
 * exchange.start();
 * ```
 */
export interface TxExchange {
  /** Starts announcing to peers as they connect, and the periodic re-announce. */
  start(): void;
  /** Stops both, and gives up the outstanding requests. */
  stop(): void;
  /** Handles one frame from a peer; `false` when it is invalid (the network then scores the peer down). */
  handle(from: string, message: TxExchangeMessage): boolean;
  /** Announces ids to every connected peer but `except` (chunked); returns how many frames were sent. */
  announce(ids: readonly string[], except?: string): number;
  stats(): TxExchangeStats;
}

/** Other announcers remembered per requested id (see `requested`). */
const MAX_ALTERNATES = 3;

interface PeerState {
  /** Announced ids to request, in announce order (a Set keeps both order and dedupe). */
  readonly queue: Set<string>;
  readonly inflight: Map<number, { readonly ids: ReadonlySet<string>; readonly timer: NodeJS.Timeout }>;
}

/**
 * Exchanges pending transactions with peers by announcing ids and fetching bodies, as Ethereum's eth/68
 * does with pooled transactions: gossip alone reaches only the peers connected when a transaction
 * arrived, so a node that was partitioned, restarted, or dropped a gossip batch under load would never
 * get the transactions it missed, and those behind them in nonce order would be stranded.
 *
 * - When a peer connects, every pending id is announced to it (frames of `maxAnnounceIds`).
 * - Every `reannounceIntervalMs`, ids pending for at least `reannounceAfterMs` are announced to every peer
 *   again (at most `maxReannounceIds`, oldest first): a heal, a dropped batch or a late peer converges.
 * - An announced id the pool lacks is requested from the announcer (`maxRequestIds` per request, at most
 *   `maxInflightPerPeer` outstanding per peer, one outstanding request per id across peers, an id the
 *   request does not bring asked of another peer that announced it); the answer
 *   carries at most `maxResponseBytes` of bodies. Fetched bodies go through the pool's normal admission;
 *   only admitted ones are announced on. A body that was not requested, an unsolicited answer, or an
 *   invalid transaction scores the sender down (malformed frames are refused by `parsePeerMessage`).
 *
 * @example
 * ```ts
 * import { createPeerNetwork, createTxExchange, type TxExchange } from '@aitbc/rpc';
 * let exchange: TxExchange | undefined;
 * const network = createPeerNetwork({ nodeKey, chainId, genesisHash, onTxExchange: (from, m) => exchange?.handle(from, m) ?? true });
 * exchange = createTxExchange({ network, pool: { pendingIds, has, body, admit } });
 * await network.start();
 * exchange.start();
 * ```
 */
export function createTxExchange(options: TxExchangeOptions): TxExchange {
  const { network, pool } = options;
  const l = options.limits ?? {};
  const announceIds = Math.min(Math.max(1, l.maxAnnounceIds ?? MAX_TX_ANNOUNCE_IDS), MAX_TX_ANNOUNCE_IDS);
  const requestIds = Math.min(Math.max(1, l.maxRequestIds ?? MAX_TX_REQUEST_IDS), MAX_TX_REQUEST_IDS);
  const maxInflight = Math.max(1, l.maxInflightPerPeer ?? 4);
  const maxQueued = Math.max(1, l.maxQueuedPerPeer ?? 16_384);
  const maxResponseBytes = Math.max(1, l.maxResponseBytes ?? 2 * 1024 * 1024);
  const timeoutMs = l.requestTimeoutMs ?? 10_000;
  const reannounceMs = l.reannounceIntervalMs ?? 5_000;
  const reannounceAfterMs = l.reannounceAfterMs ?? 5_000;
  const maxReannounce = Math.max(0, l.maxReannounceIds ?? 16_384);

  const peers = new Map<string, PeerState>();
  /**
   * Ids requested from some peer and not yet answered (and admitted), so no id is fetched twice at once,
   * each with up to {@link MAX_ALTERNATES} other peers that announced it meanwhile: an id the request
   * does not bring (timed out, left out of the answer) is queued at the next of them, so a slow or
   * hostile peer cannot hold back a transaction that honest peers hold.
   */
  const requested = new Map<string, string[]>();
  /** When each pending id was first seen pending (for the re-announce). */
  let firstSeen = new Map<string, number>();
  const counters = { announced: 0, requested: 0, fetched: 0, admitted: 0, served: 0 };
  let nextReqId = 1;
  let running = false;
  let timer: NodeJS.Timeout | undefined;
  const offs: Array<() => void> = [];

  const state = (nodeId: string): PeerState => {
    let s = peers.get(nodeId);
    if (s === undefined) {
      s = { queue: new Set(), inflight: new Map() };
      peers.set(nodeId, s);
    }
    return s;
  };

  function announceTo(nodeId: string, ids: readonly string[]): number {
    let frames = 0;
    for (let i = 0; i < ids.length; i += announceIds) {
      const chunk = ids.slice(i, i + announceIds);
      if (!network.sendTo(nodeId, { t: 'tx_announce', ids: chunk })) break;
      counters.announced += chunk.length;
      frames++;
    }
    return frames;
  }

  /** Ends the request of `ids`; those the pool still lacks go to a peer that announced them too. */
  function release(ids: Iterable<string>) {
    const woken = new Set<string>();
    for (const id of ids) {
      const alternates = requested.get(id);
      requested.delete(id);
      if (alternates === undefined || !running || pool.has(id)) continue;
      for (let next = alternates.shift(); next !== undefined; next = alternates.shift()) {
        const s = peers.get(next);
        if (s === undefined || s.queue.size >= maxQueued) continue;
        s.queue.add(id);
        woken.add(next);
        break;
      }
    }
    for (const nodeId of woken) pump(nodeId);
  }

  /** Sends requests for queued ids while the peer has room for more outstanding ones. */
  function pump(nodeId: string) {
    const s = peers.get(nodeId);
    if (s === undefined || !running) return;
    while (s.inflight.size < maxInflight && s.queue.size > 0) {
      const ids: string[] = [];
      for (const id of s.queue) {
        s.queue.delete(id);
        if (requested.has(id) || pool.has(id)) continue;
        ids.push(id);
        if (ids.length >= requestIds) break;
      }
      if (ids.length === 0) return;
      const reqId = nextReqId++;
      if (!network.sendTo(nodeId, { t: 'tx_request', reqId, ids })) return;
      for (const id of ids) requested.set(id, []);
      counters.requested += ids.length;
      const t = setTimeout(() => {
        const req = s.inflight.get(reqId);
        if (req === undefined) return;
        s.inflight.delete(reqId);
        release(req.ids);
        pump(nodeId);
      }, timeoutMs);
      t.unref();
      s.inflight.set(reqId, { ids: new Set(ids), timer: t });
    }
  }

  function onAnnounce(from: string, ids: readonly string[]): boolean {
    const s = state(from);
    for (const id of ids) {
      if (s.queue.size >= maxQueued) break; // the rest is announced again later
      if (pool.has(id)) continue;
      const alternates = requested.get(id);
      if (alternates === undefined) s.queue.add(id);
      else if (alternates.length < MAX_ALTERNATES && !alternates.includes(from)) alternates.push(from);
    }
    pump(from);
    return true;
  }

  function onRequest(from: string, reqId: number, ids: readonly string[]): boolean {
    const txs: JsonObject[] = [];
    let bytes = 0;
    for (const id of ids) {
      const body = pool.body(id);
      if (body === undefined) continue;
      const size = JSON.stringify(body).length;
      if (txs.length > 0 && bytes + size > maxResponseBytes) break;
      txs.push(body);
      bytes += size;
    }
    if (network.sendTo(from, { t: 'tx_bodies', reqId, txs })) counters.served += txs.length;
    return true;
  }

  function onBodies(from: string, reqId: number, txs: readonly JsonObject[]): boolean {
    const s = peers.get(from);
    const req = s?.inflight.get(reqId);
    if (s === undefined || req === undefined || txs.length > req.ids.size) return false; // unsolicited, or too many
    s.inflight.delete(reqId);
    clearTimeout(req.timer);
    counters.fetched += txs.length;
    void admit(from, req.ids, txs);
    return true;
  }

  async function admit(from: string, ids: ReadonlySet<string>, txs: readonly JsonObject[]) {
    /** Requested ids the answer settled (admitted or refused here): no other peer is asked for them. */
    const settled = new Set<string>();
    try {
      if (txs.length === 0) return;
      const results = await pool.admit(from, txs);
      const admitted: string[] = [];
      let invalid: string | undefined;
      for (const r of results) {
        if (r.status === 'invalid') invalid ??= 'invalid fetched transaction';
        else if (r.id === undefined || !ids.has(r.id)) invalid ??= 'fetched transaction that was not requested';
        else {
          settled.add(r.id);
          if (r.status === 'admitted') admitted.push(r.id);
        }
      }
      counters.admitted += admitted.length;
      if (invalid !== undefined) network.reportInvalid(from, invalid);
      if (admitted.length > 0) exchange.announce(admitted, from);
    } catch (err) {
      options.onError?.(err);
    } finally {
      for (const id of settled) requested.delete(id);
      release([...ids].filter((id) => !settled.has(id)));
      pump(from);
    }
  }

  function reannounce() {
    const now = Date.now();
    const next = new Map<string, number>();
    const old: string[] = [];
    for (const id of pool.pendingIds()) {
      const since = firstSeen.get(id) ?? now;
      next.set(id, since);
      if (now - since >= reannounceAfterMs && old.length < maxReannounce) old.push(id);
    }
    firstSeen = next;
    if (old.length > 0) exchange.announce(old);
  }

  const exchange: TxExchange = {
    start() {
      if (running) return;
      running = true;
      offs.push(
        network.on('peer:connected', (p) => {
          peers.delete(p.nodeId);
          announceTo(p.nodeId, [...pool.pendingIds()]);
        }),
        network.on('peer:disconnected', ({ nodeId }) => {
          const s = peers.get(nodeId);
          if (s === undefined) return;
          peers.delete(nodeId);
          for (const req of s.inflight.values()) {
            clearTimeout(req.timer);
            release(req.ids);
          }
        }),
      );
      // Peers connected before the start get the announce a connection would have given them.
      for (const p of network.peers()) announceTo(p.nodeId, [...pool.pendingIds()]);
      if (reannounceMs > 0) {
        timer = setInterval(() => {
          try {
            reannounce();
          } catch (err) {
            options.onError?.(err);
          }
        }, reannounceMs);
        timer.unref();
      }
    },
    stop() {
      running = false;
      for (const off of offs.splice(0)) off();
      if (timer !== undefined) clearInterval(timer);
      timer = undefined;
      for (const s of peers.values()) for (const req of s.inflight.values()) clearTimeout(req.timer);
      peers.clear();
      requested.clear();
    },
    handle(from, message) {
      if (!running) return true;
      switch (message.t) {
        case 'tx_announce':
          return onAnnounce(from, message.ids);
        case 'tx_request':
          return onRequest(from, message.reqId, message.ids);
        case 'tx_bodies':
          return onBodies(from, message.reqId, message.txs);
      }
    },
    announce(ids, except) {
      let frames = 0;
      for (const p of network.peers()) if (p.nodeId !== except) frames += announceTo(p.nodeId, ids);
      return frames;
    },
    stats: () => ({ ...counters }),
  };
  return exchange;
}
