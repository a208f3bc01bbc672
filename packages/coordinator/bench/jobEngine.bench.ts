/**
 * Coordinator throughput with in-process miners that do no work: jobs submitted → assigned (long-poll)
 * → completed with miner-signed receipts that the coordinator verifies, attests and persists
 * (LevelKVStore, fsync'd group commits). Target: ≥ 1,000 jobs/s; reports p50/p99 per-job latency.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { createPoolHub } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { LevelKVStore } from '@aitbc/storage-level';
import { type BenchResult, emit } from '../../../bench/harness.ts';
import { createReceiptHandler, JobEngine } from '../src/index.js';

const JOBS = Number(process.env.AITBC_BENCH_JOBS ?? 5000);
const MINERS = Number(process.env.AITBC_BENCH_MINERS ?? 64);
const dir = mkdtempSync(join(tmpdir(), 'aitbc-coord-bench-'));
const store = await LevelKVStore.open({ path: dir });
const hub = createPoolHub({ heartbeatTimeoutMs: 3_600_000 });
const coordinator = generateKeyPair();
const engine = new JobEngine({
  store,
  hub,
  receipts: createReceiptHandler({ chainId: 'aitbc-devnet', coordinatorSeed: coordinator.seed }),
  maxQueued: JOBS + 10,
});
await engine.start();
const client = addressFromPublicKey(generateKeyPair().publicKey);
const miners = Array.from({ length: MINERS }, (_, i) => ({ id: `m${i}`, keys: generateKeyPair() }));
for (const m of miners) {
  await hub.registry.register({
    id: m.id,
    address: addressFromPublicKey(m.keys.publicKey),
    publicKey: m.keys.publicKey,
    pricePerUnit: 1n,
    maxConcurrency: 1,
    capabilities: { gpus: [], cpuCores: 1, ramGb: 1, models: [], jobKinds: ['hash'], region: 'local' },
  });
}

const latencies: number[] = [];
let done = 0;
let finish: () => void = () => undefined;
const allDone = new Promise<void>((resolve) => {
  finish = resolve;
});

async function minerLoop(m: (typeof miners)[number]): Promise<void> {
  const address = addressFromPublicKey(m.keys.publicKey);
  while (done < JOBS) {
    const a = await engine.poll(m.id, { maxWaitMs: 1000 });
    if (a === null) continue;
    const now = Date.now();
    const receipt = serializeReceipt(
      signReceipt(
        createReceipt({
          jobId: a.jobId,
          provider: address,
          client: a.client,
          units: 1n,
          unitType: 'job',
          unitPrice: 1n,
          startedAt: now,
          completedAt: now,
          chainId: 'aitbc-devnet',
        }),
        m.keys.seed,
        m.keys.publicKey,
      ),
    );
    const finished = await engine.complete(m.id, a.jobId, { ok: true }, receipt);
    latencies.push(Date.now() - finished.createdAt);
    if (++done === JOBS) finish();
  }
}

const t0 = performance.now();
const loops = miners.map(minerLoop);
// 64 concurrent clients submitting (their submissions share group-committed fsyncs).
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < JOBS) {
      const i = next++;
      await engine.submit(client, { kind: 'hash', input: { i }, maxPrice: 10n });
    }
  }),
);
await allDone;
const seconds = (performance.now() - t0) / 1000;
await Promise.all(loops);
await engine.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });

latencies.sort((a, b) => a - b);
const p = (q: number) => latencies[Math.min(latencies.length - 1, Math.floor(latencies.length * q))]!.toFixed(1);
const rows: BenchResult[] = [
  {
    group: 'coordinator',
    name: `jobs submitted → assigned → completed, ${MINERS} in-process miners, LevelKVStore`,
    opsPerSec: JOBS / seconds,
    note: `target ≥ 1,000 jobs/s; per job p50 ${p(0.5)} ms, p99 ${p(0.99)} ms (submit to completion, includes queueing)`,
  },
];
emit(rows);
