/**
 * Coordinator throughput with in-process miners that do no work: jobs submitted → assigned (long-poll)
 * → completed with miner-signed receipts that the coordinator verifies, attests and persists
 * (LevelKVStore, fsync'd group commits). Target: ≥ 1,000 jobs/s. Reports, per job: the coordinator's
 * overhead from assignment to durable completion (the miner signs its receipt in between: it does no
 * work), the submit call (to durable), submit to completion (mostly queueing: every job is submitted at
 * once), and the CPU time of the process (all threads, miners included) per job.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
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
const overheads: number[] = [];
const submits: number[] = [];
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
    const assignedAt = performance.now();
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
    overheads.push(performance.now() - assignedAt);
    latencies.push(Date.now() - finished.createdAt);
    if (++done === JOBS) finish();
  }
}

const t0 = performance.now();
const cpu0 = process.cpuUsage();
const loops = miners.map(minerLoop);
// 64 concurrent clients submitting (their submissions share group-committed fsyncs).
let next = 0;
await Promise.all(
  Array.from({ length: 64 }, async () => {
    while (next < JOBS) {
      const i = next++;
      const t = performance.now();
      await engine.submit(client, { kind: 'hash', input: { i }, maxPrice: 10n });
      submits.push(performance.now() - t);
    }
  }),
);
await allDone;
const seconds = (performance.now() - t0) / 1000;
const cpu = process.cpuUsage(cpu0);
await Promise.all(loops);
await engine.stop();
await store.close();
rmSync(dir, { recursive: true, force: true });

const pct = (xs: number[], q: number) => {
  const sorted = [...xs].sort((a, b) => a - b);
  return sorted[Math.min(sorted.length - 1, Math.floor(sorted.length * q))]!.toFixed(1);
};
const cpuPerJobUs = (cpu.user + cpu.system) / JOBS;
const rows: BenchResult[] = [
  {
    group: 'coordinator',
    name: `jobs submitted → assigned → completed, ${MINERS} in-process miners, LevelKVStore`,
    opsPerSec: JOBS / seconds,
    note: `target ≥ 1,000 jobs/s; CPU ${cpuPerJobUs.toFixed(0)} µs/job (all threads, miners included); load ${loadavg()[0]!.toFixed(1)}`,
  },
  {
    group: 'coordinator',
    name: 'per job: assigned → durably completed (receipt signed, verified, attested, persisted)',
    opsPerSec: 1000 / Number(pct(overheads, 0.5)),
    note: `p50 ${pct(overheads, 0.5)} ms, p99 ${pct(overheads, 0.99)} ms`,
  },
  {
    group: 'coordinator',
    name: 'per job: submit (durable) / submit → completed (includes queueing)',
    opsPerSec: 1000 / Number(pct(submits, 0.5)),
    note: `submit p50 ${pct(submits, 0.5)} ms, p99 ${pct(submits, 0.99)} ms; to completion p50 ${pct(latencies, 0.5)} ms, p99 ${pct(latencies, 0.99)} ms`,
  },
];
emit(rows);
