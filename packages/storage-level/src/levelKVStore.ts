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

/** What LevelDB says when the disk (or the user's quota) is full; it reports no errno, only this text. */
const NO_SPACE = /no space left on device|ENOSPC|disk quota exceeded|EDQUOT/i;

/**
 * Classifies an error of the database: `STORE_CLOSED` when it is not open, `STORAGE_FULL` when the
 * disk (or quota) is full, `STORAGE_IO` for any other failure. LevelDB reports I/O failures as
 * `LEVEL_IO_ERROR` with a message `IO error: <file>: <strerror>` and no errno (classic-level 3 on a
 * full tmpfs: `IO error: /…/000003.log: No space left on device`); the message is reworded so that
 * it names the cause and the file, e.g. `no space left on device (ENOSPC) at /…/000003.log`.
 */
function translate(err: unknown, path: string): AitbcError {
  const e = err as { code?: string; message?: unknown; cause?: unknown } | undefined;
  const code = e?.code;
  // A failed open (e.g. a reopen on a full disk) wraps the I/O error as its cause.
  if (code === 'LEVEL_DATABASE_NOT_OPEN' && e?.cause !== undefined) return translate(e.cause, path);
  if (code === 'LEVEL_DATABASE_NOT_OPEN' || code === 'LEVEL_ITERATOR_NOT_OPEN') {
    return new AitbcError('STORE_CLOSED', 'the store is closed', { cause: err });
  }
  const text = typeof e?.message === 'string' ? e.message : String(err);
  const io = /^IO error: (.*): ([^:]+)$/.exec(text);
  const file = io?.[1] ?? path;
  const reason = (io?.[2] ?? text).trim();
  const details = { levelCode: code ?? null, path, file };
  if (NO_SPACE.test(text)) {
    const quota = /quota|EDQUOT/i.test(text);
    const errno = quota ? 'EDQUOT' : 'ENOSPC';
    return new AitbcError(
      'STORAGE_FULL',
      `${quota ? 'disk quota exceeded' : 'no space left on device'} (${errno}) at ${file}`,
      { cause: err, details: { ...details, errno } },
    );
  }
  return new AitbcError('STORAGE_IO', `the database failed an operation at ${file}: ${reason}`, {
    cause: err,
    details,
  });
}

/**
 * A {@link KVStore} on `level`: classic-level (LevelDB) in Node, browser-level (IndexedDB) in browsers.
 * Batches are atomic (LevelDB write batches); `{ sync: true }` fsyncs before resolving; iterators read
 * a snapshot; `getSync` is offered where the backend has it (classic-level). Keys and values are
 * plain `Uint8Array`s in and out.
 *
 * A failed write (`STORAGE_FULL` when the disk is full, `STORAGE_IO` otherwise) suspends writes:
 * every later write rejects at once with the same code until {@link LevelKVStore.reopen} succeeds,
 * while reads go on. LevelDB keeps appending to the write-ahead log that the failed write left torn,
 * and a write it acknowledges after that can be lost when the database is opened again (seen on a
 * full tmpfs: one of five synced writes made after space was freed was gone after a restart);
 * closing and opening the database starts a fresh log and keeps everything written before.
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
  readonly #path: string;
  readonly getSync?: (key: Uint8Array) => Uint8Array | undefined;
  /** The failure that suspended writes, until a reopen succeeds. */
  #writeFailure: AitbcError | undefined;
  #reopening: Promise<void> | undefined;
  /** Closed by `close()` (not by a reopen that failed). */
  #closed = false;

  private constructor(db: Db, path: string) {
    this.#db = db;
    this.#path = path;
    const dbWithSync = db;
    if (typeof dbWithSync.getSync === 'function') {
      this.getSync = (key) => {
        checkBytes(key, 'key');
        if (db.status !== 'open') throw this.#notOpen();
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
    return new LevelKVStore(db, options.path);
  }

  /**
   * The failure that suspended writes (`STORAGE_FULL` or `STORAGE_IO`), or `undefined` while writes
   * are accepted. Set by a failed write; cleared by a successful {@link LevelKVStore.reopen}.
   *
   * @example
   * ```ts
   * const failure = store.writeFailure;
   * if (failure !== undefined) console.warn(`writes suspended: ${failure.code} ${failure.message}`);
   * ```
   */
  get writeFailure(): AitbcError | undefined {
    return this.#writeFailure;
  }

  /**
   * Closes and opens the database again (a fresh write-ahead log), then accepts writes again. Call it
   * once the cause of a failed write is gone (space freed); concurrent calls share one reopen. Reads
   * wait for it. If the open fails (the disk is still full) it rejects with the classified error and
   * writes stay suspended; reads reject with that error too until a later reopen succeeds.
   * @throws AitbcError `STORAGE_FULL`, `STORAGE_IO`, `STORE_CLOSED` (after `close()`).
   *
   * @example
   * ```ts
   * try {
   *   await store.put(key, value);
   * } catch (err) {
   *   if (isAitbcError(err, 'STORAGE_FULL')) {
   *     await freeSomeSpace();
   *     await store.reopen(); // throws STORAGE_FULL again while the disk is still full
   *     await store.put(key, value);
   *   }
   * }
   * ```
   */
  reopen(): Promise<void> {
    if (this.#closed) return Promise.reject(new AitbcError('STORE_CLOSED', 'the store is closed'));
    this.#reopening ??= this.#reopenNow().finally(() => {
      this.#reopening = undefined;
    });
    return this.#reopening;
  }

  async #reopenNow(): Promise<void> {
    try {
      if (this.#db.status === 'open') await this.#db.close();
      await this.#db.open();
    } catch (err) {
      const failure = translate(err, this.#path);
      this.#writeFailure ??= failure;
      throw failure;
    }
    this.#writeFailure = undefined;
  }

  /** The error of a call while the database is not open: closed by `close()`, or a reopen that failed. */
  #notOpen(): AitbcError {
    return this.#closed || this.#writeFailure === undefined
      ? new AitbcError('STORE_CLOSED', 'the store is closed')
      : this.#writeFailure;
  }

  /** Reads wait for a reopen in progress (the database is briefly closed). */
  async #settled(): Promise<void> {
    if (this.#reopening !== undefined) await this.#reopening.catch(() => undefined);
  }

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    checkBytes(key, 'key');
    await this.#settled();
    if (this.#db.status !== 'open') throw this.#notOpen();
    try {
      const v = await this.#db.get(key);
      return v === undefined ? undefined : plain(v);
    } catch (err) {
      throw translate(err, this.#path);
    }
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    for (const k of keys) checkBytes(k, 'key');
    await this.#settled();
    if (this.#db.status !== 'open') throw this.#notOpen();
    if (keys.length === 0) return [];
    try {
      return (await this.#db.getMany([...keys])).map((v) => (v === undefined ? undefined : plain(v)));
    } catch (err) {
      throw translate(err, this.#path);
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
    const suspended = this.#writeFailure;
    if (suspended !== undefined && !this.#closed)
      throw new AitbcError(suspended.code, `writes are suspended until the store is reopened: ${suspended.message}`, {
        cause: suspended,
        details: { ...suspended.details, suspended: true },
      });
    if (this.#db.status !== 'open') throw this.#notOpen();
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
      const failure = translate(err, this.#path);
      if (failure.code !== 'STORE_CLOSED') this.#writeFailure ??= failure;
      throw failure;
    }
  }

  async *iterate(options: IterateOptions = {}): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]> {
    await this.#settled();
    if (this.#db.status !== 'open') throw this.#notOpen();
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
      throw translate(err, this.#path);
    } finally {
      await it.close();
    }
  }

  async close(): Promise<void> {
    this.#closed = true;
    await this.#settled();
    if (this.#db.status === 'open') await this.#db.close();
  }
}
