/**
 * Sparse Merkle tree: a 2,000-key batched update in a 100k-key tree (in memory), and proofs over a
 * large tree (generation from LevelKVStore with a cold cache, verification). Targets (at 1M keys):
 * proof verification ≥ 20k/s, generation ≥ 2k/s from LevelKVStore; the update feeds the ≥ 20k tx/s
 * block-execution target. The proof tree has 100,000 keys by default, to keep the run short; the
 * 1M-key run (built in 20,000-key batches) is `AITBC_BENCH_PROOF_KEYS=1000000`.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { sha256 } from '@aitbc/crypto';
import { LevelKVStore } from '@aitbc/storage-level';
import { type BenchResult, emit, measure, measureAsync } from '../../../bench/harness.ts';
import { MemoryKVStore, SparseMerkleTree, verifyStateProof } from '../src/index.js';

const key = (n: number) => sha256(new Uint8Array([n & 255, (n >> 8) & 255, (n >> 16) & 255, n >>> 24]));
const value = (n: number) => new TextEncoder().encode(`{"balance":"${n}000000000000000000","nonce":${n % 97}}`);

async function fill(
  tree: SparseMerkleTree,
  store: { batch: (ops: never[]) => Promise<void> },
  n: number,
): Promise<void> {
  const chunk = 20_000;
  for (let i = 0; i < n; i += chunk) {
    const changes = [];
    for (let j = i; j < Math.min(n, i + chunk); j++) changes.push([key(j), value(j)] as const);
    await tree.update(changes);
    await store.batch(tree.commitOps() as never[]);
  }
}

const rows: BenchResult[] = [];

// 1. 2,000-key update in a 100k-key in-memory tree.
{
  const store = new MemoryKVStore();
  const tree = new SparseMerkleTree(store);
  await fill(tree, store, 100_000);
  let round = 0;
  const rate = await measureAsync(
    async () => {
      round++;
      const changes = [];
      for (let i = 0; i < 2000; i++) changes.push([key((i * 50 + round) % 100_000), value(round + i)] as const);
      await tree.update(changes);
      await store.batch(tree.commitOps());
    },
    { opsPerCall: 2000, samples: 5, sampleMs: 500 },
  );
  rows.push({
    group: 'chain-core',
    name: 'state tree: update 2,000 keys in 100k (memory)',
    opsPerSec: rate,
    note: `${((2000 / rate) * 1000).toFixed(1)} ms per 2,000-key batch`,
  });
}

// 2. Proofs over a large tree stored in LevelKVStore.
{
  const n = Number(process.env.AITBC_BENCH_PROOF_KEYS ?? 100_000);
  const dir = mkdtempSync(join(tmpdir(), 'aitbc-smt-bench-'));
  const store = await LevelKVStore.open({ path: dir });
  const builder = new SparseMerkleTree(store, undefined, { cacheNodes: 200_000 });
  const t0 = performance.now();
  await fill(builder, store, n);
  const buildSec = (performance.now() - t0) / 1000;
  // A fresh tree (cold cache) reading from level, as a node serving proofs would.
  const tree = new SparseMerkleTree(store, builder.root, { cacheNodes: 100_000 });
  let i = 0;
  const gen = await measureAsync(
    () => {
      i = (i + 7919) % n;
      return tree.prove(key(i));
    },
    { samples: 5 },
  );
  rows.push({
    group: 'chain-core',
    name: `state proof generation, ${n.toLocaleString('en')} keys, LevelKVStore`,
    opsPerSec: gen,
    note: `target ≥ 2k/s; tree built in ${buildSec.toFixed(0)} s`,
  });
  const proofs = await Promise.all(Array.from({ length: 200 }, (_, j) => tree.prove(key(j * 13))));
  let p = 0;
  const ver = measure(() => {
    const j = p++ % 200;
    verifyStateProof(tree.root, key(j * 13), value(j * 13), proofs[j]!);
  });
  rows.push({
    group: 'chain-core',
    name: `state proof verification (${proofs[0]!.siblings.length} siblings)`,
    opsPerSec: ver,
    note: 'target ≥ 20k/s',
  });
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

emit(rows);
