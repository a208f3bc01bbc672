import type { KVStore } from '@aitbc/chain-core';
import { explainRanking, type RankOptions, type RankResult, rankMiners } from './matchMiners.js';
import { MinerRegistry } from './minerRegistry.js';
import { normalizeWeights, type ScoreWeights } from './scoring.js';
import type { MatchRequest, MatchResult } from './types.js';

/**
 * Options of {@link createPoolHub}.
 *
 * @example
 * ```ts
 * import { MemoryKVStore } from '@aitbc/chain-core';
 * import { createPoolHub, type PoolHubOptions } from '@aitbc/pool';
 * const options: PoolHubOptions = { heartbeatTimeoutMs: 15_000, weights: { price: 0.4 }, store: new MemoryKVStore() };
 * const hub = createPoolHub(options);
 * ```
 */
export interface PoolHubOptions {
  /** Score weights (merged over the defaults, then normalized). */
  readonly weights?: Partial<ScoreWeights>;
  /** A miner that misses heartbeats this long is offline (ms, default 30 000). */
  readonly heartbeatTimeoutMs?: number;
  /** Persist registrations, stats and trust here (default: memory only). */
  readonly store?: KVStore;
  /** Maximum registered miners (default 100 000). */
  readonly maxMiners?: number;
  /** Clock (ms since epoch); default `Date.now`. */
  readonly now?: () => number;
}

/**
 * The pool hub as a library: a miner registry plus scored matching. Embed it in a coordinator or serve it with `createPoolHubServer`.
 *
 * @example
 * ```ts
 * import { createPoolHub, type PoolHub } from '@aitbc/pool';
 * const hub: PoolHub = createPoolHub();
 * await hub.open();
 * await hub.registry.register(registration);
 * const { candidates } = hub.match({ requirements: { jobKind: 'wasm' }, topK: 3 });
 * ```
 */
export interface PoolHub {
  readonly registry: MinerRegistry;
  /** The normalized weights in force. */
  readonly weights: ScoreWeights;
  /** Loads persisted miners (no-op without a store). */
  open(): Promise<void>;
  /** Ranks online miners that satisfy every requirement; each candidate carries a per-term explanation. */
  match(request: MatchRequest): MatchResult;
  /**
   * The same ranking as {@link PoolHub.match} without explanations, optionally with an extra hard
   * filter (`accept`): the fast path for dispatchers. The records are live (not copies): read only.
   */
  rank(request: MatchRequest, options?: RankOptions): RankResult;
}

/**
 * Creates a pool hub.
 *
 * @example
 * ```ts
 * const hub = createPoolHub({ weights: { price: 0.4 } });
 * await hub.open();
 * await hub.registry.register(registration);
 * const { candidates } = hub.match({ requirements: { jobKind: 'wasm', minVramGb: 16 }, topK: 3 });
 * console.log(candidates[0]?.minerId, candidates[0]?.terms.price.reason);
 * ```
 */
export function createPoolHub(options: PoolHubOptions = {}): PoolHub {
  const weights = normalizeWeights(options.weights);
  const registry = new MinerRegistry({
    ...(options.heartbeatTimeoutMs !== undefined ? { heartbeatTimeoutMs: options.heartbeatTimeoutMs } : {}),
    ...(options.store !== undefined ? { store: options.store } : {}),
    ...(options.maxMiners !== undefined ? { maxMiners: options.maxMiners } : {}),
    ...(options.now !== undefined ? { now: options.now } : {}),
  });
  const rank = (request: MatchRequest, rankOptions?: RankOptions): RankResult => {
    return rankMiners((visit) => registry.scanCandidates(request, visit), request, weights, rankOptions);
  };
  return {
    registry,
    weights,
    open: () => registry.open(),
    match(request) {
      const result = rank(request);
      return { candidates: explainRanking(result, request, weights), eligible: result.eligible, online: result.online };
    },
    rank: (request, rankOptions) => rank(request, rankOptions),
  };
}
