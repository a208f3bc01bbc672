import type { Mempool } from '@aitbc/chain-core';
import type { AitbcError } from '@aitbc/crypto';
import { type JsonObject, type NodeBackend, overrideBackend, rpcError, submitThenRelease } from '@aitbc/rpc';

/** Options of {@link createAdmissionControl}. */
export interface AdmissionControlOptions {
  /**
   * The backlog admitted, as time of measured finalized throughput (ms): with a finalized rate of
   * 2,000 tx/s and 1,500 ms, new submissions are refused while 3,000 transactions wait. `0` turns
   * admission control off (every submission is let through).
   */
  readonly budgetMs: number;
  /** A backlog always admitted, whatever was measured: a fresh or idle node finalized nothing yet. */
  readonly minBacklogTxs: number;
  /** The window the finalized rate is measured over (ms). */
  readonly windowMs: number;
  /**
   * The node's backlog now, without the submissions this controller let through and that are not
   * answered yet (it adds those itself): pending transactions (mempool) and gossiped ones waiting
   * for admission.
   */
  readonly backlog: () => number;
  /**
   * How many nodes may be admitting submissions at the same moment: this one and its peers (default
   * 1). Each node sees the others' submissions only once they are admitted and gossiped, so N nodes
   * that all let the headroom in at once would overshoot the limit N-fold; each counts its own
   * submissions in flight this many times instead, so that together they stay within it.
   */
  readonly inFlightWeight?: () => number;
  /**
   * Submissions {@link AdmissionControl.guard} admits whatever the backlog (default: none), for
   * {@link fillsNonceGap}: the transaction the sender's pending ones wait for. Refusing it would
   * strand work already accepted — and with the backlog full of such stranded transactions, which no
   * block can take, the measured rate would fall to nothing and admission would stall for good.
   */
  readonly unblocks?: (tx: JsonObject) => boolean | Promise<boolean>;
  /** Clock (ms; default `Date.now`). Tests pass their own. */
  readonly now?: () => number;
  /** Longest `Retry-After` given (s, default 10). */
  readonly maxRetryAfterSeconds?: number;
  /** Called for each submission refused (e.g. a counter). */
  readonly onRefused?: () => void;
}

/** What {@link AdmissionControl.status} reports. */
export interface AdmissionStatus {
  /** Transactions finalized per second over the window (what the network cleared, seen from here). */
  readonly capacityTxsPerSecond: number;
  /** The backlog past which submissions are refused. */
  readonly limitTxs: number;
  /** The backlog now, with the submissions in flight counted `inFlightWeight` times. */
  readonly backlogTxs: number;
  /** Submissions let through and not answered yet. */
  readonly inFlightTxs: number;
}

/** Edge admission of submitted transactions from the node's measured capacity; see {@link createAdmissionControl}. */
export interface AdmissionControl {
  /** Records a committed block of `txs` transactions (every import: own engine or block sync). */
  recordCommit(txs: number): void;
  /**
   * Lets one submission through, or throws `RPC_BUSY` (HTTP 503, `details.retryAfterSeconds` — the
   * node API turns it into `Retry-After`). The submission counts in the backlog until `release()`.
   */
  admit(): () => void;
  /**
   * Wraps a backend's `submitTx` with {@link AdmissionControl.admit} (and lets through what `unblocks`
   * accepts); every other member is the backend's own.
   */
  guard<B extends NodeBackend>(backend: B): B;
  status(): AdmissionStatus;
}

interface Commit {
  readonly at: number;
  readonly txs: number;
}

/**
 * Admission control at the node's edge. A network offered more than it can finalize queues the
 * excess somewhere: in the mempools, and in each node's intake of gossiped transactions (every node
 * verifies every signature once). Queued transactions are finalized late (seconds, then tens of
 * seconds) or dropped by gossip after the client was told they were accepted. This controller
 * refuses new API submissions with `RPC_BUSY` (503, `Retry-After`) while the node's backlog is more
 * than the network clears in `budgetMs`, so that the excess is shed at the edge and what is accepted
 * is finalized within about the budget.
 *
 * The capacity is measured, not configured: the transactions committed over the last `windowMs`
 * (all blocks this node imported) per second. A network below its capacity finalizes what it is
 * offered and keeps a backlog of about a block time of it, below the limit; past its capacity, the
 * limit follows what the network actually finalizes, on a fast or a slow machine alike. The limit
 * never falls below `minBacklogTxs`, so a fresh or idle node (nothing finalized yet) admits.
 * `Retry-After` is the time the measured rate needs to clear the excess (at least 1 s).
 *
 * @example
 * ```ts
 * const admission = createAdmissionControl({
 *   budgetMs: 1500, minBacklogTxs: 1000, windowMs: 5000,
 *   backlog: () => mempool.size + intake.pendingTxs,
 * });
 * chain.onBlock((block) => admission.recordCommit(block.txs.length));
 * const server = createNodeApiServer({ backend: admission.guard(backend) });
 * ```
 */
export function createAdmissionControl(options: AdmissionControlOptions): AdmissionControl {
  const now = options.now ?? Date.now;
  const maxRetry = options.maxRetryAfterSeconds ?? 10;
  const enabled = options.budgetMs > 0;
  let inFlight = 0;
  const weight = () => Math.max(1, options.inFlightWeight?.() ?? 1);
  const backlogNow = () => options.backlog() + inFlight * weight();
  const startedAt = now();
  const commits: Commit[] = [];
  let inWindow = 0;

  const prune = (t: number) => {
    while (commits.length > 0 && (commits[0] as Commit).at <= t - options.windowMs)
      inWindow -= (commits.shift() as Commit).txs;
  };
  /** Finalized tx/s over the window (over the time since start while that is shorter, at least 1 s). */
  const capacity = (t: number) => {
    prune(t);
    const span = Math.min(options.windowMs, Math.max(1000, t - startedAt));
    return (inWindow * 1000) / span;
  };
  const limitAt = (rate: number) => Math.max(options.minBacklogTxs, Math.floor((rate * options.budgetMs) / 1000));

  const status = (): AdmissionStatus => {
    const rate = capacity(now());
    return {
      capacityTxsPerSecond: rate,
      limitTxs: limitAt(rate),
      backlogTxs: backlogNow(),
      inFlightTxs: inFlight,
    };
  };

  /** The RPC_BUSY error when the backlog is past the limit, else undefined. */
  const refusal = (): AitbcError | undefined => {
    if (!enabled) return undefined;
    const rate = capacity(now());
    const limit = limitAt(rate);
    const backlog = backlogNow();
    if (backlog < limit) return undefined;
    // The time the network needs to clear the excess; without commits, the rate the floor stands for.
    const clears = Math.max(rate, (options.minBacklogTxs * 1000) / options.budgetMs);
    const retryAfterSeconds = Math.min(maxRetry, Math.max(1, Math.ceil((backlog - limit + 1) / clears)));
    // Refusals come by the thousand per second under overload: no stack trace to capture.
    const stackTraceLimit = Error.stackTraceLimit;
    Error.stackTraceLimit = 0;
    try {
      return rpcError(
        'RPC_BUSY',
        `the node is past its capacity (${backlog} transactions waiting, limit ${limit} at ${Math.round(rate)} tx/s finalized); retry later`,
        { backlog, limit, capacityTxsPerSecond: Math.round(rate), retryAfterSeconds },
      );
    } finally {
      Error.stackTraceLimit = stackTraceLimit;
    }
  };
  const enter = (): (() => void) => {
    inFlight++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      inFlight--;
    };
  };
  const admit = (): (() => void) => {
    const err = refusal();
    if (err !== undefined) {
      options.onRefused?.();
      throw err;
    }
    return enter();
  };

  return {
    recordCommit(txs) {
      if (txs <= 0) return;
      const t = now();
      commits.push({ at: t, txs });
      inWindow += txs;
      prune(t);
    },
    admit,
    guard<B extends NodeBackend>(backend: B): B {
      const submit = (tx: JsonObject, release: () => void) => submitThenRelease(() => backend.submitTx(tx), release);
      const submitTx: NodeBackend['submitTx'] = (tx) => {
        const err = refusal();
        if (err === undefined) return submit(tx, enter());
        const unblocks = options.unblocks?.(tx) ?? false;
        const refuse = () => {
          options.onRefused?.();
          throw err;
        };
        if (unblocks === true) return submit(tx, enter());
        if (unblocks === false) return refuse();
        return unblocks.then((yes) => (yes ? submit(tx, enter()) : refuse()));
      };
      return overrideBackend(backend, { submitTx });
    },
    status,
  };
}

/**
 * For {@link AdmissionControlOptions.unblocks}: whether a submitted transaction (wire JSON) is the one
 * its sender's pending transactions wait for — its nonce is the sender's next on chain, and a higher
 * one is pending (a gap left by an earlier refusal). Only the head of the gap: what it lets through
 * is at most one transaction per waiting sender per block, each making pending work includable.
 *
 * @example
 * ```ts
 * const admission = createAdmissionControl({ ...options, unblocks: fillsNonceGap(mempool, (a) => chain.account(a)) });
 * ```
 */
export function fillsNonceGap(
  mempool: Pick<Mempool, 'highestPendingNonce'>,
  account: (address: string) => Promise<{ readonly nonce: number }>,
): (tx: JsonObject) => boolean | Promise<boolean> {
  return (tx) => {
    const { from, nonce } = tx;
    if (typeof from !== 'string' || typeof nonce !== 'number') return false;
    const top = mempool.highestPendingNonce(from);
    if (top === undefined || nonce >= top) return false;
    return account(from).then(
      (a) => a.nonce === nonce,
      () => false,
    );
  };
}
