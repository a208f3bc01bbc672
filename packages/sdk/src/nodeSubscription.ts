import { AitbcError } from '@aitbc/crypto';

/**
 * A WebSocket class: the browser's (and Node 22's) global `WebSocket`, or `WebSocket` from the `ws`
 * package in Node 20. Only `new Ctor(url)`, `send`, `close`, `readyState` and the `on*` handlers are used.
 *
 * @example
 * ```ts
 * import { createClient, type WebSocketConstructor } from '@aitbc/sdk';
 * import WebSocket from 'ws';
 * const webSocket: WebSocketConstructor = WebSocket; // Node 20; browsers have globalThis.WebSocket
 * const client = createClient({ node: 'http://127.0.0.1:8006', webSocket });
 * ```
 */
export type WebSocketConstructor = new (url: string) => object;

interface SocketLike {
  readonly readyState: number;
  send(data: string): void;
  close(code?: number, reason?: string): void;
  onopen: (() => void) | null;
  onmessage: ((event: { data: unknown }) => void) | null;
  onclose: (() => void) | null;
  onerror: (() => void) | null;
}

/**
 * Connection state of a subscription, reported through `onStatus`.
 *
 * @example
 * ```ts
 * import type { SubscriptionStatus } from '@aitbc/sdk';
 * const sub = client.node.subscribeBlocks({ onStatus: (s: SubscriptionStatus) => console.log('ws', s) });
 * ```
 */
export type SubscriptionStatus = 'connecting' | 'open' | 'reconnecting' | 'closed';

/**
 * Options of a node subscription.
 *
 * @example
 * ```ts
 * import type { SubscribeOptions } from '@aitbc/sdk';
 * const options: SubscribeOptions = { fromHeight: 100, filter: { address: 'ait1…' }, signal: AbortSignal.timeout(60_000) };
 * for await (const tx of client.node.subscribeTransactions(options)) console.log(tx.id);
 * ```
 */
export interface SubscribeOptions {
  /**
   * Replay committed blocks (or their transactions) from this height first, then follow live with
   * no gap and no duplicate. Without it the subscription starts live; after the first block it
   * resumes gaplessly anyway.
   */
  readonly fromHeight?: number;
  /** Server-side filter: blocks/txs touching an address, or of one tx type. */
  readonly filter?: { readonly address?: string; readonly txType?: string };
  /** WebSocket class (default: the client's, else `globalThis.WebSocket`). */
  readonly webSocket?: WebSocketConstructor;
  /** Closes the subscription. */
  readonly signal?: AbortSignal;
  /** Reconnect backoff: first step (default 100 ms), cap (default 5 000 ms), consecutive failures before giving up (default unlimited). */
  readonly reconnect?: { readonly baseDelayMs?: number; readonly maxDelayMs?: number; readonly maxAttempts?: number };
  /** Events buffered for a slow consumer before the subscription fails with `SDK_SUBSCRIPTION_OVERFLOW` (default 10 000). */
  readonly maxQueue?: number;
  /** Ping interval in ms (default 15 000); a connection silent for two intervals is reopened. */
  readonly heartbeatMs?: number;
  /** Connection state changes. */
  readonly onStatus?: (status: SubscriptionStatus) => void;
}

/**
 * A live subscription: iterate it with `for await`, or read `lastHeight`; `close()` ends the
 * iteration. A failure that reconnecting cannot fix (a refused subscription, too many reconnect
 * attempts, an overflowing queue) rejects the pending `next()` with an `AitbcError`.
 *
 * @example
 * ```ts
 * const sub = client.node.subscribeBlocks();
 * await sub.ready; // rejects if the node refuses the subscription
 * for await (const block of sub) if (block.height >= 10) sub.close();
 * console.log(sub.lastHeight, sub.reconnects);
 * ```
 */
export interface NodeSubscription<T> extends AsyncIterable<T> {
  /** Resolves when the node first acknowledges the subscription; rejects if it refuses it. */
  readonly ready: Promise<void>;
  /** Height of the last block delivered (`new_blocks`), if any. */
  readonly lastHeight: number | undefined;
  /** Reconnections so far. */
  readonly reconnects: number;
  /** Next event (what `for await` calls). */
  next(): Promise<IteratorResult<T, undefined>>;
  /** Closes the socket and ends the iteration. */
  close(): void;
}

/**
 * Internal options: the subscription plus where to connect.
 *
 * @example
 * ```ts
 * import { type SubscribeNodeOptions, subscribeNode, type NodeBlock } from '@aitbc/sdk';
 * const options: SubscribeNodeOptions = { baseUrl: 'http://127.0.0.1:8006', topic: 'new_blocks', fromHeight: 0 };
 * const blocks = subscribeNode<NodeBlock>(options);
 * ```
 */
export interface SubscribeNodeOptions extends SubscribeOptions {
  readonly baseUrl: string;
  readonly topic: 'new_blocks' | 'new_transactions' | 'consensus_events';
}

const REFUSALS = new Set(['RPC_BAD_PARAMS', 'RPC_WS_BAD_MESSAGE', 'RPC_WS_TOO_MANY_SUBSCRIPTIONS']);
const SEEN_TX_IDS = 10_000;

function textOf(data: unknown): string {
  if (typeof data === 'string') return data;
  if (data instanceof ArrayBuffer || ArrayBuffer.isView(data)) return new TextDecoder().decode(data as ArrayBuffer);
  return String(data);
}

/**
 * Opens a `/ws` subscription that reconnects, resubscribes and resumes (see {@link SubscribeOptions}).
 *
 * @example
 * ```ts
 * import { subscribeNode, type NodeBlock } from '@aitbc/sdk';
 * import WebSocket from 'ws';
 * const blocks = subscribeNode<NodeBlock>({ baseUrl: 'http://127.0.0.1:8006', topic: 'new_blocks', webSocket: WebSocket });
 * for await (const block of blocks) console.log(block.height, block.hash);
 * ```
 */
export function subscribeNode<T>(options: SubscribeNodeOptions): NodeSubscription<T> {
  const maybeCtor = options.webSocket ?? (globalThis as { WebSocket?: WebSocketConstructor }).WebSocket;
  if (maybeCtor === undefined)
    throw new AitbcError(
      'SDK_NO_WEBSOCKET',
      'no WebSocket class: pass `webSocket` (e.g. `import { WebSocket } from "ws"` in Node 20)',
    );
  const Ctor: WebSocketConstructor = maybeCtor;
  if (options.fromHeight !== undefined && (!Number.isSafeInteger(options.fromHeight) || options.fromHeight < 0))
    throw new AitbcError('SDK_BAD_INPUT', 'fromHeight must be a non-negative integer');
  if (options.topic === 'consensus_events' && options.fromHeight !== undefined)
    throw new AitbcError('SDK_BAD_INPUT', 'consensus events cannot be replayed from a height');
  const url = `${options.baseUrl.replace(/^http/, 'ws')}/ws`;
  const base = options.reconnect?.baseDelayMs ?? 100;
  const cap = options.reconnect?.maxDelayMs ?? 5_000;
  const maxAttempts = options.reconnect?.maxAttempts ?? Number.POSITIVE_INFINITY;
  const maxQueue = options.maxQueue ?? 10_000;
  const heartbeatMs = options.heartbeatMs ?? 15_000;

  const queue: T[] = [];
  const waiters: Array<{ resolve: (r: IteratorResult<T, undefined>) => void; reject: (e: unknown) => void }> = [];
  const seenTx = new Set<string>();
  let failure: AitbcError | undefined;
  let closed = false;
  let socket: SocketLike | undefined;
  let lastHeight: number | undefined;
  let acknowledged = false;
  let everAcknowledged = false;
  let attempts = 0;
  let reconnects = 0;
  let retryTimer: ReturnType<typeof setTimeout> | undefined;
  let heartbeat: ReturnType<typeof setInterval> | undefined;
  let lastMessageAt = 0;
  let resolveReady!: () => void;
  let rejectReady!: (e: unknown) => void;
  const ready = new Promise<void>((res, rej) => {
    resolveReady = res;
    rejectReady = rej;
  });
  ready.catch(() => undefined); // observed through next() as well

  const status = (s: SubscriptionStatus) => options.onStatus?.(s);

  function finish(err?: AitbcError) {
    if (closed) return;
    closed = true;
    failure = err;
    if (retryTimer !== undefined) clearTimeout(retryTimer);
    if (heartbeat !== undefined) clearInterval(heartbeat);
    options.signal?.removeEventListener('abort', onAbort);
    const s = socket;
    socket = undefined;
    if (s !== undefined) {
      s.onclose = s.onmessage = s.onopen = null;
      // keep an error handler: closing a socket that is still connecting reports an error (in `ws`,
      // an 'error' event without a listener would be thrown)
      s.onerror = () => undefined;
      try {
        s.close(1000, 'closed');
      } catch {
        // already closing
      }
    }
    if (!everAcknowledged)
      rejectReady(err ?? new AitbcError('SDK_SUBSCRIPTION_CLOSED', 'closed before it was acknowledged'));
    for (const w of waiters.splice(0)) {
      if (err !== undefined && queue.length === 0) w.reject(err);
      else w.resolve({ done: true, value: undefined });
    }
    status('closed');
  }

  function onAbort() {
    finish();
  }

  function deliver(event: T) {
    const w = waiters.shift();
    if (w !== undefined) return w.resolve({ done: false, value: event });
    if (queue.length >= maxQueue)
      return finish(
        new AitbcError('SDK_SUBSCRIPTION_OVERFLOW', `more than ${maxQueue} events are waiting to be read`, {
          details: { maxQueue },
        }),
      );
    queue.push(event);
  }

  function onEvent(data: unknown) {
    if (options.topic === 'new_blocks') {
      const height = (data as { height?: unknown })?.height;
      if (typeof height !== 'number') return;
      if (lastHeight !== undefined && height <= lastHeight) return; // duplicate after a resume
      lastHeight = height;
    } else if (options.topic === 'new_transactions') {
      const id = (data as { id?: unknown })?.id;
      if (typeof id === 'string') {
        if (seenTx.has(id)) return;
        seenTx.add(id);
        if (seenTx.size > SEEN_TX_IDS) seenTx.delete(seenTx.values().next().value as string);
      }
    }
    deliver(data as T);
  }

  function resumeHeight(): number | undefined {
    if (options.topic === 'new_blocks' && lastHeight !== undefined) return lastHeight + 1;
    return options.fromHeight;
  }

  function scheduleReconnect() {
    if (closed) return;
    attempts++;
    if (attempts > maxAttempts)
      return finish(
        new AitbcError('SDK_SUBSCRIPTION_LOST', `could not reconnect to ${url} after ${maxAttempts} attempts`, {
          details: { attempts: maxAttempts },
        }),
      );
    status('reconnecting');
    const delay = Math.min(cap, base * 2 ** (attempts - 1)) * (0.5 + Math.random() / 2);
    retryTimer = setTimeout(connect, delay);
  }

  function connect() {
    if (closed) return;
    retryTimer = undefined;
    acknowledged = false;
    status('connecting');
    let s: SocketLike;
    try {
      s = new Ctor(url) as SocketLike;
    } catch (cause) {
      return finish(new AitbcError('SDK_BAD_CONFIG', `cannot open a WebSocket to ${url}`, { cause }));
    }
    socket = s;
    s.onopen = () => {
      lastMessageAt = Date.now();
      const msg: Record<string, unknown> = { op: 'subscribe', topic: options.topic, id: 1 };
      if (options.filter !== undefined) msg.filter = options.filter;
      const from = resumeHeight();
      if (from !== undefined) msg.fromHeight = from;
      s.send(JSON.stringify(msg));
    };
    s.onmessage = (ev) => {
      lastMessageAt = Date.now();
      let m: { type?: unknown; data?: unknown; error?: { code?: unknown; message?: unknown } };
      try {
        m = JSON.parse(textOf(ev.data));
      } catch {
        return; // not ours to crash on: ignore a malformed frame
      }
      if (m?.type === 'event') return onEvent(m.data);
      if (m?.type === 'subscribed') {
        acknowledged = true;
        attempts = 0;
        if (!everAcknowledged) {
          everAcknowledged = true;
          resolveReady();
        }
        return status('open');
      }
      if (m?.type === 'error' && !acknowledged) {
        const code = typeof m.error?.code === 'string' ? m.error.code : 'SDK_BAD_RESPONSE';
        if (REFUSALS.has(code))
          finish(
            new AitbcError(code, typeof m.error?.message === 'string' ? m.error.message : code, {
              details: { topic: options.topic },
            }),
          );
      }
    };
    s.onerror = () => undefined; // a close follows
    s.onclose = () => {
      if (socket === s) socket = undefined;
      if (acknowledged) reconnects++;
      scheduleReconnect();
    };
  }

  if (options.signal?.aborted) {
    finish();
  } else {
    options.signal?.addEventListener('abort', onAbort, { once: true });
    heartbeat = setInterval(() => {
      const s = socket;
      if (s === undefined || s.readyState !== 1) return;
      if (Date.now() - lastMessageAt > 2 * heartbeatMs) return s.close(4000, 'silent');
      s.send('{"op":"ping"}');
    }, heartbeatMs);
    (heartbeat as { unref?: () => void }).unref?.();
    connect();
  }

  const sub: NodeSubscription<T> = {
    ready,
    get lastHeight() {
      return lastHeight;
    },
    get reconnects() {
      return reconnects;
    },
    next() {
      const item = queue.shift();
      if (item !== undefined) return Promise.resolve({ done: false, value: item });
      if (failure !== undefined) return Promise.reject(failure);
      if (closed) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve, reject) => waiters.push({ resolve, reject }));
    },
    close: () => finish(),
    [Symbol.asyncIterator]() {
      return {
        next: () => sub.next(),
        return: async () => {
          finish();
          return { done: true, value: undefined };
        },
      };
    },
  };
  return sub;
}
