/**
 * Miner agent costs: the wasm runner per job (a fresh worker thread each time, compile included), the
 * hash runner, and jobs end to end through a real coordinator over HTTP on 127.0.0.1 (submit → long-poll →
 * run → signed receipt → verified and attested), one agent with concurrency 4.
 */
import { bytesToBase64url } from '@aitbc/crypto';
import { type BenchResult, emit, measureAsync } from '../../../bench/harness.ts';
import { createHashRunner, createMinerAgent, createWasmRunner } from '../src/miner/index.js';
import { CHAIN_ID, startCoordinatorRig } from '../test/miner/coordinatorRig.ts';
import { INCREMENT_MODULE } from '../test/miner/wasmFixtures.ts';

const JOBS = Number(process.env.AITBC_BENCH_JOBS ?? 200);
const signal = new AbortController().signal;
const rows: BenchResult[] = [];

const wasm = createWasmRunner();
const wasmInput = { module: bytesToBase64url(INCREMENT_MODULE), input: bytesToBase64url(new Uint8Array(1024)) };
rows.push({
  group: 'sdk/miner',
  name: 'wasm runner, 1 KiB input (one warm worker thread)',
  opsPerSec: await measureAsync(
    () => wasm.run({ jobId: 'j', kind: 'wasm', input: wasmInput, client: 'c', maxPrice: 1n }, { signal }),
    { samples: 3 },
  ),
  note: 'compile + instantiate + run per job; measured under load',
});

const cold = createWasmRunner({ idleWorkers: 0 });
rows.push({
  group: 'sdk/miner',
  name: 'wasm runner, 1 KiB input (fresh worker thread per job)',
  opsPerSec: await measureAsync(
    () => cold.run({ jobId: 'j', kind: 'wasm', input: wasmInput, client: 'c', maxPrice: 1n }, { signal }),
    { samples: 3 },
  ),
  note: 'worker start-up dominates; measured under load',
});

const hash = createHashRunner();
rows.push({
  group: 'sdk/miner',
  name: 'hash runner, 1 iteration',
  opsPerSec: await measureAsync(
    () => hash.run({ jobId: 'j', kind: 'hash', input: { text: 'hi' }, client: 'c', maxPrice: 1n }, { signal }),
    { samples: 3 },
  ),
});

// The coordinator's per-IP rate limit (6,000/min) would throttle a benchmark where everything is 127.0.0.1.
const rig = await startCoordinatorRig({ minerCount: 1, rateLimitPerMinute: 10_000_000 });
const miner = rig.miners[0]!;
const agent = createMinerAgent({
  coordinatorUrl: rig.url,
  apiKey: miner.apiKey,
  minerId: miner.id,
  seed: miner.keys.seed,
  chainId: CHAIN_ID,
  pricePerUnit: 1n,
  concurrency: 4,
  pollWaitSeconds: 5,
  heartbeatMs: 1_000,
  probe: { nvidiaSmiPath: false },
});
let done = 0;
let allDone: () => void = () => undefined;
const finished = new Promise<void>((resolve) => {
  allDone = resolve;
});
agent.on('jobCompleted', () => {
  if (++done === JOBS) allDone();
});
await agent.start();
const t0 = performance.now();
await Promise.all(Array.from({ length: JOBS }, (_, i) => rig.submit('hash', { text: `job ${i}` })));
await finished;
const seconds = (performance.now() - t0) / 1000;
await agent.stop();
await rig.stop();
rows.push({
  group: 'sdk/miner',
  name: `hash jobs end to end over HTTP, 1 agent × concurrency 4 (${JOBS} jobs)`,
  opsPerSec: JOBS / seconds,
  note: 'coordinator and agent in one process; measured under load',
});
emit(rows);
