import { generateKeyPair } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RawPeer } from '../../../test-support/rawPeer.ts';
import { until } from '../../../test-support/until.ts';
import {
  createPeerNetwork,
  createTxExchange,
  type JsonObject,
  MAX_TX_ANNOUNCE_IDS,
  MAX_TX_REQUEST_IDS,
  type PeerNetwork,
  parsePeerMessage,
  type TxExchange,
  type TxExchangeLimits,
  type TxExchangePool,
} from '../src/index.js';

const chainId = 'aitbc-test';
const genesisHash = 'ab'.repeat(32);
const stops: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const stop of stops.splice(0).reverse()) await stop();
});

const txId = (n: number) => n.toString(16).padStart(64, '0');
/** A "transaction" of these tests: its id, and whether a pool must refuse (`bad`) or reject it as junk. */
const body = (n: number, extra: JsonObject = {}): JsonObject => ({ id: txId(n), pad: 'x'.repeat(100), ...extra });

/** An in-memory pool: admits bodies with an `id`, refuses `refuse: true`, calls `junk: true` invalid. */
function memoryPool(initial: readonly number[] = []) {
  const txs = new Map<string, JsonObject>(initial.map((n) => [txId(n), body(n)]));
  const pool: TxExchangePool = {
    pendingIds: () => [...txs.keys()],
    has: (id) => txs.has(id),
    body: (id) => txs.get(id),
    admit: async (_from, bodies) =>
      bodies.map((b) => {
        if (b.junk === true || typeof b.id !== 'string') return { status: 'invalid' as const };
        if (b.refuse === true) return { id: b.id, status: 'refused' as const };
        txs.set(b.id, b);
        return { id: b.id, status: 'admitted' as const };
      }),
  };
  return { txs, pool };
}

interface Node {
  readonly network: PeerNetwork;
  readonly exchange: TxExchange;
  readonly txs: Map<string, JsonObject>;
}

async function node(initial: readonly number[], peers: readonly string[] = [], limits: TxExchangeLimits = {}) {
  const { txs, pool } = memoryPool(initial);
  let exchange: TxExchange | undefined;
  const network = createPeerNetwork({
    nodeKey: generateKeyPair(),
    chainId,
    genesisHash,
    listen: { port: 0 },
    peers,
    limits: { reconnectBaseMs: 20, reconnectMaxMs: 200 },
    onTxExchange: (from, m) => exchange?.handle(from, m) ?? true,
  });
  exchange = createTxExchange({ network, pool, limits: { reannounceIntervalMs: 0, ...limits } });
  exchange.start();
  await network.start();
  stops.push(
    () => network.stop(),
    () => exchange?.stop(),
  );
  return { network, exchange, txs } as Node;
}

describe('pending-transaction exchange', () => {
  it('two nodes that meet fetch what each lacks: more than one request, each id once', async () => {
    const a = await node(Array.from({ length: 600 }, (_, i) => i));
    const b = await node([1000, 1001, 1002, 5], [a.network.listenUrl as string]);
    await until(async () => (a.txs.size === 603 && b.txs.size === 603 ? true : undefined));
    expect(b.exchange.stats().requested).toBe(599); // id 5 it had
    expect(a.exchange.stats().served).toBe(599);
    expect(a.exchange.stats().requested).toBe(3);
  });

  it('re-announces what stays pending, so a tx that never reached a connected peer gets there', async () => {
    const a = await node([], [], { reannounceIntervalMs: 50, reannounceAfterMs: 100 });
    const b = await node([], [a.network.listenUrl as string]);
    await until(async () => (a.network.peers().length === 1 ? true : undefined));
    a.txs.set(txId(7), body(7)); // e.g. its gossip was dropped
    await until(async () => (b.txs.has(txId(7)) ? true : undefined));
  });

  it('announces on only what it admitted: a refused tx does not travel past the node that refused it', async () => {
    const a = await node([]);
    a.txs.set(txId(1), body(1));
    a.txs.set(txId(2), body(2, { refuse: true }));
    const b = await node([], [a.network.listenUrl as string]);
    await until(async () => (b.txs.has(txId(1)) ? true : undefined));
    const c = await node([], [b.network.listenUrl as string]);
    await until(async () => (c.txs.has(txId(1)) ? true : undefined));
    expect(b.txs.has(txId(2))).toBe(false);
    expect(c.txs.has(txId(2))).toBe(false);
    // B announced 1 on to C (admitted), C fetched it from B
    expect(c.exchange.stats().fetched).toBe(1);
  });

  it('answers a request within maxResponseBytes, and only with what it holds', async () => {
    const a = await node(
      Array.from({ length: 50 }, (_, i) => i),
      [],
      { maxResponseBytes: 10 * 170 },
    );
    const p = new RawPeer(a.network.listenUrl as string, { chainId, genesisHash });
    stops.push(() => p.socket.close());
    await p.handshake();
    const announce = await p.next('tx_announce'); // on connect: every pending id
    expect((announce.ids as string[]).length).toBe(50);
    p.send({ t: 'tx_request', reqId: 1, ids: [txId(999), ...Array.from({ length: 50 }, (_, i) => txId(i))] });
    const res = await p.next('tx_bodies');
    expect(res.reqId).toBe(1);
    const txs = res.txs as JsonObject[];
    expect(txs.length).toBeGreaterThan(0);
    expect(txs.length).toBeLessThan(50);
    expect(JSON.stringify(txs).length).toBeLessThanOrEqual(10 * 170 + txs.length);
    expect(txs[0]!.id).toBe(txId(0));
  });

  it('keeps at most maxInflightPerPeer requests of maxRequestIds ids outstanding to one peer', async () => {
    const p0 = await node([], [], { maxInflightPerPeer: 2, maxRequestIds: 10, requestTimeoutMs: 60_000 });
    const p = new RawPeer(p0.network.listenUrl as string, { chainId, genesisHash });
    stops.push(() => p.socket.close());
    await p.handshake();
    p.send({ t: 'tx_announce', ids: Array.from({ length: 100 }, (_, i) => txId(i)) });
    const r1 = await p.next('tx_request');
    const r2 = await p.next('tx_request');
    expect((r1.ids as string[]).length).toBe(10);
    expect((r2.ids as string[]).length).toBe(10);
    // nothing more until one is answered
    p.send({ t: 'status', height: 0, hash: 'cd'.repeat(32) });
    await until(async () => (p0.network.peers()[0]?.height === 0 ? true : undefined));
    expect(p.inbox.filter((m) => m.t === 'tx_request')).toHaveLength(0);
    p.send({ t: 'tx_bodies', reqId: r1.reqId, txs: (r1.ids as string[]).map((id) => ({ id })) });
    const r3 = await p.next('tx_request');
    expect((r3.ids as string[])[0]).toBe(txId(20));
    await until(async () => (p0.txs.size === 10 ? true : undefined));
  });

  it('an id one peer never delivers is fetched from another peer that announced it meanwhile', async () => {
    const a = await node([], [], { requestTimeoutMs: 300 });
    const p = new RawPeer(a.network.listenUrl as string, { chainId, genesisHash });
    stops.push(() => p.socket.close());
    await p.handshake();
    p.send({ t: 'tx_announce', ids: [txId(42)] });
    expect((await p.next('tx_request')).ids).toEqual([txId(42)]); // never answered
    const b = await node([42], [a.network.listenUrl as string]);
    await until(async () => (a.txs.has(txId(42)) ? true : undefined));
    expect(b.exchange.stats().served).toBe(1);
  });

  it('scores down malformed announces and requests, unsolicited or oversized answers and invalid bodies, then bans', async () => {
    const a = await node([], [], { requestTimeoutMs: 60_000 });
    const p = new RawPeer(a.network.listenUrl as string, { chainId, genesisHash });
    await p.handshake();
    await until(async () => (a.network.peers().length === 1 ? true : undefined));
    const score = () => a.network.peers()[0]?.score;
    p.send({ t: 'tx_announce', ids: ['XYZ'] }); // not a hex id
    await until(async () => (score() === -25 ? true : undefined));
    p.send({ t: 'tx_bodies', reqId: 77, txs: [] }); // unsolicited
    await until(async () => (score() === -50 ? true : undefined));
    p.send({ t: 'tx_announce', ids: [txId(1)] });
    const req = await p.next('tx_request');
    p.send({ t: 'tx_bodies', reqId: req.reqId, txs: [{ junk: true }] }); // fails admission as invalid data
    await until(async () => (score() === -75 ? true : undefined));
    expect(a.txs.size).toBe(0);
    p.send({ t: 'tx_request', reqId: 1, ids: Array.from({ length: MAX_TX_REQUEST_IDS + 1 }, (_, i) => txId(i)) });
    await p.closed; // banned at -100
    expect(a.network.peers()).toHaveLength(0);
  });

  it('parsePeerMessage takes exactly the exchange frames within their bounds', () => {
    const id = txId(1);
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_announce', ids: [id] }))).toEqual({ t: 'tx_announce', ids: [id] });
    const many = Array.from({ length: MAX_TX_ANNOUNCE_IDS + 1 }, () => id);
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_announce', ids: many }))).toBeUndefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_announce', ids: [] }))).toBeUndefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_announce', ids: [`0x${id.slice(2)}`] }))).toBeUndefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_announce', ids: [id], x: 1 }))).toBeUndefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_request', reqId: 1, ids: [id] }))).toBeDefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_request', reqId: -1, ids: [id] }))).toBeUndefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_bodies', reqId: 1, txs: [] }))).toBeDefined();
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_bodies', reqId: 1, txs: [1] }))).toBeUndefined();
    const bodies = Array.from({ length: MAX_TX_REQUEST_IDS + 1 }, () => ({}));
    expect(parsePeerMessage(JSON.stringify({ t: 'tx_bodies', reqId: 1, txs: bodies }))).toBeUndefined();
  });
});
