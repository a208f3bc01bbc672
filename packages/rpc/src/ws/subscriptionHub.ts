import type { WebSocket } from 'ws';
import type { BlockWire, ConsensusEventWire, JsonObject, NodeBackend, NodeBackendEvents } from '../nodeBackend.js';

/**
 * Subscription topics of `/ws`.
 *
 * @example
 * ```ts
 * import type { SubscriptionTopic } from '@aitbc/rpc';
 * const topic: SubscriptionTopic = 'new_transactions';
 * ws.send(JSON.stringify({ op: 'subscribe', topic, filter: { address: 'ait1…' } }));
 * ```
 */
export type SubscriptionTopic = 'new_blocks' | 'new_transactions' | 'consensus_events';

/**
 * Limits of the subscription hub (all bounded counters).
 *
 * @example
 * ```ts
 * import { createSubscriptionHub, type SubscriptionHubLimits } from '@aitbc/rpc';
 * const limits: SubscriptionHubLimits = { maxSubscriptionsPerConnection: 4, maxBufferedBytes: 1024 * 1024 };
 * const hub = createSubscriptionHub(backend, limits);
 * ```
 */
export interface SubscriptionHubLimits {
  /** Subscriptions per connection (default 16). */
  readonly maxSubscriptionsPerConnection?: number;
  /** Send buffer (bytes) above which a connection is a slow consumer and is dropped (default 4 MiB). */
  readonly maxBufferedBytes?: number;
  /** Most blocks one resume may replay (default 10 000). */
  readonly maxResumeBlocks?: number;
  /** Largest client message in bytes (default 4 KiB). */
  readonly maxMessageBytes?: number;
  /** Client messages per connection per second; over it the connection is closed with 1008 (default 50). */
  readonly maxMessagesPerSecond?: number;
}

interface Filter {
  readonly address?: string;
  readonly txType?: string;
}

interface Subscription {
  readonly id: string;
  readonly topic: SubscriptionTopic;
  readonly filter: Filter;
  /** Events are held back while a resume replays history; `undefined` once live. */
  pending: BlockWire[] | undefined;
  /** Highest block height delivered (for blocks/txs), to skip duplicates after a resume. */
  lastHeight: number;
}

interface Connection {
  readonly socket: WebSocket;
  readonly subs: Map<string, Subscription>;
  nextId: number;
  windowStart: number;
  messages: number;
}

const TOPICS: ReadonlySet<string> = new Set(['new_blocks', 'new_transactions', 'consensus_events']);
const ADDRESS_RE = /^[a-z0-9]{1,16}1[02-9ac-hj-np-z]{6,120}$/;
const TX_TYPE_RE = /^[a-z][a-z0-9._-]{0,31}$/;

function txTouches(tx: JsonObject, filter: Filter): boolean {
  if (filter.txType !== undefined && tx.type !== filter.txType) return false;
  if (filter.address !== undefined) {
    const a = filter.address;
    if (tx.from !== a && tx.to !== a && tx.coordinator !== a) return false;
  }
  return true;
}

function consensusMatches(event: ConsensusEventWire, filter: Filter): boolean {
  return filter.txType === undefined && (filter.address === undefined || event.validator === filter.address);
}

/**
 * A connected subscription hub; see {@link createSubscriptionHub}.
 *
 * @example
 * ```ts
 * import { createSubscriptionHub, type SubscriptionHub } from '@aitbc/rpc';
 * const hub: SubscriptionHub = createSubscriptionHub(backend);
 * hub.start();
 * app.get('/ws', { websocket: true }, (socket) => hub.accept(socket));
 * ```
 */
export interface SubscriptionHub {
  /** Takes over a WebSocket connection (from the `/ws` route). */
  accept(socket: WebSocket): void;
  /** Open connections (a bounded counter). */
  readonly connections: number;
  /** Starts listening to backend events. */
  start(): void;
  /** Stops listening and closes every connection. */
  stop(): void;
}

/**
 * The `/ws` subscription hub. Client messages (JSON text):
 * - `{"op":"subscribe","topic":"new_blocks"|"new_transactions"|"consensus_events","filter":{"address"?,"txType"?},"fromHeight"?:n,"id"?}`
 *   → `{"type":"subscribed","id","subscription"}`; with `fromHeight`, committed blocks (or their txs)
 *   from that height are replayed first, then live events follow with no gap and no duplicate.
 * - `{"op":"unsubscribe","subscription"}` → `{"type":"unsubscribed","subscription"}`
 * - `{"op":"ping"}` → `{"type":"pong"}` (WebSocket-level pings are answered too).
 *
 * Events: `{"type":"event","subscription","topic","data"}`. Errors: `{"type":"error","id"?,"error":{code,message}}`
 * with `RPC_WS_BAD_MESSAGE`, `RPC_WS_TOO_MANY_SUBSCRIPTIONS`, `RPC_BAD_PARAMS`, `RPC_RATE_LIMITED` (then
 * closed with 1008). A connection whose
 * send buffer exceeds `maxBufferedBytes` is terminated (slow consumer) so it cannot stall the node.
 *
 * @example
 * ```ts
 * import { createSubscriptionHub } from '@aitbc/rpc';
 * const hub = createSubscriptionHub(backend, { maxSubscriptionsPerConnection: 8 }, { onConnectionsChanged: (n) => gauge.set(n) });
 * hub.start(); // then hand it each /ws socket: hub.accept(socket); hub.stop() closes them all
 * ```
 */
export function createSubscriptionHub(
  backend: NodeBackend,
  limits: SubscriptionHubLimits = {},
  hooks: { onConnectionsChanged?: (n: number) => void } = {},
): SubscriptionHub {
  const maxSubs = limits.maxSubscriptionsPerConnection ?? 16;
  const maxBuffered = limits.maxBufferedBytes ?? 4 * 1024 * 1024;
  const maxResume = limits.maxResumeBlocks ?? 10_000;
  const maxMessage = limits.maxMessageBytes ?? 4096;
  const maxRate = limits.maxMessagesPerSecond ?? 50;
  const conns = new Set<Connection>();
  let started = false;
  let offConsensus: (() => void) | undefined;
  /**
   * The backend's block and tx events are listened to only while a subscription needs them: a backend
   * builds each event's wire form for its listeners (a block's every transaction, a proxy per admitted
   * transaction), work that a node without subscribers would do for nothing. Blocks are needed by
   * `new_blocks` and by `new_transactions` (resume, heights); txs by `new_transactions`.
   */
  const needs = { block: 0, tx: 0 };
  let offBlock: (() => void) | undefined;
  let offTx: (() => void) | undefined;

  const changed = () => hooks.onConnectionsChanged?.(conns.size);

  /** The unsubscriber of `event` after making it listened to iff `wanted` (`off`: the current one). */
  function follow<E extends 'block' | 'tx'>(
    event: E,
    listener: NodeBackendEvents[E],
    wanted: boolean,
    off: (() => void) | undefined,
  ): (() => void) | undefined {
    if (wanted) return off ?? backend.on(event, listener);
    off?.();
    return undefined;
  }

  function listen() {
    offBlock = follow('block', onBlock, started && needs.block > 0, offBlock);
    offTx = follow('tx', onTx, started && needs.tx > 0, offTx);
  }

  function counted(sub: Subscription, by: 1 | -1) {
    if (sub.topic !== 'consensus_events') needs.block += by;
    if (sub.topic === 'new_transactions') needs.tx += by;
    listen();
  }

  function dropSubscription(conn: Connection, id: string): boolean {
    const sub = conn.subs.get(id);
    if (sub === undefined) return false;
    conn.subs.delete(id);
    counted(sub, -1);
    return true;
  }

  /** Forgets a connection and its subscriptions (idempotent: a dropped slow consumer closes later). */
  function forget(conn: Connection) {
    for (const sub of conn.subs.values()) counted(sub, -1);
    conn.subs.clear();
    if (conns.delete(conn)) changed();
  }

  function send(conn: Connection, text: string | Buffer) {
    if (conn.socket.readyState !== 1) return;
    if (conn.socket.bufferedAmount > maxBuffered) {
      // Slow consumer: forget it now (its queued data is discarded) and cut the connection.
      forget(conn);
      conn.socket.terminate();
      return;
    }
    conn.socket.send(text, { binary: false });
  }

  function sendError(conn: Connection, code: string, message: string, id?: unknown) {
    const body: Record<string, unknown> = { type: 'error', error: { code, message } };
    if (typeof id === 'string' || typeof id === 'number') body.id = id;
    send(conn, JSON.stringify(body));
  }

  function eventText(sub: Subscription, dataJson: string): string {
    return `{"type":"event","subscription":${JSON.stringify(sub.id)},"topic":"${sub.topic}","data":${dataJson}}`;
  }

  /**
   * Fan-out encoder: one event is framed as UTF-8 once per distinct subscription id (ids are
   * per-connection counters, so 1,000 connections usually share a handful), not once per socket.
   */
  function fanOut(dataJson: string): (sub: Subscription) => Buffer {
    const cache = new Map<string, Buffer>();
    return (sub) => {
      let buf = cache.get(sub.id);
      if (buf === undefined) {
        buf = Buffer.from(eventText(sub, dataJson));
        cache.set(sub.id, buf);
      }
      return buf;
    };
  }

  function deliverBlock(conn: Connection, sub: Subscription, block: BlockWire, encode?: (sub: Subscription) => Buffer) {
    if (block.height <= sub.lastHeight) return;
    sub.lastHeight = block.height;
    if (sub.topic === 'new_blocks') {
      const f = sub.filter;
      if ((f.address !== undefined || f.txType !== undefined) && !block.txs.some((tx) => txTouches(tx, f))) return;
      send(conn, encode === undefined ? eventText(sub, JSON.stringify(block)) : encode(sub));
    } else if (sub.topic === 'new_transactions') {
      // Replayed history: the txs of committed blocks.
      for (const tx of block.txs) if (txTouches(tx, sub.filter)) send(conn, eventText(sub, JSON.stringify(tx)));
    }
  }

  async function replay(conn: Connection, sub: Subscription, from: number): Promise<void> {
    try {
      const head = await backend.head();
      if (head.height - from + 1 > maxResume) {
        sendError(conn, 'RPC_BAD_PARAMS', `resume may replay at most ${maxResume} blocks`);
        dropSubscription(conn, sub.id);
        return;
      }
      for (let h = from; h <= head.height && conn.subs.has(sub.id); h++) {
        const block = await backend.blockByHeight(h);
        if (block === undefined) break;
        deliverBlock(conn, sub, block);
      }
    } catch {
      sendError(conn, 'RPC_INTERNAL', 'resume failed');
    }
    const pending = sub.pending ?? [];
    sub.pending = undefined;
    for (const block of pending) deliverBlock(conn, sub, block);
  }

  function onMessage(conn: Connection, raw: Buffer | ArrayBuffer | Buffer[], isBinary: boolean) {
    const now = Date.now();
    if (now - conn.windowStart >= 1000) {
      conn.windowStart = now;
      conn.messages = 0;
    }
    if (++conn.messages > maxRate) {
      sendError(conn, 'RPC_RATE_LIMITED', `at most ${maxRate} messages per second`);
      conn.socket.close(1008, 'rate limited');
      return;
    }
    const size = Array.isArray(raw) ? raw.reduce((n, b) => n + b.length, 0) : raw.byteLength;
    if (isBinary || size > maxMessage) return sendError(conn, 'RPC_WS_BAD_MESSAGE', 'send JSON text messages ≤ limit');
    let msg: unknown;
    try {
      msg = JSON.parse(Buffer.isBuffer(raw) ? raw.toString('utf8') : Buffer.from(raw as ArrayBuffer).toString('utf8'));
    } catch {
      return sendError(conn, 'RPC_WS_BAD_MESSAGE', 'message is not valid JSON');
    }
    if (typeof msg !== 'object' || msg === null || Array.isArray(msg))
      return sendError(conn, 'RPC_WS_BAD_MESSAGE', 'message must be an object');
    const m = msg as Record<string, unknown>;
    const reqId = m.id;
    if (m.op === 'ping') return send(conn, '{"type":"pong"}');
    if (m.op === 'unsubscribe') {
      if (typeof m.subscription !== 'string' || !dropSubscription(conn, m.subscription))
        return sendError(conn, 'RPC_BAD_PARAMS', 'unknown subscription', reqId);
      return send(conn, JSON.stringify({ type: 'unsubscribed', subscription: m.subscription }));
    }
    if (m.op !== 'subscribe')
      return sendError(conn, 'RPC_WS_BAD_MESSAGE', 'op must be subscribe, unsubscribe or ping', reqId);
    if (typeof m.topic !== 'string' || !TOPICS.has(m.topic))
      return sendError(conn, 'RPC_BAD_PARAMS', 'unknown topic', reqId);
    const rawFilter = m.filter ?? {};
    if (typeof rawFilter !== 'object' || rawFilter === null || Array.isArray(rawFilter))
      return sendError(conn, 'RPC_BAD_PARAMS', 'filter must be an object', reqId);
    const fr = rawFilter as Record<string, unknown>;
    for (const key of Object.keys(fr))
      if (key !== 'address' && key !== 'txType')
        return sendError(conn, 'RPC_BAD_PARAMS', `unknown filter "${key.slice(0, 32)}"`, reqId);
    if (fr.address !== undefined && (typeof fr.address !== 'string' || !ADDRESS_RE.test(fr.address)))
      return sendError(conn, 'RPC_BAD_PARAMS', 'filter.address must be an address', reqId);
    if (fr.txType !== undefined && (typeof fr.txType !== 'string' || !TX_TYPE_RE.test(fr.txType)))
      return sendError(conn, 'RPC_BAD_PARAMS', 'filter.txType must be a tx type', reqId);
    const from = m.fromHeight;
    if (from !== undefined && (typeof from !== 'number' || !Number.isSafeInteger(from) || from < 0))
      return sendError(conn, 'RPC_BAD_PARAMS', 'fromHeight must be a non-negative integer', reqId);
    if (from !== undefined && m.topic === 'consensus_events')
      return sendError(conn, 'RPC_BAD_PARAMS', 'consensus_events cannot resume', reqId);
    if (conn.subs.size >= maxSubs)
      return sendError(conn, 'RPC_WS_TOO_MANY_SUBSCRIPTIONS', `at most ${maxSubs} subscriptions per connection`, reqId);
    const filter: Filter = {
      ...(typeof fr.address === 'string' ? { address: fr.address } : {}),
      ...(typeof fr.txType === 'string' ? { txType: fr.txType } : {}),
    };
    const sub: Subscription = {
      id: `s${conn.nextId++}`,
      topic: m.topic as SubscriptionTopic,
      filter,
      pending: from === undefined ? undefined : [],
      lastHeight: from === undefined ? -1 : from - 1,
    };
    conn.subs.set(sub.id, sub);
    counted(sub, 1); // before the resume reads history, so that no live block falls in between
    const ack: Record<string, unknown> = { type: 'subscribed', subscription: sub.id };
    if (typeof reqId === 'string' || typeof reqId === 'number') ack.id = reqId;
    send(conn, JSON.stringify(ack));
    if (from !== undefined) void replay(conn, sub, from);
  }

  function onBlock(block: BlockWire) {
    let encode: ((sub: Subscription) => Buffer) | undefined;
    for (const conn of conns) {
      for (const sub of conn.subs.values()) {
        if (sub.topic !== 'new_blocks' && !(sub.topic === 'new_transactions' && sub.pending !== undefined)) {
          // new_transactions live events come from the mempool; only track the height.
          if (sub.topic === 'new_transactions') sub.lastHeight = Math.max(sub.lastHeight, block.height);
          continue;
        }
        if (sub.pending !== undefined) {
          sub.pending.push(block);
          continue;
        }
        encode ??= fanOut(JSON.stringify(block));
        deliverBlock(conn, sub, block, encode);
      }
    }
  }

  function onTx(tx: JsonObject) {
    let encode: ((sub: Subscription) => Buffer) | undefined;
    for (const conn of conns)
      for (const sub of conn.subs.values()) {
        if (sub.topic !== 'new_transactions' || sub.pending !== undefined || !txTouches(tx, sub.filter)) continue;
        encode ??= fanOut(JSON.stringify(tx));
        send(conn, encode(sub));
      }
  }

  function onConsensus(event: ConsensusEventWire) {
    let encode: ((sub: Subscription) => Buffer) | undefined;
    for (const conn of conns)
      for (const sub of conn.subs.values()) {
        if (sub.topic !== 'consensus_events' || !consensusMatches(event, sub.filter)) continue;
        encode ??= fanOut(JSON.stringify(event));
        send(conn, encode(sub));
      }
  }

  return {
    get connections() {
      return conns.size;
    },
    accept(socket) {
      const conn: Connection = { socket, subs: new Map(), nextId: 1, windowStart: Date.now(), messages: 0 };
      conns.add(conn);
      changed();
      socket.on('message', (data, isBinary) => onMessage(conn, data, isBinary));
      socket.on('error', () => socket.terminate());
      socket.on('close', () => forget(conn));
    },
    start() {
      if (started) return;
      started = true;
      offConsensus = backend.on('consensus', onConsensus);
      listen();
    },
    stop() {
      started = false;
      offConsensus?.();
      offConsensus = undefined;
      for (const conn of conns) {
        forget(conn);
        conn.socket.terminate();
      }
      listen();
      changed();
    },
  };
}
