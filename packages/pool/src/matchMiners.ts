import { isEligible, type ScoreWeights, scoreMiner, termValues, weightedScore } from './scoring.js';
import type { MatchCandidate, MatchRequest, MatchResult, MinerRecord } from './types.js';

interface Ranked {
  readonly miner: MinerRecord;
  readonly score: number;
}

/** Higher score first; ties by lower price, then by miner id (deterministic). */
function better(a: Ranked, b: Ranked): boolean {
  if (a.score !== b.score) return a.score > b.score;
  if (a.miner.pricePerUnit !== b.miner.pricePerUnit) return a.miner.pricePerUnit < b.miner.pricePerUnit;
  return a.miner.id < b.miner.id;
}

/**
 * Ranks candidate miners for a request: applies every hard requirement, scores the eligible ones
 * (numbers only), keeps the top k in a bounded heap, and builds explanations for those k alone.
 * Cost: O(n log k) for n candidates.
 *
 * @param candidates - miners to consider (e.g. `registry.liveCandidates(jobKind)`).
 * @param online - miners online at query time, reported back.
 */
export function matchMiners(
  candidates: readonly MinerRecord[],
  request: MatchRequest,
  weights: ScoreWeights,
  online: number,
): MatchResult {
  const eligible: MinerRecord[] = [];
  let minEligiblePrice: bigint | undefined;
  for (const m of candidates) {
    if (!isEligible(m, request)) continue;
    eligible.push(m);
    if (minEligiblePrice === undefined || m.pricePerUnit < minEligiblePrice) minEligiblePrice = m.pricePerUnit;
  }
  const context = { minEligiblePrice: minEligiblePrice ?? 0n };
  const k = Math.max(1, request.topK ?? 5);

  // Min-heap (worst at the root) of the best k seen so far.
  const heap: Ranked[] = [];
  const siftUp = (i: number) => {
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!better(heap[parent]!, heap[i]!)) break;
      [heap[parent], heap[i]] = [heap[i]!, heap[parent]!];
      i = parent;
    }
  };
  const siftDown = (i: number) => {
    for (;;) {
      const l = 2 * i + 1;
      const r = l + 1;
      let worst = i;
      if (l < heap.length && better(heap[worst]!, heap[l]!)) worst = l;
      if (r < heap.length && better(heap[worst]!, heap[r]!)) worst = r;
      if (worst === i) return;
      [heap[worst], heap[i]] = [heap[i]!, heap[worst]!];
      i = worst;
    }
  };
  for (const miner of eligible) {
    const ranked = { miner, score: weightedScore(termValues(miner, request, context), weights) };
    if (heap.length < k) {
      heap.push(ranked);
      siftUp(heap.length - 1);
    } else if (better(ranked, heap[0]!)) {
      heap[0] = ranked;
      siftDown(0);
    }
  }
  heap.sort((a, b) => (better(a, b) ? -1 : 1));
  const top: MatchCandidate[] = heap.map(({ miner }) => {
    const { score, terms } = scoreMiner(miner, request, context, weights);
    return { minerId: miner.id, address: miner.address, score, pricePerUnit: miner.pricePerUnit, terms };
  });
  return { candidates: top, eligible: eligible.length, online };
}
