import { AitbcError } from '@aitbc/crypto';

/**
 * The storage interface chain-core needs, declared here by its consumer (STYLE.md habit 2).
 * Implementations: {@link MemoryKVStore} (this package; tests and browsers) and `LevelKVStore`
 * (`@aitbc/storage-level`). Every implementation runs `kvStoreCompliance` from `@aitbc/chain-core/testing`.
 *
 * Keys and values are bytes. Keys order lexicographically by unsigned byte value.
 *
 * @example
 * ```ts
 * import { type KVStore, MemoryKVStore } from '@aitbc/chain-core';
 * const store: KVStore = new MemoryKVStore();
 * await store.put(new TextEncoder().encode('k'), Uint8Array.of(1));
 * for await (const [key, value] of store.iterate({ limit: 10 })) console.log(key, value);
 * ```
 */
export interface KVStore {
  /** The value at `key`, or `undefined`. */
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  /** Values for many keys, in the same order (`undefined` where absent). */
  getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  /**
   * Optional synchronous read, for hot paths (state proofs, state-root updates). Present when the
   * backend can read without I/O waits (memory, classic-level's `getSync`).
   */
  readonly getSync?: (key: Uint8Array) => Uint8Array | undefined;
  /** Stores one value. */
  put(key: Uint8Array, value: Uint8Array): Promise<void>;
  /** Deletes one key (no error if absent). */
  del(key: Uint8Array): Promise<void>;
  /**
   * Applies all operations atomically: after a crash either all are visible or none.
   * With `sync: true` the batch is flushed to durable storage before the promise resolves.
   */
  batch(ops: readonly BatchOp[], options?: BatchOptions): Promise<void>;
  /** Iterates entries in key order (or reverse) within the given range. */
  iterate(options?: IterateOptions): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]>;
  /** Releases the store. Further calls reject with `STORE_CLOSED`. */
  close(): Promise<void>;
}

/**
 * One operation of a {@link KVStore.batch}.
 *
 * @example
 * ```ts
 * import type { BatchOp } from '@aitbc/chain-core';
 * const ops: BatchOp[] = [
 *   { type: 'put', key: Uint8Array.of(1), value: Uint8Array.of(42) },
 *   { type: 'del', key: Uint8Array.of(2) },
 * ];
 * await store.batch(ops);
 * ```
 */
export type BatchOp =
  | { readonly type: 'put'; readonly key: Uint8Array; readonly value: Uint8Array }
  | { readonly type: 'del'; readonly key: Uint8Array };

/**
 * Options of {@link KVStore.batch}.
 *
 * @example
 * ```ts
 * await store.batch(ops, { sync: true }); // durable before it resolves
 * ```
 */
export interface BatchOptions {
  /** Flush to durable storage (fsync) before resolving. Default `false`. */
  readonly sync?: boolean;
}

/**
 * A key range and direction for {@link KVStore.iterate}. Bounds are byte strings.
 *
 * @example
 * ```ts
 * import { utf8ToBytes } from '@aitbc/crypto';
 * const newestFirst = store.iterate({ gte: utf8ToBytes('acct/'), lt: utf8ToBytes('acct0'), reverse: true, limit: 20 });
 * ```
 */
export interface IterateOptions {
  readonly gt?: Uint8Array;
  readonly gte?: Uint8Array;
  readonly lt?: Uint8Array;
  readonly lte?: Uint8Array;
  /** Descending key order. */
  readonly reverse?: boolean;
  /** Maximum number of entries. */
  readonly limit?: number;
}

/**
 * Validates a batch before any of it is written (every `KVStore` implementation calls it, so an
 * invalid op anywhere in a batch writes nothing).
 * @throws AitbcError `STORE_BAD_INPUT`.
 *
 * @example
 * ```ts
 * import { assertBatchOps, type BatchOp } from '@aitbc/chain-core';
 * async function batch(ops: readonly BatchOp[]): Promise<void> {
 *   assertBatchOps(ops); // throws STORE_BAD_INPUT before anything is written
 *   // … write ops atomically
 * }
 * ```
 */
export function assertBatchOps(ops: readonly BatchOp[]): void {
  if (!Array.isArray(ops)) throw new AitbcError('STORE_BAD_INPUT', 'batch ops must be an array');
  for (const op of ops) {
    if (op === null || typeof op !== 'object' || (op.type !== 'put' && op.type !== 'del')) {
      throw new AitbcError('STORE_BAD_INPUT', 'batch op type must be "put" or "del"');
    }
    if (!(op.key instanceof Uint8Array)) throw new AitbcError('STORE_BAD_INPUT', 'key must be a Uint8Array');
    if (op.type === 'put' && !(op.value instanceof Uint8Array))
      throw new AitbcError('STORE_BAD_INPUT', 'value must be a Uint8Array');
  }
}
