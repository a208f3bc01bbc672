import { assertBatchOps, type BatchOp, type BatchOptions, type IterateOptions, type KVStore } from '@aitbc/chain-core';
import { AitbcError } from '@aitbc/crypto';
import { Level } from 'level';

/**
 * Options of {@link LevelKVStore}.
 *
 * @example
 * ```ts
 * import { LevelKVStore, type LevelKVStoreOptions } from '@aitbc/storage-level';
 * const options: LevelKVStoreOptions = { path: './data/chain', cacheSize: 32 * 1024 * 1024 };
 * const store = await LevelKVStore.open(options);
 * ```
 */
export interface LevelKVStoreOptions {
  /** Directory of the database (Node) or database name (browsers). Created when missing. */
  readonly path: string;
  /** LevelDB block cache size in bytes (Node; default 8 MiB). */
  readonly cacheSize?: number;
}

/** The part of level's API this store uses, typed for `view` keys and values. */
interface Db {
  readonly status: string;
  open(): Promise<void>;
  close(): Promise<void>;
  get(key: Uint8Array): Promise<Uint8Array | undefined>;
  getMany(keys: Uint8Array[]): Promise<(Uint8Array | undefined)[]>;
  getSync?(key: Uint8Array): Uint8Array | undefined;
  batch(ops: BatchOp[], options: { sync: boolean }): Promise<void>;
  batch(): {
    put(key: Uint8Array, value: Uint8Array): unknown;
    del(key: Uint8Array): unknown;
    write(options: { sync: boolean }): Promise<void>;
    close(): Promise<void>;
  };
  iterator(options: Record<string, unknown>): {
    nextv(size: number): Promise<[Uint8Array, Uint8Array][]>;
    close(): Promise<void>;
  };
}

/** Views a Node Buffer (what classic-level hands back) as a plain Uint8Array, without copying. */
function plain(bytes: Uint8Array): Uint8Array {
  return Object.getPrototypeOf(bytes) === Uint8Array.prototype
    ? bytes
    : new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
}

function checkBytes(value: unknown, what: string): asserts value is Uint8Array {
  if (!(value instanceof Uint8Array)) throw new AitbcError('STORE_BAD_INPUT', `${what} must be a Uint8Array`);
}

function translate(err: unknown): AitbcError {
  const code = (err as { code?: string })?.code;
  if (code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN') {
    return new AitbcError('STORE_CLOSED', 'the store is closed', { cause: err });
  }
  return new AitbcError('STORAGE_IO', 'the database failed an operation', {
    cause: err,
    details: { levelCode: code ?? null },
  });
}

/**
 * A {@link KVStore} on `level`: classic-level (LevelDB) in Node, browser-level (IndexedDB) in browsers.
 * Batches are atomic (LevelDB write batches); `{ sync: true }` fsyncs before resolving; iterators read
 * a snapshot; `getSync` is offered where the backend has it (classic-level). Keys and values are
 * plain `Uint8Array`s in and out.
 *
 * @example
 * ```ts
 * const store = await LevelKVStore.open({ path: './.aitbc/chain' });
 * await store.batch([{ type: 'put', key: new Uint8Array([1]), value: new Uint8Array([2]) }], { sync: true });
 * await store.close();
 * ```
 */
export class LevelKVStore implements KVStore {
  readonly #db: Db;
  readonly getSync?: (key: Uint8Array) => Uint8Array | undefined;

  private constructor(db: Db) {
    this.#db = db;
    const dbWithSync = db;
    if (typeof dbWithSync.getSync === 'function') {
      this.getSync = (key) => {
        checkBytes(key, 'key');
        if (db.status !== 'open') throw new AitbcError('STORE_CLOSED', 'the store is closed');
        const v = dbWithSync.getSync!(key);
        return v === undefined ? undefined : plain(v);
      };
    }
  }

  /**
   * Opens (creating if needed) a database.
   * @throws AitbcError `STORAGE_LOCKED` when another process holds it, `STORAGE_OPEN_FAILED` otherwise.
   */
  static async open(options: LevelKVStoreOptions): Promise<LevelKVStore> {
    if (typeof options?.path !== 'string' || options.path.length === 0) {
      throw new AitbcError('STORAGE_OPEN_FAILED', 'path must be a non-empty string');
    }
    const db = new Level<Uint8Array, Uint8Array>(options.path, {
      keyEncoding: 'view',
      valueEncoding: 'view',
      ...(options.cacheSize !== undefined ? { cacheSize: options.cacheSize } : {}),
    }) as unknown as Db;
    try {
      await db.open();
    } catch (err) {
      const cause = (err as { cause?: { code?: string } }).cause;
      if (cause?.code === 'LEVEL_LOCKED' || (err as { code?: string }).code === 'LEVEL_LOCKED') {
        throw new AitbcError('STORAGE_LOCKED', `the database at ${options.path} is in use by another process`, {
          cause: err,
        });
      }
      throw new AitbcError('STORAGE_OPEN_FAILED', `could not open the database at ${options.path}`, { cause: err });
    }
    return new LevelKVStore(db);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkBytes(key, 'key');
    try {
      const v = await this.#db.get(key);
      return v === undefined ? undefined : plain(v);
    } catch (err) {
      throw translate(err);
    }
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    for (const k of keys) checkBytes(k, 'key');
    if (keys.length === 0) {
      if (this.#db.status !== 'open') throw new AitbcError('STORE_CLOSED', 'the store is closed');
      return [];
    }
    try {
      return (await this.#db.getMany([...keys])).map((v) => (v === undefined ? undefined : plain(v)));
    } catch (err) {
      throw translate(err);
    }
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.batch([{ type: 'put', key, value }]);
  }

  async del(key: Uint8Array): Promise<void> {
    await this.batch([{ type: 'del', key }]);
  }

  async batch(ops: readonly BatchOp[], options: BatchOptions = {}): Promise<void> {
    assertBatchOps(ops);
    if (this.#db.status !== 'open') throw new AitbcError('STORE_CLOSED', 'the store is closed');
    if (ops.length === 0) return;
    // A chained batch: the array form clones and re-checks every operation with the options spread
    // into it, which cost 4–8× more CPU for a block's ~25k state-node writes. Still one atomic write.
    const batch = this.#db.batch();
    try {
      for (const op of ops) {
        if (op.type === 'put') batch.put(op.key, op.value);
        else batch.del(op.key);
      }
      await batch.write({ sync: options.sync === true });
    } catch (err) {
      await batch.close().catch(() => undefined);
      throw translate(err);
    }
  }

  async *iterate(options: IterateOptions = {}): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]> {
    if (this.#db.status !== 'open') throw new AitbcError('STORE_CLOSED', 'the store is closed');
    const range: Record<string, unknown> = {};
    for (const k of ['gt', 'gte', 'lt', 'lte'] as const) {
      const bound = options[k];
      if (bound !== undefined) {
        checkBytes(bound, k);
        range[k] = bound;
      }
    }
    if (options.reverse) range.reverse = true;
    if (options.limit !== undefined) range.limit = options.limit;
    const it = this.#db.iterator(range);
    try {
      for (;;) {
        // nextv reads entries in chunks: far fewer native round trips than next().
        const chunk = await it.nextv(256);
        if (chunk.length === 0) break;
        for (const [k, v] of chunk) yield [plain(k), plain(v)] as const;
      }
    } catch (err) {
      throw translate(err);
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    await this.#db.close();
  }
}
