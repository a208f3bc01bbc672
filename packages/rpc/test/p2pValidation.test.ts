/**
 * Gossip validated before it is relayed (verdicts accept / ignore / reject, synchronous or not), peer
 * scores and bans, per-peer rate limits and the frame limit — over real WebSocket servers on 127.0.0.1.
 */
import { generateKeyPair } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { RawPeer as WirePeer } from '../../../test-support/rawPeer.ts';
import { until } from '../../../test-support/until.ts';
import {
  createNodeMetrics,
  createPeerNetwork,
  type GossipEvent,
  type GossipVerdict,
  type JsonObject,
  type PeerNetwork,
  type PeerNetworkOptions,
} from '../src/index.js';
import { createPeerRateLimit } from '../src/p2p/peerRateLimit.js';
import { createPeerScores } from '../src/p2p/peerScore.js';

const chainId = 'aitbc-test';
const genesisHash = 'cd'.repeat(32);
const running: PeerNetwork[] = [];
const raws: WirePeer[] = [];

/** Options where `listen: undefined` means outbound only. */
type NodeOpts = { [K in keyof PeerNetworkOptions]?: PeerNetworkOptions[K] | undefined };

function node(opts: NodeOpts = {}): PeerNetwork {
  const net = createPeerNetwork({
    nodeKey: generateKeyPair(),
    chainId,
    genesisHash,
    listen: { port: 0 },
    ...opts,
    limits: { reconnectBaseMs: 20, reconnectMaxMs: 200, banMs: 60_000, ...opts.limits },
  } as PeerNetworkOptions);
  running.push(net);
  return net;
}

class RawPeer extends WirePeer {
  constructor(url: string, key?: ReturnType<typeof generateKeyPair>) {
    super(url, { chainId, genesisHash, ...(key !== undefined ? { key } : {}) });
    raws.push(this);
  }
}

afterEach(async () => {
  for (const r of raws.splice(0)) r.socket.terminate();
  await Promise.all(running.splice(0).map((n) => n.stop()));
});

/** A raw peer handshaken with `net`. */
async function rawPeerOf(net: PeerNetwork, key?: ReturnType<typeof generateKeyPair>): Promise<RawPeer> {
  const p = new RawPeer(net.listenUrl as string, key);
  await p.handshake();
  await until(async () => (net.peers().some((x) => x.nodeId === p.nodeId) ? true : undefined), 5_000);
  return p;
}

/** A node that listens, with a raw peer (the attacker) and a raw listener attached to it. */
async function hub(opts: NodeOpts = {}) {
  const a = node(opts);
  await a.start();
  const attacker = await rawPeerOf(a);
  const listener = await rawPeerOf(a);
  return { a, attacker, listener };
}

/** Sends a marker the node accepts and waits until `listener` got it relayed: everything before it was handled. */
async function flush(attacker: RawPeer, listener: RawPeer, marker: string) {
  attacker.gossip('tx', { marker });
  await until(async () => (listener.gossipReceived().some((g) => g.body.marker === marker) ? true : undefined), 5_000);
}

describe('gossip verdicts', () => {
  it('accept delivers and relays; ignore drops without penalty; reject drops and scores the sender down', async () => {
    const verdictOf = (body: JsonObject): GossipVerdict =>
      body.v === 'ignore' ? 'ignore' : body.v === 'reject' ? 'reject' : 'accept';
    const { a, attacker, listener } = await hub({ validateGossip: (_k, body) => verdictOf(body) });
    const delivered: GossipEvent[] = [];
    a.on('gossip', (e) => delivered.push(e));
    for (let i = 0; i < 20; i++) attacker.gossip('tx', { v: 'ignore', i });
    attacker.gossip('tx', { v: 'accept', i: 0 });
    attacker.gossip('tx', { v: 'reject', i: 0 });
    await flush(attacker, listener, 'm1');
    const bodies = listener.gossipReceived().map((g) => g.body);
    expect(bodies).toEqual([{ v: 'accept', i: 0 }, { marker: 'm1' }]);
    expect(delivered.map((e) => e.body)).toEqual(bodies);
    // 20 ignored messages cost nothing; one rejected costs the invalid penalty.
    expect(a.peers().find((p) => p.nodeId === attacker.nodeId)?.score).toBe(-25);
    expect(a.stats()).toMatchObject({ gossipAccepted: 2, gossipIgnored: 20, gossipRejected: 1, peersBanned: 0 });
  });

  it('rejected messages ban the sender at the ban score; it cannot reconnect; nothing it sent was relayed', async () => {
    const { a, attacker, listener } = await hub({
      validateGossip: (_k, body) => (body.ok === true ? 'accept' : 'reject'),
    });
    const banned = new Promise<{ nodeId: string; reason: string }>((r) => a.on('peer:banned', r));
    for (let i = 0; i < 10; i++) attacker.gossip('vote', { junk: i });
    expect(await banned).toMatchObject({ nodeId: attacker.nodeId, reason: 'invalid vote' });
    await attacker.closed;
    expect(a.stats()).toMatchObject({ gossipRejected: 4, peersBanned: 1 });
    const again = new RawPeer(a.listenUrl as string, attacker.key);
    await again.handshake();
    expect((await again.next('reject')).code).toBe('RPC_P2P_BANNED');
    expect(listener.gossipReceived()).toEqual([]);
    expect(listener.open).toBe(true);
  });

  it('an asynchronous verdict holds the message: relayed only once accepted, never when rejected', async () => {
    const held = new Map<number, (v: GossipVerdict) => void>();
    const { a, attacker, listener } = await hub({
      validateGossip: (_k, body) =>
        typeof body.marker === 'string'
          ? 'accept'
          : new Promise<GossipVerdict>((resolve) => held.set(body.n as number, resolve)),
    });
    attacker.gossip('tx', { n: 1 });
    attacker.gossip('tx', { n: 2 });
    await until(async () => (held.size === 2 ? true : undefined), 5_000);
    await flush(attacker, listener, 'before');
    expect(listener.gossipReceived().map((g) => g.body)).toEqual([{ marker: 'before' }]);
    held.get(2)?.('reject');
    held.get(1)?.('accept');
    await until(async () => (listener.gossipReceived().length === 2 ? true : undefined), 5_000);
    await flush(attacker, listener, 'after');
    expect(listener.gossipReceived().map((g) => g.body)).toEqual([{ marker: 'before' }, { n: 1 }, { marker: 'after' }]);
    expect(a.stats()).toMatchObject({ gossipAccepted: 3, gossipRejected: 1 });
  });

  it('past maxPendingValidations a message waiting for nothing is ignored, not queued', async () => {
    const { a, attacker, listener } = await hub({
      validateGossip: (_k, body) => (typeof body.marker === 'string' ? 'accept' : new Promise<GossipVerdict>(() => {})),
      limits: { maxPendingValidations: 3 },
    });
    for (let i = 0; i < 10; i++) attacker.gossip('tx', { n: i });
    await flush(attacker, listener, 'm');
    expect(a.stats()).toMatchObject({ gossipIgnored: 7, gossipAccepted: 1 });
  });

  it('the boolean form still works: true accepts, false rejects; a throwing validator ignores', async () => {
    const { a, attacker, listener } = await hub({
      validateGossip: (_k, body) => {
        if (body.boom === true) throw new Error('validator bug');
        return body.ok !== false;
      },
    });
    attacker.gossip('tx', { boom: true });
    attacker.gossip('tx', { ok: false });
    await flush(attacker, listener, 'm');
    expect(listener.gossipReceived().map((g) => g.body)).toEqual([{ marker: 'm' }]);
    expect(a.stats()).toMatchObject({ gossipAccepted: 1, gossipIgnored: 1, gossipRejected: 1 });
  });
});

describe('peer limits', () => {
  it('a flood past the message rate is dropped, scored down and banned; other peers are unaffected', async () => {
    const { a, attacker, listener } = await hub({ limits: { maxMessagesPerSecond: 5, messageBurst: 20 } });
    const banned = new Promise<{ reason: string }>((r) => a.on('peer:banned', r));
    for (let i = 0; i < 500; i++) attacker.gossip('tx', { flood: i });
    expect((await banned).reason).toBe('rate limit exceeded');
    const stats = a.stats();
    expect(stats.framesRateLimited).toBeGreaterThanOrEqual(10); // rateLimitPenalty 10: banned at the 10th
    expect(stats.gossipAccepted).toBeLessThanOrEqual(20);
    await until(async () => (listener.gossipReceived().length === stats.gossipAccepted ? true : undefined), 5_000);
    expect(listener.open).toBe(true);
  });

  it('a frame past the byte rate is dropped too', async () => {
    const { a, attacker, listener } = await hub({ limits: { maxBytesPerSecond: 100, byteBurst: 5_000 } });
    attacker.gossip('tx', { pad: 'x'.repeat(4_000) });
    attacker.gossip('tx', { pad: 'y'.repeat(4_000) }); // over the byte burst
    await until(async () => (a.stats().framesRateLimited === 1 ? true : undefined), 5_000);
    expect(listener.gossipReceived().map((g) => (g.body.pad as string)[0])).toEqual(['x']);
  });

  it('a frame over maxMessageBytes is refused from its header and bans the sender at once', async () => {
    const { a, attacker, listener } = await hub({ limits: { maxMessageBytes: 4_096 } });
    const banned = new Promise<{ reason: string }>((r) => a.on('peer:banned', r));
    attacker.gossip('tx', { pad: 'x'.repeat(8_000) });
    expect((await banned).reason).toBe('frame over 4096 bytes');
    await attacker.closed;
    expect(a.stats()).toMatchObject({ framesOversized: 1, peersBanned: 1, gossipReceived: 0 });
    const again = new RawPeer(a.listenUrl as string, attacker.key);
    await again.handshake();
    expect((await again.next('reject')).code).toBe('RPC_P2P_BANNED');
    expect(listener.gossipReceived()).toEqual([]);
  });

  it('publish refuses a message over the frame limit (RPC_P2P_TOO_LARGE)', async () => {
    const a = node({ limits: { maxMessageBytes: 4_096 } });
    expect(() => a.publish('block', { pad: 'x'.repeat(5_000) })).toThrow(
      expect.objectContaining({ code: 'RPC_P2P_TOO_LARGE' }),
    );
  });

  it('range-sync responses are trimmed to the frame limit; sync still fetches every height', async () => {
    const blocks: JsonObject[] = Array.from({ length: 20 }, (_, h) => ({ height: h, pad: 'z'.repeat(1_000) }));
    const server = node({
      getBlocks: (from, to) => blocks.slice(from, to + 1),
      status: () => ({ height: 19, hash: 'ab'.repeat(32) }),
      limits: { maxMessageBytes: 4_096 },
    });
    await server.start();
    const client = node({ listen: undefined, peers: [server.listenUrl as string], limits: { maxMessageBytes: 4_096 } });
    const up = new Promise((r) => client.on('peer:connected', r));
    await client.start();
    await up;
    const first = await client.requestBlocks(server.nodeId, 1, 19);
    expect(first.map((b) => b.height)).toEqual([1, 2, 3]);
    const imported: number[] = [];
    const next = await client.sync({
      from: 1,
      importBlocks: (items) => {
        for (const b of items) imported.push(b.height as number);
      },
    });
    expect(next).toBe(20);
    expect(imported).toEqual(Array.from({ length: 19 }, (_, i) => i + 1));
    expect(client.peers().map((p) => p.score)).toEqual([0]);
  });

  it('the node metrics export the verdicts, dropped frames and bans', async () => {
    const { a, attacker, listener } = await hub({
      validateGossip: (_k, body) => (body.ok === false ? 'reject' : 'accept'),
    });
    const metrics = createNodeMetrics({ peerNetwork: () => a.stats() });
    attacker.gossip('tx', { ok: false });
    await flush(attacker, listener, 'm');
    const text = await metrics.render();
    expect(text).toContain('p2p_gossip_messages_total{verdict="accept"} 1');
    expect(text).toContain('p2p_gossip_messages_total{verdict="reject"} 1');
    expect(text).toContain('p2p_frames_dropped_total{reason="rate_limit"} 0');
    expect(text).toContain('p2p_peers_banned_total 0');
  });
});

describe('peer scores and rate limits (pure)', () => {
  it('bans at the ban score, at once for an oversized frame, and forgets an expired ban', () => {
    let t = 1_000;
    const scores = createPeerScores({
      invalidPenalty: 30,
      rateLimitPenalty: 5,
      banScore: -100,
      banMs: 50,
      now: () => t,
    });
    expect(scores.penalize(0, 'invalid')).toEqual({ score: -30, ban: false });
    expect(scores.penalize(-90, 'rate')).toEqual({ score: -95, ban: false });
    expect(scores.penalize(-95, 'rate')).toEqual({ score: -100, ban: true });
    expect(scores.penalize(0, 'oversized').ban).toBe(true);
    expect(scores.ban(['n1', 'ws://x:1'])).toBe(1_050);
    expect(scores.isBanned('n1') && scores.isBanned('ws://x:1')).toBe(true);
    t = 1_050;
    expect(scores.isBanned('n1')).toBe(false);
    expect(scores.bannedUntil('ws://x:1')).toBeUndefined();
  });

  it('token buckets: a burst, then the sustained rate; either bucket short refuses the frame', () => {
    let t = 0;
    const limit = createPeerRateLimit({
      messagesPerSecond: 10,
      messageBurst: 3,
      bytesPerSecond: 1_000,
      byteBurst: 2_000,
      now: () => t,
    });
    expect([limit.take(10), limit.take(10), limit.take(10), limit.take(10)]).toEqual([true, true, true, false]);
    t = 100; // one message token back
    expect([limit.take(10), limit.take(10)]).toEqual([true, false]);
    t = 1_000;
    expect(limit.take(2_001)).toBe(false); // over the byte burst: never
    expect(limit.take(1_900)).toBe(true);
    expect(limit.take(200)).toBe(false); // bytes short, message tokens left
    t = 1_200;
    expect(limit.take(200)).toBe(true);
  });
});
