import { mkdirSync, readFileSync } from 'node:fs';
import { type FileHandle, open } from 'node:fs/promises';
import { dirname } from 'node:path';
import {
  assertBatchOps,
  type BatchOp,
  type BatchOptions,
  type IterateOptions,
  type KVStore,
  MemoryKVStore,
} from '@aitbc/chain-core';
import { AitbcError, base64urlToBytes, bytesToBase64url } from '@aitbc/crypto';

/** One line of the log: a whole batch, `[["p", key, value] | ["d", key], ...]` in base64url. */
type LogLine = (['p', string, string] | ['d', string])[];

/**
 * A `KVStore` of our own: every batch is appended as one JSON line to a log file, and the data is
 * served from a `MemoryKVStore` index rebuilt from the log at open. A crash mid-write leaves at most a
 * torn last line, which `open` drops — so a batch is all there or not at all, as `KVStore` requires.
 * `sync: true` batches are fsync'd before they resolve (chain-core writes each block that way).
 *
 * Small on purpose (no compaction: the log grows with every write), to show what an implementation
 * must do; `@aitbc/storage-level` is the production store.
 */
export class FileKVStore implements KVStore {
  readonly #index: MemoryKVStore;
  readonly #file: FileHandle;
  #tail: Promise<void> = Promise.resolve();
  #closed = false;

  private constructor(index: MemoryKVStore, file: FileHandle) {
    this.#index = index;
    this.#file = file;
  }

  /** Opens (or creates) the store at `path`, replaying its log. */
  static async open(path: string): Promise<FileKVStore> {
    mkdirSync(dirname(path), { recursive: true });
    const index = new MemoryKVStore();
    let text = '';
    try {
      text = readFileSync(path, 'utf8');
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT') throw err;
    }
    const lines = text.split('\n');
    // Every complete line ends with '\n'; whatever follows the last one is a torn write.
    for (const line of lines.slice(0, -1)) await index.batch(decodeLine(line));
    const file = await open(path, 'a');
    if (lines.at(-1) !== '') await file.truncate(text.length - (lines.at(-1) ?? '').length);
    return new FileKVStore(index, file);
  }

  /** Synchronous read from the in-memory index. */
  readonly getSync = (key: Uint8Array): Uint8Array | undefined => this.#index.getSync(key);

  async get(key: Uint8Array): Promise<Uint8Array | undefined> {
    return this.#index.get(key);
  }

  async getMany(keys: readonly Uint8Array[]): Promise<(Uint8Array | undefined)[]> {
    return this.#index.getMany(keys);
  }

  async put(key: Uint8Array, value: Uint8Array): Promise<void> {
    await this.batch([{ type: 'put', key, value }]);
  }

  async del(key: Uint8Array): Promise<void> {
    await this.batch([{ type: 'del', key }]);
  }

  async batch(ops: readonly BatchOp[], options: BatchOptions = {}): Promise<void> {
    if (this.#closed) throw new AitbcError('STORE_CLOSED', 'the store is closed');
    assertBatchOps(ops); // an invalid op anywhere writes nothing
    const line: LogLine = ops.map((op) =>
      op.type === 'put' ? ['p', bytesToBase64url(op.key), bytesToBase64url(op.value)] : ['d', bytesToBase64url(op.key)],
    );
    // Batches are serialized: one line per batch, appended in order, then applied to the index
    // (readers see a batch once it is in the log).
    const write = this.#tail.then(async () => {
      await this.#file.appendFile(`${JSON.stringify(line)}\n`);
      if (options.sync === true) await this.#file.datasync();
      await this.#index.batch(ops);
    });
    this.#tail = write.catch(() => undefined);
    await write;
  }

  iterate(options: IterateOptions = {}): AsyncIterable<readonly [key: Uint8Array, value: Uint8Array]> {
    return this.#index.iterate(options);
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#tail;
    await this.#file.close();
    await this.#index.close();
  }
}

function decodeLine(line: string): BatchOp[] {
  const ops = JSON.parse(line) as LogLine;
  return ops.map((op) =>
    op[0] === 'p'
      ? { type: 'put', key: base64urlToBytes(op[1]), value: base64urlToBytes(op[2]) }
      : { type: 'del', key: base64urlToBytes(op[1]) },
  );
}
