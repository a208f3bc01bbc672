import {
  blockHash,
  type Chain,
  createChain,
  DEFAULT_PARAMS,
  type Genesis,
  MemoryKVStore,
  signBlockHeader,
} from '@aitbc/chain-core';
import {
  addressFromPublicKey,
  bytesToHex,
  publicKeyFromSeed,
  sha256,
  toHex0x,
  utf8ToBytes,
  verify,
} from '@aitbc/crypto';
import type { BftTimeouts } from './bftEngine.js';
import {
  type ConsensusMessage,
  decodeConsensusMessage,
  encodeConsensusMessage,
  type SignatureVerifier,
  signProposal,
  signVote,
} from './consensusMessage.js';
import { createPoaConsensus } from './poaConsensus.js';
import { type Clock, createValidatorDriver, type ValidatorDriver } from './validatorDriver.js';

/**
 * Options of {@link runSimulation}.
 *
 * @example
 * ```ts
 * import { runSimulation, type SimulationOptions } from '@aitbc/consensus-poa/simulator';
 * const options: SimulationOptions = { seed: 7, heightsAfterHeal: 3 };
 * const { height, violations } = await runSimulation(options);
 * ```
 */
export interface SimulationOptions {
  /** Everything (validators, powers, faults, network) derives from this seed. */
  readonly seed: number;
  /** Heights every live honest validator must finalize after the network heals (default 2). */
  readonly heightsAfterHeal?: number;
  /** Called with a line per notable event (crashes, partitions, commits, violations). */
  readonly trace?: (line: string) => void;
  /**
   * Breaks the fault assumption on purpose, to show that the checker catches it: `validators` of
   * equal power of which `byzantine` (≥ 1/3 of the power) always equivocate, each peer getting one
   * variant only. Used by the simulator's own tests; not a valid scenario.
   */
  readonly unsafe?: { readonly validators: number; readonly byzantine: number };
}

/**
 * What one seeded run did.
 *
 * @example
 * ```ts
 * import { runSimulation } from '@aitbc/consensus-poa/simulator';
 * const r = await runSimulation({ seed: 1 });
 * console.log(`${r.validators} validators, height ${r.height}, max round ${r.maxRound}, ${r.evidence} evidence`);
 * ```
 */
export interface SimulationResult {
  readonly seed: number;
  readonly validators: number;
  readonly powers: readonly number[];
  readonly byzantine: number;
  /** Validators down at the end (crashed for good: counted as faulty with the Byzantine ones). */
  readonly crashedForGood: number;
  /** Highest final height among honest validators. */
  readonly height: number;
  /** Highest round any honest validator reached. */
  readonly maxRound: number;
  readonly messages: number;
  /** Conflicting message pairs the Byzantine validators sent. */
  readonly equivocations: number;
  /** Evidence entries recorded by honest validators (summed). */
  readonly evidence: number;
  /** Virtual time simulated (ms). */
  readonly virtualMs: number;
  /** Agreement, validity, liveness or evidence violations; empty when the run is correct. */
  readonly violations: readonly string[];
}

/** Yields to the event loop (timers, I/O, a test runner's messages). */
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A small deterministic PRNG (mulberry32). */
function prng(seed: number): () => number {
  let a = (seed ^ 0x9e3779b9) >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

interface Event {
  time: number;
  seq: number;
  node: number; // -1: simulator-wide
  gen: number;
  fn: () => void;
}

/** A binary heap of events by (time, seq). */
class EventQueue {
  private readonly heap: Event[] = [];
  private readonly less = (a: Event, b: Event) => a.time < b.time || (a.time === b.time && a.seq < b.seq);
  get size() {
    return this.heap.length;
  }
  push(e: Event) {
    const h = this.heap;
    h.push(e);
    let i = h.length - 1;
    while (i > 0) {
      const p = (i - 1) >> 1;
      if (!this.less(h[i]!, h[p]!)) break;
      [h[i], h[p]] = [h[p]!, h[i]!];
      i = p;
    }
  }
  pop(): Event | undefined {
    const h = this.heap;
    const top = h[0];
    const last = h.pop();
    if (h.length > 0 && last !== undefined) {
      h[0] = last;
      let i = 0;
      for (;;) {
        const l = 2 * i + 1;
        const r = l + 1;
        let m = i;
        if (l < h.length && this.less(h[l]!, h[m]!)) m = l;
        if (r < h.length && this.less(h[r]!, h[m]!)) m = r;
        if (m === i) break;
        [h[i], h[m]] = [h[m]!, h[i]!];
        i = m;
      }
    }
    return top;
  }
}

/** A memoized strict verifier: each distinct (signature, message, key) is checked once per run. */
function memoVerifier(): SignatureVerifier {
  const cache = new Map<string, boolean>();
  return (signature, message, publicKey) => {
    const key = `${bytesToHex(signature)}${bytesToHex(publicKey)}${bytesToHex(sha256(message))}`;
    let ok = cache.get(key);
    if (ok === undefined) {
      ok = verify(signature, message, publicKey);
      if (cache.size > 200_000) cache.clear();
      cache.set(key, ok);
    }
    return ok;
  };
}

interface SimNode {
  index: number;
  seed: Uint8Array;
  address: string;
  power: number;
  byzantine: boolean;
  up: boolean;
  gen: number;
  chainStore: MemoryKVStore;
  consensusStore: MemoryKVStore;
  chain: Chain;
  driver: ValidatorDriver;
  /** Byzantine message variants seen (processed at their height) in this incarnation. */
  seen: Map<string, Set<number>>;
}

/**
 * Timeouts used by the simulator (ms of virtual time).
 *
 * @example
 * ```ts
 * import { SIM_TIMEOUTS } from '@aitbc/consensus-poa/simulator';
 * console.log(SIM_TIMEOUTS.propose); // 200 virtual ms
 * ```
 */
export const SIM_TIMEOUTS: BftTimeouts = { propose: 200, prevote: 100, precommit: 100, delta: 50 };

/** Pause between blocks in the simulator (virtual ms). */
const SIM_BLOCK_MS = 200;
const GENESIS_TIME = 1_700_000_000_000;
const T0 = GENESIS_TIME + 1000;

/**
 * Runs one seeded simulation: N validators (1–10, unequal powers) with real chain-core chains on
 * `MemoryKVStore`, the real {@link createValidatorDriver} on a virtual clock, over an in-process
 * network with seeded delay, loss, duplication and reordering, partitions that heal, crashes with
 * restarts from the stored state, and up to f (by power: 3·F < total) Byzantine validators that
 * double-propose and double-vote. Agreement and validity are checked at every commit, evidence after
 * every delivery, liveness after the network heals. The same seed always replays the same run.
 *
 * @example
 * ```ts
 * import { runSimulation } from '@aitbc/consensus-poa/simulator';
 * const result = await runSimulation({ seed: 42, trace: console.log });
 * if (result.violations.length > 0) throw new Error(result.violations.join('\n'));
 * ```
 */
export async function runSimulation(options: SimulationOptions): Promise<SimulationResult> {
  const rand = prng(options.seed);
  const int = (lo: number, hi: number) => lo + Math.floor(rand() * (hi - lo + 1));
  const chance = (p: number) => rand() < p;
  const trace = options.trace ?? (() => {});
  const violations: string[] = [];
  const violate = (v: string) => {
    if (violations.length < 20) violations.push(v);
    trace(`VIOLATION ${v}`);
  };

  // --- scenario ---
  const unsafe = options.unsafe;
  // N = 1–10; half the draws above 7 are redrawn from 1–7 (each large N still comes up ~5% of the
  // time), which keeps 500 seeds cheap (votes grow with N²) without losing the large sets.
  let drawn = int(1, 10);
  if (drawn > 7 && chance(0.5)) drawn = int(1, 7);
  const n = unsafe?.validators ?? drawn;
  const powers = Array.from({ length: n }, () => (unsafe === undefined ? int(1, 4) : 1));
  const total = powers.reduce((a, b) => a + b, 0);
  const faultBudget = Math.floor((total - 1) / 3); // largest F with 3F < total
  const order = Array.from({ length: n }, (_, i) => i).sort(() => rand() - 0.5);
  const byz = new Set<number>();
  let faultyPower = 0;
  if (unsafe !== undefined) for (let i = 0; i < unsafe.byzantine; i++) byz.add(order[i]!);
  else if (n >= 4 && chance(0.6)) {
    const want = int(1, 2);
    for (const i of order) {
      if (byz.size >= want) break;
      if (faultyPower + powers[i]! <= faultBudget) {
        byz.add(i);
        faultyPower += powers[i]!;
      }
    }
  }
  const chaosMs = int(200, 600);
  const baseDelay = int(1, 10);
  const jitter = int(0, 30);
  const loss = chance(0.7) && unsafe === undefined ? rand() * 0.15 : 0;
  const dup = chance(0.5) && unsafe === undefined ? rand() * 0.1 : 0;
  // Crashes: temporary ones during the chaos, and possibly one for good (within the fault budget).
  const honest = order.filter((i) => !byz.has(i));
  let crashForGood = -1;
  if (chance(0.35) && unsafe === undefined) {
    const c = honest.find((i) => faultyPower + powers[i]! <= faultBudget);
    if (c !== undefined) {
      crashForGood = c;
      faultyPower += powers[c]!;
    }
  }
  const crashes: { node: number; at: number; downMs: number }[] = [];
  for (let k = unsafe === undefined ? int(0, 2) : 0; k > 0 && honest.length > 0; k--)
    crashes.push({ node: honest[int(0, honest.length - 1)]!, at: int(0, chaosMs - 50), downMs: int(50, 400) });
  const partitions: { at: number; ms: number; side: Set<number> }[] = [];
  for (let k = n > 1 && unsafe === undefined ? int(0, 2) : 0; k > 0; k--) {
    const side = new Set<number>();
    for (let i = 0; i < n; i++) if (chance(0.5)) side.add(i);
    partitions.push({ at: int(0, chaosMs - 50), ms: int(50, 400), side });
  }
  const heal = Math.max(chaosMs, ...crashes.map((c) => c.at + c.downMs), ...partitions.map((p) => p.at + p.ms));

  // --- world ---
  const seeds = powers.map((_, i) => sha256(utf8ToBytes(`aitbc-sim/${options.seed}/${i}`)));
  const genesis: Genesis = {
    chainId: 'aitbc-sim',
    genesisTime: GENESIS_TIME,
    validators: seeds.map((s, i) => ({ publicKey: publicKeyFromSeed(s), power: powers[i]!, name: `v${i}` })),
    allocations: [],
    params: { ...DEFAULT_PARAMS, blockTimeMs: SIM_BLOCK_MS, emptyBlockIntervalMs: SIM_BLOCK_MS },
  };
  const verifier = memoVerifier();
  const consensus = createPoaConsensus({ verify: verifier });
  const queue = new EventQueue();
  let now = GENESIS_TIME + 1000;
  let seq = 0;
  let messages = 0;
  let activePartitions: Set<number>[] = [];
  const healed = () => now >= GENESIS_TIME + 1000 + heal;
  const at = (time: number, node: number, gen: number, fn: () => void) => {
    const e: Event = { time, seq: seq++, node, gen, fn };
    queue.push(e);
    return e;
  };
  const cancelled = new Set<Event>();
  const twins = new Map<string, Uint8Array>(); // a Byzantine proposer's two blocks of one round, each to the other
  const nodes: SimNode[] = [];
  const final = new Map<number, string>(); // height → hash, across honest validators
  const equivocations = new Map<string, number>(); // pair key → node

  const reachable = (a: number, b: number) =>
    activePartitions.every((side) => side.has(a) === side.has(b)) && nodes[a]!.up && nodes[b]!.up;

  const deliver = (to: number, wire: string, tag: string | undefined) => {
    const node = nodes[to]!;
    if (!node.up) return;
    const message = decodeConsensusMessage(JSON.parse(wire));
    if (tag !== undefined && node.driver.status().height === message.height && !node.byzantine) {
      const [pair, variant] = tag.split('#') as [string, string];
      const s = node.seen.get(pair) ?? new Set<number>();
      node.seen.set(pair, s);
      s.add(Number(variant));
    }
    node.driver.receive(message);
  };

  const wires = new WeakMap<ConsensusMessage, string>();
  const send = (from: number, to: number, message: ConsensusMessage, tag?: string) => {
    if (!reachable(from, to)) return;
    if (!healed() && chance(loss)) return;
    messages++;
    let wire = wires.get(message);
    if (wire === undefined) {
      wire = JSON.stringify(encodeConsensusMessage(message));
      wires.set(message, wire);
    }
    const target = nodes[to]!;
    at(now + baseDelay + int(0, jitter), to, target.gen, () => deliver(to, wire, tag));
    if (chance(dup)) at(now + baseDelay + int(0, jitter * 2), to, target.gen, () => deliver(to, wire, tag));
  };

  /** A Byzantine validator: sends its honest message and, often, a conflicting one, to different peers. */
  const equivocate = (node: SimNode, m: ConsensusMessage): ConsensusMessage | undefined => {
    if (unsafe === undefined && !chance(0.6)) return undefined;
    if (m.type === 'proposal') {
      if (m.block.header.proposer !== node.address) return undefined; // a re-proposed block it cannot re-sign
      const header = { ...m.block.header, timestamp: m.block.header.timestamp + 1 };
      const block = { ...m.block, header, signature: signBlockHeader(header, node.seed) };
      const twin = signProposal(genesis.chainId, block, m.round, m.polRound, node.seed);
      twins.set(toHex0x(m.blockHash), twin.blockHash);
      twins.set(toHex0x(twin.blockHash), m.blockHash);
      return twin;
    }
    if (m.validator !== node.address) return undefined; // a relayed vote of someone else
    // A vote for one of its twin proposals gets a conflicting vote for the other; else nil ↔ a bogus hash.
    const twin = m.blockHash === null ? undefined : twins.get(toHex0x(m.blockHash));
    const other =
      twin !== undefined ? twin : m.blockHash === null ? sha256(utf8ToBytes(`bogus/${m.height}/${m.round}`)) : null;
    return signVote(genesis.chainId, m.type, m.height, m.round, other, node.address, node.seed);
  };

  const broadcast = (node: SimNode, m: ConsensusMessage) => {
    if (!node.up) return;
    const conflicting = node.byzantine ? equivocate(node, m) : undefined;
    if (conflicting === undefined) {
      for (let j = 0; j < n; j++) if (j !== node.index) send(node.index, j, m);
      return;
    }
    const key = `${m.type}/${node.address}/${m.height}/${m.round}/${seq}`;
    equivocations.set(key, node.index);
    for (let j = 0; j < n; j++) {
      if (j === node.index) continue;
      // 0: honest one, 1: conflicting one, 2: both; unsafe runs split the honest validators in two.
      const pick = unsafe === undefined ? int(0, 2) : byz.has(j) ? 0 : honest.indexOf(j) % 2;
      if (pick === 0 || pick === 2) send(node.index, j, m, `${key}#0`);
      if (pick === 1 || pick === 2) send(node.index, j, conflicting, `${key}#1`);
    }
  };

  const clockFor = (node: SimNode): Clock => ({
    now: () => now,
    setTimeout: (fn, ms) => at(now + Math.max(0, ms), node.index, node.gen, fn),
    clearTimeout: (h) => cancelled.add(h as Event),
  });

  const record = (node: SimNode, height: number, hash: string, how: string) => {
    if (node.byzantine) return;
    const known = final.get(height);
    if (known === undefined) {
      final.set(height, hash);
      trace(`${now - T0}ms v${node.index} final ${height} ${hash.slice(0, 10)} (${how})`);
    } else if (known !== hash) violate(`agreement: height ${height} final as ${known} and ${hash} (v${node.index})`);
  };

  const boot = async (node: SimNode) => {
    node.chain = createChain({ store: node.chainStore, genesis, consensus });
    await node.chain.open();
    node.chain.onBlock((b) => record(node, b.header.height, toHex0x(blockHash(b.header)), 'import'));
    node.seen = new Map();
    node.driver = createValidatorDriver({
      chain: node.chain,
      seed: node.seed,
      store: node.consensusStore,
      transport: { broadcast: (m) => broadcast(node, m) },
      blockTimeMs: SIM_BLOCK_MS,
      emptyBlockIntervalMs: SIM_BLOCK_MS,
      timeouts: SIM_TIMEOUTS,
      clock: clockFor(node),
      verify: verifier,
    });
    node.driver.on('round', (e) => trace(`${now - T0}ms v${node.index} h${e.height} r${e.round} ${e.step}`));
    node.driver.on('rejected', (e) =>
      trace(
        `${now - T0}ms v${node.index} rejected ${e.message.type} h${e.message.height} r${e.message.round}: ${e.code}`,
      ),
    );
    node.driver.on('error', (e) => {
      if (!node.byzantine)
        violate(`validity: v${node.index} ${e.during} failed: ${String((e.error as Error)?.message ?? e.error)}`);
    });
    await node.driver.start();
    scheduleSync(node);
  };

  const scheduleSync = (node: SimNode) => {
    at(now + 250, node.index, node.gen, () => {
      pendingAsync.push(syncFrom(node));
      scheduleSync(node);
    });
  };

  /** Block sync: catch up from the most advanced reachable peer, through the real import. */
  const syncFrom = async (node: SimNode) => {
    let best: SimNode | undefined;
    for (const peer of nodes)
      if (
        peer !== node &&
        reachable(node.index, peer.index) &&
        peer.chain.head.height > (best ?? node).chain.head.height
      )
        best = peer;
    if (best === undefined) return;
    for (let h = node.chain.head.height + 1; h <= best.chain.head.height; h++) {
      const block = await best.chain.getBlock(h);
      const commit = await best.chain.getCommit(h);
      if (block === undefined || commit === undefined) return;
      try {
        await node.chain.importBlock(block, commit);
      } catch (e) {
        if (node.chain.head.height >= h) continue; // consensus imported it meanwhile
        if (!best.byzantine)
          violate(`validity: v${node.index} could not import block ${h} from v${best.index}: ${(e as Error).message}`);
        return;
      }
    }
  };
  let pendingAsync: Promise<void>[] = [];

  for (let i = 0; i < n; i++) {
    const node = {
      index: i,
      seed: seeds[i]!,
      address: addressFromPublicKey(publicKeyFromSeed(seeds[i]!)),
      power: powers[i]!,
      byzantine: byz.has(i),
      up: true,
      gen: 0,
      chainStore: new MemoryKVStore(),
      consensusStore: new MemoryKVStore(),
      seen: new Map(),
    } as unknown as SimNode;
    nodes.push(node);
  }
  for (const node of nodes) await boot(node);
  trace(
    `seed ${options.seed}: ${n} validators, powers [${powers}], byzantine [${[...byz]}], crash for good ${crashForGood}, ` +
      `delay ${baseDelay}+${jitter}, loss ${loss.toFixed(2)}, dup ${dup.toFixed(2)}, heal at ${heal} ms`,
  );

  const crash = (node: SimNode) => {
    if (!node.up) return;
    node.up = false;
    node.gen++;
    trace(`${now - T0}ms v${node.index} crashes at height ${node.chain.head.height}`);
  };
  const restart = async (node: SimNode) => {
    if (node.up || node.index === crashForGood) return;
    node.up = true;
    node.gen++;
    trace(`${now - T0}ms v${node.index} restarts`);
    await boot(node);
  };
  const start = now;
  for (const c of crashes) {
    at(start + c.at, -1, 0, () => crash(nodes[c.node]!));
    at(start + c.at + c.downMs, -1, 0, () => pendingAsync.push(restart(nodes[c.node]!)));
  }
  if (crashForGood >= 0) at(start + int(0, chaosMs), -1, 0, () => crash(nodes[crashForGood]!));
  for (const p of partitions) {
    at(start + p.at, -1, 0, () => {
      activePartitions = [...activePartitions, p.side];
      trace(`${now - T0}ms partition {${[...p.side]}}`);
    });
    at(start + p.at + p.ms, -1, 0, () => {
      activePartitions = activePartitions.filter((s) => s !== p.side);
      trace(`${now - T0}ms partition {${[...p.side]}} heals`);
    });
  }

  // --- run ---
  const k = options.heightsAfterHeal ?? 2;
  let target = Number.POSITIVE_INFINITY;
  const deadline = start + heal + 60_000;
  const honestUp = () => nodes.filter((x) => !x.byzantine && x.up);
  const checkEvidence = (node: SimNode) => {
    for (const [pair, variants] of node.seen) {
      if (variants.size < 2) continue;
      const [type, validator, height, round] = pair.split('/') as [string, string, string, string];
      const found = node.driver
        .evidence()
        .some(
          (e) =>
            e.validator === validator &&
            e.height === Number(height) &&
            e.round === Number(round) &&
            (type === 'proposal'
              ? e.type === 'duplicate-proposal'
              : e.type === 'duplicate-vote' && e.first.type === type),
        );
      if (!found) {
        trace(
          `evidence of v${node.index}: ${node.driver
            .evidence()
            .map((e) => `${e.type}/${e.validator}/${e.height}/${e.round}`)
            .join(' ')}; status ${JSON.stringify(node.driver.status())}`,
        );
        violate(`evidence: v${node.index} saw both ${pair} but recorded no evidence`);
      }
      node.seen.delete(pair);
    }
  };
  let steps = 0;
  while (queue.size > 0) {
    // Everything here settles in microtasks: let the host's event loop breathe now and then.
    if (++steps % 2000 === 0) await breathe();
    const e = queue.pop()!;
    if (e.time > deadline) break;
    now = e.time;
    if (cancelled.has(e)) {
      cancelled.delete(e);
      continue;
    }
    if (e.node >= 0 && (nodes[e.node]!.gen !== e.gen || !nodes[e.node]!.up)) continue;
    e.fn();
    while (pendingAsync.length > 0) {
      const p = pendingAsync;
      pendingAsync = [];
      await Promise.all(p);
    }
    if (e.node >= 0) {
      const node = nodes[e.node]!;
      if (node.up) {
        await node.driver.idle();
        checkEvidence(node);
      }
    }
    if (violations.length > 0) break;
    if (healed()) {
      const live = honestUp();
      if (target === Number.POSITIVE_INFINITY) {
        target = Math.max(0, ...live.map((x) => x.chain.head.height)) + k;
        trace(`${now - T0}ms healed; target height ${target}`);
      }
      if (live.every((x) => x.chain.head.height >= target)) break;
    }
  }
  const live = honestUp();
  if (violations.length === 0 && !(live.length > 0 && live.every((x) => x.chain.head.height >= target)))
    violate(
      `liveness: after healing, heights [${live.map((x) => x.chain.head.height)}] did not all reach ${target} within 60 s`,
    );
  let maxRound = 0;
  let evidence = 0;
  for (const x of nodes)
    if (!x.byzantine) {
      maxRound = Math.max(maxRound, x.driver.status().round);
      evidence += x.driver.evidence().length;
    }
  for (const x of nodes) if (x.up) await x.driver.stop();
  return {
    seed: options.seed,
    validators: n,
    powers,
    byzantine: byz.size,
    crashedForGood: crashForGood >= 0 ? 1 : 0,
    height: Math.max(0, ...nodes.filter((x) => !x.byzantine).map((x) => x.chain.head.height)),
    maxRound,
    messages,
    equivocations: equivocations.size,
    evidence,
    virtualMs: now - start,
    violations,
  };
}

/**
 * Totals of {@link runSeedRange}.
 *
 * @example
 * ```ts
 * import { runSeedRange } from '@aitbc/consensus-poa/simulator';
 * const summary = await runSeedRange(0, 20);
 * console.log(`${summary.seeds} seeds, ${summary.heights} heights, failing: ${summary.failingSeeds}`);
 * ```
 */
export interface SimulationSummary {
  readonly seeds: number;
  readonly heights: number;
  readonly violations: number;
  readonly failingSeeds: readonly number[];
  readonly results: readonly SimulationResult[];
}

/**
 * Runs seeds `from` … `to - 1` and sums them up.
 *
 * @example
 * ```ts
 * import { runSeedRange } from '@aitbc/consensus-poa/simulator';
 * const { violations, failingSeeds } = await runSeedRange(0, 50, (r) => console.log(r.seed, r.height));
 * if (violations > 0) process.exitCode = 1;
 * ```
 */
export async function runSeedRange(
  from: number,
  to: number,
  onResult?: (r: SimulationResult) => void,
): Promise<SimulationSummary> {
  const results: SimulationResult[] = [];
  for (let seed = from; seed < to; seed++) {
    const r = await runSimulation({ seed });
    await breathe();
    results.push(r);
    onResult?.(r);
  }
  const failing = results.filter((r) => r.violations.length > 0);
  return {
    seeds: results.length,
    heights: results.reduce((s, r) => s + r.height, 0),
    violations: failing.reduce((s, r) => s + r.violations.length, 0),
    failingSeeds: failing.map((r) => r.seed),
    results,
  };
}

/**
 * Options of {@link runSteadyNetwork}.
 *
 * @example
 * ```ts
 * import { runSteadyNetwork, type SteadyNetworkOptions } from '@aitbc/consensus-poa/simulator';
 * const options: SteadyNetworkOptions = { validators: 4, heights: 10, delayMs: 5 };
 * const result = await runSteadyNetwork(options);
 * ```
 */
export interface SteadyNetworkOptions {
  readonly validators: number;
  /** Heights to finalize (default 20). */
  readonly heights?: number;
  /** One-way message delay in virtual ms (default 10). */
  readonly delayMs?: number;
}

/**
 * What {@link runSteadyNetwork} measured.
 *
 * @example
 * ```ts
 * import { runSteadyNetwork } from '@aitbc/consensus-poa/simulator';
 * const r = await runSteadyNetwork({ validators: 4 });
 * console.log(`first commit after ${Math.min(...r.firstCommitDelays)} delays, ${(r.cpuMs / r.heights).toFixed(1)} CPU ms/height`);
 * ```
 */
export interface SteadyNetworkResult {
  readonly heights: number;
  /** Per height: virtual time from the proposal's broadcast to the first validator's commit, in message delays. */
  readonly firstCommitDelays: readonly number[];
  /** Per height: the same until every validator committed. */
  readonly allCommitDelays: readonly number[];
  /** Wall-clock ms spent (signing, verifying, building, importing for every validator). */
  readonly wallMs: number;
  /** CPU ms of this process during the run (user + system). */
  readonly cpuMs: number;
}

/**
 * A fault-free network of equal validators with one fixed message delay, for benchmarks: how many
 * message delays after the proposal a block is final (3 in the best case: proposal, prevotes,
 * precommits), and what a height costs in CPU for the whole network.
 *
 * @example
 * ```ts
 * import { runSteadyNetwork } from '@aitbc/consensus-poa/simulator';
 * const { heights, allCommitDelays, wallMs } = await runSteadyNetwork({ validators: 7, heights: 20 });
 * ```
 */
export async function runSteadyNetwork(options: SteadyNetworkOptions): Promise<SteadyNetworkResult> {
  const n = options.validators;
  const heights = options.heights ?? 20;
  const delay = options.delayMs ?? 10;
  const seeds = Array.from({ length: n }, (_, i) => sha256(utf8ToBytes(`aitbc-steady/${i}`)));
  const genesis: Genesis = {
    chainId: 'aitbc-steady',
    genesisTime: GENESIS_TIME,
    validators: seeds.map((s, i) => ({ publicKey: publicKeyFromSeed(s), power: 1, name: `v${i}` })),
    allocations: [],
    params: { ...DEFAULT_PARAMS, blockTimeMs: 10, emptyBlockIntervalMs: 10 },
  };
  const consensus = createPoaConsensus();
  const queue = new EventQueue();
  let now = T0;
  let seq = 0;
  const at = (time: number, fn: () => void) => {
    const e: Event = { time, seq: seq++, node: -1, gen: 0, fn };
    queue.push(e);
    return e;
  };
  const cancelled = new Set<Event>();
  const clock: Clock = {
    now: () => now,
    setTimeout: (fn, ms) => at(now + Math.max(0, ms), fn),
    clearTimeout: (h) => cancelled.add(h as Event),
  };
  const proposedAt = new Map<number, number>();
  const commits = new Map<number, number[]>();
  const drivers: ValidatorDriver[] = [];
  const started = performance.now();
  const cpu = process.cpuUsage();
  for (let i = 0; i < n; i++) {
    const chain = createChain({ store: new MemoryKVStore(), genesis, consensus });
    await chain.open();
    const driver = createValidatorDriver({
      chain,
      seed: seeds[i]!,
      store: new MemoryKVStore(),
      transport: {
        broadcast: (m) => {
          if (m.type === 'proposal' && !proposedAt.has(m.height)) proposedAt.set(m.height, now);
          const wire = JSON.stringify(encodeConsensusMessage(m));
          for (let j = 0; j < n; j++)
            if (j !== i) at(now + delay, () => drivers[j]!.receive(decodeConsensusMessage(JSON.parse(wire))));
        },
      },
      blockTimeMs: 10,
      emptyBlockIntervalMs: 10,
      timeouts: { propose: 100 * delay, prevote: 100 * delay, precommit: 100 * delay, delta: delay },
      clock,
    });
    driver.on('commit', (e) => {
      const list = commits.get(e.height) ?? [];
      list.push(now);
      commits.set(e.height, list);
    });
    drivers.push(driver);
  }
  for (const d of drivers) await d.start();
  while (queue.size > 0) {
    const e = queue.pop()!;
    now = e.time;
    if (cancelled.delete(e)) continue;
    e.fn();
    await Promise.all(drivers.map((d) => d.idle()));
    if ((commits.get(heights)?.length ?? 0) === n) break;
  }
  for (const d of drivers) await d.stop();
  const first: number[] = [];
  const all: number[] = [];
  for (let h = 1; h <= heights; h++) {
    const c = commits.get(h) ?? [];
    const p = proposedAt.get(h);
    if (p === undefined || c.length === 0) continue;
    first.push((Math.min(...c) - p) / delay);
    all.push((Math.max(...c) - p) / delay);
  }
  const used = process.cpuUsage(cpu);
  return {
    heights: first.length,
    firstCommitDelays: first,
    allCommitDelays: all,
    wallMs: performance.now() - started,
    cpuMs: (used.user + used.system) / 1000,
  };
}
