import {
  blockFromStoreBytes,
  blockHash,
  blockJsonBytes,
  blockToJson,
  type Chain,
  createChain,
  createMempool,
  DEFAULT_PARAMS,
  type Genesis,
  MemoryKVStore,
  type Mempool,
  signTx,
} from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToHex, publicKeyFromSeed, sha256, toHex0x, utf8ToBytes } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultyKVStore } from '../../../test-support/faultyStore.ts';
import { until } from '../../../test-support/until.ts';
import {
  type Clock,
  type ConsensusMessage,
  createPoaConsensus,
  createValidatorDriver,
  decodeConsensusMessage,
  encodeConsensusMessage,
  type ValidatorDriver,
} from '../src/index.js';

const seeds = [0, 1, 2, 3].map((i) => sha256(utf8ToBytes(`driver-test/${i}`)));
const faucetSeed = sha256(utf8ToBytes('driver-test/faucet'));
const faucet = addressFromPublicKey(publicKeyFromSeed(faucetSeed));
const genesis: Genesis = {
  chainId: 'aitbc-driver',
  genesisTime: Date.now() - 60_000,
  validators: seeds.map((s, i) => ({ publicKey: publicKeyFromSeed(s), power: 1, name: `v${i}` })),
  allocations: [{ address: faucet, amount: 10n ** 24n }],
  params: { ...DEFAULT_PARAMS, blockTimeMs: 30, emptyBlockIntervalMs: 30 },
};
const TIMEOUTS = { propose: 400, prevote: 200, precommit: 200, delta: 100 };

interface Node {
  chainStore: MemoryKVStore;
  consensusStore: MemoryKVStore;
  chain: Chain;
  mempool: Mempool;
  driver: ValidatorDriver;
  up: boolean;
  commits: { height: number; latencyMs: number }[];
}

const running: Node[] = [];
afterEach(async () => {
  for (const n of running.splice(0)) if (n.up) await n.driver.stop();
});

/** An in-memory network: every message goes through its gossip JSON to every other running node. */
function network() {
  const nodes: Node[] = [];
  const send = (from: Node, m: ConsensusMessage) => {
    const wire = JSON.stringify(encodeConsensusMessage(m));
    for (const n of nodes)
      if (n !== from && n.up) setImmediate(() => n.up && n.driver.receive(decodeConsensusMessage(JSON.parse(wire))));
  };
  const boot = async (i: number, stores?: { chainStore: MemoryKVStore; consensusStore: MemoryKVStore }) => {
    const chainStore = stores?.chainStore ?? new MemoryKVStore();
    const consensusStore = stores?.consensusStore ?? new MemoryKVStore();
    const chain = createChain({ store: chainStore, genesis, consensus: createPoaConsensus() });
    await chain.open();
    const mempool = createMempool({
      chainId: genesis.chainId,
      minFee: genesis.params.minFee,
      account: (a) => chain.account(a),
    });
    const node = { chainStore, consensusStore, chain, mempool, up: true, commits: [] } as unknown as Node;
    node.driver = createValidatorDriver({
      chain,
      mempool,
      seed: seeds[i]!,
      store: consensusStore,
      transport: { broadcast: (m) => send(node, m) },
      blockTimeMs: genesis.params.blockTimeMs,
      emptyBlockIntervalMs: genesis.params.emptyBlockIntervalMs,
      timeouts: TIMEOUTS,
    });
    node.driver.on('commit', (e) => node.commits.push(e));
    nodes[i] = node;
    running.push(node);
    await node.driver.start();
    return node;
  };
  // Block sync, as the node's peer network does it: every 100 ms each running node imports what the
  // most advanced running node has (a validator that started late or was stopped catches up this way).
  const timer = setInterval(() => {
    const best = nodes.filter((n) => n?.up).sort((x, y) => y.chain.head.height - x.chain.head.height)[0];
    for (const n of nodes)
      if (n?.up && best !== undefined && n !== best) void syncFrom(best.chain, n.chain).catch(() => {});
  }, 100);
  syncers.push(timer);
  return { nodes, boot };
}
const syncers: ReturnType<typeof setInterval>[] = [];
afterEach(() => {
  for (const t of syncers.splice(0)) clearInterval(t);
});

/** Imports the blocks (with their commits) a peer has and we do not, through the real import. */
async function syncFrom(peer: Chain, chain: Chain): Promise<void> {
  while (chain.head.height < peer.head.height) {
    const h = chain.head.height + 1;
    const block = await peer.getBlock(h);
    const commit = await peer.getCommit(h);
    if (block === undefined || commit === undefined) return;
    try {
      await chain.importBlock(block, commit);
    } catch (e) {
      if (chain.head.height < h) throw e; // consensus imported it meanwhile otherwise
    }
  }
}

describe('validator driver: 4 validators in one process over chain-core', () => {
  it('finalizes blocks with transactions, survives one validator stopped and restarted from its stores', async () => {
    const net = network();
    for (let i = 0; i < 4; i++) await net.boot(i);
    const [a, b, c, d] = net.nodes as [Node, Node, Node, Node];
    await until(async () => (net.nodes.every((n) => n.chain.head.height >= 3) ? true : undefined));

    // A transfer reaches every mempool and is final everywhere.
    const tx = signTx(
      {
        type: 'transfer',
        chainId: genesis.chainId,
        from: faucet,
        nonce: 0,
        fee: genesis.params.minFee,
        to: d.driver.status().validator!,
        amount: 5n,
      },
      faucetSeed,
    );
    for (const n of net.nodes) await n.mempool.add(tx);
    await until(async () =>
      (await Promise.all(net.nodes.map((n) => n.chain.getTx(tx.id)))).every(Boolean) ? true : undefined,
    );

    // Stop d: the other three (3 of 4 > 2/3) keep finalizing.
    await d.driver.stop();
    d.up = false;
    const stoppedAt = d.chain.head.height;
    await until(async () => ([a, b, c].every((n) => n.chain.head.height >= stoppedAt + 3) ? true : undefined));
    expect(d.chain.head.height).toBe(stoppedAt);

    // Restart d from the same stores (a new chain and driver, as after a process restart), then sync.
    const d2 = await net.boot(3, { chainStore: d.chainStore, consensusStore: d.consensusStore });
    const rejoinedAt = a.chain.head.height;
    await until(async () => (net.nodes.every((n) => n.chain.head.height >= rejoinedAt + 3) ? true : undefined), 20_000);

    // One chain everywhere.
    const heights = Math.min(...net.nodes.map((n) => n.chain.head.height));
    for (let h = 1; h <= heights; h++) {
      const hashes = await Promise.all(
        net.nodes.map(async (n) => toHex0x(blockHash((await n.chain.getBlock(h))!.header))),
      );
      expect(new Set(hashes).size).toBe(1);
    }
    // d signs again: its precommit is in commits of blocks after it rejoined.
    const dAddress = d2.driver.status().validator!;
    let signedAgain = false;
    for (let h = rejoinedAt + 1; h <= heights; h++)
      if ((await a.chain.getCommit(h))!.signatures.some((s) => s.validator === dAddress)) signedAgain = true;
    expect(signedAgain).toBe(true);
    // Commit events carry the height and a latency; no honest validator saw equivocation.
    expect(a.commits.length).toBeGreaterThan(3);
    expect(a.commits.every((e) => e.latencyMs >= 0)).toBe(true);
    for (const n of net.nodes) expect(n.driver.evidence()).toHaveLength(0);
  }, 60_000);

  it('a devnet of one finalizes each block by itself; round events show the steps; a restart resumes', async () => {
    const solo: Genesis = { ...genesis, validators: [genesis.validators[0]!] };
    const chainStore = new MemoryKVStore();
    const consensusStore = new MemoryKVStore();
    const start = async () => {
      const chain = createChain({ store: chainStore, genesis: solo, consensus: createPoaConsensus() });
      await chain.open();
      const sent: ConsensusMessage[] = [];
      const steps: string[] = [];
      const driver = createValidatorDriver({
        chain,
        seed: seeds[0]!,
        store: consensusStore,
        transport: { broadcast: (m) => sent.push(m) },
        blockTimeMs: 20,
        emptyBlockIntervalMs: 20,
      });
      driver.on('round', (e) => steps.push(`${e.height}:${e.step}`));
      await driver.start();
      return { chain, driver, sent, steps };
    };
    const first = await start();
    await until(async () => (first.chain.head.height >= 3 ? true : undefined));
    await first.driver.stop();
    expect(first.steps.slice(0, 4)).toEqual(['1:propose', '1:prevote', '1:precommit', '1:commit']);
    expect(first.sent.map((m) => m.type).slice(0, 3)).toEqual(['proposal', 'prevote', 'precommit']);
    const stoppedAt = first.chain.head.height;
    const second = await start();
    await until(async () => (second.chain.head.height >= stoppedAt + 2 ? true : undefined));
    await second.driver.stop();
  });

  it('a decided block that this node could not store (full disk) is imported again by itself once the store writes', async () => {
    const solo: Genesis = { ...genesis, validators: [genesis.validators[0]!] };
    const chainStore = new FaultyKVStore(new MemoryKVStore());
    const chain = createChain({ store: chainStore, genesis: solo, consensus: createPoaConsensus() });
    await chain.open();
    const errors: string[] = [];
    const driver = createValidatorDriver({
      chain,
      seed: seeds[0]!,
      store: new MemoryKVStore(),
      transport: { broadcast: () => undefined },
      blockTimeMs: 20,
      emptyBlockIntervalMs: 20,
    });
    driver.on('error', (e) => errors.push(`${e.during}: ${(e.error as { code?: string }).code}`));
    await driver.start();
    try {
      await until(async () => (chain.head.height >= 2 ? true : undefined));
      chainStore.failWrites();
      // the decision cannot be stored: the driver reports it (the local cause, not an invalid block)
      await until(async () => (errors.includes('import: CHAIN_STORE_FAILED') ? true : undefined));
      const stuck = chain.head.height;
      expect(driver.status().height).toBe(stuck + 1);
      chainStore.heal();
      await chainStore.reopen();
      // nobody else has the block (a network of one): the driver imports it again and goes on
      await until(async () => (chain.head.height >= stuck + 3 ? true : undefined));
      expect(errors.every((e) => e === 'import: CHAIN_STORE_FAILED')).toBe(true);
    } finally {
      await driver.stop();
    }
  });

  it('persists each block once, by hash and in its binary store form, next to a small state record; resumes from it and from the older JSON and inline forms', async () => {
    const solo: Genesis = { ...genesis, validators: [genesis.validators[0]!] };
    const chainStore = new MemoryKVStore();
    const consensusStore = new MemoryKVStore();
    const start = async () => {
      const chain = createChain({ store: chainStore, genesis: solo, consensus: createPoaConsensus() });
      await chain.open();
      const driver = createValidatorDriver({
        chain,
        seed: seeds[0]!,
        store: consensusStore,
        transport: { broadcast() {} },
        blockTimeMs: 20,
        emptyBlockIntervalMs: 20,
      });
      await driver.start();
      return { chain, driver };
    };
    const text = async (key: string) => {
      const bytes = await consensusStore.get(utf8ToBytes(key));
      return bytes === undefined ? undefined : new TextDecoder().decode(bytes);
    };
    const storedBlocks = async () => {
      const out: string[] = [];
      const prefix = utf8ToBytes('consensus/block/');
      for await (const [key] of consensusStore.iterate({ gte: prefix, lt: utf8ToBytes('consensus/block0') }))
        out.push(new TextDecoder().decode(key).slice(prefix.length));
      return out;
    };
    const first = await start();
    await until(async () => (first.chain.head.height >= 4 ? true : undefined));
    await first.driver.stop();
    const readRecord = async () =>
      JSON.parse((await text('consensus/state'))!) as Record<string, unknown> & {
        height: number;
        signed: Record<string, unknown>[];
      };
    const stored = async (ref: string) => (await consensusStore.get(utf8ToBytes(`consensus/block/${ref}`)))!;
    let record = await readRecord();
    expect(record.blocksByHash).toBe(true);
    const proposals = record.signed.filter((m) => m.type === 'proposal');
    expect(proposals.length).toBeGreaterThan(0);
    const refs = new Set(proposals.map((m) => m.block as string));
    for (const ref of refs) {
      expect(ref).toMatch(/^[0-9a-f]{64}$/);
      const bytes = await stored(ref);
      expect(bytes[0]).toBe(1); // the binary store form
      const block = blockFromStoreBytes(bytes);
      expect(bytesToHex(blockHash(block.header))).toBe(ref);
      expect(block.header.height).toBe(record.height);
    }
    // Only the blocks of the persisted height are kept: earlier ones were deleted with their height.
    expect(new Set(await storedBlocks())).toEqual(
      new Set([...refs, record.lockedBlock, record.validBlock].filter((r) => typeof r === 'string')),
    );
    // Blocks stored as JSON, as older versions stored them, are still read.
    for (const ref of await storedBlocks())
      await consensusStore.put(
        utf8ToBytes(`consensus/block/${ref}`),
        blockJsonBytes(blockFromStoreBytes(await stored(ref))),
      );
    let stoppedAt = first.chain.head.height;
    const second = await start();
    await until(async () => (second.chain.head.height >= stoppedAt + 2 ? true : undefined));
    await second.driver.stop();
    record = await readRecord();
    // A state in the older form (blocks inline) is still read.
    const inline = async (ref: unknown) =>
      typeof ref === 'string' ? blockToJson(blockFromStoreBytes(await stored(ref))) : ref;
    const old = {
      ...record,
      lockedBlock: await inline(record.lockedBlock),
      validBlock: await inline(record.validBlock),
      signed: await Promise.all(
        record.signed.map(async (m) => (m.type === 'proposal' ? { ...m, block: await inline(m.block) } : m)),
      ),
    };
    delete (old as Record<string, unknown>).blocksByHash;
    for (const ref of await storedBlocks()) await consensusStore.del(utf8ToBytes(`consensus/block/${ref}`));
    await consensusStore.put(utf8ToBytes('consensus/state'), utf8ToBytes(JSON.stringify(old)));
    stoppedAt = second.chain.head.height;
    const third = await start();
    await until(async () => (third.chain.head.height >= stoppedAt + 2 ? true : undefined));
    await third.driver.stop();
  });

  it('persists the polka of its valid value with its lock (the proof a restarted validator re-proposes with)', async () => {
    const solo: Genesis = { ...genesis, validators: [genesis.validators[0]!] };
    const consensusStore = new MemoryKVStore();
    const chain = createChain({ store: new MemoryKVStore(), genesis: solo, consensus: createPoaConsensus() });
    await chain.open();
    // No transactions and a long empty-block interval: after height 1 nothing is signed for a minute.
    const driver = createValidatorDriver({
      chain,
      seed: seeds[0]!,
      store: consensusStore,
      transport: { broadcast() {} },
      blockTimeMs: 60_000,
      emptyBlockIntervalMs: 60_000,
    });
    const decided = new Promise<void>((resolve) => driver.on('commit', () => resolve()));
    await driver.start();
    await decided;
    await driver.stop();
    const record = JSON.parse(new TextDecoder().decode(await consensusStore.get(utf8ToBytes('consensus/state')))) as {
      height: number;
      lockedRound: number;
      validRound: number;
      validBlock: string;
      polka: unknown[];
    };
    expect(record).toMatchObject({ height: 1, lockedRound: 0, validRound: 0 });
    const polka = record.polka.map((m) => decodeConsensusMessage(m as never));
    expect(polka).toHaveLength(1);
    expect(polka[0]).toMatchObject({
      type: 'prevote',
      height: 1,
      round: 0,
      validator: addressFromPublicKey(publicKeyFromSeed(seeds[0]!)),
    });
    expect(bytesToHex((polka[0] as { blockHash: Uint8Array }).blockHash)).toBe(record.validBlock);
  });

  it('ignores messages before start and after stop, and reports refused messages', async () => {
    const chain = createChain({ store: new MemoryKVStore(), genesis, consensus: createPoaConsensus() });
    await chain.open();
    const driver = createValidatorDriver({
      chain,
      seed: seeds[1]!,
      store: new MemoryKVStore(),
      transport: { broadcast() {} },
      timeouts: TIMEOUTS,
    });
    const refused: string[] = [];
    driver.on('rejected', (e) => refused.push(e.code));
    const outsider = sha256(utf8ToBytes('outsider'));
    const { signVote } = await import('../src/index.js');
    const vote = signVote(
      genesis.chainId,
      'prevote',
      1,
      0,
      null,
      addressFromPublicKey(publicKeyFromSeed(outsider)),
      outsider,
    );
    driver.receive(vote);
    await driver.start();
    driver.receive(vote);
    await driver.idle();
    expect(refused).toEqual(['CONSENSUS_NOT_VALIDATOR']);
    await driver.stop();
    driver.receive(vote);
    await driver.idle();
    expect(refused).toHaveLength(1);
  });
});

/**
 * A virtual clock and an in-process network with a fixed message delay, run event by event: time
 * only moves when every driver is idle, so the pacing of heights can be read off exactly.
 */
function virtualWorld(delayMs: number) {
  let now = Date.now();
  let seq = 0;
  const events: { time: number; seq: number; fn: () => void }[] = [];
  const clock: Clock = {
    now: () => now,
    setTimeout(fn, ms) {
      const e = { time: now + Math.max(0, ms), seq: seq++, fn };
      events.push(e);
      return e;
    },
    clearTimeout(h) {
      const i = events.indexOf(h as (typeof events)[number]);
      if (i >= 0) events.splice(i, 1);
    },
  };
  const nodes: { chain: Chain; mempool: Mempool; driver: ValidatorDriver; commitsAt: number[] }[] = [];
  const settle = async () => {
    for (let i = 0; i < 5; i++) {
      await Promise.all(nodes.map((n) => n.driver.idle()));
      await new Promise((r) => setImmediate(r));
    }
  };
  const boot = async (g: Genesis, seed: Uint8Array, opts: { blockTimeMs: number; emptyBlockIntervalMs: number }) => {
    const chain = createChain({ store: new MemoryKVStore(), genesis: g, consensus: createPoaConsensus() });
    await chain.open();
    const mempool = createMempool({ chainId: g.chainId, minFee: g.params.minFee, account: (a) => chain.account(a) });
    const node = { chain, mempool, commitsAt: [] as number[] } as (typeof nodes)[number];
    node.driver = createValidatorDriver({
      chain,
      mempool,
      seed,
      store: new MemoryKVStore(),
      clock,
      ...opts,
      timeouts: { propose: 60_000, prevote: 60_000, precommit: 60_000, delta: 0 },
      transport: {
        broadcast(m) {
          const wire = JSON.stringify(encodeConsensusMessage(m));
          for (const other of nodes)
            if (other !== node)
              clock.setTimeout(() => other.driver.receive(decodeConsensusMessage(JSON.parse(wire))), delayMs);
        },
      },
    });
    node.driver.on('commit', () => node.commitsAt.push(now));
    nodes.push(node);
    running.push({ driver: node.driver, up: true } as Node);
    return node;
  };
  /** Runs the events due until `ms` of virtual time passed (bounded in count). */
  const run = async (ms: number) => {
    const end = now + ms;
    for (let i = 0; i < 100_000; i++) {
      await settle();
      events.sort((a, b) => a.time - b.time || a.seq - b.seq);
      const e = events[0];
      if (e === undefined || e.time > end) break;
      events.shift();
      now = e.time;
      e.fn();
    }
    now = end;
    await settle();
  };
  return { nodes, boot, run, clock, now: () => now };
}

describe('validator driver pacing (virtual clock)', () => {
  it('starts heights one block time apart, not one block time after each decision', async () => {
    // Each message takes 200 ms: a height needs ~600 ms (proposal, prevotes, precommits) to decide.
    const g: Genesis = { ...genesis, params: { ...genesis.params, blockTimeMs: 1000, emptyBlockIntervalMs: 1000 } };
    const world = virtualWorld(200);
    for (const s of seeds) await world.boot(g, s, { blockTimeMs: 1000, emptyBlockIntervalMs: 1000 });
    for (const n of world.nodes) await n.driver.start();
    await world.run(8_500);
    const at = world.nodes[0]!.commitsAt;
    expect(at.length).toBeGreaterThanOrEqual(8);
    // Decisions (and so heights) come every block time: pacing from the decision gave 1,600 ms.
    const gaps = at.slice(1).map((t, i) => t - at[i]!);
    for (const gap of gaps) expect(gap).toBe(1000);
    expect(world.nodes.every((n) => n.chain.head.height >= 8)).toBe(true);
  });

  it('starts a height at most 100 ms after a transaction reaches an idle pool past the block time', async () => {
    const solo: Genesis = {
      ...genesis,
      validators: [genesis.validators[0]!],
      params: { ...genesis.params, blockTimeMs: 1000, emptyBlockIntervalMs: 10_000 },
    };
    const world = virtualWorld(0);
    const node = await world.boot(solo, seeds[0]!, { blockTimeMs: 1000, emptyBlockIntervalMs: 10_000 });
    await node.driver.start();
    await world.run(10_050); // height 1 at the start, the empty block of height 2 after 10 s
    expect(node.chain.head.height).toBe(2);
    await world.run(1_500); // idle, past the block time
    const tx = signTx(
      {
        type: 'transfer',
        chainId: solo.chainId,
        from: faucet,
        nonce: 0,
        fee: solo.params.minFee,
        to: node.driver.status().validator!,
        amount: 1n,
      },
      faucetSeed,
    );
    await node.mempool.add(tx);
    const addedAt = world.now();
    await world.run(150);
    expect(node.chain.head.height).toBe(3);
    expect(node.commitsAt.at(-1)! - addedAt).toBeLessThanOrEqual(100);
    expect(await node.chain.getTx(tx.id)).toBeDefined();
  });

  it('resend() delivers what was signed before the peers were connected: round 0 decides without a timeout', async () => {
    // Messages sent while "disconnected" are lost; the round timeouts (60 s) are far beyond the test.
    const g: Genesis = { ...genesis, params: { ...genesis.params, blockTimeMs: 1000, emptyBlockIntervalMs: 1000 } };
    const world = virtualWorld(10);
    for (const s of seeds) await world.boot(g, s, { blockTimeMs: 1000, emptyBlockIntervalMs: 1000 });
    const connected = { value: false };
    for (const n of world.nodes) {
      const receive = n.driver.receive.bind(n.driver);
      n.driver.receive = (m) => {
        if (connected.value) receive(m);
      };
    }
    for (const n of world.nodes) await n.driver.start();
    await world.run(500);
    expect(world.nodes.every((n) => n.chain.head.height === 0)).toBe(true); // the first messages were lost
    connected.value = true;
    await world.run(500);
    expect(world.nodes.every((n) => n.chain.head.height === 0)).toBe(true); // nothing re-sends them yet
    for (const n of world.nodes) n.driver.resend();
    await world.run(100);
    expect(world.nodes.every((n) => n.chain.head.height >= 1)).toBe(true);
    expect((await world.nodes[0]!.chain.getCommit(1))!.round).toBe(0);
  });
});
