import type { KVStore } from '@aitbc/chain-core';
import { AitbcError, addressFromPublicKey, isAitbcError, publicKeyFromSeed } from '@aitbc/crypto';
import type { JobEngine } from './jobEngine.js';
import { decodeSettlement, encodeSettlement, settlementKey, settlementRecords } from './settlementOutbox.js';

/**
 * How the coordinator reaches the chain (the node API client, or a chain in-process).
 *
 * @example
 * ```ts
 * import type { SettlementGateway } from '@aitbc/coordinator';
 * import { createNodeClient } from '@aitbc/rpc/client';
 * import { createNodeSettlementGateway } from 'aitbc-node';
 * const gateway: SettlementGateway = createNodeSettlementGateway(createNodeClient({ baseUrl: 'http://127.0.0.1:8006' }));
 * const next = await gateway.nextNonce(coordinatorAddress);
 * ```
 */
export interface SettlementGateway {
  /** The next nonce of an account, counting its transactions still pending in the mempool. */
  nextNonce(address: string): Promise<number>;
  /** Submits a signed wire transaction; resolves its id (`0x…`). Throws `AitbcError` on rejection. */
  submit(txJson: Record<string, unknown>): Promise<string>;
  /** The escrow of a job as the chain sees it at its head, or `undefined`. */
  escrow(jobId: string): Promise<{ readonly status: 'locked' | 'settled' | 'refunded' } | undefined>;
}

/**
 * Signs an `escrow.settle` transaction (chain-core's `signTx` + `txToJson`, injected to keep the layers apart).
 *
 * @example
 * ```ts
 * import { signTx, txIdHex, txToJson } from '@aitbc/chain-core';
 * import type { SettleTxSigner } from '@aitbc/coordinator';
 * const sign: SettleTxSigner = (body, seed) => {
 *   const tx = signTx({ type: 'escrow.settle', ...body }, seed);
 *   return { id: txIdHex(tx), json: txToJson(tx) };
 * };
 * ```
 */
export type SettleTxSigner = (
  body: { chainId: string; from: string; nonce: number; fee: bigint; jobId: string; receipt: string },
  seed: Uint8Array,
) => {
  id: string;
  json: Record<string, unknown>;
};

/**
 * A settlement's state.
 *
 * @example
 * ```ts
 * import type { SettlementState } from '@aitbc/coordinator';
 * const state: SettlementState | undefined = (await settler.get(jobId))?.state;
 * if (state === 'failed') console.error('settlement gave up; see settlement.error');
 * ```
 */
export type SettlementState = 'pending' | 'submitted' | 'final' | 'failed';

/**
 * A settlement record (persisted). The job engine writes the first one (`pending`) in the same atomic
 * batch as the job's completion (an outbox), so every completed job has one.
 *
 * @example
 * ```ts
 * import type { Settlement } from '@aitbc/coordinator';
 * const s: Settlement | undefined = await settler.get(jobId);
 * if (s?.state === 'final') console.log(`paid by ${s.txId} after ${s.attempts} submission(s)`);
 * ```
 */
export interface Settlement {
  readonly jobId: string;
  readonly state: SettlementState;
  /** The last `escrow.settle` transaction signed for the job. */
  readonly txId?: string;
  /**
   * The nonce of that transaction while it may still be pending: a resubmission sends the very same
   * transaction (same nonce, same id), never a second one that could block the account's later nonces.
   * A `pending` settlement with a nonce is one whose submission failed on the way: it is sent again at
   * the next pass; a `submitted` one (the node took it) is sent again after five intervals without a
   * settled escrow.
   */
  readonly nonce?: number;
  /** Submissions made (a resubmission of the same transaction counts too). */
  readonly attempts: number;
  /** Submissions the chain refused (a bad receipt, …); at `maxAttempts` the settlement fails. */
  readonly rejections?: number;
  readonly error?: string;
  /** When the settlement was recorded (ms); absent in records written before this field existed. */
  readonly createdAt?: number;
  readonly updatedAt: number;
}

/**
 * What the settler was doing when a pass stopped: a call to the gateway, or to the coordinator's store.
 *
 * @example
 * ```ts
 * import type { SettlementOperation } from '@aitbc/coordinator';
 * const op: SettlementOperation | undefined = settler.status().lastError?.operation; // 'escrow' when the node is down
 * ```
 */
export type SettlementOperation = 'escrow' | 'nextNonce' | 'submit' | 'store';

/**
 * The settler's state for operators (`GET /health`, `GET /v1/admin/stats`, the metrics).
 *
 * @example
 * ```ts
 * import type { SettlerStatus } from '@aitbc/coordinator';
 * const status: SettlerStatus = settler.status();
 * if (status.state === 'backing-off') console.warn(`settlements paused: ${status.lastError?.code} (${status.consecutiveFailures} failed passes)`);
 * ```
 */
export interface SettlerStatus {
  /** `stopped` (not started, or stopped), `ok` (the last pass ran through), `backing-off` (the last pass failed). */
  readonly state: 'stopped' | 'ok' | 'backing-off';
  /** Settlements not final nor failed at the last pass (`pending` or `submitted`). */
  readonly open: number;
  /** Passes failed in a row (0 when the last one ran through). */
  readonly consecutiveFailures: number;
  /** The last failure (a `COORD_SETTLEMENT_UNAVAILABLE` or `COORD_SETTLEMENT_REJECTED` error). */
  readonly lastError?: {
    readonly code: string;
    readonly message: string;
    readonly operation: SettlementOperation;
    readonly jobId?: string;
    readonly at: number;
  };
  /** When the last pass ran through (ms). */
  readonly lastPassAt?: number;
  /** When the next pass is due (ms), while started. */
  readonly nextPassAt?: number;
  /** Counts since this settler was created. */
  readonly totals: {
    readonly submitted: number;
    readonly final: number;
    readonly failed: number;
    /** Passes stopped by a failed gateway or store call. */
    readonly unavailable: number;
    /** Submissions the chain refused. */
    readonly rejected: number;
  };
}

/**
 * Options of {@link Settler}.
 *
 * @example
 * ```ts
 * import { Settler, type SettlerOptions } from '@aitbc/coordinator';
 * const options: SettlerOptions = { engine, store, gateway, sign, chainId: 'aitbc-devnet', coordinatorSeed, fee: 1n,
 *   intervalMs: 2_000, maxBackoffMs: 30_000, onError: (e) => console.warn(e.code, e.message, e.details) };
 * const settler = new Settler(options);
 * ```
 */
export interface SettlerOptions {
  readonly engine: JobEngine;
  readonly store: KVStore;
  readonly gateway: SettlementGateway;
  readonly sign: SettleTxSigner;
  readonly chainId: string;
  /** The coordinator's chain key: the one named in the clients' escrow locks. */
  readonly coordinatorSeed: Uint8Array;
  readonly fee: bigint;
  /** Submissions the chain may refuse before a settlement is marked failed (default 10). */
  readonly maxAttempts?: number;
  /** Interval of the settlement loop (ms, default 1,000); also the first backoff delay. */
  readonly intervalMs?: number;
  /**
   * Longest delay between passes while the gateway or the store fails (ms, default 60,000, never
   * below `intervalMs`): the delay doubles with each failed pass up to it, with jitter.
   */
  readonly maxBackoffMs?: number;
  /**
   * How long a completed job waits for its client's `escrow.lock` to be final before the settlement
   * is marked failed (ms, default 600,000). Clients lock after the coordinator has assigned the job
   * id, so a fast miner can finish before the lock lands.
   */
  readonly lockWaitMs?: number;
  /**
   * Told of every failed pass (`COORD_SETTLEMENT_UNAVAILABLE`) and refused submission
   * (`COORD_SETTLEMENT_REJECTED`), with `details` naming the operation and the job (never a key).
   * For logs; an exception it throws is ignored.
   */
  readonly onError?: (error: AitbcError) => void;
}

/** How a failed submission is handled. */
type SubmitFailure = 'outage' | 'nonce' | 'closed' | 'rejected';

/**
 * Sorts a submission's error: a chain or mempool refusal of this transaction (`CHAIN_*`,
 * `MEMPOOL_BAD_INPUT`), a nonce already used or held by another pending transaction, an escrow
 * already closed, or anything else: an outage (network, node down or busy, mempool full).
 */
function classifySubmitError(err: unknown): SubmitFailure {
  if (!isAitbcError(err)) return 'outage';
  if (err.code === 'CHAIN_BAD_NONCE' || err.code === 'MEMPOOL_REPLACEMENT_UNDERPRICED') return 'nonce';
  if (err.code === 'CHAIN_ESCROW_CLOSED') return 'closed';
  if (err.code.startsWith('CHAIN_') || err.code === 'MEMPOOL_BAD_INPUT') return 'rejected';
  return 'outage';
}

/** The code of an error, for logs (never its stack or arbitrary text from a foreign error). */
function codeOf(err: unknown): string {
  if (isAitbcError(err)) return err.code;
  return err instanceof Error ? err.name : typeof err;
}

/**
 * Settles completed jobs on chain from the settlement outbox the job engine writes with every
 * completion: for each open settlement it waits (up to `lockWaitMs`) until the client's escrow lock
 * is on chain, submits `escrow.settle` with the attested receipt, then tracks the escrow until the
 * chain shows it settled.
 *
 * The loop never throws: a failing gateway (node down, unreachable, busy) or store stops the pass,
 * is reported to `onError` and {@link Settler.status}, and the next pass comes after an exponential,
 * jittered backoff (up to `maxBackoffMs`); the settlements wait, they are not failed. Submission is
 * at-least-once and payment exactly-once: the nonce and id of a transaction are recorded before it is
 * sent, a resubmission sends the identical transaction, an escrow the chain shows settled is final
 * without a new transaction, a nonce that turns out used is re-derived from the chain, and the chain
 * itself refuses a second settlement of one escrow.
 *
 * @example
 * ```ts
 * import { Settler } from '@aitbc/coordinator';
 * const settler = new Settler({ engine, store, gateway, sign, chainId: 'aitbc-devnet', coordinatorSeed, fee: 1n });
 * settler.start(); // settles every completed job; resumes open ones after a restart
 * const settlement = await settler.get(jobId); // { state: 'pending' | 'submitted' | 'final' | 'failed', … }
 * console.log(settler.status().state); // 'ok' | 'backing-off' | 'stopped'
 * await settler.stop();
 * ```
 */
export class Settler {
  readonly #o: Required<Omit<SettlerOptions, 'onError'>> & Pick<SettlerOptions, 'onError'>;
  readonly #address: string;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #running: Promise<void> | undefined;
  #started = false;
  #open = 0;
  #failures = 0;
  #lastError: SettlerStatus['lastError'];
  #lastPassAt: number | undefined;
  #nextPassAt: number | undefined;
  readonly #totals = { submitted: 0, final: 0, failed: 0, unavailable: 0, rejected: 0 };

  constructor(options: SettlerOptions) {
    if (options.fee < 0n) throw new AitbcError('COORD_BAD_CONFIG', 'fee must be ≥ 0');
    this.#o = { maxAttempts: 10, intervalMs: 1000, lockWaitMs: 600_000, maxBackoffMs: 60_000, ...options };
    for (const name of ['intervalMs', 'maxBackoffMs'] as const) {
      const v = this.#o[name];
      if (!Number.isSafeInteger(v) || v <= 0)
        throw new AitbcError('COORD_BAD_CONFIG', `${name} must be a positive integer`, { details: { field: name } });
    }
    this.#address = addressFromPublicKey(publicKeyFromSeed(options.coordinatorSeed));
  }

  /** Runs the settlement loop: a first pass now (open settlements from before a restart resume), then every `intervalMs`. */
  start(): void {
    if (this.#started) return;
    this.#started = true;
    this.#schedule(0);
  }

  /** Stops the loop and waits for a pass in progress. */
  async stop(): Promise<void> {
    this.#started = false;
    if (this.#timer !== undefined) clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#nextPassAt = undefined;
    await this.#running;
  }

  /** A settlement record. */
  async get(jobId: string): Promise<Settlement | undefined> {
    const v = await this.#o.store.get(settlementKey(jobId));
    return v === undefined ? undefined : (decodeSettlement(v) as Settlement);
  }

  /** The loop's state, for health checks and metrics. */
  status(): SettlerStatus {
    return {
      state: !this.#started ? 'stopped' : this.#failures > 0 ? 'backing-off' : 'ok',
      open: this.#open,
      consecutiveFailures: this.#failures,
      ...(this.#lastError !== undefined ? { lastError: this.#lastError } : {}),
      ...(this.#lastPassAt !== undefined ? { lastPassAt: this.#lastPassAt } : {}),
      ...(this.#nextPassAt !== undefined ? { nextPassAt: this.#nextPassAt } : {}),
      totals: { ...this.#totals },
    };
  }

  /**
   * One pass over open settlements (the loop runs one every `intervalMs`, or after its backoff).
   * Never rejects: a failure is recorded in {@link Settler.status} and reported to `onError`.
   */
  tick(): Promise<void> {
    this.#running ??= this.#guardedPass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  #schedule(delayMs: number): void {
    this.#nextPassAt = Date.now() + delayMs;
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      void this.tick().then(() => {
        if (this.#started && this.#timer === undefined) this.#schedule(this.#delay());
      });
    }, delayMs);
    this.#timer.unref?.();
  }

  /** `intervalMs` while passes run through; after failures it doubles per failure up to `maxBackoffMs`, with equal jitter. */
  #delay(): number {
    const { intervalMs, maxBackoffMs } = this.#o;
    if (this.#failures === 0) return intervalMs;
    const ceiling = Math.max(intervalMs, maxBackoffMs);
    const exp = Math.min(ceiling, intervalMs * 2 ** Math.min(this.#failures - 1, 30));
    return Math.round(exp / 2 + (Math.random() * exp) / 2);
  }

  async #guardedPass(): Promise<void> {
    try {
      await this.#pass();
      this.#failures = 0;
      this.#lastPassAt = Date.now();
    } catch (err) {
      this.#failures += 1;
      this.#totals.unavailable += 1;
      const error = isAitbcError(err, 'COORD_SETTLEMENT_UNAVAILABLE')
        ? err
        : this.#unavailable('store', undefined, err); // a bug or a store failure outside a guarded call
      this.#report(error);
    }
  }

  #unavailable(operation: SettlementOperation, jobId: string | undefined, cause: unknown): AitbcError {
    return new AitbcError(
      'COORD_SETTLEMENT_UNAVAILABLE',
      `settlement paused: the ${operation === 'store' ? 'coordinator store' : `gateway's ${operation}`} call failed (${codeOf(cause)}); retrying with backoff`,
      { details: { operation, ...(jobId !== undefined ? { jobId } : {}), cause: codeOf(cause) }, cause },
    );
  }

  #report(error: AitbcError): void {
    const d = error.details as { operation?: SettlementOperation; jobId?: string };
    this.#lastError = {
      code: error.code,
      message: error.message,
      operation: d.operation ?? 'store',
      ...(d.jobId !== undefined ? { jobId: d.jobId } : {}),
      at: Date.now(),
    };
    try {
      this.#o.onError?.(error);
    } catch {
      // a logger's failure never stops settlement
    }
  }

  /** A call that, when it fails, stops the pass with a `COORD_SETTLEMENT_UNAVAILABLE` error. */
  async #call<T>(operation: SettlementOperation, jobId: string | undefined, fn: () => Promise<T> | T): Promise<T> {
    try {
      return await fn();
    } catch (err) {
      throw this.#unavailable(operation, jobId, err);
    }
  }

  #save(s: Settlement): Promise<void> {
    if (s.state === 'final') this.#totals.final += 1;
    else if (s.state === 'failed') this.#totals.failed += 1;
    // fsync'd: a write-ahead record must survive a crash of the machine, not only of the process
    return this.#call('store', s.jobId, () =>
      this.#o.store.batch([{ type: 'put', key: settlementKey(s.jobId), value: encodeSettlement(s) }], { sync: true }),
    );
  }

  async #pass(): Promise<void> {
    const open: Settlement[] = [];
    await this.#call('store', undefined, async () => {
      for await (const s of settlementRecords(this.#o.store))
        if (s.state === 'pending' || s.state === 'submitted') open.push(s as Settlement);
    });
    // Transactions already signed go first: resent, they take their recorded nonces again before a
    // fresh nonce is derived for the others.
    open.sort((a, b) => Number(a.nonce === undefined) - Number(b.nonce === undefined));
    this.#open = open.length;
    let nonce: number | undefined;
    for (const s of open) {
      const onChain = await this.#call('escrow', s.jobId, () => this.#o.gateway.escrow(s.jobId));
      if (onChain === undefined && Date.now() - (s.createdAt ?? s.updatedAt) < this.#o.lockWaitMs) continue; // the lock may still land
      if (onChain?.status === 'settled') {
        // Paid: by this settler's transaction (perhaps sent before a crash), never by a second one.
        const { nonce: _paid, ...rest } = s;
        await this.#save({ ...rest, state: 'final', updatedAt: Date.now() });
        this.#open -= 1;
        continue;
      }
      const failure =
        onChain === undefined
          ? 'no escrow was locked for this job'
          : onChain.status === 'refunded'
            ? 'the escrow was refunded'
            : (s.rejections ?? 0) >= this.#o.maxAttempts
              ? 'too many attempts'
              : undefined;
      if (failure !== undefined) {
        const { nonce: _unused, ...rest } = s;
        await this.#save({ ...rest, state: 'failed', error: failure, updatedAt: Date.now() });
        this.#open -= 1;
        continue;
      }
      if (s.state === 'submitted' && Date.now() - s.updatedAt < this.#o.intervalMs * 5) continue; // give it time to land
      const receipt = await this.#call('store', s.jobId, () => this.#o.engine.receiptJson(s.jobId));
      if (receipt === undefined) {
        await this.#save({ ...s, state: 'failed', error: 'no receipt stored for the job', updatedAt: Date.now() });
        this.#open -= 1;
        continue;
      }
      // The same transaction again when one was signed (a lost one is re-added, a pending one is
      // "known"); otherwise a fresh nonce, derived from the chain and the node's pending transactions.
      const reused = s.nonce !== undefined;
      if (!reused && nonce === undefined)
        nonce = await this.#call('nextNonce', s.jobId, () => this.#o.gateway.nextNonce(this.#address));
      const txNonce = s.nonce ?? nonce!;
      let signed: { id: string; json: Record<string, unknown> };
      try {
        signed = this.#o.sign(
          { chainId: this.#o.chainId, from: this.#address, nonce: txNonce, fee: this.#o.fee, jobId: s.jobId, receipt },
          this.#o.coordinatorSeed,
        );
      } catch (err) {
        await this.#rejected(s, err);
        continue;
      }
      // Write-ahead: the nonce and id are durable before the transaction leaves, so a crash or a lost
      // answer leads to resending this very transaction, never to a second one.
      const sent: Settlement = {
        ...s,
        state: 'submitted',
        txId: signed.id,
        nonce: txNonce,
        attempts: s.attempts + 1,
        updatedAt: Date.now(),
      };
      await this.#save(sent);
      if (!reused) nonce = txNonce + 1;
      try {
        await this.#o.gateway.submit(signed.json);
        this.#totals.submitted += 1;
      } catch (err) {
        const kind = classifySubmitError(err);
        if (kind === 'outage') {
          // Unknown whether it arrived: the next pass sends this very transaction again, at once.
          await this.#save({ ...sent, state: 'pending', updatedAt: Date.now() });
          throw this.#unavailable('submit', s.jobId, err);
        }
        if (!reused) nonce = undefined; // re-derive from the chain for the next one
        const { nonce: _stale, ...rest } = sent;
        if (kind === 'rejected') {
          await this.#rejected(rest, err);
        } else {
          // 'nonce': the nonce was used, or is held by another pending transaction: a fresh one next
          // pass (if it was this settlement's own transaction, the escrow shows settled by then).
          // 'closed': the escrow is settled or refunded; the next pass reads which.
          await this.#save({
            ...rest,
            state: 'pending',
            error: `${codeOf(err)}: ${(err as Error).message}`,
            updatedAt: Date.now(),
          });
        }
      }
    }
  }

  /** The chain refused this settlement's transaction: counted towards `maxAttempts`, retried with a fresh nonce. */
  async #rejected(s: Settlement, err: unknown): Promise<void> {
    this.#totals.rejected += 1;
    const message = isAitbcError(err) ? `${err.code}: ${err.message}` : 'the transaction could not be signed';
    const error = new AitbcError('COORD_SETTLEMENT_REJECTED', `the settlement of ${s.jobId} was refused: ${message}`, {
      details: { operation: 'submit', jobId: s.jobId, cause: codeOf(err), rejections: (s.rejections ?? 0) + 1 },
      cause: err,
    });
    this.#report(error);
    await this.#save({
      ...s,
      state: 'pending',
      rejections: (s.rejections ?? 0) + 1,
      error: message,
      updatedAt: Date.now(),
    });
  }
}
