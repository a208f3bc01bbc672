import { DEFAULT_PARAMS, type TxBody } from '@aitbc/chain-core';
import { AitbcError, isAitbcError } from '@aitbc/crypto';
import type { Receipt, ReceiptVerification } from '@aitbc/receipts';
import type { CoordinatorApi, CoordinatorJob, JobSubmission } from './coordinatorApi.js';
import { type CallOptions, newIdempotencyKey, sleep } from './httpTransport.js';
import type { TxSigner } from './localSigner.js';
import type { NodeApi, NodeEscrow } from './nodeApi.js';
import { assertReceiptTrusted, type ReceiptTrust } from './receiptTrust.js';
import type { WalletApi } from './walletApi.js';

/**
 * Progress of {@link runJob}, in order.
 *
 * @example
 * ```ts
 * import type { JobProgress } from '@aitbc/sdk';
 * const onProgress = (e: JobProgress) => console.log(e.type === 'state' ? e.job.state : e.type);
 * await client.jobs.run({ kind: 'hash', input, maxPrice: 10n ** 15n, wallet: signer, onProgress });
 * ```
 */
export type JobProgress =
  | { readonly type: 'submitted'; readonly job: CoordinatorJob }
  | { readonly type: 'escrow_submitted'; readonly txId: string }
  | { readonly type: 'escrow_locked'; readonly escrow: NodeEscrow }
  | { readonly type: 'state'; readonly job: CoordinatorJob }
  | { readonly type: 'receipt_verified'; readonly receipt: Receipt; readonly verification: ReceiptVerification };

/**
 * Who pays: a signer (the SDK signs and submits) or a wallet-daemon wallet with an unlocked session.
 *
 * @example
 * ```ts
 * import type { JobPayer } from '@aitbc/sdk';
 * const { session } = await client.wallet.unlock(walletId, { passphrase });
 * const payer: JobPayer = { walletId, session }; // or a TxSigner such as createLocalSigner(seed)
 * ```
 */
export type JobPayer = TxSigner | { readonly walletId: string; readonly session: string };

/**
 * Parameters of {@link runJob}.
 *
 * @example
 * ```ts
 * import type { RunJobParams } from '@aitbc/sdk';
 * const params: RunJobParams = { kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 10n ** 15n, wallet: signer, escrowTtlBlocks: 500 };
 * const run = await client.jobs.run(params);
 * ```
 */
export interface RunJobParams extends JobSubmission, CallOptions {
  /** Pays the escrow. */
  readonly wallet: JobPayer;
  /** The coordinator's chain address named in the lock (default: the client's `coordinatorAddress`). */
  readonly coordinatorAddress?: string;
  /** Keys the receipt must verify under (default: the client's `trust`). */
  readonly trust?: ReceiptTrust;
  /** Escrow lifetime in blocks after the current head (default 1 000): after it the client may refund. */
  readonly escrowTtlBlocks?: number;
  /** Fee of the lock transaction (default: the chain's default minimum fee). */
  readonly fee?: bigint;
  /** How long to wait for the lock to be final on chain (ms, default 60 000). */
  readonly escrowWaitMs?: number;
  /** Progress callback. */
  readonly onProgress?: (event: JobProgress) => void;
}

/**
 * The outcome of {@link runJob}.
 *
 * @example
 * ```ts
 * const { job, output, receipt, verification, escrowTxId } = await client.jobs.run(params);
 * console.log(job.state, receipt.price, verification.ok, escrowTxId);
 * ```
 */
export interface JobRun {
  readonly job: CoordinatorJob;
  readonly output: unknown;
  readonly receipt: Receipt;
  readonly verification: ReceiptVerification;
  /** The `escrow.lock` transaction id. */
  readonly escrowTxId: string;
}

/**
 * What {@link runJob} needs from the client.
 *
 * @example
 * ```ts
 * import { runJob, type RunJobContext } from '@aitbc/sdk';
 * declare const ctx: RunJobContext; // what createClient wires: node, coordinator, wallet, nonces…
 * const run = await runJob(ctx, { kind: 'hash', input, maxPrice: 10n ** 15n, wallet: signer });
 * ```
 */
export interface RunJobContext {
  readonly node: NodeApi;
  readonly coordinator: CoordinatorApi;
  readonly wallet: WalletApi | undefined;
  readonly coordinatorAddress: string | undefined;
  readonly trust: ReceiptTrust | undefined;
  /** Resolves the chain id (configured, or read from the head block). */
  chainId(options: CallOptions): Promise<string>;
  /** Next nonce to use for an address (tracks this client's pending transactions). */
  nextNonce(address: string, options: CallOptions): Promise<number>;
  /** Forgets the tracked nonce of an address (after a failed submission), so the next one re-reads the chain. */
  resetNonce(address: string): void;
}

async function lockEscrow(
  ctx: RunJobContext,
  payer: JobPayer,
  lock: { jobId: string; amount: bigint; coordinator: string; expiresAtHeight: number },
  fee: bigint | undefined,
  call: CallOptions,
): Promise<string> {
  if ('walletId' in payer) {
    if (ctx.wallet === undefined)
      throw new AitbcError('SDK_BAD_CONFIG', 'paying from a wallet needs the wallet daemon URL');
    const r = await ctx.wallet.send(
      payer.walletId,
      { session: payer.session, tx: { type: 'escrow.lock', ...lock }, ...(fee !== undefined ? { fee } : {}) },
      call,
    );
    return r.id.startsWith('0x') ? r.id : `0x${r.id}`;
  }
  const chainId = await ctx.chainId(call);
  const body: TxBody = {
    type: 'escrow.lock',
    chainId,
    from: payer.address,
    nonce: await ctx.nextNonce(payer.address, call),
    fee: fee ?? DEFAULT_PARAMS.minFee,
    ...lock,
  };
  try {
    return await ctx.node.sendTx(await payer.signTx(body), call);
  } catch (err) {
    ctx.resetNonce(payer.address);
    throw err;
  }
}

async function waitForEscrow(node: NodeApi, jobId: string, waitMs: number, call: CallOptions): Promise<NodeEscrow> {
  const end = Date.now() + waitMs;
  let interval = 50;
  for (;;) {
    try {
      const e = await node.escrow(jobId, call);
      if (e.status === 'locked' || e.status === 'settled') return e;
    } catch (err) {
      if (!isAitbcError(err, 'RPC_NOT_FOUND')) throw err;
    }
    if (Date.now() + interval > end)
      throw new AitbcError('SDK_TIMEOUT', `the escrow of ${jobId} was not final within ${waitMs} ms`, {
        details: { jobId, waitMs },
      });
    await sleep(interval, call.signal);
    interval = Math.min(500, interval * 2);
  }
}

/**
 * Runs one paid job end to end: submit it to the coordinator (with an idempotency key), lock
 * `maxPrice` in escrow on chain for its id (through the wallet daemon's send, or a signer), wait
 * until the lock is final, wait for the job, fetch the result and the receipt, and verify the
 * receipt against pinned keys. The coordinator settles the escrow afterwards (the miner is paid the
 * receipt's price, the rest returns to the client).
 *
 * The job id is assigned by the coordinator, so the lock follows the submission; a job that fails,
 * is canceled or expires rejects with `SDK_JOB_FAILED` and its escrow can be refunded after
 * `expiresAtHeight`. Aborting cancels the job (best effort) and rejects with `SDK_ABORTED`; so
 * does a lock that fails or is not final in time (the job would never be paid).
 *
 * @throws AitbcError `SDK_BAD_CONFIG`, `SDK_JOB_FAILED`, `SDK_RECEIPT_UNTRUSTED`, `SDK_TIMEOUT`,
 *   `SDK_ABORTED`, or a server's `ApiError`.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * try {
 *   const run = await client.jobs.run({ kind: 'hash', input: { data: 'aGVsbG8' }, maxPrice: 10n ** 15n, wallet: signer });
 * } catch (e) {
 *   if (isAitbcError(e) && e.code === 'SDK_JOB_FAILED') console.log('refund the escrow after it expires');
 * }
 * ```
 */
export async function runJob(ctx: RunJobContext, params: RunJobParams): Promise<JobRun> {
  const coordinatorAddress = params.coordinatorAddress ?? ctx.coordinatorAddress;
  if (coordinatorAddress === undefined)
    throw new AitbcError('SDK_BAD_CONFIG', "the escrow names the coordinator's chain address: set coordinatorAddress");
  const trust = params.trust ?? ctx.trust;
  if (trust === undefined)
    throw new AitbcError('SDK_BAD_CONFIG', 'pin the coordinator keys (trust) to verify the receipt');
  const call: CallOptions = {
    ...(params.signal !== undefined ? { signal: params.signal } : {}),
    ...(params.timeoutMs !== undefined ? { timeoutMs: params.timeoutMs } : {}),
    ...(params.retries !== undefined ? { retries: params.retries } : {}),
  };
  const progress = params.onProgress ?? (() => undefined);
  const submission: JobSubmission = {
    kind: params.kind,
    input: params.input,
    maxPrice: params.maxPrice,
    ...(params.requirements !== undefined ? { requirements: params.requirements } : {}),
    ...(params.ttlMs !== undefined ? { ttlMs: params.ttlMs } : {}),
    ...(params.bidId !== undefined ? { bidId: params.bidId } : {}),
  };
  const job = await ctx.coordinator.jobs.submit(submission, {
    ...call,
    idempotencyKey: params.idempotencyKey ?? newIdempotencyKey(),
  });
  progress({ type: 'submitted', job });
  let locked = false;
  try {
    const head = await ctx.node.head(call);
    const txId = await lockEscrow(
      ctx,
      params.wallet,
      {
        jobId: job.job_id,
        amount: params.maxPrice,
        coordinator: coordinatorAddress,
        expiresAtHeight: head.height + (params.escrowTtlBlocks ?? 1_000),
      },
      params.fee,
      call,
    );
    progress({ type: 'escrow_submitted', txId });
    progress({
      type: 'escrow_locked',
      escrow: await waitForEscrow(ctx.node, job.job_id, params.escrowWaitMs ?? 60_000, call),
    });
    locked = true;
    const done = await ctx.coordinator.jobs.wait(job.job_id, {
      ...call,
      onState: (j) => progress({ type: 'state', job: j }),
    });
    if (done.state !== 'COMPLETED')
      throw new AitbcError('SDK_JOB_FAILED', `job ${done.job_id} ended ${done.state}`, {
        details: { jobId: done.job_id, state: done.state, error: done.error },
      });
    const result = await ctx.coordinator.jobs.result(done.job_id, call);
    let receipt: Receipt | undefined;
    for await (const r of ctx.coordinator.jobs.receipts(done.job_id, { ...call, maxItems: 1 })) receipt = r;
    if (receipt === undefined)
      throw new AitbcError('SDK_RECEIPT_UNTRUSTED', 'the completed job has no receipt', {
        details: { jobId: done.job_id },
      });
    const verification = assertReceiptTrusted(receipt, trust);
    if (receipt.job_id !== done.job_id || receipt.client !== done.client)
      throw new AitbcError('SDK_RECEIPT_UNTRUSTED', 'the receipt is for another job or client', {
        details: { jobId: done.job_id },
      });
    progress({ type: 'receipt_verified', receipt, verification });
    return { job: done, output: result.output, receipt, verification, escrowTxId: txId };
  } catch (err) {
    // A job that will not be paid (no final lock) or that the caller gave up on is canceled.
    if (!locked || params.signal?.aborted) {
      await ctx.coordinator.jobs.cancel(job.job_id, { retries: 0, timeoutMs: 5_000 }).catch(() => undefined);
    }
    throw err;
  }
}
