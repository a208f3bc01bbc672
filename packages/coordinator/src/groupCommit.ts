import type { BatchOp, KVStore } from '@aitbc/chain-core';

/**
 * Durable writes with group commit: every `write` is one atomic part of a `sync: true` batch, and
 * writes that arrive while a batch is in flight (or in the same turn of the event loop) share the
 * next single fsync'd batch. Each caller resolves only once its own ops are durable, so throughput is
 * not capped by the disk's fsync rate.
 * @internal
 */
export class GroupCommit {
  readonly #store: KVStore;
  readonly #pending: { ops: readonly BatchOp[]; resolve: () => void; reject: (e: unknown) => void }[] = [];
  #flushing = false;

  constructor(store: KVStore) {
    this.#store = store;
  }

  /** Resolves once `ops` are durable (or rejects with the store's error; then none of them is written). */
  write(ops: readonly BatchOp[]): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      this.#pending.push({ ops, resolve, reject });
      if (!this.#flushing) void this.#flush();
    });
  }

  async #flush(): Promise<void> {
    this.#flushing = true;
    // Let the current turn's writes join the batch: the continuations of the callers that the
    // previous batch released (a miner's next poll → its assignment) run before the next batch is cut,
    // so they share its fsync instead of waiting for one more.
    do {
      await new Promise<void>((resolve) => setImmediate(resolve));
      const group = this.#pending.splice(0, this.#pending.length);
      const ops: BatchOp[] = [];
      for (const g of group) for (const op of g.ops) ops.push(op);
      try {
        await this.#store.batch(ops, { sync: true });
        for (const g of group) g.resolve();
      } catch (err) {
        for (const g of group) g.reject(err);
      }
    } while (this.#pending.length > 0);
    this.#flushing = false;
  }
}
