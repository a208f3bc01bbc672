/**
 * Worker for rpc.bench.ts (plain JS: workers do not inherit the tsx loader on Node 20): holds the
 * WebSocket subscribers in their own thread so the fan-out
 * latency measures the server, not clients competing for the server's event loop.
 */
import { parentPort, workerData } from 'node:worker_threads';
import WebSocket from 'ws';

const { url, count } = workerData;
const now = () => performance.timeOrigin + performance.now();
let round = [];

await Promise.all(
  Array.from(
    { length: count },
    () =>
      new Promise((resolve, reject) => {
        const ws = new WebSocket(url);
        ws.on('message', (data) => {
          const msg = JSON.parse(String(data));
          if (msg.type === 'subscribed') return resolve();
          if (msg.type === 'event' && msg.data !== undefined) {
            round.push(now() - msg.data.sentAt);
            if (round.length === count) {
              parentPort?.postMessage({ latencies: round });
              round = [];
            }
          }
        });
        ws.on('open', () => ws.send(JSON.stringify({ op: 'subscribe', topic: 'new_blocks' })));
        ws.on('error', reject);
      }),
  ),
);
parentPort?.postMessage({ ready: true });
