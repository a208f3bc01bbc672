import { MAX_ADD_BATCH, type Mempool, type SignedTx, txFromJson, txIdHex, txToJson } from '@aitbc/chain-core';
import { isAitbcError } from '@aitbc/crypto';
import type { JsonObject } from '@aitbc/rpc';
import { TxJournal } from './txJournal.js';

/** Options of {@link createLocalTxJournal}. */
export interface LocalTxJournalOptions {
  /** The journal file (the node uses `<dataDir>/tx-journal.ndjson`). */
  readonly path: string;
  /** Most bytes of the file (default 64 MiB). */
  readonly maxBytes?: number;
  /** The mempool replayed into, and asked which journaled transactions are still pending. */
  readonly mempool: Mempool;
  /** Compaction waits until the journal holds at least this many records (default 1024). */
  readonly minCompactRecords?: number;
}

/** What {@link LocalTxJournal.start} did. */
export interface LocalTxReplay {
  /** Journaled transactions back in the mempool (or already there). */
  readonly replayed: number;
  /** Journaled transactions the mempool refused: included meanwhile, or no longer valid. */
  readonly dropped: number;
  /** Records skipped as torn or corrupt. */
  readonly skipped: number;
}

/**
 * A transaction to journal, with its wire JSON when the caller has it (as a client sent it: it decodes to
 * the same transaction, and saves encoding it again).
 */
export interface LocalTx {
  readonly tx: SignedTx;
  readonly json?: JsonObject;
}

/** The node's journal of transactions accepted from its own API; see {@link createLocalTxJournal}. */
export interface LocalTxJournal {
  /** Opens the journal, replays it into the mempool and compacts it to what is still pending. */
  start(): Promise<LocalTxReplay>;
  /**
   * Journals transactions accepted from the API; resolves once they are on disk. Transactions already
   * journaled are skipped.
   * @throws AitbcError `NODE_JOURNAL_FULL` (even after compaction), `NODE_JOURNAL_IO`, `NODE_JOURNAL_CLOSED`.
   */
  persist(txs: readonly LocalTx[]): Promise<void>;
  /**
   * Rewrites the journal with only the still-pending transactions when the others (included, invalid,
   * evicted) are the majority of at least `minCompactRecords` records, or when `force` is set.
   */
  compact(force?: boolean): Promise<void>;
  /** Journaled transaction ids (0x hex), oldest first. */
  ids(): IterableIterator<string>;
  /** Records in the file. */
  readonly records: number;
  /** Bytes in the file. */
  readonly bytes: number;
  stop(): Promise<void>;
}

/**
 * The local transaction journal (as geth keeps one for its local transactions): every transaction the
 * node's own API accepts is appended to a file in the data directory and synced to disk before the API
 * answers, so a crash or restart cannot lose it; at start the journal is replayed into the mempool (what
 * a block included meanwhile, or what is no longer valid, is dropped) and rewritten to the still-pending
 * ones. It is compacted again whenever included transactions dominate, which bounds it by the mempool.
 *
 * @example
 * ```ts
 * const journal = createLocalTxJournal({ path: join(dataDir, 'tx-journal.ndjson'), mempool });
 * const { replayed, dropped } = await journal.start();
 * await journal.persist([{ tx, json }]); // durable: now the API may answer "accepted"
 * chain.onBlock(() => void journal.compact());
 * ```
 */
export function createLocalTxJournal(options: LocalTxJournalOptions): LocalTxJournal {
  const { mempool } = options;
  const file = new TxJournal({
    path: options.path,
    ...(options.maxBytes !== undefined ? { maxBytes: options.maxBytes } : {}),
  });
  const minCompact = options.minCompactRecords ?? 1024;
  /**
   * Journaled (or being journaled) transactions in journal order: wire id (0x hex) → id bytes and the
   * encoded line (kept, so a compaction only copies bytes; bounded by the journal's size).
   */
  const journaled = new Map<string, { readonly id: Uint8Array; readonly line: Uint8Array }>();
  /** Appends in flight by id: a second submission of the same transaction waits for the first's sync. */
  const inflight = new Map<string, Promise<void>>();
  let compacting: Promise<void> | undefined;

  const rewrite = async () => {
    const dead: string[] = [];
    await file.rewrite(() => {
      const lines: Uint8Array[] = [];
      for (const [hex, { id, line }] of journaled) {
        if (mempool.get(id) === undefined) dead.push(hex);
        else lines.push(line);
      }
      return lines;
    });
    for (const hex of dead) journaled.delete(hex);
  };

  const compact = (force = false): Promise<void> => {
    if (compacting !== undefined) return compacting;
    if (!force) {
      if (file.records < minCompact) return Promise.resolve();
      let live = 0;
      for (const { id } of journaled.values()) if (mempool.get(id) !== undefined) live++;
      if (file.records - live <= live) return Promise.resolve();
    }
    compacting = rewrite().finally(() => {
      compacting = undefined;
    });
    return compacting;
  };

  const append = async (records: Uint8Array[]) => {
    try {
      await file.append(records);
    } catch (err) {
      if (!isAitbcError(err) || err.code !== 'NODE_JOURNAL_FULL') throw err;
      await compact(true);
      await file.append(records);
    }
  };

  return {
    async start() {
      const { records, skipped } = await file.open();
      let replayed = 0;
      let dropped = 0;
      for (let i = 0; i < records.length; i += MAX_ADD_BATCH) {
        const txs: SignedTx[] = [];
        const jsons: JsonObject[] = [];
        for (const r of records.slice(i, i + MAX_ADD_BATCH)) {
          try {
            txs.push(txFromJson(r));
            jsons.push(r);
          } catch {
            dropped++;
          }
        }
        const results = await mempool.addMany(txs);
        results.forEach((r, k) => {
          if (isAitbcError(r)) {
            dropped++;
            return;
          }
          const tx = txs[k]!;
          const hex = txIdHex(tx);
          if (journaled.has(hex)) return; // a duplicate record
          replayed++;
          journaled.set(hex, { id: tx.id, line: TxJournal.encode(jsons[k]!) });
        });
      }
      await rewrite();
      return { replayed, dropped, skipped };
    },
    async persist(txs) {
      const waits = new Set<Promise<void>>();
      const ids: string[] = [];
      const lines: Uint8Array[] = [];
      for (const { tx, json } of txs) {
        const hex = txIdHex(tx);
        const wait = inflight.get(hex);
        if (wait !== undefined) waits.add(wait);
        else if (!journaled.has(hex)) {
          const line = TxJournal.encode(json ?? (txToJson(tx) as JsonObject));
          journaled.set(hex, { id: tx.id, line });
          ids.push(hex);
          lines.push(line);
        }
      }
      if (ids.length > 0) {
        const written = append(lines);
        for (const hex of ids) inflight.set(hex, written);
        waits.add(written);
        written.then(
          () => {
            for (const hex of ids) inflight.delete(hex);
          },
          () => {
            for (const hex of ids) {
              inflight.delete(hex);
              journaled.delete(hex);
            }
          },
        );
      }
      await Promise.all(waits);
    },
    compact,
    ids: () => journaled.keys(),
    get records() {
      return file.records;
    },
    get bytes() {
      return file.bytes;
    },
    async stop() {
      await compacting?.catch(() => undefined);
      await file.close();
    },
  };
}
