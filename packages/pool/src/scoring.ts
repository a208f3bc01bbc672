import { AitbcError } from '@aitbc/crypto';
import type { MatchRequest, MinerRecord, ScoreTerm, ScoreTermName } from './types.js';

/**
 * Relative weights of the score terms. They are normalized to sum to 1.
 *
 * @example
 * ```ts
 * import { createPoolHub, type ScoreWeights } from '@aitbc/pool';
 * const weights: ScoreWeights = { fit: 1, price: 4, latency: 1, successRate: 2, load: 1, trust: 1 }; // normalized to sum 1
 * const hub = createPoolHub({ weights });
 * ```
 */
export type ScoreWeights = Readonly<Record<ScoreTermName, number>>;

/**
 * Default weights: price matters most, then reliability; fit, latency and load shape the order
 * among comparable miners; operator trust breaks ties.
 *
 * @example
 * ```ts
 * import { createPoolHub, DEFAULT_WEIGHTS } from '@aitbc/pool';
 * const hub = createPoolHub({ weights: { ...DEFAULT_WEIGHTS, latency: 0.3 } }); // latency-sensitive jobs
 * ```
 */
export const DEFAULT_WEIGHTS: ScoreWeights = Object.freeze({
  fit: 0.15,
  price: 0.25,
  latency: 0.15,
  successRate: 0.2,
  load: 0.15,
  trust: 0.1,
});

/**
 * Latency at which the latency term is 0.5 (ms).
 *
 * @example
 * ```ts
 * import { REFERENCE_LATENCY_MS } from '@aitbc/pool';
 * // a miner reporting REFERENCE_LATENCY_MS (500 ms) gets latency term 0.5; faster ones score higher
 * console.log(candidates[0]?.terms.latency.value, REFERENCE_LATENCY_MS);
 * ```
 */
export const REFERENCE_LATENCY_MS = 500;

const TERM_NAMES: readonly ScoreTermName[] = ['fit', 'price', 'latency', 'successRate', 'load', 'trust'];

/**
 * Validates weights and normalizes them to sum to 1.
 * @throws AitbcError `POOL_BAD_WEIGHTS` for a missing, negative or non-finite weight, or all zero.
 *
 * @example
 * ```ts
 * import { normalizeWeights } from '@aitbc/pool';
 * const w = normalizeWeights({ price: 0.5 }); // merged over DEFAULT_WEIGHTS, then scaled to sum 1
 * normalizeWeights({ trust: -1 }); // throws AitbcError POOL_BAD_WEIGHTS
 * ```
 */
export function normalizeWeights(weights: Partial<ScoreWeights> = {}): ScoreWeights {
  const merged: Record<ScoreTermName, number> = { ...DEFAULT_WEIGHTS, ...weights };
  let sum = 0;
  for (const name of TERM_NAMES) {
    const w = merged[name];
    if (typeof w !== 'number' || !Number.isFinite(w) || w < 0) {
      throw new AitbcError('POOL_BAD_WEIGHTS', `weight "${name}" must be a finite number ≥ 0`, {
        details: { term: name },
      });
    }
    sum += w;
  }
  if (sum === 0) throw new AitbcError('POOL_BAD_WEIGHTS', 'at least one weight must be positive');
  for (const name of TERM_NAMES) merged[name] /= sum;
  return Object.freeze(merged);
}

/**
 * Context shared by every candidate of one query.
 *
 * @example
 * ```ts
 * import { DEFAULT_WEIGHTS, type ScoringContext, scoreMiner } from '@aitbc/pool';
 * const context: ScoringContext = { minEligiblePrice: 200n }; // the cheapest eligible price of the query
 * const { score, terms } = scoreMiner(miner, request, context, DEFAULT_WEIGHTS);
 * ```
 */
export interface ScoringContext {
  /** Cheapest price among the eligible candidates (base units). */
  readonly minEligiblePrice: bigint;
  /** `Number(minEligiblePrice)`, precomputed once per query by the ranking hot path. */
  readonly minEligiblePriceNumber?: number;
  /** `Number(maxPricePerUnit)` of the request when it is ≤ 2^53, else NaN (precomputed per query). */
  readonly maxPriceNumber?: number;
}

/** `num / den` as a float. Prices are bigint base units (1 AIT = 10^18), far beyond 2^53, but a
 * ratio only needs double precision: Number() rounds each side to 16 significant digits. */
function ratio(num: bigint, den: bigint): number {
  return den === 0n ? 1 : Number(num) / Number(den);
}

function largestVram(miner: MinerRecord): number {
  let max = 0;
  for (const g of miner.capabilities.gpus) if (g.vramGb > max) max = g.vramGb;
  return max;
}

/**
 * Per-miner values derived from a registration once (not per query): the hot path of matching reads
 * these instead of walking GPU lists or converting bigint prices for every candidate.
 *
 * @example
 * ```ts
 * import { type MinerFeatures, minerFeatures } from '@aitbc/pool';
 * const f: MinerFeatures = minerFeatures(miner);
 * console.log(f.maxVramGb, f.priceNumber, f.priceExact);
 * ```
 */
export interface MinerFeatures {
  /** VRAM of the largest GPU, GiB. */
  readonly maxVramGb: number;
  /** `Number(pricePerUnit)`. */
  readonly priceNumber: number;
  /** Whether `pricePerUnit` ≤ 2^53 (then `priceNumber` is exact). */
  readonly priceExact: boolean;
}

/**
 * Computes the {@link MinerFeatures} of a miner (what the registry caches per registration).
 *
 * @example
 * ```ts
 * import { isEligibleWith, minerFeatures } from '@aitbc/pool';
 * const features = minerFeatures(miner); // compute once per registration
 * const ok = isEligibleWith(miner, features, request);
 * ```
 */
export function minerFeatures(miner: MinerRecord): MinerFeatures {
  const p = miner.pricePerUnit;
  return { maxVramGb: largestVram(miner), priceNumber: Number(p), priceExact: p <= MAX_EXACT };
}

const MAX_EXACT = BigInt(Number.MAX_SAFE_INTEGER);

/**
 * The raw term values of one miner, each in [0, 1], in {@link TERM_ORDER}.
 *
 * @example
 * ```ts
 * import { type TermValues, termValues } from '@aitbc/pool';
 * const [fit, price, latency, successRate, load, trust]: TermValues = termValues(miner, request, { minEligiblePrice: 200n });
 * ```
 */
export type TermValues = readonly [
  fit: number,
  price: number,
  latency: number,
  successRate: number,
  load: number,
  trust: number,
];

/**
 * The order of terms in {@link TermValues}.
 *
 * @example
 * ```ts
 * import { TERM_ORDER, termValues } from '@aitbc/pool';
 * const values = termValues(miner, request, context);
 * TERM_ORDER.forEach((name, i) => console.log(name, values[i])); // fit, price, latency, successRate, load, trust
 * ```
 */
export const TERM_ORDER: readonly ScoreTermName[] = TERM_NAMES;

function clamp(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}

/** Mean of required/offered over the requested minimums (1 when none); numbers only (hot path). */
function fitValue(miner: MinerRecord, features: MinerFeatures, request: MatchRequest): number {
  const req = request.requirements;
  const caps = miner.capabilities;
  let sum = 0;
  let n = 0;
  if (req.minVramGb !== undefined && req.minVramGb > 0) {
    const offered = features.maxVramGb;
    sum += offered > 0 ? Math.min(1, req.minVramGb / offered) : 0;
    n++;
  }
  if (req.minGpus !== undefined && req.minGpus > 0) {
    sum += caps.gpus.length > 0 ? Math.min(1, req.minGpus / caps.gpus.length) : 0;
    n++;
  }
  if (req.minRamGb !== undefined && req.minRamGb > 0) {
    sum += caps.ramGb > 0 ? Math.min(1, req.minRamGb / caps.ramGb) : 0;
    n++;
  }
  if (req.minCpuCores !== undefined && req.minCpuCores > 0) {
    sum += caps.cpuCores > 0 ? Math.min(1, req.minCpuCores / caps.cpuCores) : 0;
    n++;
  }
  return n === 0 ? 1 : sum / n;
}

function fitReason(miner: MinerRecord, request: MatchRequest): string {
  const req = request.requirements;
  const caps = miner.capabilities;
  const parts: string[] = [];
  const add = (label: string, required: number | undefined, offered: number) => {
    if (required !== undefined && required > 0) parts.push(`${label} ${required}/${offered}`);
  };
  add('VRAM GiB', req.minVramGb, largestVram(miner));
  add('GPUs', req.minGpus, caps.gpus.length);
  add('RAM GiB', req.minRamGb, caps.ramGb);
  add('CPU cores', req.minCpuCores, caps.cpuCores);
  return parts.length === 0 ? 'no resource minimums requested' : `required/offered: ${parts.join(', ')}`;
}

/**
 * The six term values of an eligible miner for a request, each in [0, 1]:
 *
 * - **fit** — mean over the requested minimums (VRAM, GPUs, RAM, CPU cores) of `required / offered`:
 *   a snug fit scores 1, a large machine for a small job scores less (keeps big GPUs free for big
 *   jobs). No requested minimum → 1.
 * - **price** — with `maxPricePerUnit`: `(max − price) / max`; without: `cheapest eligible / price`.
 *   A free miner scores 1.
 * - **latency** — `500 / (500 + latencyMs)` from heartbeat and outcome reports (0.5 at 500 ms). A
 *   miner with no report scores 0.5, or 1 when it is in the hinted region.
 * - **successRate** — Laplace-smoothed `(completed + 1) / (completed + failed + 2)`.
 * - **load** — free slot share `(maxConcurrency − activeJobs) / maxConcurrency`, times
 *   `1 − utilization / 2`, divided by `1 + queueLength`.
 * - **trust** — the operator-assigned trust.
 *
 * The score is the weighted sum `Σ weight × value` (weights normalized to sum 1), so it is in [0, 1].
 *
 * @example
 * ```ts
 * import { DEFAULT_WEIGHTS, termValues, weightedScore } from '@aitbc/pool';
 * const values = termValues(miner, request, { minEligiblePrice: 200n }); // each in [0, 1]
 * const score = weightedScore(values, DEFAULT_WEIGHTS);
 * ```
 */
export function termValues(miner: MinerRecord, request: MatchRequest, context: ScoringContext): TermValues {
  return termValuesWith(miner, minerFeatures(miner), request, context);
}

/** The price term (see {@link termValues}); exact-integer arithmetic in numbers when it is exact, else bigint. */
function priceValue(
  miner: MinerRecord,
  features: MinerFeatures,
  request: MatchRequest,
  context: ScoringContext,
): number {
  const max = request.requirements.maxPricePerUnit;
  if (max !== undefined) {
    if (max === 0n) return 1;
    // Both ≤ 2^53 and price ≤ max (eligibility): the number subtraction is exact, as in bigint.
    const m = context.maxPriceNumber ?? (max <= MAX_EXACT ? Number(max) : Number.NaN);
    if (features.priceExact && !Number.isNaN(m)) return (m - features.priceNumber) / m;
    return ratio(max - miner.pricePerUnit, max);
  }
  if (features.priceNumber === 0) return 1; // Number(p) is 0 exactly when p is 0n
  return (context.minEligiblePriceNumber ?? Number(context.minEligiblePrice)) / features.priceNumber;
}

function latencyValue(miner: MinerRecord, request: MatchRequest): number {
  const s = miner.status;
  return s.latencyMs > 0
    ? REFERENCE_LATENCY_MS / (REFERENCE_LATENCY_MS + s.latencyMs)
    : request.hints?.region !== undefined && request.hints.region === miner.capabilities.region
      ? 1
      : 0.5;
}

function loadValue(miner: MinerRecord): number {
  const s = miner.status;
  const free = Math.max(0, miner.maxConcurrency - s.activeJobs) / miner.maxConcurrency;
  return clamp((free * (1 - s.utilization / 2)) / (1 + s.queueLength));
}

function termValuesWith(
  miner: MinerRecord,
  features: MinerFeatures,
  request: MatchRequest,
  context: ScoringContext,
): TermValues {
  const { completed, failed } = miner.stats;
  return [
    clamp(fitValue(miner, features, request)),
    clamp(priceValue(miner, features, request, context)),
    clamp(latencyValue(miner, request)),
    (completed + 1) / (completed + failed + 2),
    loadValue(miner),
    clamp(miner.trust),
  ];
}

/**
 * The weighted score of an eligible miner, computed without allocating: the same terms, weights and
 * summation order as `weightedScore(termValues(…))`, so the two agree to the last bit. The hot path
 * of ranking.
 *
 * @example
 * ```ts
 * import { DEFAULT_WEIGHTS, minerFeatures, scoreWith } from '@aitbc/pool';
 * const score = scoreWith(miner, minerFeatures(miner), request, { minEligiblePrice: 200n }, DEFAULT_WEIGHTS);
 * ```
 */
export function scoreWith(
  miner: MinerRecord,
  features: MinerFeatures,
  request: MatchRequest,
  context: ScoringContext,
  weights: ScoreWeights,
): number {
  const { completed, failed } = miner.stats;
  let score = 0;
  score += clamp(fitValue(miner, features, request)) * weights.fit;
  score += clamp(priceValue(miner, features, request, context)) * weights.price;
  score += clamp(latencyValue(miner, request)) * weights.latency;
  score += ((completed + 1) / (completed + failed + 2)) * weights.successRate;
  score += loadValue(miner) * weights.load;
  score += clamp(miner.trust) * weights.trust;
  return score;
}

/**
 * Weighted sum of term values.
 *
 * @example
 * ```ts
 * import { normalizeWeights, weightedScore } from '@aitbc/pool';
 * weightedScore([1, 0.5, 0.5, 1, 1, 0.5], normalizeWeights()); // ≈ 0.75 with the default weights
 * ```
 */
export function weightedScore(values: TermValues, weights: ScoreWeights): number {
  let score = 0;
  for (let i = 0; i < TERM_NAMES.length; i++) score += values[i]! * weights[TERM_NAMES[i]!];
  return score;
}

/**
 * Scores one eligible miner and explains every term (value, weight, contribution and the inputs
 * behind it). See {@link termValues} for the formula.
 *
 * @example
 * ```ts
 * import { DEFAULT_WEIGHTS, scoreMiner } from '@aitbc/pool';
 * const { score, terms } = scoreMiner(miner, request, { minEligiblePrice: 200n }, DEFAULT_WEIGHTS);
 * for (const [name, t] of Object.entries(terms)) console.log(name, t.contribution.toFixed(3), t.reason);
 * ```
 */
export function scoreMiner(
  miner: MinerRecord,
  request: MatchRequest,
  context: ScoringContext,
  weights: ScoreWeights,
): { score: number; terms: Record<ScoreTermName, ScoreTerm> } {
  const v = termValues(miner, request, context);
  const req = request.requirements;
  const s = miner.status;
  const reasons: Record<ScoreTermName, string> = {
    fit: fitReason(miner, request),
    price:
      req.maxPricePerUnit !== undefined
        ? `price ${miner.pricePerUnit} of max ${req.maxPricePerUnit} per unit`
        : `price ${miner.pricePerUnit}, cheapest eligible ${context.minEligiblePrice}`,
    latency:
      s.latencyMs > 0
        ? `observed ${Math.round(s.latencyMs)} ms`
        : v[2] === 1
          ? 'no reports; in the preferred region'
          : 'no latency reports yet',
    successRate: `${miner.stats.completed} completed, ${miner.stats.failed} failed`,
    load: `${s.activeJobs}/${miner.maxConcurrency} slots busy, queue ${s.queueLength}, utilization ${Math.round(s.utilization * 100)}%`,
    trust: `operator trust ${miner.trust}`,
  };
  const terms = {} as Record<ScoreTermName, ScoreTerm>;
  TERM_NAMES.forEach((name, i) => {
    const w = weights[name];
    terms[name] = { value: v[i]!, weight: w, contribution: v[i]! * w, reason: reasons[name] };
  });
  return { score: weightedScore(v, weights), terms };
}

/**
 * Whether a miner satisfies every hard requirement of a request (and is online with a free slot).
 * Candidates failing this are never returned, whatever their score.
 *
 * @example
 * ```ts
 * import { isEligible } from '@aitbc/pool';
 * const fits = hub.registry.list().filter((m) => isEligible(m, { requirements: { jobKind: 'wasm', minVramGb: 16 } }));
 * ```
 */
export function isEligible(miner: MinerRecord, request: MatchRequest): boolean {
  return isEligibleWith(miner, minerFeatures(miner), request);
}

/**
 * {@link isEligible} with the miner's cached {@link MinerFeatures} (the hot path of ranking).
 *
 * @example
 * ```ts
 * import { isEligibleWith, minerFeatures } from '@aitbc/pool';
 * if (isEligibleWith(miner, minerFeatures(miner), request)) console.log(`${miner.id} can take the job`);
 * ```
 */
export function isEligibleWith(miner: MinerRecord, features: MinerFeatures, request: MatchRequest): boolean {
  const req = request.requirements;
  const caps = miner.capabilities;
  if (!miner.status.online) return false;
  if (miner.status.activeJobs >= miner.maxConcurrency) return false;
  if (req.jobKind !== undefined && !caps.jobKinds.includes(req.jobKind)) return false;
  if (req.minVramGb !== undefined && features.maxVramGb < req.minVramGb) return false;
  if (req.minGpus !== undefined && caps.gpus.length < req.minGpus) return false;
  if (req.minRamGb !== undefined && caps.ramGb < req.minRamGb) return false;
  if (req.minCpuCores !== undefined && caps.cpuCores < req.minCpuCores) return false;
  if (req.maxPricePerUnit !== undefined && miner.pricePerUnit > req.maxPricePerUnit) return false;
  if (req.regions !== undefined && req.regions.length > 0 && !req.regions.includes(caps.region)) return false;
  if (req.models !== undefined) {
    for (const m of req.models) if (!caps.models.includes(m)) return false;
  }
  const excluded = request.hints?.excludeMinerIds;
  if (excluded !== undefined && excluded.length > 0 && excluded.includes(miner.id)) return false;
  return true;
}
