/** LevelKVStore on this machine: batch put, get, getSync, getMany, iterate (compare PERF-NOTES.md). */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { type BenchResult, emit, measure, measureAsync } from '../../../bench/harness.ts';
import { LevelKVStore } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-level-bench-'));
const store = await LevelKVStore.open({ path: dir });
const key = (i: number) => {
  const k = new Uint8Array(33);
  k[0] = 0x10;
  new DataView(k.buffer).setUint32(29, i);
  return k;
};
const value = new Uint8Array(100).fill(7);
const N = 100_000;
let next = 0;
const rows: BenchResult[] = [];
rows.push({
  group: 'storage-level',
  name: 'batch put, 1,000 per batch',
  opsPerSec: await measureAsync(
    () => store.batch(Array.from({ length: 1000 }, () => ({ type: 'put' as const, key: key(next++ % N), value }))),
    { opsPerCall: 1000 },
  ),
  note: 'PERF-NOTES: 290–440k/s',
});
for (let i = 0; i < N; i += 1000)
  await store.batch(Array.from({ length: 1000 }, (_, j) => ({ type: 'put' as const, key: key(i + j), value })));
let r = 0;
const randomKey = () => {
  r = (r * 7919 + 1) % N;
  return key(r);
};
rows.push({
  group: 'storage-level',
  name: 'await get (random, 100k keys)',
  opsPerSec: await measureAsync(() => store.get(randomKey())),
  note: 'PERF-NOTES: ~17k/s',
});
rows.push({
  group: 'storage-level',
  name: 'getSync (random)',
  opsPerSec: measure(() => store.getSync!(randomKey())),
  note: 'PERF-NOTES: ~200k/s',
});
const keys = Array.from({ length: 100 }, (_, i) => key((i * 997) % N));
rows.push({
  group: 'storage-level',
  name: 'getMany (100 keys per call)',
  opsPerSec: await measureAsync(() => store.getMany(keys), { opsPerCall: 100 }),
  note: 'PERF-NOTES: ~140k/s',
});
rows.push({
  group: 'storage-level',
  name: 'iterate 10,000 entries',
  opsPerSec: await measureAsync(
    async () => {
      let n = 0;
      for await (const _ of store.iterate({ gte: key(0), limit: 10_000 })) n++;
      return n;
    },
    { opsPerCall: 10_000 },
  ),
});
rows.push({
  group: 'storage-level',
  name: 'batch put {sync:true}, 1 op',
  opsPerSec: await measureAsync(() => store.batch([{ type: 'put', key: key(1), value }], { sync: true }), {
    samples: 3,
  }),
  note: 'fsync per call; PERF-NOTES: ~2.7k/s',
});
await store.close();
rmSync(dir, { recursive: true, force: true });
emit(rows);
