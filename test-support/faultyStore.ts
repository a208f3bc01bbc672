import type { BatchOp, BatchOptions, IterateOptions, KVStore } from '@aitbc/chain-core';
import { AitbcError } from '@aitbc/crypto';

/**
 * A test-only fault-injecting {@link KVStore}: wraps a real store and, once {@link FaultyKVStore.failWrites}
 * is called, rejects every write the way `LevelKVStore` does on a full disk (`STORAGE_FULL`, writes
 * suspended until `reopen()` succeeds), while reads go on. {@link FaultyKVStore.heal} makes room again;
 * `reopen()` then succeeds and writes are accepted. Never used by production code.
 */
export class FaultyKVStore implements KVStore {
  readonly #inner: KVStore;
  #failing: AitbcError | undefined;
  #suspended: AitbcError | undefined;
  /** Writes refused so far. */
  refusedWrites = 0;
  /** Reopens attempted so far. */
  reopens = 0;
  readonly getSync?: (key: Uint8Array) => Uint8Array | undefined;

  constructor(inner: KVStore) {
    this.#inner = inner;
    if (inner.getSync !== undefined) this.getSync = (key) => inner.getSync!(key);
  }

  /** From now on every write fails (`STORAGE_FULL` by default, as a full disk). */
  failWrites(code = 'STORAGE_FULL', message = 'no space left on device (ENOSPC) at /test/000003.log'): void {
    this.#failing = new AitbcError(code, message, { details: { errno: code === 'STORAGE_FULL' ? 'ENOSPC' : null } });
  }

  /** Space is free again: the next `reopen()` succeeds (writes stay suspended until then). */
  heal(): void {
    this.#failing = undefined;
  }

  /** The failure that suspended writes, as `LevelKVStore.writeFailure`. */
  get writeFailure(): AitbcError | undefined {
    return this.#suspended;
  }

  /** As `LevelKVStore.reopen`: fails while the fault lasts, else accepts writes again. */
  async reopen(): Promise<void> {
    this.reopens++;
    if (this.#failing !== undefined) throw this.#failing;
    this.#suspended = undefined;
  }

  get(key: Uint8Array) {
    return this.#inner.get(key);
  }
  getMany(keys: readonly Uint8Array[]) {
    return this.#inner.getMany(keys);
  }
  put(key: Uint8Array, value: Uint8Array) {
    return this.batch([{ type: 'put', key, value }]);
  }
  del(key: Uint8Array) {
    return this.batch([{ type: 'del', key }]);
  }
  async batch(ops: readonly BatchOp[], options?: BatchOptions): Promise<void> {
    const failure = this.#suspended ?? this.#failing;
    if (failure !== undefined) {
      this.refusedWrites++;
      this.#suspended = failure;
      throw failure;
    }
    await this.#inner.batch(ops, options);
  }
  iterate(options?: IterateOptions) {
    return this.#inner.iterate(options);
  }
  close() {
    return this.#inner.close();
  }
}
