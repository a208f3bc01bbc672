import type { JsonObject } from '@aitbc/rpc';

/** Options of {@link createTxIntake}. */
export interface TxIntakeOptions {
  /** Most transactions queued and not yet admitted. */
  readonly maxTxs: number;
  /** Most bytes (of the frames the queued batches came in) queued and not yet admitted. */
  readonly maxBytes: number;
  /** Admits one batch: decodes, verifies and inserts its transactions (one batch at a time, in order). */
  readonly admit: (batch: readonly JsonObject[]) => Promise<void>;
  /** Called with the queued transaction count whenever it changes (a gauge). */
  readonly onPending?: (txs: number) => void;
  /** Called with the size of each batch dropped because it did not fit (a counter). */
  readonly onDropped?: (txs: number) => void;
  /** Called when `admit` fails; the queue goes on with the next batch. */
  readonly onError?: (error: unknown) => void;
}

/** The queue of gossiped transaction batches waiting for admission; see {@link createTxIntake}. */
export interface TxIntake {
  /**
   * Queues a batch that came in a frame of `bytes` bytes; `false` when it does not fit (nothing is
   * queued then). A batch always fits an empty queue, so bounds below one batch cannot starve intake.
   */
  offer(batch: readonly JsonObject[], bytes: number): boolean;
  /** Transactions queued and not yet admitted. */
  readonly pendingTxs: number;
  /** Bytes of the frames of the queued batches. */
  readonly pendingBytes: number;
  /** Transactions dropped so far. */
  readonly droppedTxs: number;
  /** Resolves once every batch queued so far was admitted (or failed). */
  idle(): Promise<void>;
}

/**
 * A bounded, serial queue for transactions that peers gossip. Admission is CPU-bound (each signature
 * is verified once per node), so a node that falls behind — a flood, or a machine that is briefly slow —
 * would otherwise queue parsed batches without bound: memory grows, and transactions wait seconds
 * before any block can include them. Past the bounds a batch is dropped, which loses nothing: gossip is
 * best effort, the peers that sent it keep the transactions in their mempools, and a block that includes
 * one is verified as it is imported. The sending peer is not scored down (an honest node relays at
 * whatever rate its clients submit).
 *
 * @example
 * ```ts
 * const intake = createTxIntake({ maxTxs: 20_000, maxBytes: 64 << 20, admit: (txs) => admitAll(txs) });
 * network.on('gossip', (e) => {
 *   if (e.kind === 'tx' && !intake.offer(e.body.txs as JsonObject[], e.bytes)) log.debug('intake full');
 * });
 * ```
 */
export function createTxIntake(options: TxIntakeOptions): TxIntake {
  let tail: Promise<void> = Promise.resolve();
  let pendingTxs = 0;
  let pendingBytes = 0;
  let droppedTxs = 0;
  return {
    offer(batch, bytes) {
      const fits =
        pendingTxs === 0 || (pendingTxs + batch.length <= options.maxTxs && pendingBytes + bytes <= options.maxBytes);
      if (!fits) {
        droppedTxs += batch.length;
        options.onDropped?.(batch.length);
        return false;
      }
      pendingTxs += batch.length;
      pendingBytes += bytes;
      options.onPending?.(pendingTxs);
      tail = tail
        .then(() => options.admit(batch))
        .catch((error: unknown) => options.onError?.(error))
        .then(() => {
          pendingTxs -= batch.length;
          pendingBytes -= bytes;
          options.onPending?.(pendingTxs);
        });
      return true;
    },
    get pendingTxs() {
      return pendingTxs;
    },
    get pendingBytes() {
      return pendingBytes;
    },
    get droppedTxs() {
      return droppedTxs;
    },
    idle: () => tail,
  };
}
