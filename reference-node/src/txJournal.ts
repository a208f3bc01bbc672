import { mkdirSync } from 'node:fs';
import { type FileHandle, open, rename, rm } from 'node:fs/promises';
import { dirname } from 'node:path';
import { crc32 } from 'node:zlib';
import { AitbcError } from '@aitbc/crypto';
import type { JsonObject } from '@aitbc/rpc';

/** Options of {@link TxJournal}. */
export interface TxJournalOptions {
  /** The journal file, e.g. `<dataDir>/tx-journal.ndjson` (its directory is created). */
  readonly path: string;
  /** Most bytes the file may hold; an append past it fails with `NODE_JOURNAL_FULL` (default 64 MiB). */
  readonly maxBytes?: number;
}

/** What {@link TxJournal.open} read back. */
export interface TxJournalContents {
  /** The intact records, in the order they were appended. */
  readonly records: JsonObject[];
  /** Records skipped: torn (an unfinished last line) or corrupt (checksum or JSON). */
  readonly skipped: number;
}

const NEWLINE = 0x0a;

/** An append waiting for its group commit. */
interface Waiting {
  readonly data: Buffer;
  readonly count: number;
  readonly resolve: () => void;
  readonly reject: (e: unknown) => void;
}

function journalError(code: string, message: string, path: string, cause?: unknown): AitbcError {
  return new AitbcError(code, message, {
    details: { path, ...(cause instanceof Error && 'code' in cause ? { reason: String(cause.code) } : {}) },
    ...(cause !== undefined ? { cause } : {}),
  });
}

/**
 * A record for {@link TxJournal.append} and {@link TxJournal.rewrite}: a JSON object, or a line that
 * {@link TxJournal.encode} made of one (kept by a caller that rewrites the same records often).
 */
export type TxJournalRecord = JsonObject | Uint8Array;

/** One line: the CRC-32 of the JSON text (8 hex digits), a space, the JSON text, a newline. */
function encodeRecord(record: JsonObject): Buffer {
  const json = Buffer.from(JSON.stringify(record), 'utf8');
  const head = Buffer.from(`${crc32(json).toString(16).padStart(8, '0')} `, 'latin1');
  return Buffer.concat([head, json, Buffer.from('\n', 'latin1')]);
}

/** The record of one line (without its newline), or undefined when it is corrupt. */
const lineOf = (r: TxJournalRecord): Uint8Array => (r instanceof Uint8Array ? r : encodeRecord(r));

function decodeRecord(line: Buffer): JsonObject | undefined {
  if (line.length < 10 || line[8] !== 0x20) return undefined;
  const json = line.subarray(9);
  if (line.toString('latin1', 0, 8) !== crc32(json).toString(16).padStart(8, '0')) return undefined;
  try {
    const v: unknown = JSON.parse(json.toString('utf8'));
    return typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as JsonObject) : undefined;
  } catch {
    return undefined;
  }
}

/**
 * An append-only journal file of JSON records (the node's locally submitted transactions), written
 * durably: {@link append} resolves once its records are on disk (`fdatasync`). Appends made while a
 * write is in flight are written together by the next one (group commit), so the cost is one write and
 * one sync per batch, not per record. Each record is one line with its CRC-32, so {@link open} skips a
 * line torn by a crash mid-write (and truncates it away) or a corrupt one, and keeps the rest.
 * {@link rewrite} replaces the contents atomically (temporary file, sync, rename, directory sync), which
 * compaction uses. Operations run one at a time, in call order.
 *
 * @example
 * ```ts
 * const journal = new TxJournal({ path: join(dataDir, 'tx-journal.ndjson') });
 * const { records, skipped } = await journal.open();
 * await journal.append([txToJson(tx)]); // on disk when this resolves
 * await journal.rewrite(stillPending.map(txToJson));
 * await journal.close();
 * ```
 */
export class TxJournal {
  readonly path: string;
  readonly maxBytes: number;
  #fh: FileHandle | undefined;
  #bytes = 0;
  #records = 0;
  #tail: Promise<unknown> = Promise.resolve();
  /** The appends the next queued flush writes (undefined: none queued, or sealed by a rewrite). */
  #batch: Waiting[] | undefined;
  #waitingBytes = 0;
  #closed = false;

  /** Encodes a record as the line the file holds (with its newline). */
  static encode(record: JsonObject): Uint8Array {
    return encodeRecord(record);
  }

  constructor(options: TxJournalOptions) {
    this.path = options.path;
    this.maxBytes = options.maxBytes ?? 64 * 1024 * 1024;
  }

  /** Bytes in the file (appends not yet written excluded). */
  get bytes(): number {
    return this.#bytes;
  }

  /** Records in the file (appends not yet written excluded). */
  get records(): number {
    return this.#records;
  }

  /**
   * Opens (creating it if absent) and reads the journal; a torn last line is truncated away.
   * @throws AitbcError `NODE_JOURNAL_IO` when the file cannot be read or opened.
   */
  open(): Promise<TxJournalContents> {
    return this.#run(async () => {
      try {
        mkdirSync(dirname(this.path), { recursive: true });
        await rm(`${this.path}.tmp`, { force: true });
        const fh = await open(this.path, 'a+');
        const data = await fh.readFile();
        const records: JsonObject[] = [];
        let skipped = 0;
        let start = 0;
        for (let nl = data.indexOf(NEWLINE, start); nl >= 0; nl = data.indexOf(NEWLINE, start)) {
          const record = decodeRecord(data.subarray(start, nl));
          if (record === undefined) skipped++;
          else records.push(record);
          start = nl + 1;
        }
        if (start < data.length) {
          skipped++; // torn: cut it off so that the next append starts on a fresh line
          await fh.truncate(start);
          await fh.datasync();
        }
        this.#fh = fh;
        this.#bytes = start;
        this.#records = records.length + skipped - (start < data.length ? 1 : 0);
        return { records, skipped };
      } catch (err) {
        throw journalError('NODE_JOURNAL_IO', `cannot open the transaction journal ${this.path}`, this.path, err);
      }
    });
  }

  /**
   * Appends records; resolves once they are on disk.
   * @throws AitbcError `NODE_JOURNAL_FULL` (the file would pass `maxBytes`: nothing is written),
   * `NODE_JOURNAL_IO` (the write or sync failed), `NODE_JOURNAL_CLOSED`.
   */
  append(records: readonly TxJournalRecord[]): Promise<void> {
    if (this.#closed || this.#fh === undefined)
      return Promise.reject(journalError('NODE_JOURNAL_CLOSED', 'the transaction journal is not open', this.path));
    if (records.length === 0) return Promise.resolve();
    const data = Buffer.concat(records.map(lineOf));
    if (this.#bytes + this.#waitingBytes + data.length > this.maxBytes)
      return Promise.reject(
        journalError('NODE_JOURNAL_FULL', `the transaction journal is full (${this.maxBytes} bytes)`, this.path),
      );
    return new Promise<void>((resolve, reject) => {
      let batch = this.#batch;
      if (batch === undefined) {
        const fresh: Waiting[] = [];
        batch = fresh;
        this.#batch = fresh;
        void this.#run(() => this.#flush(fresh));
      }
      batch.push({ data, count: records.length, resolve, reject });
      this.#waitingBytes += data.length;
    });
  }

  /**
   * Replaces the journal's contents with `records`, atomically: a crash leaves the old file or the new one.
   * A function is called when the rewrite runs (after the appends queued before it), not before.
   * @throws AitbcError `NODE_JOURNAL_IO`, `NODE_JOURNAL_CLOSED`.
   */
  rewrite(records: readonly TxJournalRecord[] | (() => readonly TxJournalRecord[])): Promise<void> {
    this.#batch = undefined; // appends from now on are written after the rewrite
    return this.#run(async () => {
      if (this.#closed || this.#fh === undefined)
        throw journalError('NODE_JOURNAL_CLOSED', 'the transaction journal is not open', this.path);
      const tmp = `${this.path}.tmp`;
      const list = typeof records === 'function' ? records() : records;
      const data = Buffer.concat(list.map(lineOf));
      try {
        const out = await open(tmp, 'w');
        try {
          await out.writeFile(data);
          await out.datasync();
        } finally {
          await out.close();
        }
        await rename(tmp, this.path);
        await this.#syncDir();
        await this.#fh.close();
        this.#fh = await open(this.path, 'a');
      } catch (err) {
        await rm(tmp, { force: true }).catch(() => undefined);
        throw journalError('NODE_JOURNAL_IO', `cannot rewrite the transaction journal ${this.path}`, this.path, err);
      }
      this.#bytes = data.length;
      this.#records = list.length;
    });
  }

  /** Waits for pending appends, then closes the file. */
  close(): Promise<void> {
    const closing = this.#run(async () => {
      const fh = this.#fh;
      this.#fh = undefined;
      await fh?.close();
    });
    this.#closed = true;
    return closing;
  }

  /** Writes every waiting append with one write and one sync (the group commit). */
  async #flush(batch: Waiting[]): Promise<void> {
    if (this.#batch === batch) this.#batch = undefined;
    const data = batch.length === 1 ? batch[0]!.data : Buffer.concat(batch.map((b) => b.data));
    try {
      if (this.#fh === undefined) throw new Error('closed');
      await this.#fh.write(data, 0, data.length);
      await this.#fh.datasync();
      this.#waitingBytes -= data.length;
      this.#bytes += data.length;
      for (const b of batch) this.#records += b.count;
    } catch (err) {
      // A partial write would leave a torn line under the next append: cut the file back (best effort).
      this.#waitingBytes -= data.length;
      await this.#fh?.truncate(this.#bytes).catch(() => undefined);
      const error = journalError(
        'NODE_JOURNAL_IO',
        `cannot write the transaction journal ${this.path}`,
        this.path,
        err,
      );
      for (const b of batch) b.reject(error);
      return;
    }
    for (const b of batch) b.resolve();
  }

  async #syncDir(): Promise<void> {
    let dir: FileHandle | undefined;
    try {
      dir = await open(dirname(this.path), 'r');
      await dir.sync();
    } catch {
      // Some filesystems refuse to sync a directory; the rename is then as durable as they make it.
    } finally {
      await dir?.close();
    }
  }

  #run<T>(op: () => Promise<T>): Promise<T> {
    const p = this.#tail.then(op);
    this.#tail = p.catch(() => undefined);
    return p;
  }
}
