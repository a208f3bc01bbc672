import {
  type BatchOp,
  type Block,
  blockFromStoreBytes,
  blockHash,
  blockStoreBytes,
  blockToJson,
  type Chain,
  DEFAULT_PARAMS,
  type KVStore,
  type Mempool,
} from '@aitbc/chain-core';
import { bytesToHex, bytesToUtf8, utf8ToBytes } from '@aitbc/crypto';
import {
  type BftEngine,
  type BftState,
  type BftStep,
  type BftTimeouts,
  createBftEngine,
  decodePersistedState,
  type EngineInput,
  type EngineOutput,
  type Evidence,
  type PersistedConsensusState,
} from './bftEngine.js';
import { type ConsensusMessage, encodeConsensusMessage, type SignatureVerifier } from './consensusMessage.js';

/**
 * A clock with timers (the real one by default; simulators pass a virtual one).
 *
 * @example
 * ```ts
 * import { type Clock, createValidatorDriver } from '@aitbc/consensus-poa';
 * // The default, wall-clock one; the simulator passes a virtual clock of the same shape.
 * const clock: Clock = { now: Date.now, setTimeout: (fn, ms) => setTimeout(fn, ms), clearTimeout: (h) => clearTimeout(h as NodeJS.Timeout) };
 * const driver = createValidatorDriver({ chain, seed, store, transport, clock });
 * ```
 */
export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/**
 * Where the driver sends what it signed.
 *
 * @example
 * ```ts
 * import { type ConsensusTransport, encodeConsensusMessage } from '@aitbc/consensus-poa';
 * const transport: ConsensusTransport = { broadcast: (m) => gossip.publish(JSON.stringify(encodeConsensusMessage(m))) };
 * ```
 */
export interface ConsensusTransport {
  broadcast(message: ConsensusMessage): void;
}

/**
 * Options of {@link createValidatorDriver}.
 *
 * @example
 * ```ts
 * import { createValidatorDriver, type ValidatorDriverOptions } from '@aitbc/consensus-poa';
 * const options: ValidatorDriverOptions = {
 *   chain, mempool, seed, store: new MemoryKVStore(), transport,
 *   blockTimeMs: genesis.params.blockTimeMs, maxBlockTxs: genesis.params.maxBlockTxs, timeouts: { propose: 2_000 },
 * };
 * const driver = createValidatorDriver(options);
 * ```
 */
export interface ValidatorDriverOptions {
  /** The chain, opened. Final blocks are imported into it with their commit. */
  readonly chain: Chain;
  /** Source of transactions for the blocks this validator proposes (revalidated after each import). */
  readonly mempool?: Mempool;
  /** The validator's key. A key outside the validator set makes a follower that never signs. */
  readonly seed: Uint8Array;
  /** Persists the signed messages of the current height and the locked/valid values (key `consensus/state`). */
  readonly store: KVStore;
  readonly transport: ConsensusTransport;
  /**
   * Target time between the starts of two heights when there are transactions (default 1,000 ms):
   * the next height starts this long after the previous one started, or at its decision when
   * consensus took longer — not this long after the decision, which would add the consensus time
   * to every block interval.
   */
  readonly blockTimeMs?: number;
  /** Longest time between the starts of two heights without transactions: an empty block at least this often (default 10,000 ms). */
  readonly emptyBlockIntervalMs?: number;
  readonly timeouts?: Partial<BftTimeouts>;
  readonly clock?: Clock;
  /** Signature check for votes and proposals (default strict Ed25519). */
  readonly verify?: SignatureVerifier;
  /** Limits of the blocks this validator builds (default chain-core's `DEFAULT_PARAMS`; pass the genesis params). */
  readonly maxBlockTxs?: number;
  readonly maxBlockBytes?: number;
  /** A proposed block whose timestamp is further ahead of this clock is invalid (default 30,000 ms). */
  readonly maxClockDriftMs?: number;
}

/**
 * The typed events of a {@link ValidatorDriver}.
 *
 * @example
 * ```ts
 * import type { ValidatorDriverEvents } from '@aitbc/consensus-poa';
 * const onCommit = (e: ValidatorDriverEvents['commit']) => console.log(`final ${e.height} after ${e.latencyMs} ms`);
 * driver.on('commit', onCommit);
 * driver.on('rejected', (e) => console.warn(e.code, e.reason));
 * ```
 */
export interface ValidatorDriverEvents {
  /** A block was finalized and imported. `latencyMs`: from this node first seeing the block to its import. */
  commit: { height: number; round: number; blockHash: Uint8Array; latencyMs: number };
  /** The engine entered a step (`commit` once decided). */
  round: { height: number; round: number; step: BftStep };
  /** Conflicting signed messages from one validator. */
  evidence: Evidence;
  /** A message the engine refused (code such as `CONSENSUS_BAD_SIGNATURE`, `CONSENSUS_PAST_HEIGHT`). */
  rejected: { code: string; reason: string; message: ConsensusMessage };
  /** Something failed (block build, import of a decided block, store write). */
  error: { during: string; error: unknown };
}

/**
 * A running validator (or follower): the engine wired to chain, store, clock and transport.
 *
 * @example
 * ```ts
 * import { createValidatorDriver, decodeConsensusMessage } from '@aitbc/consensus-poa';
 * const driver = createValidatorDriver({ chain, seed, store, transport });
 * await driver.start();
 * gossip.onMessage((text) => driver.receive(decodeConsensusMessage(JSON.parse(text))));
 * gossip.onPeerConnected(() => driver.resend());
 * console.log(driver.status()); // { height, round, step, validator }
 * ```
 */
export interface ValidatorDriver {
  /** Restores the persisted state (or starts at the head + 1) and begins. */
  start(): Promise<void>;
  /** Stops timers and waits for the work in progress; does not close the chain or the store. */
  stop(): Promise<void>;
  /** Feeds a message from the network (decoded with `decodeConsensusMessage`). */
  receive(message: ConsensusMessage): void;
  /** Evidence of double signing seen since start (bounded). */
  evidence(): readonly Evidence[];
  on<K extends keyof ValidatorDriverEvents>(event: K, listener: (e: ValidatorDriverEvents[K]) => void): () => void;
  /** Where the engine is. */
  status(): { height: number; round: number; step: BftStep; validator: string | null };
  /** Resolves when everything received or scheduled so far has been processed (tests, simulators). */
  idle(): Promise<void>;
  /**
   * Re-sends everything this validator signed at the current height. Call it when a peer connects:
   * what was broadcast before (at start, the first proposal and votes go out before the peers are
   * connected) would otherwise reach the peer only with the periodic re-gossip, one propose timeout
   * later — just when the peers give up on the round.
   */
  resend(): void;
}

const STATE_KEY = utf8ToBytes('consensus/state');
/** First and longest wait before a decided block that failed to import is imported again (ms). */
const IMPORT_RETRY_MIN_MS = 250;
const IMPORT_RETRY_MAX_MS = 5_000;
/** Longest wait between two looks at an empty mempool once the block time has passed (ms). */
const IDLE_POLL_MS = 100;
/** `consensus/block/<hash hex>`: a block the persisted state refers to, written once per height. */
const blockKey = (hashHex: string) => utf8ToBytes(`consensus/block/${hashHex}`);

/**
 * The store form of a persisted state: `encodePersistedState`'s, with each block (locked,
 * valid, or in a signed proposal) replaced by its hash, the block itself being stored once under
 * {@link blockKey}. A state is persisted before every signed message, and re-encoding and fsyncing
 * whole blocks each time cost more than building them.
 */
function persistedJson(
  record: PersistedConsensusState,
  ref: (block: Block, hash?: Uint8Array) => string,
): Record<string, unknown> {
  return {
    blocksByHash: true,
    height: record.height,
    round: record.round,
    lockedRound: record.lockedRound,
    lockedBlock: record.lockedBlock === null ? null : ref(record.lockedBlock),
    validRound: record.validRound,
    validBlock: record.validBlock === null ? null : ref(record.validBlock),
    signed: record.signed.map((m) =>
      m.type === 'proposal'
        ? {
            type: 'proposal',
            height: m.height,
            round: m.round,
            polRound: m.polRound,
            block: ref(m.block, m.blockHash),
            signature: bytesToHex(m.signature),
          }
        : encodeConsensusMessage(m),
    ),
    polka: (record.polka ?? []).map(encodeConsensusMessage),
  };
}

const realClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setTimeout(fn, ms),
  clearTimeout: (h) => clearTimeout(h as ReturnType<typeof setTimeout>),
};

/**
 * Creates the validator driver: runs the {@link createBftEngine} state machine against chain-core
 * (blocks built with `chain.buildBlock`, proposals checked with `chain.validateBlock`, decisions
 * imported with `chain.importBlock(block, commit)`), persists every signed message before sending it,
 * buffers messages for future heights (bounded) and drops past ones, and follows the head when
 * blocks arrive by other means (block sync).
 *
 * @example
 * ```ts
 * const driver = createValidatorDriver({ chain, seed, store, transport: { broadcast: (m) => peers.send(m) } });
 * driver.on('commit', (e) => console.log('final', e.height));
 * await driver.start();
 * ```
 */
export function createValidatorDriver(options: ValidatorDriverOptions): ValidatorDriver {
  const { chain, mempool, store, transport, seed } = options;
  const clock = options.clock ?? realClock;
  const blockTimeMs = options.blockTimeMs ?? DEFAULT_PARAMS.blockTimeMs;
  const emptyIntervalMs = Math.max(blockTimeMs, options.emptyBlockIntervalMs ?? DEFAULT_PARAMS.emptyBlockIntervalMs);
  const maxDrift = options.maxClockDriftMs ?? 30_000;
  const engine: BftEngine = createBftEngine({
    chainId: chain.head.chainId,
    validators: chain.validators,
    seed,
    ...(options.timeouts === undefined ? {} : { timeouts: options.timeouts }),
    ...(options.verify === undefined ? {} : { verify: options.verify }),
  });
  const listeners = new Map<keyof ValidatorDriverEvents, Set<(e: never) => void>>();
  const timers = new Map<unknown, number>(); // handle → height
  let state: BftState | undefined;
  let running = false;
  let queue: Promise<void> = Promise.resolve();
  let unsubscribe: (() => void) | undefined;
  let paceTimer: unknown;
  /** True between our own import of a decided block and the start of the next height. */
  let pacing = false;
  /** When the current height started (the block interval is measured between height starts). */
  let heightStartedAt = clock.now();
  /** Blocks stored under {@link blockKey} (hash hex → the height whose state refers to them). */
  const persistedBlocks = new Map<string, number>();

  /** Reads the persisted state: the by-hash form (blocks read back from their keys) or the older inline one. */
  const loadPersisted = async (raw: Uint8Array) => {
    const o = JSON.parse(bytesToUtf8(raw)) as Record<string, unknown>;
    if (o.blocksByHash === true) {
      const height = typeof o.height === 'number' ? o.height : 0;
      const load = async (ref: unknown): Promise<unknown> => {
        if (typeof ref !== 'string' || !/^[0-9a-f]{64}$/.test(ref)) return ref; // decode rejects it
        persistedBlocks.set(ref, height);
        const bytes = await store.get(blockKey(ref));
        // Back to wire JSON for decodePersistedState, which decodes (and checks) the record as a whole;
        // this runs once, at start.
        return bytes === undefined ? undefined : blockToJson(blockFromStoreBytes(bytes));
      };
      if (o.lockedBlock !== null) o.lockedBlock = await load(o.lockedBlock);
      if (o.validBlock !== null) o.validBlock = await load(o.validBlock);
      if (Array.isArray(o.signed))
        for (const m of o.signed as Record<string, unknown>[])
          if (typeof m === 'object' && m !== null && m.type === 'proposal') m.block = await load(m.block);
      delete o.blocksByHash;
    }
    return decodePersistedState(o);
  };
  const firstSeen = new Map<string, number>();

  const emit = <K extends keyof ValidatorDriverEvents>(event: K, e: ValidatorDriverEvents[K]) => {
    for (const l of listeners.get(event) ?? []) {
      try {
        (l as (e: ValidatorDriverEvents[K]) => void)(e);
      } catch {
        // listeners never break consensus
      }
    }
  };

  const enqueue = (during: string, task: () => Promise<void>) => {
    queue = queue.then(async () => {
      if (!running) return;
      try {
        await task();
      } catch (error) {
        emit('error', { during, error });
      }
    });
  };

  const clearTimers = (belowHeight: number) => {
    for (const [h, height] of timers)
      if (height < belowHeight) {
        clock.clearTimeout(h);
        timers.delete(h);
      }
  };

  const apply = async (input: EngineInput): Promise<void> => {
    if (state === undefined || !running) return;
    const t = engine.step(state, input);
    state = t.state;
    await execute(t.outputs);
  };

  const execute = async (outputs: readonly EngineOutput[]): Promise<void> => {
    for (const o of outputs) {
      if (!running) return;
      switch (o.type) {
        case 'persist': {
          const ops: BatchOp[] = [];
          const height = o.record.height;
          for (const [h, at] of persistedBlocks)
            if (at !== height) {
              ops.push({ type: 'del', key: blockKey(h) });
              persistedBlocks.delete(h);
            }
          const ref = (block: Block, hash?: Uint8Array): string => {
            const h = bytesToHex(hash ?? blockHash(block.header));
            if (!persistedBlocks.has(h)) {
              ops.push({ type: 'put', key: blockKey(h), value: blockStoreBytes(block) });
              persistedBlocks.set(h, height);
            }
            return h;
          };
          const value = utf8ToBytes(JSON.stringify(persistedJson(o.record, ref)));
          ops.push({ type: 'put', key: STATE_KEY, value });
          await store.batch(ops, { sync: true });
          break;
        }
        case 'broadcast':
          transport.broadcast(o.message);
          break;
        case 'schedule': {
          const h = clock.setTimeout(() => {
            timers.delete(h);
            enqueue('timeout', () => apply({ type: 'timeout', height: o.height, round: o.round, kind: o.kind }));
          }, o.delayMs);
          timers.set(h, o.height);
          break;
        }
        case 'build': {
          const block = await build(o.height, o.round);
          if (block !== undefined) {
            firstSeen.set(`${o.height}`, clock.now());
            await apply({ type: 'built', height: o.height, round: o.round, block });
          }
          break;
        }
        case 'validate': {
          if (!firstSeen.has(`${o.height}`)) firstSeen.set(`${o.height}`, clock.now());
          const valid = await validate(o.block);
          await apply({ type: 'validated', height: o.height, hash: o.hash, valid });
          break;
        }
        case 'decide':
          await importDecided(o.height, o.round, o.block, o.commit);
          break;
        case 'step':
          emit('round', { height: o.height, round: o.round, step: o.step });
          break;
        case 'evidence':
          emit('evidence', o.evidence);
          break;
        case 'rejected':
          emit('rejected', { code: o.code, reason: o.reason, message: o.message });
          break;
      }
    }
  };

  const build = async (height: number, round: number): Promise<Block | undefined> => {
    if (chain.head.height !== height - 1) return undefined;
    const lastCommit = height === 1 ? null : ((await chain.getCommit(height - 1)) ?? null);
    const txs =
      mempool === undefined
        ? []
        : await mempool.select(
            options.maxBlockTxs ?? DEFAULT_PARAMS.maxBlockTxs,
            options.maxBlockBytes ?? DEFAULT_PARAMS.maxBlockBytes,
          );
    const block = await chain.buildBlock({ round, timestamp: clock.now(), proposerSeed: seed, lastCommit, txs });
    // The head may have moved (block sync) while the block was built: it is then for another height.
    return block.header.height === height ? block : undefined;
  };

  const validate = async (block: Block): Promise<boolean> => {
    if (block.header.timestamp > clock.now() + maxDrift) return false;
    try {
      await chain.validateBlock(block);
      return true;
    } catch {
      return false;
    }
  };

  const importDecided = async (
    height: number,
    round: number,
    block: Block,
    commit: Parameters<Chain['importBlock']>[1],
  ) => {
    if (chain.head.height < height) {
      try {
        await chain.importBlock(block, commit);
      } catch (error) {
        if (chain.head.height < height) {
          emit('error', { during: 'import', error });
          retryImport(height, round, block, commit);
          return;
        }
      }
      importRetryMs = IMPORT_RETRY_MIN_MS;
      if (mempool !== undefined) await mempool.revalidate();
    }
    const now = clock.now();
    emit('commit', {
      height,
      round,
      blockHash: commit.blockHash,
      latencyMs: now - (firstSeen.get(`${height}`) ?? now),
    });
    firstSeen.delete(`${height}`);
    pacing = true;
    pace();
  };

  /**
   * The decided block did not import (this node's store failed, e.g. a full disk): try again with
   * backoff until it imports or the head gets there by block sync (a new height clears the timer).
   * Without it a validator whose peers cannot serve the block (a network of one) would stay there.
   */
  let importRetryMs = IMPORT_RETRY_MIN_MS;
  const retryImport = (height: number, round: number, block: Block, commit: Parameters<Chain['importBlock']>[1]) => {
    const h = clock.setTimeout(() => {
      timers.delete(h);
      enqueue('import', async () => {
        if (chain.head.height < height && state?.height === height) await importDecided(height, round, block, commit);
      });
    }, importRetryMs);
    timers.set(h, height);
    importRetryMs = Math.min(IMPORT_RETRY_MAX_MS, importRetryMs * 2);
  };

  /**
   * After a decision: start the next height once there is work and `blockTimeMs` passed since the
   * current height started, or at the empty-block interval. Without work the mempool is looked at
   * every {@link IDLE_POLL_MS} (at most), so a transaction arriving on an idle chain waits for the
   * next poll, not for a whole block time.
   */
  const pace = () => {
    if (paceTimer !== undefined) clock.clearTimeout(paceTimer);
    const since = clock.now() - heightStartedAt;
    const hasWork = mempool !== undefined && mempool.size > 0;
    if ((hasWork && since >= blockTimeMs) || since >= emptyIntervalMs) {
      paceTimer = undefined;
      enqueue('newHeight', () => nextHeight());
      return;
    }
    const delay =
      since < blockTimeMs ? blockTimeMs - since : Math.min(blockTimeMs, IDLE_POLL_MS, emptyIntervalMs - since);
    paceTimer = clock.setTimeout(() => {
      paceTimer = undefined;
      if (running) pace();
    }, delay);
  };

  const nextHeight = async () => {
    pacing = false;
    if (paceTimer !== undefined) {
      clock.clearTimeout(paceTimer);
      paceTimer = undefined;
    }
    const height = chain.head.height + 1;
    if (state === undefined || height <= state.height) return;
    clearTimers(height);
    heightStartedAt = clock.now();
    await apply({ type: 'newHeight', height });
  };

  /** The head moved (our import, or block sync): follow it unless we are pacing after our own decision. */
  const onHead = async () => {
    if (state === undefined) return;
    const head = chain.head.height;
    if (head < state.height) return;
    if (pacing && state.height === head) return; // our own decision: pace() starts the next height
    await nextHeight();
  };

  return {
    async start() {
      if (running) return;
      running = true;
      const raw = await store.get(STATE_KEY);
      const height = chain.head.height + 1;
      let t: ReturnType<BftEngine['start']>;
      const record = raw === undefined ? undefined : await loadPersisted(raw);
      if (record !== undefined && record.height === height) t = engine.restore(record);
      else t = engine.start(height);
      state = t.state;
      heightStartedAt = clock.now();
      unsubscribe = chain.onBlock(() => enqueue('head', onHead));
      const outputs = t.outputs;
      enqueue('start', () => execute(outputs));
      await queue;
    },
    async stop() {
      if (!running) return;
      await queue;
      running = false;
      unsubscribe?.();
      for (const h of timers.keys()) clock.clearTimeout(h);
      timers.clear();
      if (paceTimer !== undefined) clock.clearTimeout(paceTimer);
      paceTimer = undefined;
    },
    receive(message) {
      if (!running) return;
      enqueue('message', async () => {
        // A peer already proposes or votes at the next height while we pace: join now.
        if (
          state !== undefined &&
          state.step === 'commit' &&
          message.height === state.height + 1 &&
          chain.head.height === state.height
        )
          await nextHeight();
        await apply({ type: 'message', message });
      });
    },
    resend() {
      if (!running) return;
      enqueue('resend', async () => {
        if (state === undefined) return;
        for (const m of state.signed.values()) if (m.height === state.height) transport.broadcast(m);
      });
    },
    evidence: () => state?.evidence ?? [],
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener as (e: never) => void);
      return () => set.delete(listener as (e: never) => void);
    },
    status: () => ({
      height: state?.height ?? chain.head.height + 1,
      round: state?.round ?? 0,
      step: state?.step ?? 'propose',
      validator: engine.self,
    }),
    idle: async () => {
      // Tasks may enqueue more tasks: wait until the queue stops growing.
      for (let i = 0; i < 1000; i++) {
        const q = queue;
        await q;
        if (q === queue) return;
      }
    },
  };
}
