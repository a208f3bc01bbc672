import type { KVStore } from '@aitbc/chain-core';
import {
  AitbcError,
  addressFromPublicKey,
  bytesToUtf8,
  isAitbcError,
  publicKeyFromSeed,
  utf8ToBytes,
} from '@aitbc/crypto';
import type { Job } from './job.js';
import type { JobEngine } from './jobEngine.js';

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
 * A settlement record (persisted).
 *
 * @example
 * ```ts
 * import type { Settlement } from '@aitbc/coordinator';
 * const s: Settlement | undefined = await settler.get(jobId);
 * if (s?.state === 'final') console.log(`paid by ${s.txId} after ${s.attempts} attempt(s)`);
 * ```
 */
export interface Settlement {
  readonly jobId: string;
  readonly state: SettlementState;
  readonly txId?: string;
  readonly attempts: number;
  readonly error?: string;
  /** When the settlement was recorded (ms); absent in records written before this field existed. */
  readonly createdAt?: number;
  readonly updatedAt: number;
}

/**
 * Options of {@link Settler}.
 *
 * @example
 * ```ts
 * import { Settler, type SettlerOptions } from '@aitbc/coordinator';
 * const options: SettlerOptions = { engine, store, gateway, sign, chainId: 'aitbc-devnet', coordinatorSeed, fee: 1n, intervalMs: 2_000 };
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
  /** Attempts before a settlement is marked failed (default 10). */
  readonly maxAttempts?: number;
  /** Interval of the settlement loop (ms, default 1,000). */
  readonly intervalMs?: number;
  /**
   * How long a completed job waits for its client's `escrow.lock` to be final before the settlement
   * is marked failed (ms, default 600,000). Clients lock after the coordinator has assigned the job
   * id, so a fast miner can finish before the lock lands.
   */
  readonly lockWaitMs?: number;
}

const PREFIX = 'coord/settle/';

/**
 * Settles completed jobs on chain: for each COMPLETED job it waits (up to `lockWaitMs`) until the
 * client's escrow lock is on chain, submits `escrow.settle` with the attested receipt, then tracks the
 * escrow until the chain shows it settled. Idempotent and restart-safe:
 * settlements are persisted, a job already settled on chain is marked final without a new
 * transaction, and a rejected or lost transaction is retried (with a fresh nonce) up to `maxAttempts`.
 * The chain itself refuses a second settlement of one escrow, so a job is never paid twice.
 *
 * @example
 * ```ts
 * import { Settler } from '@aitbc/coordinator';
 * const settler = new Settler({ engine, store, gateway, sign, chainId: 'aitbc-devnet', coordinatorSeed, fee: 1n });
 * settler.start(); // settles every COMPLETED job; resumes pending ones after a restart
 * const settlement = await settler.get(jobId); // { state: 'pending' | 'submitted' | 'final' | 'failed', … }
 * await settler.stop();
 * ```
 */
export class Settler {
  readonly #o: Required<SettlerOptions>;
  readonly #address: string;
  #timer: ReturnType<typeof setInterval> | undefined;
  #running: Promise<void> | undefined;
  #unsubscribe: (() => void) | undefined;

  constructor(options: SettlerOptions) {
    if (options.fee < 0n) throw new AitbcError('COORD_BAD_CONFIG', 'fee must be ≥ 0');
    this.#o = { maxAttempts: 10, intervalMs: 1000, lockWaitMs: 600_000, ...options };
    this.#address = addressFromPublicKey(publicKeyFromSeed(options.coordinatorSeed));
  }

  /** Watches completions and runs the settlement loop. Pending settlements from before a restart resume. */
  start(): void {
    this.#unsubscribe = this.#o.engine.onTransition((job) => {
      if (job.state === 'COMPLETED') void this.#enqueue(job).catch(() => undefined);
    });
    this.#timer = setInterval(() => void this.tick(), this.#o.intervalMs);
    this.#timer.unref?.();
  }

  async stop(): Promise<void> {
    this.#unsubscribe?.();
    if (this.#timer !== undefined) clearInterval(this.#timer);
    await this.#running;
  }

  /** A settlement record. */
  async get(jobId: string): Promise<Settlement | undefined> {
    const v = await this.#o.store.get(utf8ToBytes(PREFIX + jobId));
    return v === undefined ? undefined : (JSON.parse(bytesToUtf8(v)) as Settlement);
  }

  /** One pass over unfinished settlements (also run every `intervalMs`). */
  tick(): Promise<void> {
    this.#running ??= this.#pass().finally(() => {
      this.#running = undefined;
    });
    return this.#running;
  }

  async #enqueue(job: Job): Promise<void> {
    if ((await this.get(job.id)) !== undefined) return;
    const now = Date.now();
    await this.#save({ jobId: job.id, state: 'pending', attempts: 0, createdAt: now, updatedAt: now });
  }

  async #save(s: Settlement): Promise<void> {
    await this.#o.store.put(utf8ToBytes(PREFIX + s.jobId), utf8ToBytes(JSON.stringify(s)));
  }

  async #pass(): Promise<void> {
    const open: Settlement[] = [];
    for await (const [, v] of this.#o.store.iterate({ gte: utf8ToBytes(PREFIX), lt: utf8ToBytes('coord/settle0') })) {
      const s = JSON.parse(bytesToUtf8(v)) as Settlement;
      if (s.state === 'pending' || s.state === 'submitted') open.push(s);
    }
    let nonce: number | undefined;
    for (const s of open) {
      const onChain = await this.#o.gateway.escrow(s.jobId);
      if (onChain === undefined && Date.now() - (s.createdAt ?? s.updatedAt) < this.#o.lockWaitMs) continue; // the lock may still land
      if (onChain?.status === 'settled') {
        await this.#save({ ...s, state: 'final', updatedAt: Date.now() });
        continue;
      }
      const failure =
        onChain === undefined
          ? 'no escrow was locked for this job'
          : onChain.status === 'refunded'
            ? 'the escrow was refunded'
            : s.attempts >= this.#o.maxAttempts
              ? 'too many attempts'
              : undefined;
      if (failure !== undefined) {
        await this.#save({ ...s, state: 'failed', error: failure, updatedAt: Date.now() });
        continue;
      }
      if (s.state === 'submitted' && Date.now() - s.updatedAt < this.#o.intervalMs * 5) continue; // give it time to land
      const receipt = await this.#o.engine.receiptJson(s.jobId);
      if (receipt === undefined) {
        await this.#save({ ...s, state: 'failed', error: 'no receipt stored for the job', updatedAt: Date.now() });
        continue;
      }
      try {
        nonce ??= await this.#o.gateway.nextNonce(this.#address);
        const { json } = this.#o.sign(
          { chainId: this.#o.chainId, from: this.#address, nonce, fee: this.#o.fee, jobId: s.jobId, receipt },
          this.#o.coordinatorSeed,
        );
        const txId = await this.#o.gateway.submit(json);
        nonce += 1;
        await this.#save({ ...s, state: 'submitted', txId, attempts: s.attempts + 1, updatedAt: Date.now() });
      } catch (err) {
        nonce = undefined; // re-read the nonce next time
        const message = isAitbcError(err) ? `${err.code}: ${err.message}` : 'submission failed';
        await this.#save({ ...s, attempts: s.attempts + 1, error: message, updatedAt: Date.now() });
      }
    }
  }
}
