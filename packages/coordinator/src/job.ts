import type { MatchRequirements } from '@aitbc/pool';

/**
 * Job states (DESIGN.md §5). Terminal: COMPLETED, FAILED, CANCELED, EXPIRED.
 *
 * @example
 * ```ts
 * import type { JobState } from '@aitbc/coordinator';
 * const label = (s: JobState) => (s === 'COMPLETED' ? 'done' : s === 'QUEUED' ? 'waiting' : s.toLowerCase());
 * ```
 */
export type JobState = 'QUEUED' | 'ASSIGNED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'EXPIRED';

/**
 * Every job state, in lifecycle order.
 *
 * @example
 * ```ts
 * import { JOB_STATES } from '@aitbc/coordinator';
 * for (const state of JOB_STATES) console.log(state, (await engine.listAll({ state })).items.length);
 * ```
 */
export const JOB_STATES: readonly JobState[] = Object.freeze([
  'QUEUED',
  'ASSIGNED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'EXPIRED',
]);

/**
 * States a job never leaves.
 *
 * @example
 * ```ts
 * import { TERMINAL_STATES } from '@aitbc/coordinator';
 * const job = await engine.get(jobId);
 * if (job && TERMINAL_STATES.has(job.state)) console.log('finished:', job.state);
 * ```
 */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED']);

/**
 * A JSON value (inputs and outputs of jobs).
 *
 * @example
 * ```ts
 * import type { JsonValue } from '@aitbc/coordinator';
 * const input: JsonValue = { prompt: 'Hello', max_tokens: 64 };
 * await engine.submit(clientAddress, { kind: 'llm.generate', input, maxPrice: 10n ** 18n });
 * ```
 */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/**
 * What a client submits.
 *
 * @example
 * ```ts
 * import type { JobSubmission } from '@aitbc/coordinator';
 * const submission: JobSubmission = { kind: 'wasm', input: { module: 'sha256', data: 'aGk' },
 *   requirements: { minVramGb: 8 }, maxPrice: 5_000n, ttlMs: 60_000 };
 * const job = await engine.submit(clientAddress, submission, 'order-42'); // idempotency key
 * ```
 */
export interface JobSubmission {
  /** Job kind, e.g. `wasm`, `llm.generate`, `hash`. */
  readonly kind: string;
  /** Kind-specific input (JSON, bounded by `maxInputBytes`). */
  readonly input: JsonValue;
  /** Hard requirements for the miner (the job kind is implied). */
  readonly requirements?: Omit<MatchRequirements, 'jobKind'>;
  /** The most the client pays for the job, base units (the escrowed amount). */
  readonly maxPrice: bigint;
  /** Time the job may take from submission to completion, ms (default from the engine). */
  readonly ttlMs?: number;
  /**
   * A marketplace bid of the client with matched units: the job uses one unit and is dispatched to
   * the matched miner first (needs the engine's `marketplace`).
   */
  readonly bidId?: string;
}

/**
 * The marketplace terms a job runs under (one unit of a matched bid).
 *
 * @example
 * ```ts
 * import type { JobMarketTerms } from '@aitbc/coordinator';
 * const terms: JobMarketTerms | undefined = (await engine.get(jobId))?.market;
 * if (terms) console.log(`bid ${terms.bidId}: miner ${terms.minerId} at ${terms.pricePerUnit} per unit`);
 * ```
 */
export interface JobMarketTerms {
  readonly bidId: string;
  readonly matchId: string;
  readonly offerId: string;
  /** The miner the bid was matched with: it gets the job first. */
  readonly minerId: string;
  /** The matched price per unit (the offer's), base units. */
  readonly pricePerUnit: bigint;
}

/**
 * One entry of a job's history.
 *
 * @example
 * ```ts
 * import type { JobEvent } from '@aitbc/coordinator';
 * const history: readonly JobEvent[] = (await engine.get(jobId))?.history ?? [];
 * for (const e of history) console.log(new Date(e.at).toISOString(), e.state, e.minerId ?? '', e.reason ?? '');
 * ```
 */
export interface JobEvent {
  readonly state: JobState;
  /** ms since epoch. */
  readonly at: number;
  readonly minerId?: string;
  readonly reason?: string;
}

/**
 * A job as stored and returned.
 *
 * @example
 * ```ts
 * import type { Job } from '@aitbc/coordinator';
 * const job: Job = await engine.submit(clientAddress, { kind: 'hash', input: 'abc', maxPrice: 100n });
 * console.log(job.id, job.state, job.expiresAt); // 'job_…', 'QUEUED'
 * ```
 */
export interface Job {
  readonly id: string;
  /** The client's `ait1…` address (the receipt's `client`, the escrow's owner). */
  readonly client: string;
  readonly kind: string;
  readonly input: JsonValue;
  readonly requirements: Omit<MatchRequirements, 'jobKind'>;
  readonly maxPrice: bigint;
  readonly state: JobState;
  /** Assignments so far (a lease lost to a silent miner counts). */
  readonly attempts: number;
  readonly maxAttempts: number;
  /** The miner holding the job (ASSIGNED / RUNNING), or that finished it. */
  readonly minerId?: string;
  /** Lease deadline (ms since epoch) while ASSIGNED / RUNNING. */
  readonly leaseExpiresAt?: number;
  /** Miners that lost or failed this job (never assigned it again). */
  readonly excludedMiners: readonly string[];
  readonly createdAt: number;
  readonly updatedAt: number;
  /** Deadline (ms since epoch): not completed by then → EXPIRED. */
  readonly expiresAt: number;
  /** Failure message (FAILED), or why it was canceled/expired. */
  readonly error?: string;
  /** Id of the receipt (COMPLETED). */
  readonly receiptId?: string;
  readonly history: readonly JobEvent[];
  /** Set when the job was submitted with a marketplace bid. */
  readonly market?: JobMarketTerms;
}

/**
 * What a miner receives from `poll`.
 *
 * @example
 * ```ts
 * import type { Assignment } from '@aitbc/coordinator';
 * const assignment: Assignment | null = await engine.poll('gpu-box-1', { maxWaitMs: 25_000 });
 * if (assignment) console.log(assignment.jobId, assignment.kind, assignment.input, assignment.leaseExpiresAt);
 * ```
 */
export interface Assignment {
  readonly jobId: string;
  readonly kind: string;
  readonly input: JsonValue;
  readonly client: string;
  readonly maxPrice: bigint;
  readonly leaseExpiresAt: number;
  /** The marketplace terms (the agreed price per unit) when the job came through a bid. */
  readonly market?: JobMarketTerms;
}
