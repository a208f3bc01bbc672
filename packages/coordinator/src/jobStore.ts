import type { BatchOp, KVStore } from '@aitbc/chain-core';
import { bytesToHex, bytesToUtf8, sha256, utf8ToBytes } from '@aitbc/crypto';
import { GroupCommit } from './groupCommit.js';
import type { Job, JsonValue } from './job.js';

/**
 * Key layout (all UTF-8):
 * - `coord/job/<id>`                        → the job (JSON, amounts as decimal strings)
 * - `coord/active/<id>`                     → empty; present while the job is not terminal
 * - `coord/client/<client>/<createdAt:013>/<id>` → empty; a client's jobs in submission order
 * - `coord/idem/<client>/<sha256(key)>`     → `{jobId, requestHash}` for idempotent submits
 * - `coord/result/<id>`                     → the job's output (JSON)
 * - `coord/receipt/<id>`                    → the attested receipt (JSON)
 */
const enc = (s: string) => utf8ToBytes(s);
const JOB = 'coord/job/';
const ACTIVE = 'coord/active/';
const EMPTY = new Uint8Array(0);

interface StoredJob extends Omit<Job, 'maxPrice' | 'market'> {
  readonly maxPrice: string;
  readonly market?: Omit<NonNullable<Job['market']>, 'pricePerUnit'> & { readonly pricePerUnit: string };
}

function encodeJob(job: Job): Uint8Array {
  const { market, ...rest } = job;
  const stored: StoredJob =
    market === undefined
      ? { ...rest, maxPrice: job.maxPrice.toString() }
      : {
          ...rest,
          maxPrice: job.maxPrice.toString(),
          market: { ...market, pricePerUnit: market.pricePerUnit.toString() },
        };
  return enc(JSON.stringify(stored));
}

function decodeJob(bytes: Uint8Array): Job {
  const { market, ...stored } = JSON.parse(bytesToUtf8(bytes)) as StoredJob;
  const job: Job = { ...stored, maxPrice: BigInt(stored.maxPrice) };
  return market === undefined ? job : { ...job, market: { ...market, pricePerUnit: BigInt(market.pricePerUnit) } };
}

function clientIndexKey(job: Job): Uint8Array {
  return enc(`coord/client/${job.client}/${String(job.createdAt).padStart(13, '0')}/${job.id}`);
}

/** An idempotency record: the job a key created and a hash of the request that created it. */
export interface IdempotencyRecord {
  readonly jobId: string;
  readonly requestHash: string;
}

/**
 * Persistence of coordinator jobs on a {@link KVStore}. Every transition is one atomic batch, so a
 * coordinator killed at any point restarts with each job in exactly one consistent state.
 * @internal
 */
export class JobStore {
  readonly #store: KVStore;
  readonly #writer: GroupCommit;

  constructor(store: KVStore) {
    this.#store = store;
    this.#writer = new GroupCommit(store);
  }

  /** Jobs that were not terminal when last written (to rebuild queues and leases on start). */
  async loadActive(): Promise<Job[]> {
    const ids: string[] = [];
    for await (const [key] of this.#store.iterate({ gte: enc(ACTIVE), lt: enc('coord/active0') })) {
      ids.push(bytesToUtf8(key).slice(ACTIVE.length));
    }
    const values = await this.#store.getMany(ids.map((id) => enc(JOB + id)));
    return values.filter((v): v is Uint8Array => v !== undefined).map(decodeJob);
  }

  async get(id: string): Promise<Job | undefined> {
    const v = await this.#store.get(enc(JOB + id));
    return v === undefined ? undefined : decodeJob(v);
  }

  /** The ops that write a job (and keep its active and client index entries right). */
  jobOps(job: Job, terminal: boolean, isNew: boolean): BatchOp[] {
    const ops: BatchOp[] = [{ type: 'put', key: enc(JOB + job.id), value: encodeJob(job) }];
    // The active marker is written when the job is created and removed when it ends: a transition
    // between two active states (QUEUED → ASSIGNED → RUNNING, a re-queue) leaves it as it is.
    if (terminal) ops.push({ type: 'del', key: enc(ACTIVE + job.id) });
    else if (isNew) ops.push({ type: 'put', key: enc(ACTIVE + job.id), value: EMPTY });
    if (isNew) ops.push({ type: 'put', key: clientIndexKey(job), value: EMPTY });
    return ops;
  }

  idempotencyKey(client: string, key: string): Uint8Array {
    return enc(`coord/idem/${client}/${bytesToHex(sha256(enc(key)))}`);
  }

  async getIdempotency(client: string, key: string): Promise<IdempotencyRecord | undefined> {
    const v = await this.#store.get(this.idempotencyKey(client, key));
    return v === undefined ? undefined : (JSON.parse(bytesToUtf8(v)) as IdempotencyRecord);
  }

  idempotencyOp(client: string, key: string, record: IdempotencyRecord): BatchOp {
    return { type: 'put', key: this.idempotencyKey(client, key), value: enc(JSON.stringify(record)) };
  }

  resultOp(jobId: string, output: JsonValue): BatchOp {
    return { type: 'put', key: enc(`coord/result/${jobId}`), value: enc(JSON.stringify(output)) };
  }

  async getResult(jobId: string): Promise<JsonValue | undefined> {
    const v = await this.#store.get(enc(`coord/result/${jobId}`));
    return v === undefined ? undefined : (JSON.parse(bytesToUtf8(v)) as JsonValue);
  }

  receiptOp(jobId: string, receiptJson: string): BatchOp {
    return { type: 'put', key: enc(`coord/receipt/${jobId}`), value: enc(receiptJson) };
  }

  async getReceiptJson(jobId: string): Promise<string | undefined> {
    const v = await this.#store.get(enc(`coord/receipt/${jobId}`));
    return v === undefined ? undefined : bytesToUtf8(v);
  }

  /** A client's jobs, oldest first, after `cursor` (an opaque string from a previous page). */
  async listByClient(
    client: string,
    cursor: string | undefined,
    limit: number,
  ): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const prefix = `coord/client/${client}/`;
    const keys: string[] = [];
    const gt = cursor === undefined ? undefined : enc(prefix + cursor);
    for await (const [key] of this.#store.iterate({
      ...(gt === undefined ? { gte: enc(prefix) } : { gt }),
      lt: enc(`coord/client/${client}0`),
      limit: limit + 1,
    })) {
      keys.push(bytesToUtf8(key).slice(prefix.length));
    }
    const page = keys.slice(0, limit);
    const values = await this.#store.getMany(page.map((k) => enc(JOB + k.slice(k.indexOf('/') + 1))));
    const jobs = values.filter((v): v is Uint8Array => v !== undefined).map(decodeJob);
    return { jobs, nextCursor: keys.length > limit ? page[page.length - 1]! : null };
  }

  /**
   * Every job, by id, after `cursor` (a job id), keeping those `keep` accepts: at most `limit`
   * returned and at most `maxScan` records read per call, so a rare state cannot make one page read
   * the whole store. `nextCursor` is the last id read when there may be more.
   */
  async listAll(
    cursor: string | undefined,
    limit: number,
    keep: (job: Job) => boolean,
    maxScan = 10_000,
  ): Promise<{ jobs: Job[]; nextCursor: string | null }> {
    const jobs: Job[] = [];
    let scanned = 0;
    let last: string | undefined;
    let more = false;
    for await (const [key, value] of this.#store.iterate({
      ...(cursor === undefined ? { gte: enc(JOB) } : { gt: enc(JOB + cursor) }),
      lt: enc('coord/job0'),
    })) {
      if (jobs.length === limit || scanned === maxScan) {
        more = true;
        break;
      }
      scanned += 1;
      last = bytesToUtf8(key).slice(JOB.length);
      const job = decodeJob(value);
      if (keep(job)) jobs.push(job);
    }
    return { jobs, nextCursor: more && last !== undefined ? last : null };
  }

  /** Durably writes one transition (group-committed with the transitions in flight, see {@link GroupCommit}). */
  write(ops: readonly BatchOp[]): Promise<void> {
    return this.#writer.write(ops);
  }
}
