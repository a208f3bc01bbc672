/**
 * Node API benchmarks: GET /rpc/head against a bare node:http server answering the same JSON, with
 * the same undici load generator (16 connections, fixed request count); and WebSocket fan-out of
 * new-block events to 1,000 subscribers (p99 delivery latency). The HTTP load generator runs in the
 * server's process and the WebSocket subscribers in a worker thread (2-core machine).
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Worker } from 'node:worker_threads';
import { Pool } from 'undici';
import { type BenchResult, emit } from '../../../bench/harness.ts';
import { createNodeApiServer } from '../src/index.js';
import { MemoryBackend } from '../test/memoryBackend.ts';

const CONNECTIONS = 16;
const REQUESTS = 20_000;
const SUBSCRIBERS = 1_000;
const BLOCKS = 30;

async function load(origin: string, path: string): Promise<number> {
  const pool = new Pool(origin, { connections: CONNECTIONS });
  let left = REQUESTS;
  const start = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (left-- > 0) {
        const res = await pool.request({ method: 'GET', path });
        await res.body.text();
        if (res.statusCode !== 200) throw new Error(`status ${res.statusCode}`);
      }
    }),
  );
  const rate = REQUESTS / ((performance.now() - start) / 1000);
  await pool.close();
  return rate;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)] as number;

const backend = new MemoryBackend();
for (let i = 0; i < 10; i++) backend.addBlock([]);
const api = createNodeApiServer({ backend, port: 0, logger: false, limits: { rateLimit: 1e9 } });
const apiUrl = await api.start();
const bare = createServer((req, res) => {
  if (req.url === '/rpc/head') {
    const body = JSON.stringify(backend.head());
    res.writeHead(200, {
      'content-type': 'application/json; charset=utf-8',
      'content-length': Buffer.byteLength(body),
    });
    res.end(body);
  } else {
    res.writeHead(404).end();
  }
});
await new Promise<void>((r) => bare.listen(0, '127.0.0.1', r));
const bareUrl = `http://127.0.0.1:${(bare.address() as AddressInfo).port}`;

const apiRates: number[] = [];
const bareRates: number[] = [];
await load(apiUrl, '/rpc/head'); // warm-up
await load(bareUrl, '/rpc/head');
for (let i = 0; i < 3; i++) {
  apiRates.push(await load(apiUrl, '/rpc/head'));
  bareRates.push(await load(bareUrl, '/rpc/head'));
}
const apiRate = median(apiRates);
const bareRate = median(bareRates);
bare.close();

// WebSocket fan-out: subscribers live in a worker thread; latency is wall time from emit to receipt.
const wsUrl = `${apiUrl.replace('http', 'ws')}/ws`;
const worker = new Worker(new URL('./wsSubscribers.worker.mjs', import.meta.url), {
  workerData: { url: wsUrl, count: SUBSCRIBERS },
});
const messages: Array<{ ready?: true; latencies?: number[] }> = [];
let wake: (() => void) | undefined;
worker.on('message', (m) => {
  messages.push(m);
  wake?.();
});
async function nextMessage() {
  while (messages.length === 0)
    await new Promise<void>((r) => {
      wake = r;
    });
  return messages.shift() as { ready?: true; latencies?: number[] };
}
await nextMessage(); // ready
const latencies: number[] = [];
const txs = Array.from({ length: 10 }, (_, i) => ({
  id: String(i).padStart(64, '0'),
  type: 'transfer',
  from: 'a',
  to: 'b',
}));
const WARMUP = 5;
let fanStart = performance.now();
for (let i = 0; i < WARMUP + BLOCKS; i++) {
  if (i === WARMUP) {
    latencies.length = 0;
    fanStart = performance.now();
  }
  const head = backend.head();
  backend.emit('block', {
    height: head.height + 1 + i,
    hash: head.hash,
    txs,
    sentAt: performance.timeOrigin + performance.now(),
  });
  latencies.push(...((await nextMessage()).latencies ?? []));
}
const fanSeconds = (performance.now() - fanStart) / 1000;
latencies.sort((a, b) => a - b);
const p99 = latencies[Math.floor(latencies.length * 0.99)] as number;
const p50 = latencies[Math.floor(latencies.length * 0.5)] as number;
await worker.terminate();
await api.stop();

const rows: BenchResult[] = [
  {
    group: 'rpc',
    name: 'GET /rpc/head (fastify node API)',
    opsPerSec: apiRate,
    note: `${((apiRate / bareRate) * 100).toFixed(0)}% of bare node:http (target ≥ 60%); undici ${CONNECTIONS} conns`,
  },
  { group: 'rpc', name: 'GET /rpc/head (bare node:http baseline)', opsPerSec: bareRate, note: `${REQUESTS} requests` },
  {
    group: 'rpc',
    name: `ws fan-out new_blocks to ${SUBSCRIBERS} subscribers`,
    opsPerSec: (SUBSCRIBERS * BLOCKS) / fanSeconds,
    note: `delivery latency p50 ${p50.toFixed(1)} ms, p99 ${p99.toFixed(1)} ms (target p99 ≤ 100 ms); rate = deliveries/s`,
  },
];
emit(rows);
