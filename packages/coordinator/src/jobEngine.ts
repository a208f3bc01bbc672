import type { KVStore } from '@aitbc/chain-core';
import { AitbcError, bytesToHex, canonicalize, isAddress, randomBytes, sha256 } from '@aitbc/crypto';
import type { MinerRecord, PoolHub } from '@aitbc/pool';
import {
  type Assignment,
  JOB_STATES,
  type Job,
  type JobState,
  type JobSubmission,
  type JsonValue,
  TERMINAL_STATES,
} from './job.js';
import { JobStore } from './jobStore.js';
import type { Marketplace } from './marketplace.js';
import { settlementIntentOp } from './settlementOutbox.js';

type Mutable<T> = { -readonly [K in keyof T]: T[K] };

/**
 * What the engine needs to turn a miner's signed receipt into a stored, attested one.
 *
 * @example
 * ```ts
 * import { createReceiptHandler, JobEngine, type ReceiptHandler } from '@aitbc/coordinator';
 * const receipts: ReceiptHandler = createReceiptHandler({ chainId: 'aitbc-devnet', coordinatorSeed });
 * const engine = new JobEngine({ store, hub, receipts }); // engine.complete() calls receipts.verifyAndAttest
 * ```
 */
export interface ReceiptHandler {
  /**
   * Checks the miner's receipt against the job and the miner's registered key, attests it with the
   * coordinator key, and returns the receipt id and the attested receipt's JSON text.
   * Throws AitbcError (`COORD_RECEIPT_INVALID`, ...) when the receipt does not check.
   */
  verifyAndAttest(
    job: Job,
    miner: MinerRecord,
    receipt: unknown,
  ): { receiptId: string; attestedJson: string } | Promise<{ receiptId: string; attestedJson: string }>;
}

/**
 * Options of {@link JobEngine}.
 *
 * @example
 * ```ts
 * import { createReceiptHandler, JobEngine, type JobEngineOptions } from '@aitbc/coordinator';
 * import { createPoolHub } from '@aitbc/pool';
 * import { LevelKVStore } from '@aitbc/storage-level';
 * const options: JobEngineOptions = { store: await LevelKVStore.open({ path: './data/coordinator' }), hub: createPoolHub(),
 *   receipts: createReceiptHandler({ chainId: 'aitbc-devnet', coordinatorSeed }), leaseMs: 15_000, maxAttempts: 5 };
 * const engine = new JobEngine(options);
 * ```
 */
export interface JobEngineOptions {
  /** Where jobs, results and receipts persist (LevelKVStore in production). */
  readonly store: KVStore;
  /** The pool hub whose registry holds the miners and whose scoring picks them. */
  readonly hub: PoolHub;
  readonly receipts: ReceiptHandler;
  /** Lease length: a miner silent this long loses its jobs (ms, default 30 000). */
  readonly leaseMs?: number;
  /** Assignments per job before it fails (default 3). */
  readonly maxAttempts?: number;
  /** Default job time-to-live (ms, default 1 hour); per-job `ttlMs` may lower or raise it up to `maxTtlMs`. */
  readonly defaultTtlMs?: number;
  readonly maxTtlMs?: number;
  /** Maximum queued jobs (default 100 000): beyond it submissions get `COORD_QUEUE_FULL`. */
  readonly maxQueued?: number;
  /** Maximum canonical size of a job input and of a result output (bytes; defaults 256 KiB / 1 MiB). */
  readonly maxInputBytes?: number;
  readonly maxOutputBytes?: number;
  /** Interval of the lease/expiry sweep (ms, default 1 000). */
  readonly sweepIntervalMs?: number;
  /** Clock (ms since epoch). */
  readonly now?: () => number;
  /** The marketplace whose bids jobs may be submitted with (`bidId`). */
  readonly marketplace?: Marketplace;
  /**
   * How long a job submitted with a bid waits for its matched miner before any miner may take it
   * (ms, default 10 000).
   */
  readonly marketPreferenceMs?: number;
}

/**
 * Listener for job transitions.
 *
 * @example
 * ```ts
 * import type { JobListener } from '@aitbc/coordinator';
 * const log: JobListener = (job, previous) => console.log(`${job.id}: ${previous ?? '∅'} → ${job.state}`);
 * const unsubscribe = engine.onTransition(log);
 * ```
 */
export type JobListener = (job: Job, previous: JobState | undefined) => void;

interface Waiter {
  readonly resolve: (a: Assignment | null) => void;
  readonly timer: ReturnType<typeof setTimeout>;
  readonly cleanup: () => void;
}

const KIND_RE = /^[a-z][a-z0-9._-]{0,63}$/;
const JOB_ID_RE = /^job_[0-9a-f]{32}$/;
const IDEMPOTENCY_RE = /^[\x21-\x7e]{1,128}$/;

/** Freezes a JSON value (and everything in it) so that copies of a job can share it safely. */
function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

/** Job ids from a pooled buffer of randomness (one `randomBytes` call per 256 ids). */
const idPool: { bytes: Uint8Array; offset: number } = { bytes: new Uint8Array(0), offset: 0 };
function newJobId(): string {
  if (idPool.offset + 16 > idPool.bytes.length) {
    idPool.bytes = randomBytes(4096);
    idPool.offset = 0;
  }
  const id = bytesToHex(idPool.bytes.subarray(idPool.offset, idPool.offset + 16));
  idPool.offset += 16;
  return `job_${id}`;
}

function requestHash(client: string, s: JobSubmission): string {
  return bytesToHex(
    sha256(
      canonicalize({
        client,
        kind: s.kind,
        input: s.input,
        requirements: JSON.parse(
          JSON.stringify(s.requirements ?? {}, (_k, v) => (typeof v === 'bigint' ? v.toString() : v)),
        ),
        maxPrice: s.maxPrice,
        ttlMs: s.ttlMs ?? null,
        ...(s.bidId !== undefined ? { bidId: s.bidId } : {}),
      }),
    ),
  );
}

/**
 * The coordinator's job lifecycle: `QUEUED → ASSIGNED → RUNNING → COMPLETED | FAILED | CANCELED |
 * EXPIRED`, with leases, retries on another miner, scored dispatch through the pool hub, long-poll
 * for miners, idempotent submission, and durable state (every transition is one atomic, fsync'd batch;
 * transitions in flight together share one fsync).
 *
 * @example
 * ```ts
 * const engine = new JobEngine({ store, hub, receipts });
 * await engine.start();
 * const job = await engine.submit(clientAddress, { kind: 'hash', input: { data: 'aGk' }, maxPrice: 10n ** 18n }, 'key-1');
 * const assignment = await engine.poll('miner-1', { maxWaitMs: 30_000 }); // in the miner's request
 * ```
 */
export class JobEngine {
  readonly #jobs = new Map<string, Mutable<Job>>();
  readonly #queue: string[] = [];
  readonly #waiters = new Map<string, Waiter>();
  /** Jobs ASSIGNED or RUNNING per miner (kept with every transition; the load reported to the pool). */
  readonly #activeByMiner = new Map<string, number>();
  /** Client addresses that passed the address check (bounded). */
  readonly #knownClients = new Set<string>();
  readonly #listeners = new Set<JobListener>();
  /** Transitions being written, per job: readers wait for them, so no state is seen before it is durable. */
  readonly #writing = new Map<string, Promise<void>>();
  readonly #store: JobStore;
  readonly #hub: PoolHub;
  readonly #receipts: ReceiptHandler;
  readonly #now: () => number;
  readonly #leaseMs: number;
  readonly #maxAttempts: number;
  readonly #defaultTtlMs: number;
  readonly #maxTtlMs: number;
  readonly #maxQueued: number;
  readonly #maxInputBytes: number;
  readonly #maxOutputBytes: number;
  readonly #sweepIntervalMs: number;
  readonly #market: Marketplace | undefined;
  readonly #preferMs: number;
  #sweepTimer: ReturnType<typeof setInterval> | undefined;
  #started = false;

  constructor(options: JobEngineOptions) {
    this.#store = new JobStore(options.store);
    this.#hub = options.hub;
    this.#receipts = options.receipts;
    this.#now = options.now ?? Date.now;
    this.#leaseMs = options.leaseMs ?? 30_000;
    this.#maxAttempts = options.maxAttempts ?? 3;
    this.#defaultTtlMs = options.defaultTtlMs ?? 3_600_000;
    this.#maxTtlMs = options.maxTtlMs ?? 86_400_000;
    this.#maxQueued = options.maxQueued ?? 100_000;
    this.#maxInputBytes = options.maxInputBytes ?? 256 * 1024;
    this.#maxOutputBytes = options.maxOutputBytes ?? 1024 * 1024;
    this.#sweepIntervalMs = options.sweepIntervalMs ?? 1_000;
    this.#market = options.marketplace;
    this.#preferMs = options.marketPreferenceMs ?? 10_000;
    for (const [name, v] of Object.entries({
      leaseMs: this.#leaseMs,
      maxAttempts: this.#maxAttempts,
      defaultTtlMs: this.#defaultTtlMs,
    })) {
      if (!Number.isSafeInteger(v) || v <= 0)
        throw new AitbcError('COORD_BAD_CONFIG', `${name} must be a positive integer`);
    }
  }

  /** Loads non-terminal jobs (queued ones back in the queue, leased ones keep their lease) and starts the sweep. */
  async start(): Promise<void> {
    if (this.#started) return;
    const active = await this.#store.loadActive();
    active.sort((a, b) => a.createdAt - b.createdAt);
    for (const job of active) {
      const live = { ...job, requirements: deepFreeze(job.requirements), input: deepFreeze(job.input) };
      live.history = job.history.map((e) => Object.freeze(e));
      this.#jobs.set(job.id, live);
      if (job.state === 'QUEUED') this.#queue.push(job.id);
      if ((job.state === 'ASSIGNED' || job.state === 'RUNNING') && job.minerId !== undefined)
        this.#countActive(job.minerId, 1);
    }
    this.#started = true;
    this.#sweepTimer = setInterval(() => void this.sweep().catch(() => undefined), this.#sweepIntervalMs);
    this.#sweepTimer.unref?.();
  }

  /** Stops the sweep and answers every pending poll with `null`. State stays in the store. */
  async stop(): Promise<void> {
    if (this.#sweepTimer !== undefined) clearInterval(this.#sweepTimer);
    this.#sweepTimer = undefined;
    for (const [minerId, w] of this.#waiters) {
      this.#waiters.delete(minerId);
      w.cleanup();
      w.resolve(null);
    }
    this.#started = false;
  }

  /** Subscribes to job transitions; returns the unsubscribe function. */
  onTransition(listener: JobListener): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  /** Jobs waiting for a miner. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Submits a job. With an idempotency key, repeating the same request returns the same job; the
   * same key with a different request is `COORD_IDEMPOTENCY_CONFLICT`.
   * @throws AitbcError `COORD_BAD_REQUEST`, `COORD_INPUT_TOO_LARGE`, `COORD_QUEUE_FULL`, `COORD_IDEMPOTENCY_CONFLICT`.
   */
  async submit(client: string, submission: JobSubmission, idempotencyKey?: string): Promise<Job> {
    this.#requireStarted();
    if (!this.#knownClients.has(client)) {
      // bech32m decoding costs tens of µs; clients repeat, so remember the ones that checked (bounded).
      if (!isAddress(client))
        throw new AitbcError('COORD_BAD_REQUEST', 'client must be an ait1… address', { details: { field: 'client' } });
      if (this.#knownClients.size >= 4096) this.#knownClients.clear();
      this.#knownClients.add(client);
    }
    if (typeof submission.kind !== 'string' || !KIND_RE.test(submission.kind)) {
      throw new AitbcError('COORD_BAD_REQUEST', 'kind must match [a-z][a-z0-9._-]{0,63}', {
        details: { field: 'kind' },
      });
    }
    if (typeof submission.maxPrice !== 'bigint' || submission.maxPrice < 0n) {
      throw new AitbcError('COORD_BAD_REQUEST', 'maxPrice must be a non-negative bigint', {
        details: { field: 'max_price' },
      });
    }
    const ttl = submission.ttlMs ?? this.#defaultTtlMs;
    if (!Number.isSafeInteger(ttl) || ttl < 1_000 || ttl > this.#maxTtlMs) {
      throw new AitbcError('COORD_BAD_REQUEST', `ttl must be an integer in [1000, ${this.#maxTtlMs}] ms`, {
        details: { field: 'ttl_ms' },
      });
    }
    let inputSize: number;
    try {
      inputSize = canonicalize(submission.input).length;
    } catch (cause) {
      throw new AitbcError('COORD_BAD_REQUEST', 'input must be JSON (finite numbers, no lone surrogates)', {
        details: { field: 'input' },
        cause,
      });
    }
    if (inputSize > this.#maxInputBytes) {
      throw new AitbcError(
        'COORD_INPUT_TOO_LARGE',
        `input is ${inputSize} bytes; the limit is ${this.#maxInputBytes}`,
        {
          details: { limit: this.#maxInputBytes },
        },
      );
    }
    if (submission.bidId !== undefined && (this.#market === undefined || typeof submission.bidId !== 'string')) {
      throw new AitbcError('COORD_BAD_REQUEST', 'bid_id needs a coordinator with a marketplace', {
        details: { field: 'bid_id' },
      });
    }
    let hash: string | undefined;
    if (idempotencyKey !== undefined) {
      if (!IDEMPOTENCY_RE.test(idempotencyKey)) {
        throw new AitbcError('COORD_BAD_REQUEST', 'Idempotency-Key must be 1–128 printable ASCII characters', {
          details: { field: 'Idempotency-Key' },
        });
      }
      hash = requestHash(client, submission);
      const previous = await this.#store.getIdempotency(client, idempotencyKey);
      if (previous !== undefined) {
        if (previous.requestHash !== hash) {
          throw new AitbcError('COORD_IDEMPOTENCY_CONFLICT', 'this Idempotency-Key was used for a different request');
        }
        const job = await this.get(previous.jobId);
        if (job !== undefined) return job;
      }
    }
    if (this.#queue.length >= this.#maxQueued) {
      throw new AitbcError('COORD_QUEUE_FULL', 'the job queue is full; retry later', {
        details: { limit: this.#maxQueued },
      });
    }
    const now = this.#now();
    const job: Mutable<Job> = {
      id: newJobId(),
      client,
      kind: submission.kind,
      // A private frozen copy: copies handed out share it, and later changes by the caller do not leak in.
      input: deepFreeze(structuredClone(submission.input)),
      requirements: deepFreeze(structuredClone(submission.requirements ?? {})),
      maxPrice: submission.maxPrice,
      state: 'QUEUED',
      attempts: 0,
      maxAttempts: this.#maxAttempts,
      excludedMiners: [],
      createdAt: now,
      updatedAt: now,
      expiresAt: now + ttl,
      history: [Object.freeze({ state: 'QUEUED' as const, at: now })],
    };
    // A job with a bid takes one matched unit, recorded in the job's own batch.
    const reservation =
      submission.bidId !== undefined ? await this.#market!.reserveUnit(client, submission.bidId, job.kind) : undefined;
    if (reservation !== undefined) job.market = Object.freeze(reservation.terms);
    const ops = this.#store.jobOps(job, false, true);
    if (idempotencyKey !== undefined && hash !== undefined) {
      ops.push(this.#store.idempotencyOp(client, idempotencyKey, { jobId: job.id, requestHash: hash }));
    }
    if (reservation !== undefined) for (const op of reservation.ops) ops.push(op);
    try {
      await this.#store.write(ops);
    } catch (err) {
      reservation?.release();
      throw err;
    }
    this.#jobs.set(job.id, job);
    this.#queue.push(job.id);
    this.#emit(job, undefined);
    this.#dispatch();
    return this.#copy(job);
  }

  /** A job by id (active ones from memory, finished ones from the store). */
  async get(jobId: string): Promise<Job | undefined> {
    if (!JOB_ID_RE.test(jobId)) return undefined;
    // A COMPLETED job whose batch is still in flight would have no result or receipt to read yet.
    await this.#writing.get(jobId)?.catch(() => undefined);
    const live = this.#jobs.get(jobId);
    return live !== undefined ? this.#copy(live) : this.#store.get(jobId);
  }

  /** A client's jobs, oldest first, with cursor pagination. */
  async list(
    client: string,
    options: { cursor?: string; limit?: number } = {},
  ): Promise<{ items: Job[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500)
      throw new AitbcError('COORD_BAD_REQUEST', 'limit must be in [1, 500]');
    if (options.cursor !== undefined && !/^\d{13}\/job_[0-9a-f]{32}$/.test(options.cursor)) {
      throw new AitbcError('COORD_BAD_CURSOR', 'cursor is not one this server issued');
    }
    const { jobs, nextCursor } = await this.#store.listByClient(client, options.cursor, limit);
    return { items: jobs.map((j) => this.#jobs.get(j.id) ?? j).map((j) => this.#copy(j)), nextCursor };
  }

  /**
   * Every client's jobs (for operators), ordered by job id, optionally only those in `state`; at most
   * `limit` (1–500, default 50) per page and 10,000 records read per page (a page may then come back
   * short with a `nextCursor`).
   * @throws AitbcError `COORD_BAD_REQUEST` (limit, state), `COORD_BAD_CURSOR`.
   */
  async listAll(
    options: { cursor?: string; limit?: number; state?: JobState } = {},
  ): Promise<{ items: Job[]; nextCursor: string | null }> {
    const limit = options.limit ?? 50;
    if (!Number.isSafeInteger(limit) || limit < 1 || limit > 500)
      throw new AitbcError('COORD_BAD_REQUEST', 'limit must be in [1, 500]');
    if (options.state !== undefined && !JOB_STATES.includes(options.state))
      throw new AitbcError('COORD_BAD_REQUEST', `state must be one of ${JOB_STATES.join(', ')}`, {
        details: { field: 'state' },
      });
    if (options.cursor !== undefined && !/^job_[0-9a-f]{32}$/.test(options.cursor)) {
      throw new AitbcError('COORD_BAD_CURSOR', 'cursor is not one this server issued');
    }
    const live = (j: Job) => this.#jobs.get(j.id) ?? j;
    const { jobs, nextCursor } = await this.#store.listAll(
      options.cursor,
      limit,
      (j) => options.state === undefined || live(j).state === options.state,
    );
    return { items: jobs.map((j) => this.#copy(live(j))), nextCursor };
  }

  /** The output of a completed job. */
  async result(jobId: string): Promise<JsonValue | undefined> {
    return this.#store.getResult(jobId);
  }

  /** The attested receipt (JSON text) of a completed job. */
  async receiptJson(jobId: string): Promise<string | undefined> {
    return this.#store.getReceiptJson(jobId);
  }

  /**
   * Cancels a job that has not finished; a running miner's later result is refused.
   * @throws AitbcError `COORD_UNKNOWN_JOB` (also for another client's job), `COORD_JOB_FINISHED`.
   */
  async cancel(client: string, jobId: string): Promise<Job> {
    const job = this.#jobs.get(jobId);
    if (job === undefined || job.client !== client) {
      const stored = JOB_ID_RE.test(jobId) ? await this.#store.get(jobId) : undefined;
      if (stored !== undefined && stored.client === client) {
        throw new AitbcError('COORD_JOB_FINISHED', `job is already ${stored.state}`, {
          details: { state: stored.state },
        });
      }
      throw new AitbcError('COORD_UNKNOWN_JOB', 'no such job', { details: { jobId } });
    }
    await this.#transition(job, 'CANCELED', { reason: 'canceled by the client' });
    return this.#copy(job);
  }

  /**
   * A miner's long-poll: resolves with an assignment as soon as the dispatcher picks this miner, or
   * `null` after `maxWaitMs` (or on abort / stop). One poll per miner at a time; a new poll replaces
   * the old one (which resolves `null`).
   * @throws AitbcError `COORD_UNKNOWN_MINER` when the miner is not registered.
   */
  poll(minerId: string, options: { maxWaitMs: number; signal?: AbortSignal }): Promise<Assignment | null> {
    this.#requireStarted();
    if (this.#hub.registry.peek(minerId) === undefined) {
      return Promise.reject(
        new AitbcError('COORD_UNKNOWN_MINER', 'register the miner first', { details: { minerId } }),
      );
    }
    this.#hub.registry.touch(minerId, { activeJobs: this.#activeCount(minerId) });
    const previous = this.#waiters.get(minerId);
    if (previous !== undefined) {
      this.#waiters.delete(minerId);
      previous.cleanup();
      previous.resolve(null);
    }
    return new Promise<Assignment | null>((resolve) => {
      // `leave` ends the wait from the miner's side (timeout, abort); `waiter.resolve` is used by the
      // dispatcher, which has already taken the waiter out of the map.
      const leave = () => {
        if (this.#waiters.get(minerId) === waiter) this.#waiters.delete(minerId);
        waiter.cleanup();
        resolve(null);
      };
      const timer = setTimeout(leave, Math.max(0, options.maxWaitMs));
      const waiter: Waiter = {
        resolve,
        timer,
        cleanup: () => {
          clearTimeout(timer);
          options.signal?.removeEventListener('abort', leave);
        },
      };
      if (options.signal?.aborted) {
        clearTimeout(timer);
        resolve(null);
        return;
      }
      options.signal?.addEventListener('abort', leave, { once: true });
      this.#waiters.set(minerId, waiter);
      this.#dispatch();
    });
  }

  /**
   * A miner's heartbeat: extends the leases of its jobs and marks delivered assignments RUNNING.
   * @returns the ids of jobs the miner should stop (canceled, expired or reassigned).
   */
  async heartbeat(minerId: string, runningJobIds: readonly string[] = []): Promise<{ cancel: string[] }> {
    this.#hub.registry.touch(minerId, { activeJobs: this.#activeCount(minerId) });
    const now = this.#now();
    const cancel: string[] = [];
    for (const id of runningJobIds) {
      const job = this.#jobs.get(id);
      if (job === undefined || job.minerId !== minerId || TERMINAL_STATES.has(job.state) || job.state === 'QUEUED') {
        cancel.push(id);
        continue;
      }
      job.leaseExpiresAt = now + this.#leaseMs;
      if (job.state === 'ASSIGNED') await this.#transition(job, 'RUNNING', {});
    }
    return { cancel };
  }

  /**
   * The assigned miner reports success with its signed receipt. The receipt is checked and attested,
   * then the job, output, receipt and settlement intent (the settler's outbox record) are
   * stored in one atomic batch.
   * @throws AitbcError `COORD_UNKNOWN_JOB`, `COORD_NOT_ASSIGNED` (another miner holds it, or held it),
   * `COORD_JOB_FINISHED` (a second report: the job already ended), `COORD_OUTPUT_TOO_LARGE`,
   * `COORD_RECEIPT_INVALID`.
   */
  async complete(minerId: string, jobId: string, output: JsonValue, receipt: unknown): Promise<Job> {
    const job = await this.#reportable(minerId, jobId);
    let size: number;
    try {
      size = canonicalize(output).length;
    } catch (cause) {
      throw new AitbcError('COORD_BAD_REQUEST', 'output must be JSON', { details: { field: 'output' }, cause });
    }
    if (size > this.#maxOutputBytes) {
      throw new AitbcError('COORD_OUTPUT_TOO_LARGE', `output is ${size} bytes; the limit is ${this.#maxOutputBytes}`);
    }
    const miner = this.#hub.registry.peek(minerId); // the live record: the handler only reads it
    if (miner === undefined)
      throw new AitbcError('COORD_UNKNOWN_MINER', 'the miner is no longer registered', { details: { minerId } });
    const { receiptId, attestedJson } = await this.#receipts.verifyAndAttest(this.#copy(job), miner, receipt);
    if (job.state !== 'ASSIGNED' && job.state !== 'RUNNING') {
      // The job changed while the receipt was being checked (canceled, expired, reported twice).
      throw new AitbcError('COORD_NOT_ASSIGNED', 'this job is no longer assigned to this miner', {
        details: { jobId, minerId },
      });
    }
    const latency = this.#now() - (job.history.findLast((e) => e.state === 'ASSIGNED')?.at ?? job.createdAt);
    // The settlement intent goes in the completion's own batch (an outbox): no job is ever stored
    // COMPLETED without the record the settler pays it from, whatever moment the process dies at.
    await this.#transition(job, 'COMPLETED', { receiptId }, [
      this.#store.resultOp(job.id, output),
      this.#store.receiptOp(job.id, attestedJson),
      settlementIntentOp(job.id, this.#now()),
    ]);
    await this.#hub.registry.countOutcome(minerId, { success: true, latencyMs: latency }).catch(() => undefined);
    return this.#copy(job);
  }

  /**
   * The assigned miner reports that the job failed. The job fails (no receipt, no payment).
   * @throws AitbcError `COORD_UNKNOWN_JOB`, `COORD_NOT_ASSIGNED`.
   */
  async fail(minerId: string, jobId: string, message: string): Promise<Job> {
    const job = await this.#reportable(minerId, jobId);
    const reason = String(message).slice(0, 1024);
    await this.#transition(job, 'FAILED', { reason: `miner reported: ${reason}` });
    await this.#hub.registry.countOutcome(minerId, { success: false }).catch(() => undefined);
    return this.#copy(job);
  }

  /**
   * Enforces leases and deadlines now (also runs every `sweepIntervalMs`): a job whose lease ran out is
   * re-queued for another miner (or FAILED after `maxAttempts`); a job past its deadline EXPIRES.
   */
  async sweep(): Promise<void> {
    const now = this.#now();
    for (const job of [...this.#jobs.values()]) {
      if (TERMINAL_STATES.has(job.state)) continue;
      if (now >= job.expiresAt) {
        await this.#transition(job, 'EXPIRED', { reason: 'deadline passed' });
      } else if (
        (job.state === 'ASSIGNED' || job.state === 'RUNNING') &&
        job.leaseExpiresAt !== undefined &&
        now >= job.leaseExpiresAt
      ) {
        const lost = job.minerId!;
        await this.#hub.registry.countOutcome(lost, { success: false }).catch(() => undefined);
        if (job.attempts >= job.maxAttempts) {
          await this.#transition(job, 'FAILED', { reason: `lease lost ${job.attempts} times; last miner ${lost}` });
        } else {
          job.excludedMiners = [...job.excludedMiners, lost];
          await this.#transition(job, 'QUEUED', { reason: `lease expired on ${lost}` });
          this.#queue.unshift(job.id);
        }
      }
    }
    this.#dispatch();
  }

  #requireStarted(): void {
    if (!this.#started) throw new AitbcError('COORD_NOT_STARTED', 'the job engine is not started');
  }

  /**
   * The active job `minerId` may report on. A job that already ended (it is only in the store) is
   * `COORD_JOB_FINISHED` to the miner that ran it — a second report — and `COORD_NOT_ASSIGNED` to
   * any other miner.
   */
  async #reportable(minerId: string, jobId: string): Promise<Mutable<Job>> {
    if (!this.#jobs.has(jobId) && JOB_ID_RE.test(jobId)) {
      await this.#writing.get(jobId)?.catch(() => undefined);
      const stored = this.#jobs.has(jobId) ? undefined : await this.#store.get(jobId);
      if (stored !== undefined) {
        if (stored.minerId !== minerId)
          throw new AitbcError('COORD_NOT_ASSIGNED', 'this job is not assigned to this miner', {
            details: { jobId, minerId },
          });
        throw new AitbcError('COORD_JOB_FINISHED', `job is already ${stored.state}`, {
          details: { jobId, state: stored.state },
        });
      }
    }
    return this.#requireAssigned(minerId, jobId);
  }

  #requireAssigned(minerId: string, jobId: string): Mutable<Job> {
    const job = this.#jobs.get(jobId);
    if (job === undefined) throw new AitbcError('COORD_UNKNOWN_JOB', 'no such active job', { details: { jobId } });
    if (job.minerId !== minerId || (job.state !== 'ASSIGNED' && job.state !== 'RUNNING')) {
      throw new AitbcError('COORD_NOT_ASSIGNED', 'this job is not assigned to this miner', {
        details: { jobId, minerId },
      });
    }
    return job;
  }

  #activeCount(minerId: string): number {
    return this.#activeByMiner.get(minerId) ?? 0;
  }

  #countActive(minerId: string, delta: number): void {
    const n = (this.#activeByMiner.get(minerId) ?? 0) + delta;
    if (n <= 0) this.#activeByMiner.delete(minerId);
    else this.#activeByMiner.set(minerId, n);
  }

  /** Pairs queued jobs with waiting miners, best-scored miner first, oldest job first. */
  #dispatch(): void {
    if (this.#waiters.size === 0 || this.#queue.length === 0) return;
    const scanLimit = Math.min(this.#queue.length, 256);
    for (let i = 0; i < scanLimit && this.#waiters.size > 0 && i < this.#queue.length; ) {
      const job = this.#jobs.get(this.#queue[i]!);
      if (job === undefined || job.state !== 'QUEUED') {
        this.#queue.splice(i, 1);
        continue;
      }
      // A job bought through the marketplace goes to its matched miner first.
      const preferred = job.market?.minerId;
      if (preferred !== undefined && !job.excludedMiners.includes(preferred)) {
        const record = this.#hub.registry.peek(preferred);
        if (
          this.#waiters.has(preferred) &&
          record !== undefined &&
          this.#activeCount(preferred) < record.maxConcurrency
        ) {
          this.#queue.splice(i, 1);
          this.#assign(job, preferred);
          continue;
        }
        if (this.#now() - job.updatedAt < this.#preferMs) {
          i++;
          continue;
        }
      }
      // The best-scored miner among those waiting in a poll (no explanations: the fast ranking path).
      const { ranked } = this.#hub.rank(
        {
          requirements: {
            ...job.requirements,
            jobKind: job.kind,
            maxPricePerUnit: job.requirements.maxPricePerUnit ?? job.maxPrice,
          },
          hints: { excludeMinerIds: job.excludedMiners },
        },
        { topK: 1, accept: (m) => this.#waiters.has(m.id) },
      );
      const chosen = ranked[0]?.miner;
      if (chosen === undefined) {
        i++;
        continue;
      }
      this.#queue.splice(i, 1);
      this.#assign(job, chosen.id);
    }
  }

  #assign(job: Mutable<Job>, minerId: string): void {
    const waiter = this.#waiters.get(minerId)!;
    this.#waiters.delete(minerId);
    waiter.cleanup(); // the poll no longer times out: it is answered once the assignment is durable
    job.minerId = minerId;
    job.attempts += 1;
    job.leaseExpiresAt = this.#now() + this.#leaseMs;
    // Persist the assignment before handing it out; if the write fails the job goes back to the queue.
    this.#transition(job, 'ASSIGNED', { minerId })
      .then(() => {
        this.#hub.registry.touch(minerId, { activeJobs: this.#activeCount(minerId) });
        waiter.resolve({
          jobId: job.id,
          kind: job.kind,
          input: job.input,
          client: job.client,
          maxPrice: job.maxPrice,
          leaseExpiresAt: job.leaseExpiresAt!,
          ...(job.market !== undefined ? { market: job.market } : {}),
        });
      })
      .catch(() => {
        if (job.state === 'ASSIGNED') this.#countActive(minerId, -1);
        job.state = 'QUEUED';
        delete job.minerId;
        delete job.leaseExpiresAt;
        this.#queue.unshift(job.id);
        waiter.resolve(null);
      });
  }

  async #transition(
    job: Mutable<Job>,
    to: JobState,
    info: { reason?: string; minerId?: string; receiptId?: string },
    extraOps: Parameters<JobStore['write']>[0] = [],
  ): Promise<void> {
    const from = job.state;
    if (TERMINAL_STATES.has(from))
      throw new AitbcError('COORD_JOB_FINISHED', `job is already ${from}`, { details: { state: from } });
    const wasActive = from === 'ASSIGNED' || from === 'RUNNING';
    const isActive = to === 'ASSIGNED' || to === 'RUNNING';
    if (wasActive && !isActive && job.minerId !== undefined) this.#countActive(job.minerId, -1);
    else if (!wasActive && isActive && job.minerId !== undefined) this.#countActive(job.minerId, 1);
    const now = this.#now();
    job.state = to;
    job.updatedAt = now;
    const event: Mutable<Job['history'][number]> = { state: to, at: now };
    if (info.minerId !== undefined) event.minerId = info.minerId;
    else if (job.minerId !== undefined && to !== 'QUEUED') event.minerId = job.minerId;
    if (info.reason !== undefined) event.reason = info.reason;
    job.history = [...job.history, Object.freeze(event)];
    if (info.receiptId !== undefined) job.receiptId = info.receiptId;
    if (to === 'QUEUED') {
      delete job.minerId;
      delete job.leaseExpiresAt;
    }
    if (TERMINAL_STATES.has(to)) {
      delete job.leaseExpiresAt;
      if (to !== 'COMPLETED' && info.reason !== undefined) job.error = info.reason;
    }
    const terminal = TERMINAL_STATES.has(to);
    const ops = this.#store.jobOps(job, terminal, false);
    for (const op of extraOps) ops.push(op);
    const write = this.#store.write(ops);
    this.#writing.set(job.id, write);
    try {
      await write;
    } finally {
      if (this.#writing.get(job.id) === write) this.#writing.delete(job.id);
    }
    if (terminal) this.#jobs.delete(job.id);
    this.#emit(job, from);
  }

  #emit(job: Job, previous: JobState | undefined): void {
    if (this.#listeners.size === 0) return;
    const copy = this.#copy(job);
    for (const l of this.#listeners) {
      try {
        l(copy, previous);
      } catch {
        // a listener's failure never breaks the engine
      }
    }
  }

  /**
   * A caller's copy of a job. The nested parts are frozen and never mutated in place (input,
   * requirements, history entries; arrays are replaced, not changed), so a shallow copy with fresh
   * arrays is as safe as a deep clone and much cheaper.
   */
  #copy(job: Job): Job {
    return { ...job, excludedMiners: [...job.excludedMiners], history: [...job.history] };
  }
}
