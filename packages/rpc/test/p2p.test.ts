import { AitbcError, bytesToHex, generateKeyPair } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RawPeer as WirePeer } from '../../../test-support/rawPeer.ts';
import { until } from '../../../test-support/until.ts';
import {
  createPeerNetwork,
  type GossipEvent,
  type JsonObject,
  type PeerNetwork,
  type PeerNetworkOptions,
  parsePeerMessage,
} from '../src/index.js';

const chainId = 'aitbc-test';
const genesisHash = 'ab'.repeat(32);
const running: PeerNetwork[] = [];

/** Options where `listen: undefined` means outbound only. */
type NodeOpts = { [K in keyof PeerNetworkOptions]?: PeerNetworkOptions[K] | undefined };

function node(opts: NodeOpts = {}): PeerNetwork {
  const net = createPeerNetwork({
    nodeKey: generateKeyPair(),
    chainId,
    genesisHash,
    listen: { port: 0 },
    limits: { reconnectBaseMs: 20, reconnectMaxMs: 200, banMs: 60_000 },
    ...opts,
  } as PeerNetworkOptions);
  running.push(net);
  return net;
}

function once<T>(
  net: PeerNetwork,
  event: 'peer:connected' | 'peer:disconnected' | 'gossip',
  pred: (v: T) => boolean = () => true,
): Promise<T> {
  return new Promise((resolve) => {
    const off = net.on(event, ((v: T) => {
      if (!pred(v)) return;
      off();
      resolve(v);
    }) as never);
  });
}

/** Resolves once `net` has a handshaken connection to `nodeId`. */
function linked(net: PeerNetwork, nodeId: string): Promise<unknown> {
  if (net.peers().some((p) => p.nodeId === nodeId)) return Promise.resolve();
  return once<{ nodeId: string }>(net, 'peer:connected', (p) => p.nodeId === nodeId);
}

afterEach(async () => {
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

/** A {@link WirePeer} of this file's chain. */
class RawPeer extends WirePeer {
  constructor(url: string, options: { autoPong?: boolean } = {}) {
    super(url, { chainId, genesisHash, ...options });
  }
}

describe('peer network', () => {
  it('two nodes handshake, list each other and exchange status', async () => {
    const a = node();
    await a.start();
    const b = node({ listen: undefined, peers: [a.listenUrl as string] });
    const connectedA = once<{ nodeId: string; direction: string }>(a, 'peer:connected');
    const connectedB = once<{ nodeId: string; direction: string }>(b, 'peer:connected');
    await b.start();
    expect((await connectedA).nodeId).toBe(b.nodeId);
    expect((await connectedB).direction).toBe('outbound');
    expect(a.peers().map((p) => [p.nodeId, p.direction])).toEqual([[b.nodeId, 'inbound']]);
    const status = new Promise<{ height: number }>((r) => b.on('status', r));
    a.announceStatus(7, 'cd'.repeat(32));
    expect((await status).height).toBe(7);
  });

  it('gossips across three nodes: each message reaches each node exactly once', async () => {
    const a = node();
    await a.start();
    const b = node({ peers: [a.listenUrl as string] });
    const ab = Promise.all([linked(a, b.nodeId), linked(b, a.nodeId)]);
    await b.start();
    await ab;
    const c = node({ listen: undefined, peers: [a.listenUrl as string, b.listenUrl as string] });
    const ready = Promise.all([linked(a, c.nodeId), linked(b, c.nodeId), linked(c, a.nodeId), linked(c, b.nodeId)]);
    await c.start();
    await ready;
    const got = new Map<PeerNetwork, GossipEvent[]>([
      [a, []],
      [b, []],
      [c, []],
    ]);
    for (const [n, list] of got) n.on('gossip', (e) => list.push(e));
    // Non-ASCII text: the publisher hashes its string, receivers the bytes as received — the same id.
    const tx: JsonObject = { type: 'transfer', from: 'x', nonce: 1, memo: 'naïve · 日本 ✓ 😀' };
    const id = c.publish('tx', tx);
    expect(c.publish('tx', tx)).toBe(id); // publishing again is a no-op
    // Barrier: a marker from each node, received by every other node, after the tx has been relayed.
    await Promise.all([
      once(a, 'gossip', (e: GossipEvent) => e.id === id),
      once(b, 'gossip', (e: GossipEvent) => e.id === id),
    ]);

    const markers = [a, b, c].map((n, i) => n.publish('vote', { marker: i }));
    await Promise.all(
      [a, b, c].flatMap((n) =>
        markers
          .filter((_m, i) => [a, b, c][i] !== n)
          .map((m) =>
            got.get(n)?.some((e) => e.id === m) ? undefined : once(n, 'gossip', (e: GossipEvent) => e.id === m),
          ),
      ),
    );
    expect(got.get(a)?.filter((e) => e.id === id)).toHaveLength(1);
    expect(got.get(b)?.filter((e) => e.id === id)).toHaveLength(1);
    expect(got.get(c)?.filter((e) => e.id === id)).toHaveLength(0);
    expect(got.get(a)?.find((e) => e.id === id)?.body).toEqual(tx);
  });

  it('rejects a wrong chain id, a wrong genesis hash and a bad handshake signature', async () => {
    const a = node();
    await a.start();
    for (const [tamper, code] of [
      [{ chainId: 'other-chain' }, 'RPC_P2P_WRONG_CHAIN'],
      [{ genesisHash: 'cd'.repeat(32) }, 'RPC_P2P_WRONG_GENESIS'],
      [{ badSignature: true }, 'RPC_P2P_BAD_SIGNATURE'],
    ] as const) {
      const p = new RawPeer(a.listenUrl as string);
      await p.handshake(tamper);
      const rej = await p.next('reject');
      expect(rej.code).toBe(code);
      await p.closed;
    }
    expect(a.peers()).toEqual([]);
    expect(() => createPeerNetwork({ nodeKey: generateKeyPair(), chainId, genesisHash: 'xyz' })).toThrow(
      expect.objectContaining({ code: 'RPC_BAD_CONFIG' }),
    );
    expect(() => createPeerNetwork({ nodeKey: generateKeyPair(), chainId, genesisHash, peers: ['http://x'] })).toThrow(
      expect.objectContaining({ code: 'RPC_BAD_CONFIG' }),
    );
  });

  it('scores a peer down for invalid messages, disconnects and bans it', async () => {
    const a = node();
    await a.start();
    const p = new RawPeer(a.listenUrl as string);
    const connected = once<{ nodeId: string; score: number }>(a, 'peer:connected');
    await p.handshake();
    expect((await connected).score).toBe(0);
    const dropped = once<{ nodeId: string; reason: string }>(a, 'peer:disconnected');
    p.send('not json');
    p.send({ t: 'gossip', kind: 'tx', body: {}, extra: 1 });
    p.send({ t: 'status', height: -1, hash: 'ab'.repeat(32) });
    p.send({ t: 'sync_res', reqId: 99, blocks: [] }); // unsolicited
    expect((await dropped).reason).toMatch(/^banned/);
    await p.closed;
    // The banned key cannot come back.
    const again = new RawPeer(a.listenUrl as string);
    (again as unknown as { key: unknown }).key = p.key;
    await again.handshake();
    expect((await again.next('reject')).code).toBe('RPC_P2P_BANNED');
  });

  it('drops a slow peer instead of queueing gossip without bound', async () => {
    const a = node({ limits: { maxBufferedBytes: 256 * 1024 } });
    await a.start();
    const p = new RawPeer(a.listenUrl as string);
    const connected = once(a, 'peer:connected');
    await p.handshake();
    await connected;
    (p.socket as unknown as { _socket: { pause(): void } })._socket.pause();
    const dropped = once<{ reason: string }>(a, 'peer:disconnected');
    for (let i = 0; i < 300 && a.peers().length > 0; i++) {
      a.publish('block', { i, pad: 'x'.repeat(100_000) });
      await new Promise((r) => setImmediate(r));
    }
    expect((await dropped).reason).toBe('slow peer');
    expect(a.peers()).toEqual([]);
  });

  it('drops a peer that stops answering keep-alive pings', async () => {
    const a = node({ limits: { pingIntervalMs: 30 } });
    await a.start();
    const p = new RawPeer(a.listenUrl as string, { autoPong: false });
    const connected = once(a, 'peer:connected');
    await p.handshake();
    await connected;
    const dropped = await once<{ reason: string }>(a, 'peer:disconnected');
    expect(dropped.reason).toBe('no pong');
  });

  it('drops a connection that went silent (stalled path) long before the ping interval, keeping a quiet healthy one', async () => {
    // A peer whose path is cut sends nothing, not even pongs: with a 60 s ping interval only the stall
    // detection can notice it. A quiet but healthy peer (no gossip at all) answers the liveness pings.
    const limits = { pingIntervalMs: 60_000, stallTimeoutMs: 400, reconnectBaseMs: 20, reconnectMaxMs: 200 };
    const a = node({ limits });
    await a.start();
    const healthy = node({ listen: undefined, peers: [a.listenUrl as string], limits });
    await healthy.start();
    await linked(a, healthy.nodeId);
    const p = new RawPeer(a.listenUrl as string, { autoPong: false });
    const connected = once(a, 'peer:connected', (e: { nodeId: string }) => e.nodeId === p.nodeId);
    await p.handshake();
    await connected;
    const dropped = await once<{ nodeId: string; reason: string }>(a, 'peer:disconnected');
    expect(dropped.nodeId).toBe(p.nodeId);
    expect(dropped.reason).toMatch(/^stalled: nothing heard for \d+ ms$/);
    await p.closed;
    expect(a.peers().map((x) => x.nodeId)).toEqual([healthy.nodeId]);
  });

  it('a new connection replaces a silent one of the same node instead of being refused as a duplicate', async () => {
    const a = node({ limits: { pingIntervalMs: 60_000, stallTimeoutMs: 6_000 } });
    await a.start();
    const key = generateKeyPair();
    const old = new WirePeer(a.listenUrl as string, { chainId, genesisHash, key, autoPong: false });
    const pinged = new Promise((r) => old.socket.once('ping', r));
    await old.handshake();
    await until(async () => (a.peers().length === 1 ? true : undefined));
    // Just heard from: a second connection of the same node is a duplicate.
    const early = new WirePeer(a.listenUrl as string, { chainId, genesisHash, key });
    await early.handshake();
    expect((await early.next('reject')).code).toBe('RPC_P2P_DUPLICATE');
    // Quiet for half the stall timeout (a's liveness ping says so): the old socket is taken for one
    // left half-open by an outage, and the node's new connection takes its place.
    await pinged;
    const replaced = once<{ reason: string }>(a, 'peer:disconnected');
    const fresh = new WirePeer(a.listenUrl as string, { chainId, genesisHash, key });
    const connected = once<{ nodeId: string }>(a, 'peer:connected');
    await fresh.handshake();
    expect((await replaced).reason).toMatch(/^replaced: silent for \d+ ms$/);
    expect((await connected).nodeId).toBe(fresh.nodeId);
    await old.closed;
    expect(fresh.open).toBe(true);
    expect(a.peers().map((x) => x.nodeId)).toEqual([fresh.nodeId]);
  });

  it('invalid gossip (per validateGossip) is not relayed and scores the sender down', async () => {
    const a = node({ validateGossip: (_k, body) => body.ok === true });
    await a.start();
    const b = node({ listen: undefined, peers: [a.listenUrl as string] });
    const c = await (async () => {
      const p = new RawPeer(a.listenUrl as string);
      const conn = once(a, 'peer:connected');
      await p.handshake();
      await conn;
      return p;
    })();
    const bUp = once(a, 'peer:connected');
    await b.start();
    await bUp;
    const seenByB: GossipEvent[] = [];
    b.on('gossip', (e) => seenByB.push(e));
    c.send({ t: 'gossip', kind: 'tx', body: { ok: false } });
    c.send({ t: 'gossip', kind: 'tx', body: { ok: true } });
    await once(b, 'gossip');
    expect(seenByB.map((e) => e.body)).toEqual([{ ok: true }]);
    expect(a.peers().find((x) => x.nodeId === bytesToHex(c.key.publicKey))?.score).toBe(-25);
  });

  it('a gossip frame arriving again is delivered and relayed once, as received; the id is the text, not the value', async () => {
    const a = node();
    await a.start();
    const p = new RawPeer(a.listenUrl as string);
    const conn = once(a, 'peer:connected');
    await p.handshake();
    await conn;
    const q = new RawPeer(a.listenUrl as string);
    const connQ = once(a, 'peer:connected');
    await q.handshake();
    await connQ;
    const seen: GossipEvent[] = [];
    a.on('gossip', (e) => seen.push(e));
    const frame = '{"t":"gossip","kind":"tx","body":{"b":1,"a":"x"}}';
    p.send(frame);
    p.send(frame);
    p.send(`{"t":"gossip","to":["${'ab'.repeat(32)}"],"kind":"tx","body":{"b":1,"a":"x"}}`); // same text after `to`
    p.send({ t: 'gossip', kind: 'tx', body: { a: 'x', b: 1 } }); // the same value encoded otherwise
    p.send({ t: 'gossip', kind: 'tx', body: { marker: true } });
    await once(a, 'gossip', (e: GossipEvent) => e.body.marker === true);
    expect(seen.map((e) => e.body)).toEqual([{ b: 1, a: 'x' }, { a: 'x', b: 1 }, { marker: true }]);
    // each event gives the size of the frame it came in
    expect(seen[0]?.bytes).toBe(Buffer.byteLength(frame));
    expect(seen[1]?.bytes).toBe(Buffer.byteLength(JSON.stringify({ t: 'gossip', kind: 'tx', body: { a: 'x', b: 1 } })));
    expect(new Set(seen.map((e) => e.id)).size).toBe(3);
    expect(a.stats().gossipDuplicates).toBe(2);
    // q got each message once, as p sent it.
    const relayed = [await q.next('gossip'), await q.next('gossip'), await q.next('gossip')];
    expect(relayed.map((m) => Object.keys(m.body as object))).toEqual([['b', 'a'], ['a', 'b'], ['marker']]);
    expect(q.inbox.filter((m) => m.t === 'gossip')).toHaveLength(0);
    expect(a.peers().every((x) => x.score === 0)).toBe(true);
  });

  it('reconnects with backoff after the peer restarts', async () => {
    const keyA = generateKeyPair();
    const a = node({ nodeKey: keyA });
    await a.start();
    const port = Number(new URL(a.listenUrl as string).port);
    const b = node({ listen: undefined, peers: [a.listenUrl as string] });
    const first = once(b, 'peer:connected');
    await b.start();
    await first;
    const down = once<{ nodeId: string }>(b, 'peer:disconnected');
    await a.stop();
    expect((await down).nodeId).toBe(a.nodeId);
    const back = once<{ nodeId: string }>(b, 'peer:connected');
    const a2 = node({ nodeKey: keyA, listen: { port } });
    await a2.start();
    expect((await back).nodeId).toBe(a.nodeId);
    expect(b.peers()).toHaveLength(1);
  });

  it('syncs a block range in capped requests, skipping a peer that serves invalid blocks', async () => {
    const chain: JsonObject[] = Array.from({ length: 151 }, (_, h) => ({
      height: h,
      hash: h.toString(16).padStart(64, '0'),
      commit: { h },
    }));
    const good = node({
      getBlocks: (from, to) => chain.slice(from, to + 1),
      status: () => ({ height: 150, hash: 'ab'.repeat(32) }),
    });
    const evil = node({
      getBlocks: (from, to) => chain.slice(from, to + 1).map((b) => ({ ...b, commit: { forged: true } })),
      status: () => ({ height: 200, hash: 'ab'.repeat(32) }),
    });
    await Promise.all([good.start(), evil.start()]);
    const b = node({
      listen: undefined,
      peers: [good.listenUrl as string, evil.listenUrl as string],
      limits: { maxSyncRange: 64 },
    });
    const both = new Promise<void>((resolve) => {
      let n = 0;
      b.on('peer:connected', () => {
        if (++n === 2) resolve();
      });
    });
    await b.start();
    await both;
    const imported: JsonObject[] = [];
    const next = await b.sync({
      from: 1,
      importBlocks: (blocks) => {
        for (const blk of blocks) {
          if ((blk.commit as { forged?: boolean }).forged) throw new Error('bad commit');
          imported.push(blk);
        }
      },
    });
    expect(next).toBe(151);
    expect(imported.map((x) => x.height)).toEqual(chain.slice(1).map((x) => x.height));
    expect(b.peers().find((p) => p.nodeId === evil.nodeId)?.score).toBe(-25);
    await expect(b.requestBlocks(good.nodeId, 1, 100)).rejects.toMatchObject({ code: 'RPC_P2P_BAD_RANGE' });
    await expect(b.requestBlocks('00'.repeat(32), 1, 2)).rejects.toMatchObject({ code: 'RPC_UNAVAILABLE' });
    expect((await b.requestBlocks(good.nodeId, 5, 6)).map((x) => x.height)).toEqual([5, 6]);
  });
});

describe('range sync and a local store failure', () => {
  it('blames no peer when our store cannot write: sync rejects with the local error, scores stay, no ban; it resumes once the store writes', async () => {
    const chain: JsonObject[] = Array.from({ length: 41 }, (_, h) => ({ height: h, hash: 'cd'.repeat(32) }));
    const honest = [0, 1, 2].map(() =>
      node({
        getBlocks: (from, to) => chain.slice(from, to + 1),
        status: () => ({ height: 40, hash: 'ab'.repeat(32) }),
      }),
    );
    await Promise.all(honest.map((h) => h.start()));
    const b = node({ listen: undefined, peers: honest.map((h) => h.listenUrl as string), limits: { maxSyncRange: 8 } });
    await b.start();
    await until(async () => (b.peers().length === 3 ? true : undefined));
    let full = true;
    const imported: number[] = [];
    const importBlocks = (blocks: JsonObject[]) => {
      if (full)
        throw new AitbcError('CHAIN_STORE_FAILED', 'could not store block 1: no space left on device (ENOSPC) at /x', {
          details: { height: 1, storeCode: 'STORAGE_FULL' },
        });
      for (const blk of blocks) imported.push(blk.height as number);
    };
    // ten attempts: with the old behaviour four (25 points each) were enough to ban a peer
    for (let i = 0; i < 10; i++)
      await expect(b.sync({ from: 1, importBlocks })).rejects.toMatchObject({ code: 'CHAIN_STORE_FAILED' });
    expect(b.peers()).toHaveLength(3);
    expect(b.peers().map((p) => p.score)).toEqual([0, 0, 0]);
    full = false;
    expect(await b.sync({ from: 1, importBlocks })).toBe(41);
    expect(imported).toEqual(chain.slice(1).map((x) => x.height));
    // a STORAGE_* error (a failed read, say) is local too; invalid data still costs the peer
    await expect(
      b.sync({
        from: 1,
        importBlocks: () => {
          throw new AitbcError('STORAGE_IO', 'the database failed an operation at /x: Input/output error');
        },
      }),
    ).rejects.toMatchObject({ code: 'STORAGE_IO' });
    expect(b.peers().map((p) => p.score)).toEqual([0, 0, 0]);
    await b.sync({
      from: 1,
      importBlocks: () => {
        throw new AitbcError('CHAIN_BAD_STATE_ROOT', 'stateRoot does not match the re-executed state');
      },
    });
    expect(
      b
        .peers()
        .map((p) => p.score)
        .sort(),
    ).toEqual([-25, -25, -25]);
  });
});

/** Starts `n` listening nodes, links them as `edges` (pairs of indexes; the second dials the first) and waits for every link. */
async function topology(n: number, edges: readonly (readonly [number, number])[], opts: NodeOpts = {}) {
  const nets = Array.from({ length: n }, () => node(opts));
  await Promise.all(nets.map((x) => x.start()));
  const up: Promise<unknown>[] = [];
  for (const [i, j] of edges) {
    const [x, y] = [nets[i] as PeerNetwork, nets[j] as PeerNetwork];
    up.push(linked(x, y.nodeId), linked(y, x.nodeId));
    y.dial(x.listenUrl as string);
  }
  await Promise.all(up);
  return nets;
}

const fullMesh = (n: number) =>
  Array.from({ length: n }, (_, i) => Array.from({ length: i }, (_, j) => [j, i] as const)).flat();

/**
 * Resolves (with the frames sent) when every gossip frame sent among `nets` has been received, so the
 * counters are settled; `outside` frames went to raw peers, which count nothing.
 */
const settled = (nets: readonly PeerNetwork[], outside = 0) =>
  until(async () => {
    const sent = nets.reduce((s, x) => s + x.stats().gossipSent, 0);
    const received = nets.reduce((s, x) => s + x.stats().gossipReceived, 0);
    return sent === received + outside ? sent : undefined;
  }, 5_000);

/** Connects a hand-driven peer to `net` and waits for the handshake. */
/** A listening node `a` and a node `b` dialling it, both started and linked. */
async function linkedPair(): Promise<[PeerNetwork, PeerNetwork]> {
  const a = node();
  await a.start();
  const b = node({ listen: undefined, peers: [a.listenUrl as string] });
  const bUp = linked(a, b.nodeId);
  await b.start();
  await bUp;
  return [a, b];
}

async function rawPeer(net: PeerNetwork): Promise<RawPeer> {
  const p = new RawPeer(net.listenUrl as string);
  const up = linked(net, bytesToHex(p.key.publicKey));
  await p.handshake();
  await up;
  return p;
}

const gossipOf = (net: PeerNetwork, pred: (e: GossipEvent) => boolean) => once(net, 'gossip', pred);
const idOf = (p: RawPeer) => bytesToHex(p.key.publicKey);

describe('gossip relay (the `to` list)', () => {
  it('full mesh of 4: a published message reaches the 3 peers directly and nobody relays it', async () => {
    const nets = await topology(4, fullMesh(4));
    const [a, ...others] = nets as [PeerNetwork, ...PeerNetwork[]];
    const got = others.map((x) => {
      const list: GossipEvent[] = [];
      x.on('gossip', (e) => list.push(e));
      return list;
    });
    const body: JsonObject = { txs: 'x'.repeat(1000) };
    const arrived = Promise.all(others.map((x) => gossipOf(x, (e) => e.body.txs === body.txs)));
    const id = a.publish('tx', body);
    await arrived;
    await settled(nets);
    expect(got.map((list) => list.map((e) => [e.id, e.from]))).toEqual(others.map(() => [[id, a.nodeId]]));
    expect(a.stats()).toMatchObject({ gossipSent: 3, gossipRelayed: 0, gossipReceived: 0, gossipDuplicates: 0 });
    for (const x of others)
      expect(x.stats()).toMatchObject({ gossipSent: 0, gossipRelayed: 0, gossipReceived: 1, gossipDuplicates: 0 });
  });

  it('line A–B–C–D: a message published at A is relayed by B and C and reaches D (and a raw peer at D)', async () => {
    const nets = await topology(4, [
      [0, 1],
      [1, 2],
      [2, 3],
    ]);
    const [a, b, c, d] = nets as [PeerNetwork, PeerNetwork, PeerNetwork, PeerNetwork];
    const tail = await rawPeer(d);
    const reached = gossipOf(d, (e) => e.body.b === 1);
    a.publish('proposal', { b: 1, a: 'x' }); // key order is kept by the relays
    expect((await reached).from).toBe(c.nodeId);
    const frame = await tail.next('gossip');
    expect(Object.keys(frame)).toEqual(['t', 'to', 'kind', 'body']);
    expect(new Set(frame.to as string[])).toEqual(new Set([a, b, c, d].map((x) => x.nodeId).concat(idOf(tail))));
    expect(Object.keys(frame.body as object)).toEqual(['b', 'a']);
    await settled(nets, 1);
    expect(nets.map((x) => [x.stats().gossipSent, x.stats().gossipRelayed])).toEqual([
      [1, 0],
      [1, 1],
      [1, 1],
      [1, 1], // to the raw peer
    ]);
  });

  it('ring of 4: the node opposite the publisher gets two copies, drops the second and relays neither', async () => {
    const nets = await topology(4, [
      [0, 1],
      [1, 2],
      [2, 3],
      [3, 0],
    ]);
    const [a, b, c, d] = nets as [PeerNetwork, PeerNetwork, PeerNetwork, PeerNetwork];
    const arrived = Promise.all([b, c, d].map((x) => gossipOf(x, (e) => e.body.ring === true)));
    a.publish('vote', { ring: true });
    await arrived;
    expect(await settled(nets)).toBe(4);
    expect(nets.map((x) => x.stats())).toMatchObject([
      { gossipSent: 2, gossipRelayed: 0, gossipReceived: 0, gossipDuplicates: 0 },
      { gossipSent: 1, gossipRelayed: 1, gossipReceived: 1, gossipDuplicates: 0 },
      { gossipSent: 0, gossipRelayed: 0, gossipReceived: 2, gossipDuplicates: 1 },
      { gossipSent: 1, gossipRelayed: 1, gossipReceived: 1, gossipDuplicates: 0 },
    ]);
  });

  it('a frame without `to` (an older peer) is accepted and relayed to every other peer, body text as received', async () => {
    const [a, b] = await linkedPair();
    const [p, q] = [await rawPeer(a), await rawPeer(a)];
    const atB = gossipOf(b, (e) => e.body.old === 1);
    p.send('{"t":"gossip","kind":"tx","body":{"old":1,"a":"x"}}');
    expect((await atB).from).toBe(a.nodeId);
    const frame = await q.next('gossip');
    expect(new Set(frame.to as string[])).toEqual(new Set([a.nodeId, b.nodeId, idOf(p), idOf(q)]));
    expect(Object.keys(frame.body as object)).toEqual(['old', 'a']);
    expect(a.stats()).toMatchObject({ gossipSent: 2, gossipRelayed: 2, gossipReceived: 1 }); // b and q, not p
    // The parsed `to` is the last one when a frame repeats the key: it is honoured, and the relay is
    // encoded afresh (forwarding the text after the first list would let the stale list win again).
    p.send(`{"t":"gossip","to":["${idOf(q)}"],"kind":"tx","body":{"late":1},"to":["${idOf(p)}","${b.nodeId}"]}`);
    const frame2 = await q.next('gossip');
    expect(frame2.body).toEqual({ late: 1 });
    expect(new Set(frame2.to as string[])).toEqual(new Set([a.nodeId, b.nodeId, idOf(p), idOf(q)]));
    expect(a.stats()).toMatchObject({ gossipSent: 3, gossipRelayed: 3, gossipReceived: 2 }); // q only
    expect(a.peers().every((x) => x.score === 0)).toBe(true);
  });

  it('a malformed `to` (not a list, over 64 ids, a bad id) scores the sender down; the node keeps working', async () => {
    const [a, b] = await linkedPair();
    const p = await rawPeer(a);
    const atB: GossipEvent[] = [];
    b.on('gossip', (e) => atB.push(e));
    const ids = (n: number) => Array.from({ length: n }, (_, i) => i.toString(16).padStart(64, '0'));
    const body = '{"n":1}';
    p.send(`{"t":"gossip","to":"${idOf(p)}","kind":"tx","body":${body}}`);
    p.send(`{"t":"gossip","to":${JSON.stringify(ids(65))},"kind":"tx","body":${body}}`);
    p.send(`{"t":"gossip","to":["${idOf(p).toUpperCase()}"],"kind":"tx","body":${body}}`);
    // The same `kind`/`body` text with a good list: a malformed frame did not shadow it.
    p.send(`{"t":"gossip","to":["${idOf(p)}"],"kind":"tx","body":${body}}`);
    await gossipOf(b, (e) => e.body.n === 1);
    expect(atB.map((e) => e.body)).toEqual([{ n: 1 }]);
    expect(a.peers().find((x) => x.nodeId === idOf(p))?.score).toBe(-75);
    expect(a.peers().find((x) => x.nodeId === b.nodeId)?.score).toBe(0);
    const again = gossipOf(b, (e) => e.body.n === 2);
    a.publish('tx', { n: 2 });
    await again;
  });

  it('parsePeerMessage accepts exactly an optional `to` of at most 64 lowercase hex node ids', () => {
    const id = 'ab'.repeat(32);
    const gossip = (extra: Record<string, unknown>) =>
      parsePeerMessage(JSON.stringify({ t: 'gossip', kind: 'vote', body: {}, ...extra }));
    expect(gossip({})).toEqual({ t: 'gossip', kind: 'vote', body: {} });
    expect(gossip({ to: [] })).toMatchObject({ to: [] });
    expect(gossip({ to: Array(64).fill(id) })?.t).toBe('gossip');
    for (const bad of [
      { to: Array(65).fill(id) },
      { to: id },
      { to: null },
      { to: [id.slice(2)] },
      { to: [`${id}00`] },
      { to: [id.toUpperCase()] },
      { to: [7] },
      { to: [id], extra: 1 },
      { from: [id] },
    ])
      expect(gossip(bad)).toBeUndefined();
  });
});
