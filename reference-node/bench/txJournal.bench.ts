/**
 * The cost of the local transaction journal (`createLocalTxJournal`): what journaling adds to each
 * `send_tx` — one write and one `fdatasync` per group of submission batches — on the real disk of
 * `os.tmpdir()` (run `df` on it: a tmpfs would make the sync free).
 *
 * - back-to-back batches of 1, 16 and 128 transactions: the journal's ceiling (txs/s) per batch size;
 * - 2,000 tx/s offered as 10-transaction submission batches every 5 ms (as concurrent HTTP clients
 *   arrive), each waiting for its sync: the latency it adds (p50/p99) and the CPU per transaction.
 *
 * `npm run bench -- txJournal`, or alone:
 * `node --import tsx --conditions=@aitbc/source reference-node/bench/txJournal.bench.ts`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createMempool, DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import type { JsonObject } from '@aitbc/rpc';
import { type BenchResult, emit } from '../../bench/harness.ts';
import { createLocalTxJournal, type LocalTx } from '../src/localTxJournal.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-journal-bench-'));
const key = generateKeyPair();
const from = addressFromPublicKey(key.publicKey);
const to = addressFromPublicKey(generateKeyPair().publicKey);
let nonce = 0;
/** Transactions with their wire JSON, as the API hands them to the journal (the client's JSON, decoded). */
const txs = (n: number): LocalTx[] =>
  Array.from({ length: n }, () => {
    const tx = signTx(
      { type: 'transfer', chainId: 'bench', from, nonce: nonce++, fee: DEFAULT_PARAMS.minFee, to, amount: 1n },
      key.seed,
    );
    return { tx, json: txToJson(tx) as JsonObject };
  });
const mempool = createMempool({ chainId: 'bench', minFee: 0n, account: async () => ({ balance: 0n, nonce: 0 }) });
const quantile = (xs: number[], q: number) => [...xs].sort((a, b) => a - b)[Math.floor(q * (xs.length - 1))]!;

const rows: BenchResult[] = [];
try {
  for (const size of [1, 16, 128]) {
    const journal = createLocalTxJournal({ path: join(dir, `b${size}.ndjson`), mempool, maxBytes: 1 << 30 });
    await journal.start();
    const batches = Array.from({ length: Math.max(20, Math.ceil(2000 / size)) }, () => txs(size));
    const cpu0 = process.cpuUsage();
    const start = performance.now();
    for (const b of batches) await journal.persist(b);
    const ms = performance.now() - start;
    const cpu = process.cpuUsage(cpu0);
    rows.push({
      group: 'node',
      name: `tx journal, batches of ${size} back to back`,
      opsPerSec: (batches.length * size * 1000) / ms,
      note: `${(ms / batches.length).toFixed(2)} ms per batch (write + fdatasync); ${((cpu.user + cpu.system) / (batches.length * size)).toFixed(1)} µs CPU per tx`,
    });
    await journal.stop();
  }

  // 2,000 tx/s offered: a 10-tx batch every 5 ms for 3 s, each awaited by its own "client".
  const journal = createLocalTxJournal({ path: join(dir, 'offered.ndjson'), mempool, maxBytes: 1 << 30 });
  await journal.start();
  const pending: Promise<void>[] = [];
  const latencies: number[] = [];
  const batches = Array.from({ length: 600 }, () => txs(10));
  const cpu0 = process.cpuUsage();
  const t0 = performance.now();
  for (let i = 0; i < batches.length; i++) {
    const due = t0 + i * 5;
    const wait = due - performance.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait));
    const sent = performance.now();
    pending.push(journal.persist(batches[i]!).then(() => void latencies.push(performance.now() - sent)));
  }
  await Promise.all(pending);
  const elapsed = performance.now() - t0;
  const cpu = process.cpuUsage(cpu0);
  const total = batches.length * 10;
  rows.push({
    group: 'node',
    name: 'tx journal at 2,000 tx/s offered (10-tx batches every 5 ms)',
    opsPerSec: (total * 1000) / elapsed,
    note: `adds p50 ${quantile(latencies, 0.5).toFixed(1)} ms, p99 ${quantile(latencies, 0.99).toFixed(1)} ms; ${((cpu.user + cpu.system) / total).toFixed(1)} µs CPU per tx (pacing included)`,
  });
  await journal.stop();
} finally {
  rmSync(dir, { recursive: true, force: true });
}
emit(rows);
