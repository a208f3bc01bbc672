/**
 * SDK overhead per call: `client.node.head()` against a bare `fetch` + `res.json()` of the same
 * route (`GET /rpc/head`) on a real node API server (devnet of one, LevelDB, 127.0.0.1). Calls are
 * sequential and alternate one by one, so machine load affects both sides alike. Target: the
 * SDK's p50 within 10% of bare fetch.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { startDevnetOfOne } from 'aitbc-node';
import { type BenchResult, emit } from '../../../bench/harness.ts';
import { createClient } from '../src/index.ts';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-sdk-bench-'));
const node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0 });
try {
  const client = createClient({ node: node.rpcUrl });
  const url = `${node.rpcUrl}/rpc/head`;
  const bare = async () => (await fetch(url, { headers: { accept: 'application/json' } })).json();
  const sdk = () => client.node.head();

  const calls = 2_000;
  const times: Record<'bare' | 'sdk', number[]> = { bare: [], sdk: [] };
  for (let i = 0; i < 200; i++) {
    await bare();
    await sdk();
  }
  // Alternate call by call (the order flips every call), so load spikes hit both sides alike.
  for (let i = 0; i < calls; i++) {
    const order = i % 2 === 0 ? (['bare', 'sdk'] as const) : (['sdk', 'bare'] as const);
    for (const name of order) {
      const t0 = performance.now();
      await (name === 'bare' ? bare() : sdk());
      times[name].push(performance.now() - t0);
    }
  }
  const pct = (xs: number[], p: number) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * p)]!;
  const p50 = { bare: pct(times.bare, 0.5), sdk: pct(times.sdk, 0.5) };
  const p99 = { bare: pct(times.bare, 0.99), sdk: pct(times.sdk, 0.99) };
  const overhead = (p50.sdk / p50.bare - 1) * 100;
  const rows: BenchResult[] = [
    {
      group: 'sdk',
      name: 'GET /rpc/head, bare fetch + json()',
      opsPerSec: 1000 / p50.bare,
      note: `p50 ${(p50.bare * 1000).toFixed(0)} µs, p99 ${(p99.bare * 1000).toFixed(0)} µs`,
    },
    {
      group: 'sdk',
      name: 'GET /rpc/head, client.node.head()',
      opsPerSec: 1000 / p50.sdk,
      note: `p50 ${(p50.sdk * 1000).toFixed(0)} µs, p99 ${(p99.sdk * 1000).toFixed(0)} µs; overhead at p50 ${overhead.toFixed(1)}% (target ≤ 10%)`,
    },
  ];
  emit(rows);
} finally {
  await node.stop();
  rmSync(dir, { recursive: true, force: true });
}
