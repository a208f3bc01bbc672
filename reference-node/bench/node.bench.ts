/**
 * `npm run bench:node` (also part of `npm run bench`): sustained finalized throughput of signed
 * transfers on a 4-validator network of `aitbc-node` processes (blockTimeMs 1000), beside the same
 * load on a single validator. The load is pre-signed (many funded senders, so per-sender mempool
 * limits do not bind), submitted in JSON-RPC batches round-robin to the nodes at a fixed offered rate,
 * and finality is measured from each batch's submission to the poll that first sees the tx's block
 * committed on node 0. Speed is reported, never asserted.
 *
 * The note also gives the CPU the node processes used (user + system, every thread, from `/proc`) from
 * the first submission to the last commit, per finalized transaction. It moves less with the load than
 * the rate does, but this shared machine still drifts by ±10% between runs: compare two versions in
 * alternating runs, not against a figure from an hour before.
 *
 * Knobs (environment): AITBC_BENCH_RATE (offered tx/s, default 2500), AITBC_BENCH_SECONDS (default 8),
 * AITBC_BENCH_ONLY (`4` or `1` to run one case), AITBC_BENCH_MAX_BLOCK_TXS (the genesis block cap, default
 * 2500), AITBC_BENCH_NODE_ARGS (Node.js flags of every node
 * process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: the nodes are then stopped gracefully so that
 * they write their profiles), AITBC_BENCH_THREADS=1 (also print the nodes' CPU split between their
 * main threads and the others — libuv pool, GC helpers, LevelDB — and the load generator's own CPU).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { DEFAULT_PARAMS, signTx, txIdHex, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { type BenchResult, emit } from '../../bench/harness.ts';
import { startTestNetwork, type TestNode } from '../test/networkHarness.ts';

const RATE = Number(process.env.AITBC_BENCH_RATE ?? 2500);
const SECONDS = Number(process.env.AITBC_BENCH_SECONDS ?? 8);
const ONLY = process.env.AITBC_BENCH_ONLY;
const BATCH = 500;
const SENDERS = 500;
const TICK_MS = 200;
const MAX_BLOCK_TXS = Number(process.env.AITBC_BENCH_MAX_BLOCK_TXS ?? 2500);
const NODE_ARGS = process.env.AITBC_BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '');

interface Outcome {
  readonly committed: number;
  readonly offered: number;
  readonly tps: number;
  readonly p50: number;
  readonly p99: number;
  readonly blocks: number;
  readonly maxBlockTxs: number;
  readonly rejected: number;
  /** CPU of all node processes from the first submission to the last commit, per finalized tx (µs). */
  readonly cpuPerTxUs: number;
}

/** CPU seconds (user + system, all threads) a process has used so far, from `/proc` (Linux), or NaN. */
function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

/** CPU seconds (user, system) of a process's main thread and of its other threads together, from `/proc` (Linux). */
function threadCpu(pid: number | undefined): Map<string, [number, number]> {
  const out = new Map<string, [number, number]>();
  try {
    for (const t of readdirSync(`/proc/${pid}/task`)) {
      const stat = readFileSync(`/proc/${pid}/task/${t}/stat`, 'utf8');
      const name = t === String(pid) ? 'main' : 'other threads';
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      const cur = out.get(name) ?? [0, 0];
      out.set(name, [cur[0] + Number(f[11]) / 100, cur[1] + Number(f[12]) / 100]);
    }
  } catch {
    // not Linux, or the process is gone
  }
  return out;
}

function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

async function run(validators: number): Promise<Outcome> {
  const senders: Array<KeyPair & { address: string }> = Array.from({ length: SENDERS }, () => {
    const k = generateKeyPair();
    return { ...k, address: addressFromPublicKey(k.publicKey) };
  });
  const net = await startTestNetwork({
    validators,
    // Blocks capped near the target rate, and a propose timeout that leaves the proposer time to build
    // (execute) a full block on a loaded machine: with 5,000-tx blocks and 3 s, rounds time out.
    params: { blockTimeMs: 1000, emptyBlockIntervalMs: 2000, maxBlockTxs: MAX_BLOCK_TXS },
    consensus: { timeoutProposeMs: 6000, timeoutVoteMs: 2000, timeoutDeltaMs: 1000 },
    allocations: senders.map((s) => ({ address: s.address, amount: 10n ** 24n })),
    env: { AITBC_MEMPOOL_MAX_TXS: '100000', AITBC_MEMPOOL_MAX_PER_SENDER: '1000' },
    ...(NODE_ARGS === undefined ? {} : { execArgv: NODE_ARGS }),
  });
  try {
    const total = RATE * SECONDS;
    const perSender = Math.ceil(total / SENDERS);
    // Pre-sign: nonce order per sender, interleaved across senders.
    const load: Array<{ id: string; json: Record<string, unknown> }> = [];
    for (let n = 0; n < perSender && load.length < total; n++)
      for (const s of senders) {
        if (load.length >= total) break;
        const to = senders[(load.length * 7 + 1) % SENDERS]?.address as string;
        const tx = signTx(
          {
            type: 'transfer',
            chainId: net.chainId,
            from: s.address,
            nonce: n,
            fee: DEFAULT_PARAMS.minFee,
            to,
            amount: 1n,
          },
          s.seed,
        );
        load.push({ id: txIdHex(tx).replace(/^0x/, ''), json: txToJson(tx) as unknown as Record<string, unknown> });
      }
    const nodes = net.validators as TestNode[];
    const observer = nodes[0] as TestNode;
    const submittedAt = new Map<string, number>();
    const finality: number[] = [];
    let rejected = 0;
    let blocks = 0;
    let maxBlockTxs = 0;
    let lastCommitAt = 0;
    let seenHeight = (await observer.client.head()).height;
    let polling = true;
    const nodeCpu = () => nodes.reduce((sum, n) => sum + cpuSeconds(n.process?.pid), 0);
    const cpuAtStart = nodeCpu();
    const threadsAtStart = nodes.map((n) => threadCpu(n.process?.pid));
    const selfAtStart = process.cpuUsage();
    let cpuAtLastCommit = cpuAtStart;
    const poller = (async () => {
      while (polling) {
        const head = (await observer.client.head()).height;
        for (let h = seenHeight + 1; h <= head; h++) {
          const block = await observer.client.block(h);
          const now = performance.now();
          const txs = block.txs as Array<{ id: string }>;
          blocks++;
          maxBlockTxs = Math.max(maxBlockTxs, txs.length);
          for (const t of txs) {
            const at = submittedAt.get(t.id.replace(/^0x/, ''));
            if (at === undefined) continue;
            finality.push(now - at);
            lastCommitAt = now;
            cpuAtLastCommit = Number.NaN;
          }
          if (Number.isNaN(cpuAtLastCommit)) cpuAtLastCommit = nodeCpu();
        }
        seenHeight = head;
        await new Promise((r) => setTimeout(r, 100));
      }
    })();
    const start = performance.now();
    const perTick = Math.max(1, Math.round((RATE * TICK_MS) / 1000));
    const sends: Promise<void>[] = [];
    for (let i = 0, tick = 0; i < load.length; tick++) {
      const due = start + tick * TICK_MS;
      const wait = due - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const slice = load.slice(i, i + perTick);
      i += slice.length;
      for (let b = 0; b < slice.length; b += BATCH) {
        const part = slice.slice(b, b + BATCH);
        const target = nodes[(tick + b / BATCH) % nodes.length] as TestNode;
        const at = performance.now();
        for (const t of part) submittedAt.set(t.id, at);
        sends.push(
          target.client.rpcBatch(part.map((t) => ({ method: 'send_tx', params: { tx: t.json } }))).then((results) => {
            for (const r of results) if (r instanceof Error) rejected++;
          }),
        );
      }
    }
    await Promise.all(sends);
    const deadline = performance.now() + 60_000;
    while (finality.length < load.length - rejected && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    polling = false;
    await poller;
    finality.sort((a, b) => a - b);
    if (process.env.AITBC_BENCH_THREADS === '1') {
      const sum = new Map<string, [number, number]>();
      nodes.forEach((n, i) => {
        for (const [name, [u, sy]] of threadCpu(n.process?.pid)) {
          const before = threadsAtStart[i]?.get(name) ?? [0, 0];
          const cur = sum.get(name) ?? [0, 0];
          sum.set(name, [cur[0] + u - before[0], cur[1] + sy - before[1]]);
        }
      });
      const self = process.cpuUsage(selfAtStart);
      console.error(`load generator: ${((self.user + self.system) / 1e6).toFixed(2)} s CPU`);
      for (const [name, [u, sy]] of [...sum].sort((a, b) => b[1][0] + b[1][1] - a[1][0] - a[1][1]))
        console.error(
          `${name.padEnd(18)} user ${u.toFixed(2)} s  sys ${sy.toFixed(2)} s  per tx ${(((u + sy) / finality.length) * 1e6).toFixed(0)} µs`,
        );
    }
    return {
      committed: finality.length,
      offered: load.length,
      tps: finality.length / ((lastCommitAt - start) / 1000),
      p50: quantile(finality, 0.5) / 1000,
      p99: quantile(finality, 0.99) / 1000,
      blocks,
      maxBlockTxs,
      rejected,
      cpuPerTxUs: ((cpuAtLastCommit - cpuAtStart) / finality.length) * 1e6,
    };
  } finally {
    if (NODE_ARGS !== undefined) await Promise.all(net.validators.map((n) => n.stop()));
    await net.close();
  }
}

const rows: BenchResult[] = [];
for (const validators of [4, 1]) {
  if (ONLY !== undefined && ONLY !== String(validators)) continue;
  const o = await run(validators);
  const met = o.tps >= 2000 && o.p50 <= 1.5 && o.p99 <= 3;
  rows.push({
    group: 'aitbc-node',
    name: `${validators === 4 ? '4 validators (4 processes)' : 'single validator'}: finalized transfers, blockTimeMs 1000`,
    opsPerSec: o.tps,
    note:
      `p50 ${o.p50.toFixed(2)} s, p99 ${o.p99.toFixed(2)} s; ${o.committed}/${o.offered} final (${o.rejected} refused), ` +
      `offered ${RATE} tx/s for ${SECONDS} s, ${o.blocks} blocks (max ${o.maxBlockTxs} txs, cap ${MAX_BLOCK_TXS}); ` +
      `node CPU ${Number.isNaN(o.cpuPerTxUs) ? 'n/a' : `${o.cpuPerTxUs.toFixed(0)} µs`} per final tx` +
      (validators === 4 ? `; target ≥ 2,000 tx/s, p50 ≤ 1.5 s, p99 ≤ 3 s: ${met ? 'met' : 'NOT met'}` : '') +
      ' (measured under load)',
  });
}
emit(rows);
