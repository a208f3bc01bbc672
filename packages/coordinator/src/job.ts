import type { MatchRequirements } from '@aitbc/pool';

/** Job states (DESIGN.md §5). Terminal: COMPLETED, FAILED, CANCELED, EXPIRED. */
export type JobState = 'QUEUED' | 'ASSIGNED' | 'RUNNING' | 'COMPLETED' | 'FAILED' | 'CANCELED' | 'EXPIRED';

/** Every job state, in lifecycle order. */
export const JOB_STATES: readonly JobState[] = Object.freeze([
  'QUEUED',
  'ASSIGNED',
  'RUNNING',
  'COMPLETED',
  'FAILED',
  'CANCELED',
  'EXPIRED',
]);

/** States a job never leaves. */
export const TERMINAL_STATES: ReadonlySet<JobState> = new Set(['COMPLETED', 'FAILED', 'CANCELED', 'EXPIRED']);

/** A JSON value (inputs and outputs of jobs). */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** What a client submits. */
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

/** The marketplace terms a job runs under (one unit of a matched bid). */
export interface JobMarketTerms {
  readonly bidId: string;
  readonly matchId: string;
  readonly offerId: string;
  /** The miner the bid was matched with: it gets the job first. */
  readonly minerId: string;
  /** The matched price per unit (the offer's), base units. */
  readonly pricePerUnit: bigint;
}

/** One entry of a job's history. */
export interface JobEvent {
  readonly state: JobState;
  /** ms since epoch. */
  readonly at: number;
  readonly minerId?: string;
  readonly reason?: string;
}

/** A job as stored and returned. */
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

/** What a miner receives from `poll`. */
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
