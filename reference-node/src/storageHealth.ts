import { statfs } from 'node:fs/promises';
import type { BatchOp, BatchOptions, KVStore } from '@aitbc/chain-core';
import { AitbcError, isAitbcError, utf8ToBytes } from '@aitbc/crypto';
import { type NodeBackend, type NodeMetrics, overrideBackend } from '@aitbc/rpc';
import { Counter, Gauge } from 'prom-client';
import type { NodeLog } from './nodeLog.js';

/** A store that can be reopened after a failed write (`LevelKVStore`, or a test's fault-injecting store). */
export interface ReopenableStore extends KVStore {
  reopen(): Promise<void>;
}

/** Options of {@link createStorageHealth}. */
export interface StorageHealthOptions {
  /**
   * Tries the store again: resolves once it writes (see {@link probeStoreWrites}), rejects while it
   * still cannot. Called with backoff while the store is failing.
   */
  readonly probe: () => Promise<void>;
  /** Called once the store writes again (the node resumes sync, consensus follows the head). */
  readonly onRecovered?: () => void;
  readonly log?: NodeLog;
  /** First wait before a probe (default 500 ms), doubled after each failed probe up to `maxMs` (default 10 000). */
  readonly backoff?: { readonly initialMs?: number; readonly maxMs?: number };
}

/** The node's view of its store; see {@link createStorageHealth}. */
export interface StorageHealth {
  /** The failure that keeps the store from writing (`STORAGE_FULL`, `STORAGE_IO`), or `undefined`. */
  readonly failure: AitbcError | undefined;
  /** Records a store error; a `STORAGE_*` failure makes the node unavailable and starts probing. */
  report(error: unknown): void;
  /** Throws `NODE_STORAGE_UNAVAILABLE` (HTTP 503, `Retry-After`) while the store cannot write. */
  check(): void;
  /** The store with every failed write reported (the chain and the consensus engine write through it). */
  watch(store: KVStore): KVStore;
  /** The API backend with `health()` = {@link StorageHealth.check} and `submitTx` refused while the store cannot write. */
  guard(backend: NodeBackend): NodeBackend;
  /** Registers the `node_storage_*` metrics in the node's registry (served at `/metrics`). */
  exposeMetrics(metrics: NodeMetrics): void;
  /** Stops probing. */
  stop(): void;
}

/** Errors that mean the store cannot do its work (as opposed to bad input or a closed store). */
function isStorageFailure(error: unknown): error is AitbcError {
  return isAitbcError(error) && error.code.startsWith('STORAGE_');
}

const PROBE_KEY = utf8ToBytes('node/storage-probe');
/** Probe writes this much (and deletes it): a store with less room than that is not writable yet. */
const PROBE_BYTES = 64 * 1024;
/**
 * Free space below which a probe does not reopen the store: LevelDB writes its recovered log as a
 * table when it opens (up to its 4 MiB write buffer), and an open that fails leaves the store closed
 * (reads fail too) until the next probe.
 */
const MIN_FREE_BYTES = 8 * 1024 * 1024;

/**
 * The probe of a {@link ReopenableStore}: when `path` is given and its file system has less than
 * `minFreeBytes` (default 8 MiB) free, fails without touching the store (it keeps serving reads);
 * otherwise reopens it (LevelDB needs a fresh write-ahead log after a failed write, see
 * `LevelKVStore.reopen`), then writes and deletes 64 KiB with `sync: true`.
 *
 * @example
 * ```ts
 * const health = createStorageHealth({ probe: () => probeStoreWrites(store, { path: './data/chain' }) });
 * ```
 */
export async function probeStoreWrites(
  store: ReopenableStore,
  options: { readonly path?: string; readonly minFreeBytes?: number } = {},
): Promise<void> {
  if (options.path !== undefined) {
    const s = await statfs(options.path);
    const free = s.bavail * s.bsize;
    const min = options.minFreeBytes ?? MIN_FREE_BYTES;
    if (free < min)
      throw new AitbcError(
        'STORAGE_FULL',
        `no space left on device (ENOSPC) at ${options.path}: ${free} bytes free, waiting for ${min}`,
        { details: { path: options.path, errno: 'ENOSPC', free, min } },
      );
  }
  await store.reopen();
  await store.batch([{ type: 'put', key: PROBE_KEY, value: new Uint8Array(PROBE_BYTES) }], { sync: true });
  await store.batch([{ type: 'del', key: PROBE_KEY }], { sync: true });
}

/**
 * Tracks whether the node's store can write. The first failed write (reported by the store returned
 * from {@link StorageHealth.watch}) makes the node unavailable: `/health` answers 503
 * `NODE_STORAGE_UNAVAILABLE` naming the store's cause (e.g. `no space left on device (ENOSPC) at …`),
 * `send_tx` is refused the same way, and a probe (reopen + a write) runs with backoff. When a probe
 * succeeds the node is available again and `onRecovered` runs. Nothing here blames a peer.
 *
 * Metrics: `node_storage_writable` (1 or 0), `node_storage_write_failures_total`,
 * `node_storage_txs_refused_total`.
 */
export function createStorageHealth(options: StorageHealthOptions): StorageHealth {
  const initialMs = options.backoff?.initialMs ?? 500;
  const maxMs = options.backoff?.maxMs ?? 10_000;
  const registers: [] = [];
  const writable = new Gauge({
    name: 'node_storage_writable',
    help: 'Whether the node can write its database (1) or not (0: /health answers 503).',
    registers,
  });
  const failures = new Counter({
    name: 'node_storage_write_failures_total',
    help: 'Writes of the node database that failed (full disk, I/O error).',
    registers,
  });
  const refused = new Counter({
    name: 'node_storage_txs_refused_total',
    help: 'Transactions refused by send_tx because the database could not write.',
    registers,
  });
  writable.set(1);
  let failure: AitbcError | undefined;
  let since = 0;
  let delay = initialMs;
  let timer: NodeJS.Timeout | undefined;
  let stopped = false;

  const schedule = () => {
    if (stopped || timer !== undefined) return;
    timer = setTimeout(() => void probe(), delay);
    timer.unref();
  };
  const probe = async () => {
    try {
      await options.probe();
    } catch (err) {
      timer = undefined;
      if (isStorageFailure(err)) failure = err;
      delay = Math.min(maxMs, delay * 2);
      options.log?.debug(`storage probe failed: ${(err as Error).message}; next in ${delay} ms`);
      schedule();
      return;
    }
    timer = undefined;
    const down = Date.now() - since;
    failure = undefined;
    delay = initialMs;
    writable.set(1);
    options.log?.warn(`storage writes again after ${Math.round(down / 1000)} s: resuming`);
    try {
      options.onRecovered?.();
    } catch (err) {
      options.log?.warn(`storage recovery step failed: ${(err as Error).message}`);
    }
  };

  const report = (error: unknown) => {
    if (!isStorageFailure(error)) return;
    failures.inc();
    if (failure !== undefined) return;
    failure = error;
    since = Date.now();
    writable.set(0);
    options.log?.error(
      `storage cannot write: ${error.code} ${error.message}; refusing transactions, /health 503, probing every ≤ ${maxMs / 1000} s`,
    );
    schedule();
  };

  const unavailable = (f: AitbcError) =>
    new AitbcError('NODE_STORAGE_UNAVAILABLE', `the node cannot write its database: ${f.message}`, {
      cause: f,
      details: {
        cause: { code: f.code, message: f.message },
        since: new Date(since).toISOString(),
        retryAfterSeconds: Math.max(1, Math.ceil(delay / 1000)),
      },
    });

  const check = () => {
    if (failure !== undefined) throw unavailable(failure);
  };

  return {
    get failure() {
      return failure;
    },
    report,
    check,
    watch(store: KVStore): KVStore {
      const write = async (fn: () => Promise<void>) => {
        try {
          await fn();
        } catch (err) {
          report(err);
          throw err;
        }
      };
      const getSync = store.getSync?.bind(store);
      return {
        get: (key) => store.get(key),
        getMany: (keys) => store.getMany(keys),
        ...(getSync === undefined ? {} : { getSync }),
        put: (key, value) => write(() => store.put(key, value)),
        del: (key) => write(() => store.del(key)),
        batch: (ops: readonly BatchOp[], opts?: BatchOptions) => write(() => store.batch(ops, opts)),
        iterate: (opts) => store.iterate(opts),
        close: () => store.close(),
      };
    },
    guard(backend: NodeBackend): NodeBackend {
      const submitTx: NodeBackend['submitTx'] = (tx) => {
        if (failure !== undefined) {
          refused.inc();
          throw unavailable(failure);
        }
        return backend.submitTx(tx);
      };
      return overrideBackend(backend, { submitTx, health: check });
    },
    exposeMetrics(metrics) {
      for (const m of [writable, failures, refused]) metrics.registry.registerMetric(m);
    },
    stop() {
      stopped = true;
      if (timer !== undefined) clearTimeout(timer);
      timer = undefined;
    },
  };
}
