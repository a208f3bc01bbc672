import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import WebSocket from 'ws';
import { createNodeApiServer, type NodeApiServer } from '../src/index.js';
import { MemoryBackend, newAddress } from './memoryBackend.js';

type Msg = Record<string, unknown> & { type: string };

/** A test WebSocket client that queues every message it receives. */
class Client {
  readonly socket: WebSocket;
  private readonly queue: Msg[] = [];
  private waiter: (() => void) | undefined;
  readonly closed: Promise<number>;

  constructor(url: string) {
    this.socket = new WebSocket(`${url.replace('http', 'ws')}/ws`);
    this.socket.on('message', (d) => {
      this.queue.push(JSON.parse(String(d)) as Msg);
      this.waiter?.();
    });
    this.closed = new Promise((resolve) => this.socket.on('close', (code) => resolve(code)));
  }
  open(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.socket.once('open', () => resolve());
      this.socket.once('error', reject);
    });
  }
  send(msg: unknown): void {
    this.socket.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }
  async next(): Promise<Msg> {
    while (this.queue.length === 0)
      await new Promise<void>((r) => {
        this.waiter = r;
      });
    return this.queue.shift() as Msg;
  }
  async subscribe(msg: Record<string, unknown>): Promise<string> {
    this.send({ op: 'subscribe', ...msg });
    const ack = await this.next();
    expect(ack.type).toBe('subscribed');
    return ack.subscription as string;
  }
  /** Sends a ping and returns every message received before the pong (a barrier). */
  async drain(): Promise<Msg[]> {
    this.send({ op: 'ping' });
    const out: Msg[] = [];
    for (;;) {
      const m = await this.next();
      if (m.type === 'pong') return out;
      out.push(m);
    }
  }
  close(): void {
    this.socket.close();
  }
}

let backend: MemoryBackend;
let server: NodeApiServer;
let url: string;
const alice = newAddress();
const bob = newAddress();

beforeAll(async () => {
  backend = new MemoryBackend();
  server = createNodeApiServer({
    backend,
    port: 0,
    logger: false,
    limits: { maxSubscriptionsPerConnection: 3, maxBufferedBytes: 64 * 1024 },
  });
  url = await server.start();
});
afterAll(async () => {
  await server.stop();
});

async function connect(): Promise<Client> {
  const c = new Client(url);
  await c.open();
  return c;
}

describe('WebSocket /ws subscriptions', () => {
  it('delivers new blocks, transactions and consensus events; unsubscribe stops them', async () => {
    const c = await connect();
    const blocks = await c.subscribe({ topic: 'new_blocks', id: 1 });
    const txs = await c.subscribe({ topic: 'new_transactions' });
    const cons = await c.subscribe({ topic: 'consensus_events' });
    const block = backend.addBlock([]);
    backend.submitTx({ type: 'transfer', from: alice, to: bob, amount: '1' });
    backend.consensus({ type: 'round', height: 5, round: 1 });
    const got = await c.drain();
    expect(got.map((m) => [m.subscription, m.topic])).toEqual([
      [blocks, 'new_blocks'],
      [txs, 'new_transactions'],
      [cons, 'consensus_events'],
    ]);
    expect(got[0]?.data).toEqual(block);
    c.send({ op: 'unsubscribe', subscription: blocks });
    expect(await c.next()).toEqual({ type: 'unsubscribed', subscription: blocks });
    backend.addBlock([]);
    expect(await c.drain()).toEqual([]);
    c.send({ op: 'unsubscribe', subscription: blocks });
    expect(((await c.next()).error as { code: string }).code).toBe('RPC_BAD_PARAMS');
    c.close();
  });

  it('filters by address and tx type', async () => {
    const c = await connect();
    await c.subscribe({ topic: 'new_transactions', filter: { address: bob, txType: 'transfer' } });
    const blockSub = await c.subscribe({ topic: 'new_blocks', filter: { address: alice } });
    backend.submitTx({ type: 'transfer', from: alice, to: newAddress(), amount: '1' });
    backend.submitTx({ type: 'escrow.lock', from: bob, jobId: 'j', amount: '1' });
    const hit = backend.submitTx({ type: 'transfer', from: alice, to: bob, amount: '2' });
    backend.addBlock([{ id: 'x', type: 'transfer', from: newAddress(), to: newAddress() }]);
    const mine = backend.addBlock([{ id: 'y', type: 'transfer', from: alice, to: newAddress() }]);
    const got = await c.drain();
    expect(got).toHaveLength(2);
    expect((got[0]?.data as { id: string }).id).toBe(hit);
    expect(got[1]).toMatchObject({ subscription: blockSub, data: { height: mine.height } });
    c.close();
  });

  it('resumes from a height: replays committed blocks, then goes live with no gap or duplicate', async () => {
    const start = backend.head().height + 1;
    for (let i = 0; i < 5; i++) backend.addBlock([]);
    const c = await connect();
    c.send({ op: 'subscribe', topic: 'new_blocks', fromHeight: start });
    backend.addBlock([]); // committed while the replay runs
    const ack = await c.next();
    expect(ack.type).toBe('subscribed');
    backend.addBlock([]);
    const heights: number[] = [];
    while (heights.length < 7) heights.push(((await c.next()).data as { height: number }).height);
    expect(heights).toEqual([0, 1, 2, 3, 4, 5, 6].map((i) => start + i));
    expect(await c.drain()).toEqual([]);
    c.close();
  });

  it('caps subscriptions per connection and rejects bad messages without closing', async () => {
    const c = await connect();
    for (let i = 0; i < 3; i++) await c.subscribe({ topic: 'new_blocks' });
    c.send({ op: 'subscribe', topic: 'new_blocks', id: 'four' });
    expect(await c.next()).toMatchObject({
      type: 'error',
      id: 'four',
      error: { code: 'RPC_WS_TOO_MANY_SUBSCRIPTIONS' },
    });
    const cases: Array<[unknown, string]> = [
      ['not json', 'RPC_WS_BAD_MESSAGE'],
      ['[1]', 'RPC_WS_BAD_MESSAGE'],
      [{ op: 'dance' }, 'RPC_WS_BAD_MESSAGE'],
      [{ op: 'subscribe', topic: 'new_cats' }, 'RPC_BAD_PARAMS'],
      [{ op: 'subscribe', topic: 'new_blocks', filter: { colour: 'red' } }, 'RPC_BAD_PARAMS'],
      [{ op: 'subscribe', topic: 'new_blocks', filter: { address: 42 } }, 'RPC_BAD_PARAMS'],
      [{ op: 'subscribe', topic: 'new_blocks', fromHeight: -1 }, 'RPC_BAD_PARAMS'],
      [{ op: 'subscribe', topic: 'consensus_events', fromHeight: 1 }, 'RPC_BAD_PARAMS'],
      [{ op: 'subscribe', topic: 'new_blocks', fromHeight: 'x' }, 'RPC_BAD_PARAMS'],
      ['x'.repeat(5000), 'RPC_WS_BAD_MESSAGE'],
    ];
    for (const [msg, code] of cases) {
      c.send(msg);
      if (typeof msg === 'string' && msg.length > 4096) break; // over maxPayload: the socket is closed (1009)
      expect(((await c.next()).error as { code: string }).code).toBe(code);
    }
    expect(await c.closed).toBe(1009);
    const again = await connect();
    expect(await again.drain()).toEqual([]);
    again.close();
  });

  it('replays the transactions of committed blocks for new_transactions with a filter', async () => {
    const start = backend.head().height + 1;
    backend.addBlock([{ id: 't1', type: 'transfer', from: alice, to: bob }]);
    backend.addBlock([{ id: 't2', type: 'transfer', from: newAddress(), to: newAddress() }]);
    backend.addBlock([{ id: 't3', type: 'escrow.lock', from: bob, jobId: 'j' }]);
    const c = await connect();
    c.send({ op: 'subscribe', topic: 'new_transactions', filter: { address: bob }, fromHeight: start });
    expect((await c.next()).type).toBe('subscribed');
    const ids = [(await c.next()).data, (await c.next()).data].map((d) => (d as { id: string }).id);
    expect(ids).toEqual(['t1', 't3']);
    expect(await c.drain()).toEqual([]);
    c.close();
  });

  it('closes a connection that sends messages faster than the per-connection rate', async () => {
    const s = createNodeApiServer({ backend, port: 0, logger: false, limits: { maxMessagesPerSecond: 5 } });
    const u = await s.start();
    try {
      const c = new Client(u);
      await c.open();
      for (let i = 0; i < 6; i++) c.send({ op: 'ping' });
      for (let i = 0; i < 5; i++) expect((await c.next()).type).toBe('pong');
      expect(((await c.next()).error as { code: string }).code).toBe('RPC_RATE_LIMITED');
      expect(await c.closed).toBe(1008);
    } finally {
      await s.stop();
    }
  });

  it('answers WebSocket-level pings and refuses other upgrade paths', async () => {
    const c = await connect();
    const pong = new Promise<void>((r) => c.socket.once('pong', () => r()));
    c.socket.ping();
    await pong;
    c.close();
    const bad = new WebSocket(`${url.replace('http', 'ws')}/nope`);
    const status = await new Promise<number>((resolve) =>
      bad.on('unexpected-response', (_req, res) => resolve(res.statusCode ?? 0)),
    );
    expect(status).toBe(404);
  });

  it('listens to the backend for blocks and txs only while a subscription needs them', async () => {
    const own = new MemoryBackend();
    const s = createNodeApiServer({
      backend: own,
      port: 0,
      logger: false,
      limits: { maxBufferedBytes: 64 * 1024, maxResumeBlocks: 3 },
    });
    const u = await s.start();
    const open = async () => {
      const c = new Client(u);
      await c.open();
      return c;
    };
    const listening = () => [own.listenerCount('block'), own.listenerCount('tx'), own.listenerCount('consensus')];
    try {
      expect(listening()).toEqual([0, 0, 1]);
      const a = await open();
      const b = await open();
      await a.subscribe({ topic: 'consensus_events' });
      expect(listening()).toEqual([0, 0, 1]);
      const blocks = await a.subscribe({ topic: 'new_blocks' });
      const txs = await b.subscribe({ topic: 'new_transactions' });
      await b.subscribe({ topic: 'new_transactions', filter: { address: alice } });
      expect(listening()).toEqual([1, 1, 1]); // one listener each, however many subscriptions
      a.send({ op: 'unsubscribe', subscription: blocks });
      await a.next();
      expect(listening()).toEqual([1, 1, 1]); // b's new_transactions still needs blocks (heights, resume)
      b.send({ op: 'unsubscribe', subscription: txs });
      await b.next();
      expect(listening()).toEqual([1, 1, 1]);
      b.close();
      await b.closed;
      await vi.waitFor(() => expect(listening()).toEqual([0, 0, 1]));
      // A resume too long is refused and its subscription forgotten, listener included.
      for (let i = 0; i < 3; i++) own.addBlock([]);
      const far = await open();
      await far.subscribe({ topic: 'new_blocks', fromHeight: 0 });
      expect((await far.drain()).map((m) => (m.error as { code: string } | undefined)?.code)).toEqual([
        'RPC_BAD_PARAMS',
      ]);
      expect(listening()).toEqual([0, 0, 1]);
      await far.subscribe({ topic: 'new_blocks', fromHeight: 1 });
      const replayed = await far.drain();
      expect(replayed.map((m) => (m.data as { height: number }).height)).toEqual([1, 2, 3]);
      expect(listening()).toEqual([1, 0, 1]);
      // Live again after the listener came back: the next block reaches the subscriber.
      own.addBlock([]);
      expect(((await far.drain())[0]?.data as { height: number }).height).toBe(4);
      // A slow consumer that is dropped releases its listeners too.
      const tcp = (far.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
      tcp.pause();
      for (let i = 0; i < 50 && own.listenerCount('block') > 0; i++) {
        own.addBlock([], 100_000);
        await new Promise((r) => setTimeout(r, 1));
      }
      expect(listening()).toEqual([0, 0, 1]);
      tcp.resume();
      await far.closed;
      a.close();
    } finally {
      await s.stop();
    }
    expect(listening()).toEqual([0, 0, 0]);
  });

  it('drops a slow consumer instead of buffering without bound, and keeps serving others', async () => {
    const slow = await connect();
    const fast = await connect();
    await slow.subscribe({ topic: 'new_blocks' });
    await fast.subscribe({ topic: 'new_blocks' });
    const tcp = (slow.socket as unknown as { _socket: { pause(): void; resume(): void } })._socket;
    tcp.pause();
    for (let i = 0; i < 200; i++) {
      backend.addBlock([], 100_000);
      await new Promise((r) => setTimeout(r, 1)); // let the (same-process) fast client read
    }
    const gauge = await server.metrics.wsConnections.get();
    expect(gauge.values[0]?.value).toBe(1); // the server already let go of the slow one
    tcp.resume();
    expect(await slow.closed).toBe(1006);
    let received = 0;
    for (;;) {
      const m = await fast.next();
      if (m.type === 'event') received++;
      if (received === 200) break;
    }
    expect(received).toBe(200);
    fast.close();
  });
});
