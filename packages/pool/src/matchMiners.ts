import {
  isEligibleWith,
  type MinerFeatures,
  minerFeatures,
  type ScoreWeights,
  type ScoringContext,
  scoreMiner,
  scoreWith,
} from './scoring.js';
import type { MatchCandidate, MatchRequest, MatchResult, MinerRecord } from './types.js';

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * A miner ranked for a request, without the explanation (see {@link rankMiners}).
 *
 * @example
 * ```ts
 * import type { RankedMiner } from '@aitbc/pool';
 * const top: RankedMiner | undefined = hub.rank({ requirements: { jobKind: 'wasm' } }).ranked[0];
 * if (top) console.log(top.miner.id, top.score);
 * ```
 */
export interface RankedMiner {
  readonly miner: MinerRecord;
  /** Weighted score in [0, 1]; equal to `scoreMiner(…).score`. */
  readonly score: number;
}

/**
 * The answer of {@link rankMiners}.
 *
 * @example
 * ```ts
 * import type { RankResult } from '@aitbc/pool';
 * const result: RankResult = hub.rank(request, { topK: 1 });
 * const chosen = result.ranked[0]?.miner; // undefined when result.eligible === 0
 * ```
 */
export interface RankResult {
  /** The best `topK` eligible miners, best first. */
  readonly ranked: readonly RankedMiner[];
  /** Miners that passed every hard filter. */
  readonly eligible: number;
  /** Candidates that were online. */
  readonly online: number;
  /** The scoring context of the query (cheapest eligible price), for explanations. */
  readonly context: ScoringContext;
}

/**
 * Visits candidates with their cached {@link MinerFeatures} (e.g. `MinerRegistry.scanCandidates`).
 * A source may skip miners that certainly fail the hard filters; it then returns the number of
 * candidates online (otherwise they are counted as visited).
 *
 * @example
 * ```ts
 * import { type CandidateSource, DEFAULT_WEIGHTS, minerFeatures, rankMiners } from '@aitbc/pool';
 * const source: CandidateSource = (visit) => {
 *   for (const m of miners) visit(m, minerFeatures(m));
 *   return undefined; // every visited candidate counts as online
 * };
 * const { ranked } = rankMiners(source, request, DEFAULT_WEIGHTS);
 * ```
 */
export type CandidateSource = (visit: (miner: MinerRecord, features: MinerFeatures) => void) => number | undefined;

/**
 * Options of {@link rankMiners}.
 *
 * @example
 * ```ts
 * import type { RankOptions } from '@aitbc/pool';
 * const options: RankOptions = { topK: 1, accept: (m) => idleMiners.has(m.id) };
 * const next = hub.rank(request, options).ranked[0]?.miner;
 * ```
 */
export interface RankOptions {
  /** Candidates to keep (default `request.topK`, else 5). */
  readonly topK?: number;
  /** An extra hard filter (e.g. "is waiting for work"); rejected miners do not count as eligible. */
  readonly accept?: (miner: MinerRecord) => boolean;
}

/** Higher score first; ties by lower price, then by miner id (deterministic). */
function better(aScore: number, a: MinerRecord, bScore: number, b: MinerRecord): boolean {
  if (aScore !== bScore) return aScore > bScore;
  if (a.pricePerUnit !== b.pricePerUnit) return a.pricePerUnit < b.pricePerUnit;
  return a.id < b.id;
}

// Scratch space reused by every query (matching is synchronous, so one set suffices): the eligible
// miners of the current query with their features, and the top-k heap as parallel arrays.
// A re-entrant call (from a source or an `accept` callback) gets fresh arrays instead.
const scratch = {
  miners: [] as MinerRecord[],
  features: [] as MinerFeatures[],
  heap: [] as MinerRecord[],
  scores: [] as number[],
};
let scratchBusy = false;

/**
 * Ranks candidates for a request: applies every hard requirement ({@link isEligibleWith}), scores the
 * eligible ones with {@link scoreWith} (numbers only, no allocation per candidate), and keeps the top
 * k in a bounded min-heap. Cost O(n + e log k) for n candidates, e eligible; no explanations are built
 * (see {@link matchMiners} for those).
 *
 * @example
 * ```ts
 * import { DEFAULT_WEIGHTS, minerFeatures, rankMiners } from '@aitbc/pool';
 * const result = rankMiners((visit) => { for (const m of miners) visit(m, minerFeatures(m)); return undefined; },
 *   { requirements: { jobKind: 'wasm' }, topK: 3 }, DEFAULT_WEIGHTS);
 * console.log(result.ranked.map((r) => r.miner.id), result.eligible);
 * ```
 */
export function rankMiners(
  source: CandidateSource,
  request: MatchRequest,
  weights: ScoreWeights,
  options: RankOptions = {},
): RankResult {
  const reentrant = scratchBusy;
  const space = reentrant ? { miners: [], features: [], heap: [], scores: [] } : scratch;
  scratchBusy = true;
  try {
    return rank(space, source, request, weights, options);
  } finally {
    scratchBusy = reentrant;
    space.miners.length = 0;
    space.features.length = 0;
    space.heap.length = 0;
    space.scores.length = 0;
  }
}

function rank(
  space: typeof scratch,
  source: CandidateSource,
  request: MatchRequest,
  weights: ScoreWeights,
  options: RankOptions,
): RankResult {
  const { miners: scratchMiners, features: scratchFeatures, heap: heapMiners, scores: heapScores } = space;
  const accept = options.accept;
  let online = 0;
  let minEligiblePrice: bigint | undefined;
  const counted = source((miner, features) => {
    if (miner.status.online) online++;
    if (!isEligibleWith(miner, features, request)) return;
    if (accept !== undefined && !accept(miner)) return;
    scratchMiners.push(miner);
    scratchFeatures.push(features);
    if (minEligiblePrice === undefined || miner.pricePerUnit < minEligiblePrice) minEligiblePrice = miner.pricePerUnit;
  });
  if (counted !== undefined) online = counted;
  const minPrice = minEligiblePrice ?? 0n;
  const max = request.requirements.maxPricePerUnit;
  const context: ScoringContext = {
    minEligiblePrice: minPrice,
    minEligiblePriceNumber: Number(minPrice),
    maxPriceNumber: max !== undefined && max <= MAX_EXACT ? Number(max) : Number.NaN,
  };
  const k = Math.max(1, options.topK ?? request.topK ?? 5);
  const eligible = scratchMiners.length;

  // Min-heap (worst at the root) of the best k seen so far, as parallel arrays.
  const worse = (i: number, j: number) => better(heapScores[j]!, heapMiners[j]!, heapScores[i]!, heapMiners[i]!);
  const swap = (i: number, j: number) => {
    const m = heapMiners[i]!;
    heapMiners[i] = heapMiners[j]!;
    heapMiners[j] = m;
    const s = heapScores[i]!;
    heapScores[i] = heapScores[j]!;
    heapScores[j] = s;
  };
  const siftDown = (i: number) => {
    const n = heapMiners.length;
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let w = i;
      if (l < n && worse(l, w)) w = l;
      if (r < n && worse(r, w)) w = r;
      if (w === i) return;
      swap(w, i);
      i = w;
    }
  };
  for (let i = 0; i < eligible; i++) {
    const miner = scratchMiners[i]!;
    const score = scoreWith(miner, scratchFeatures[i]!, request, context, weights);
    if (heapMiners.length < k) {
      heapMiners.push(miner);
      heapScores.push(score);
      for (let c = heapMiners.length - 1; c > 0; ) {
        const parent = (c - 1) >> 1;
        if (!worse(c, parent)) break;
        swap(c, parent);
        c = parent;
      }
    } else if (better(score, miner, heapScores[0]!, heapMiners[0]!)) {
      heapMiners[0] = miner;
      heapScores[0] = score;
      siftDown(0);
    }
  }
  const ranked: RankedMiner[] = heapMiners.map((miner, i) => ({ miner, score: heapScores[i]! }));
  ranked.sort((a, b) => (better(a.score, a.miner, b.score, b.miner) ? -1 : 1));
  return { ranked, eligible, online, context };
}

/**
 * Builds the explained candidates of a ranking (reasons for the top k alone).
 *
 * @example
 * ```ts
 * import { explainRanking } from '@aitbc/pool';
 * const ranking = hub.rank(request);
 * const candidates = explainRanking(ranking, request, hub.weights); // what hub.match(request) returns
 * ```
 */
export function explainRanking(result: RankResult, request: MatchRequest, weights: ScoreWeights): MatchCandidate[] {
  return result.ranked.map(({ miner }) => {
    const { score, terms } = scoreMiner(miner, request, result.context, weights);
    return { minerId: miner.id, address: miner.address, score, pricePerUnit: miner.pricePerUnit, terms };
  });
}

/**
 * Ranks candidate miners for a request: applies every hard requirement, scores the eligible ones
 * (numbers only), keeps the top k in a bounded heap, and builds explanations for those k alone.
 * Cost: O(n log k) for n candidates.
 *
 * @param candidates - miners to consider (e.g. `registry.liveCandidates(jobKind)`).
 * @param online - miners online at query time, reported back.
 *
 * @example
 * ```ts
 * import { DEFAULT_WEIGHTS, matchMiners } from '@aitbc/pool';
 * const miners = hub.registry.liveCandidates('wasm');
 * const result = matchMiners(miners, { requirements: { jobKind: 'wasm' } }, DEFAULT_WEIGHTS, miners.length);
 * ```
 */
export function matchMiners(
  candidates: readonly MinerRecord[],
  request: MatchRequest,
  weights: ScoreWeights,
  online: number,
): MatchResult {
  const result = rankMiners(
    (visit) => {
      for (const m of candidates) visit(m, minerFeatures(m));
      return undefined;
    },
    request,
    weights,
  );
  return { candidates: explainRanking(result, request, weights), eligible: result.eligible, online };
}
