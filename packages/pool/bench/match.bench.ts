/**
 * Pool hub matching over 10,000 registered miners: library call and POST /v1/match over HTTP
 * (fastify on 127.0.0.1, sequential requests from an undici client in the same process), with p50/p99
 * latency (wall clock) and p50/p99 CPU time per query (`process.cpuUsage`: on a shared machine the
 * wall clock also counts time other processes held the CPU; the 1-minute load average is printed).
 * Target: p99 ≤ 10 ms over HTTP.
 */
import { loadavg } from 'node:os';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { Pool } from 'undici';
import { type BenchResult, emit } from '../../../bench/harness.ts';
import { createPoolHub, createPoolHubServer, hashApiKey, type MatchRequest } from '../src/index.js';

const MINERS = 10_000;
const REGIONS = ['eu-west', 'us-east', 'ap-south', 'sa-east'];
const GPU = [
  { model: 'T4', vramGb: 16 },
  { model: 'RTX 4090', vramGb: 24 },
  { model: 'A100', vramGb: 80 },
  { model: 'H100', vramGb: 80 },
];
const MODELS = ['llama3:8b', 'mistral', 'sdxl', 'whisper', 'qwen2:7b'];

let seed = 42;
const rand = () => {
  seed = (seed * 1_103_515_245 + 12_345) % 2 ** 31;
  return seed / 2 ** 31;
};
const pick = <T>(xs: readonly T[]): T => xs[Math.floor(rand() * xs.length)]!;

const hub = createPoolHub({ heartbeatTimeoutMs: 3_600_000 });
const { publicKey } = generateKeyPair();
const address = addressFromPublicKey(publicKey);
for (let i = 0; i < MINERS; i++) {
  const gpu = pick(GPU);
  await hub.registry.register({
    id: `miner-${i}`,
    address,
    publicKey,
    pricePerUnit: BigInt(50 + Math.floor(rand() * 950)),
    maxConcurrency: 1 + Math.floor(rand() * 4),
    capabilities: {
      gpus: Array.from({ length: 1 + Math.floor(rand() * 4) }, () => gpu),
      cpuCores: 8 + Math.floor(rand() * 56),
      ramGb: 32 + Math.floor(rand() * 480),
      models: MODELS.filter(() => rand() < 0.5),
      jobKinds: rand() < 0.8 ? ['wasm', 'llm.generate'] : ['hash'],
      region: pick(REGIONS),
    },
  });
  hub.registry.heartbeat(`miner-${i}`, {
    activeJobs: Math.floor(rand() * 2),
    latencyMs: 20 + rand() * 300,
    utilization: rand(),
  });
}

const request: MatchRequest = {
  requirements: { jobKind: 'wasm', minVramGb: 20, models: ['llama3:8b'] },
  hints: { region: 'eu-west' },
  topK: 10,
};
const wire = {
  requirements: { job_kind: 'wasm', min_vram_gb: 20, models: ['llama3:8b'] },
  hints: { region: 'eu-west' },
  top_k: 10,
};

function percentiles(samples: number[]): { p50: number; p99: number; rate: number } {
  const s = [...samples].sort((a, b) => a - b);
  const total = s.reduce((a, b) => a + b, 0);
  return { p50: s[Math.floor(s.length * 0.5)]!, p99: s[Math.floor(s.length * 0.99)]!, rate: (s.length * 1000) / total };
}

const cpuMs = (c: NodeJS.CpuUsage) => (c.user + c.system) / 1000;
const lib: number[] = [];
const libCpu: number[] = [];
for (let i = 0; i < 300; i++) hub.match(request);
for (let i = 0; i < 500; i++) {
  const c = process.cpuUsage();
  const t = performance.now();
  hub.match(request);
  lib.push(performance.now() - t);
  libCpu.push(cpuMs(process.cpuUsage(c)));
}

const server = createPoolHubServer({
  hub,
  port: 0,
  logLevel: false,
  apiKeys: [{ role: 'client', hash: hashApiKey('bench-key') }],
  rateLimitPerMinute: 1_000_000,
});
const { url } = await server.start();
const http: number[] = [];
const httpCpu: number[] = [];
const body = JSON.stringify(wire);
const client = new Pool(url, { connections: 1 });
const call = async () => {
  const res = await client.request({
    path: '/v1/match',
    method: 'POST',
    headers: { 'content-type': 'application/json', 'x-api-key': 'bench-key' },
    body,
  });
  if (res.statusCode !== 200) throw new Error(`match answered ${res.statusCode}`);
  return res.body.json();
};
for (let i = 0; i < 300; i++) await call();
for (let i = 0; i < 500; i++) {
  const c = process.cpuUsage();
  const t = performance.now();
  await call();
  http.push(performance.now() - t);
  httpCpu.push(cpuMs(process.cpuUsage(c)));
}
await client.close();
await server.stop();

const l = percentiles(lib);
const h = percentiles(http);
const lc = percentiles(libCpu);
const hc = percentiles(httpCpu);
const load = loadavg()[0]!.toFixed(1);
const eligible = hub.match(request).eligible;
const rows: BenchResult[] = [
  {
    group: 'pool',
    name: `match, library, ${MINERS} miners (${eligible} eligible)`,
    opsPerSec: l.rate,
    note: `p50 ${l.p50.toFixed(2)} ms, p99 ${l.p99.toFixed(2)} ms; CPU p50 ${lc.p50.toFixed(2)} ms, p99 ${lc.p99.toFixed(2)} ms (load ${load})`,
  },
  {
    group: 'pool',
    name: `POST /v1/match over HTTP, ${MINERS} miners`,
    opsPerSec: h.rate,
    note: `p50 ${h.p50.toFixed(2)} ms, p99 ${h.p99.toFixed(2)} ms (target p99 ≤ 10 ms); CPU (server + client) p50 ${hc.p50.toFixed(2)} ms, p99 ${hc.p99.toFixed(2)} ms (load ${load})`,
  },
];
emit(rows);
