import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import { AitbcError } from '@aitbc/crypto';
import type { DeriveKey } from '../keystore.js';

/**
 * The worker's code: Argon2id through hash-wasm (the same library and parameters as `deriveKey`),
 * one job at a time. Kept as a CommonJS string so it runs from source and from the build alike.
 */
const WORKER_SOURCE = `
const { parentPort, workerData } = require('node:worker_threads');
const { argon2id } = require(workerData.hashWasm);
parentPort.on('message', (job) => {
  argon2id({
    password: job.passphrase, salt: job.salt, iterations: job.t, memorySize: job.m,
    parallelism: job.p, hashLength: 32, outputType: 'binary',
  }).then(
    (key) => parentPort.postMessage({ id: job.id, key }, [key.buffer]),
    () => parentPort.postMessage({ id: job.id, failed: true }),
  );
});
`;

/**
 * A key-derivation function running on a worker thread, with a lifecycle.
 *
 * @example
 * ```ts
 * import { createKdfWorker, type KdfWorker } from '@aitbc/wallet/daemon';
 * import { unlockKeystore } from '@aitbc/wallet';
 * const worker: KdfWorker = createKdfWorker();
 * const { seed } = await unlockKeystore(fileText, passphrase, { derive: worker.derive });
 * await worker.close();
 * ```
 */
export interface KdfWorker {
  /** Argon2id off the main thread (same contract as `deriveKey`; parameters are checked by the caller). */
  readonly derive: DeriveKey;
  /** Terminates the worker; pending derivations reject with `WALLET_KDF_FAILED`. */
  close(): Promise<void>;
}

/**
 * Starts one worker thread for Argon2id. hash-wasm's `argon2id` is async in name only: the WASM runs
 * on the calling thread and blocks it (≈0.3–1 s at the defaults), so the daemon derives keys here and
 * its event loop keeps answering. Jobs run one at a time (each needs `m` KiB of memory).
 *
 * @example
 * ```ts
 * import { createKdfWorker } from '@aitbc/wallet/daemon';
 * import { createKeystore } from '@aitbc/wallet';
 * const worker = createKdfWorker();
 * const file = await createKeystore(seed, passphrase, { derive: worker.derive }); // event loop stays free
 * await worker.close();
 * ```
 */
export function createKdfWorker(): KdfWorker {
  const hashWasm = createRequire(import.meta.url).resolve('hash-wasm');
  let worker: Worker | undefined;
  let nextId = 1;
  const pending = new Map<number, { resolve: (k: Uint8Array) => void; reject: (e: unknown) => void }>();
  const failAll = () => {
    for (const p of pending.values())
      p.reject(new AitbcError('WALLET_KDF_FAILED', 'the key-derivation worker stopped'));
    pending.clear();
  };
  const start = (): Worker => {
    const w = new Worker(WORKER_SOURCE, { eval: true, workerData: { hashWasm } });
    w.on('message', (msg: { id: number; key?: Uint8Array; failed?: boolean }) => {
      const p = pending.get(msg.id);
      if (p === undefined) return;
      pending.delete(msg.id);
      if (msg.key !== undefined) p.resolve(new Uint8Array(msg.key.buffer, msg.key.byteOffset, msg.key.byteLength));
      else p.reject(new AitbcError('WALLET_KDF_FAILED', 'key derivation failed'));
      if (pending.size === 0) w.unref();
    });
    w.on('error', () => {
      worker = undefined;
      failAll();
    });
    w.on('exit', () => {
      if (worker === w) worker = undefined;
      failAll();
    });
    w.unref();
    return w;
  };
  return {
    derive(passphrase, salt, params) {
      worker ??= start();
      const w = worker;
      const id = nextId++;
      return new Promise<Uint8Array>((resolve, reject) => {
        pending.set(id, { resolve, reject });
        w.ref();
        w.postMessage({ id, passphrase, salt, m: params.m, t: params.t, p: params.p });
      });
    },
    async close() {
      const w = worker;
      worker = undefined;
      if (w !== undefined) await w.terminate();
      failAll();
    },
  };
}
