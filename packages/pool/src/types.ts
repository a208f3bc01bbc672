import type { Address } from '@aitbc/crypto';

/**
 * One GPU of a miner.
 *
 * @example
 * ```ts
 * import type { GpuInfo } from '@aitbc/pool';
 * const gpu: GpuInfo = { model: 'NVIDIA RTX 4090', vramGb: 24 };
 * ```
 */
export interface GpuInfo {
  /** Model name as reported by the driver, e.g. `NVIDIA RTX 4090`. */
  readonly model: string;
  /** Memory in GiB (bounded number). */
  readonly vramGb: number;
}

/**
 * What a miner can do. Sizes are bounded numbers (GiB, cores).
 *
 * @example
 * ```ts
 * import type { MinerCapabilities } from '@aitbc/pool';
 * const capabilities: MinerCapabilities = { gpus: [{ model: 'A100', vramGb: 80 }], cpuCores: 32, ramGb: 256,
 *   models: ['llama3:8b'], jobKinds: ['wasm', 'llm.generate'], region: 'eu-west' };
 * ```
 */
export interface MinerCapabilities {
  readonly gpus: readonly GpuInfo[];
  readonly cpuCores: number;
  readonly ramGb: number;
  /** Models served (e.g. `llama3:8b`). */
  readonly models: readonly string[];
  /** Job kinds accepted (e.g. `wasm`, `llm.generate`, `hash`). */
  readonly jobKinds: readonly string[];
  /** Region label, e.g. `eu-west`. */
  readonly region: string;
}

/**
 * A miner as registered with the pool hub.
 *
 * @example
 * ```ts
 * import { addressFromPublicKey } from '@aitbc/crypto';
 * import type { MinerRegistration } from '@aitbc/pool';
 * const registration: MinerRegistration = { id: 'gpu-box-1', address: addressFromPublicKey(publicKey), publicKey,
 *   capabilities, pricePerUnit: 250n, maxConcurrency: 2 };
 * await hub.registry.register(registration);
 * ```
 */
export interface MinerRegistration {
  /** Stable id chosen by the miner or its coordinator (1–64 chars `[A-Za-z0-9._:-]`). */
  readonly id: string;
  /** The miner's `ait1…` payout address (must match `publicKey`). */
  readonly address: Address;
  /** The miner's Ed25519 public key (receipts are signed with it). */
  readonly publicKey: Uint8Array;
  readonly capabilities: MinerCapabilities;
  /** Price per unit of work, in base units. */
  readonly pricePerUnit: bigint;
  /** Jobs the miner runs at once (1–1024). */
  readonly maxConcurrency: number;
}

/**
 * Live status, refreshed by heartbeats.
 *
 * @example
 * ```ts
 * import type { MinerStatus } from '@aitbc/pool';
 * const status: MinerStatus | undefined = hub.registry.get('gpu-box-1')?.status;
 * if (status?.online) console.log(`${status.activeJobs} running, ${status.latencyMs} ms`);
 * ```
 */
export interface MinerStatus {
  /** Whether the last heartbeat is within the timeout. */
  readonly online: boolean;
  /** Time of the last heartbeat (ms since epoch); registration counts as one. */
  readonly lastHeartbeatAt: number;
  /** Jobs queued at the miner. */
  readonly queueLength: number;
  /** Jobs running now. */
  readonly activeJobs: number;
  /** Observed latency in ms (exponentially weighted average of reports). */
  readonly latencyMs: number;
  /** GPU/CPU utilization in [0, 1]. */
  readonly utilization: number;
}

/**
 * Outcome counters that feed the success-rate term.
 *
 * @example
 * ```ts
 * import type { MinerStats } from '@aitbc/pool';
 * const stats: MinerStats | undefined = hub.registry.get('gpu-box-1')?.stats;
 * const failureRate = stats ? stats.failed / Math.max(1, stats.completed + stats.failed) : 0;
 * ```
 */
export interface MinerStats {
  readonly completed: number;
  readonly failed: number;
}

/**
 * A registered miner with its status, stats and trust.
 *
 * @example
 * ```ts
 * import type { MinerRecord } from '@aitbc/pool';
 * const online: MinerRecord[] = hub.registry.list({ onlineOnly: true });
 * for (const m of online) console.log(m.id, m.address, m.trust, m.status.utilization);
 * ```
 */
export interface MinerRecord extends MinerRegistration {
  readonly status: MinerStatus;
  readonly stats: MinerStats;
  /** Operator-assigned trust in [0, 1] (default 0.5 for a new miner). */
  readonly trust: number;
  /** Registration time (ms since epoch). */
  readonly registeredAt: number;
}

/**
 * A heartbeat from a miner. Omitted fields keep their previous value.
 *
 * @example
 * ```ts
 * import type { Heartbeat } from '@aitbc/pool';
 * const beat: Heartbeat = { activeJobs: 1, queueLength: 0, latencyMs: 42, utilization: 0.6 };
 * hub.registry.heartbeat('gpu-box-1', beat);
 * ```
 */
export interface Heartbeat {
  readonly queueLength?: number;
  readonly activeJobs?: number;
  readonly latencyMs?: number;
  readonly utilization?: number;
}

/**
 * Hard requirements: a candidate that does not satisfy every one of them is never returned.
 *
 * @example
 * ```ts
 * import type { MatchRequirements } from '@aitbc/pool';
 * const requirements: MatchRequirements = { jobKind: 'llm.generate', minVramGb: 40, models: ['llama3:8b'], maxPricePerUnit: 400n };
 * const { candidates } = hub.match({ requirements });
 * ```
 */
export interface MatchRequirements {
  readonly jobKind?: string;
  /** Minimum VRAM of the miner's largest GPU, GiB. */
  readonly minVramGb?: number;
  /** Minimum number of GPUs. */
  readonly minGpus?: number;
  readonly minRamGb?: number;
  readonly minCpuCores?: number;
  /** Every listed model must be served. */
  readonly models?: readonly string[];
  /** One of these regions. */
  readonly regions?: readonly string[];
  /** Maximum price per unit, base units. */
  readonly maxPricePerUnit?: bigint;
}

/**
 * Soft preferences that shape the score but never exclude.
 *
 * @example
 * ```ts
 * import type { MatchHints } from '@aitbc/pool';
 * const hints: MatchHints = { region: 'eu-west', excludeMinerIds: ['gpu-box-7'] }; // e.g. it failed this job before
 * hub.match({ requirements: { jobKind: 'wasm' }, hints });
 * ```
 */
export interface MatchHints {
  /** Preferred region: candidates there get full latency credit even without reports. */
  readonly region?: string;
  /** Miners to leave out (e.g. ones that already failed this job). */
  readonly excludeMinerIds?: readonly string[];
}

/**
 * A match query.
 *
 * @example
 * ```ts
 * import type { MatchRequest } from '@aitbc/pool';
 * const request: MatchRequest = { requirements: { jobKind: 'wasm', minGpus: 1 }, hints: { region: 'us-east' }, topK: 3 };
 * const result = hub.match(request);
 * ```
 */
export interface MatchRequest {
  readonly requirements: MatchRequirements;
  readonly hints?: MatchHints;
  /** Candidates to return (1–100, default 5). */
  readonly topK?: number;
}

/**
 * The names of the scoring terms.
 *
 * @example
 * ```ts
 * import type { ScoreTermName } from '@aitbc/pool';
 * const explain = (name: ScoreTermName) => candidates[0]?.terms[name].reason;
 * explain('price'); // e.g. 'price 250, cheapest eligible 200'
 * ```
 */
export type ScoreTermName = 'fit' | 'price' | 'latency' | 'successRate' | 'load' | 'trust';

/**
 * One term of a score: its value in [0, 1], its weight, its contribution and why.
 *
 * @example
 * ```ts
 * import type { ScoreTerm } from '@aitbc/pool';
 * const latency: ScoreTerm | undefined = hub.match(request).candidates[0]?.terms.latency;
 * console.log(latency?.value, latency?.weight, latency?.contribution, latency?.reason);
 * ```
 */
export interface ScoreTerm {
  readonly value: number;
  readonly weight: number;
  readonly contribution: number;
  readonly reason: string;
}

/**
 * A ranked candidate.
 *
 * @example
 * ```ts
 * import type { MatchCandidate } from '@aitbc/pool';
 * const best: MatchCandidate | undefined = hub.match(request).candidates[0];
 * if (best) console.log(best.minerId, best.address, best.score.toFixed(3), best.pricePerUnit);
 * ```
 */
export interface MatchCandidate {
  readonly minerId: string;
  readonly address: Address;
  /** Weighted sum of the terms, in [0, 1]. */
  readonly score: number;
  readonly pricePerUnit: bigint;
  readonly terms: Readonly<Record<ScoreTermName, ScoreTerm>>;
}

/**
 * The answer to a match query.
 *
 * @example
 * ```ts
 * import type { MatchResult } from '@aitbc/pool';
 * const result: MatchResult = hub.match({ requirements: { jobKind: 'wasm' } });
 * if (result.candidates.length === 0) console.warn(`no match: ${result.eligible} eligible of ${result.online} online`);
 * ```
 */
export interface MatchResult {
  readonly candidates: readonly MatchCandidate[];
  /** Miners considered after the hard filters (before top-k). */
  readonly eligible: number;
  /** Candidates online at query time: those accepting the job kind when one is required, else all miners. */
  readonly online: number;
}
