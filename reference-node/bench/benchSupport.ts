/**
 * What the node benchmarks share: the bench network (4 or 1 `aitbc-node` processes, blockTimeMs 1000),
 * funded senders, readings of the nodes' `/metrics` and `/proc`, and the machine's verify rate.
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, type KeyPair, sign, verify } from '@aitbc/crypto';
import { request } from 'undici';
import { startTestNetwork, type TestNetwork } from '../test/networkHarness.ts';

export const MAX_BLOCK_TXS = Number(process.env.AITBC_BENCH_MAX_BLOCK_TXS ?? DEFAULT_PARAMS.maxBlockTxs);
export const NODE_ARGS = process.env.AITBC_BENCH_NODE_ARGS?.split(' ').filter((a) => a !== '');
/**
 * Extra `AITBC_*` settings of every node, `AITBC_BENCH_NODE_ENV="AITBC_ADMISSION_BUDGET_MS=0 …"`: to
 * compare a setting in alternating runs.
 */
export const NODE_ENV: Record<string, string> = Object.fromEntries(
  (process.env.AITBC_BENCH_NODE_ENV ?? '')
    .split(' ')
    .filter((kv) => kv.includes('='))
    .map((kv) => [kv.slice(0, kv.indexOf('=')), kv.slice(kv.indexOf('=') + 1)]),
);

export type Sender = KeyPair & { readonly address: string };

export function makeSenders(n: number): Sender[] {
  return Array.from({ length: n }, () => {
    const k = generateKeyPair();
    return { ...k, address: addressFromPublicKey(k.publicKey) };
  });
}

/**
 * The bench network: `validators` processes, the senders funded at genesis, large mempools; `env`
 * (then {@link NODE_ENV}) on top.
 */
export function startBenchNetwork(
  validators: number,
  senders: readonly Sender[],
  env: Record<string, string> = {},
): Promise<TestNetwork> {
  return startTestNetwork({
    validators,
    // The genesis default block cap (5,000): a cap near the offered rate (2,500 at 1 block/s) leaves
    // ~300 tx/s to drain a backlog, and a warm-up's backlog was then still draining in the window. A
    // propose timeout that leaves the proposer time to build (execute) a full block on a loaded
    // machine: with 5,000-tx blocks and 3 s, rounds timed out.
    params: { blockTimeMs: 1000, emptyBlockIntervalMs: 2000, maxBlockTxs: MAX_BLOCK_TXS },
    consensus: { timeoutProposeMs: 6000, timeoutVoteMs: 2000, timeoutDeltaMs: 1000 },
    allocations: senders.map((s) => ({ address: s.address, amount: 10n ** 24n })),
    env: { AITBC_MEMPOOL_MAX_TXS: '100000', AITBC_MEMPOOL_MAX_PER_SENDER: '1000', ...env, ...NODE_ENV },
    ...(NODE_ARGS === undefined ? {} : { execArgv: NODE_ARGS }),
  });
}

/** The values of un-labelled samples in a Prometheus text exposition, by metric name. */
export async function nodeGauges(rpcUrl: string): Promise<Map<string, number>> {
  const out = new Map<string, number>();
  try {
    const res = await request(`${rpcUrl}/metrics`);
    for (const line of (await res.body.text()).split('\n')) {
      const m = /^([a-z_]+) ([0-9.e+-]+)$/.exec(line);
      if (m !== null) out.set(m[1] as string, Number(m[2]));
    }
  } catch {
    // a node busy or gone: no sample this time
  }
  return out;
}

/** CPU seconds (user + system, all threads) a process has used so far, from `/proc` (Linux), or NaN. */
export function cpuSeconds(pid: number | undefined): number {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) / 100; // utime, stime in clock ticks (USER_HZ 100)
  } catch {
    return Number.NaN;
  }
}

/**
 * Single-thread Ed25519 verifications per second right now (the API's backend: libsodium), on an idle
 * network: this shared machine's speed drifts by up to 40% within an hour, and the note gives this
 * figure so that runs from different hours can be told apart.
 */
export function machineVerifyRate(): number {
  const key = generateKeyPair();
  const message = new Uint8Array(200).fill(7);
  const signature = sign(message, key.seed);
  let n = 0;
  const t0 = performance.now();
  while (performance.now() - t0 < 300) for (let i = 0; i < 50; i++, n++) verify(signature, message, key.publicKey);
  return n / ((performance.now() - t0) / 1000);
}

export function quantile(sorted: readonly number[], q: number): number {
  if (sorted.length === 0) return Number.NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] as number;
}

/**
 * Samples every node's gossip intake and mempool gauges each 500 ms while `sampling()` holds, keeping
 * the largest seen inside the measured window (`[w0, w1]` ms after `start()`): where the backlog sits
 * when a run falls behind — gossip waiting for admission (each node verifies every signature once),
 * or admitted transactions waiting for a block.
 */
export function sampleBacklog(
  rpcUrls: readonly string[],
  start: () => number,
  w0: number,
  w1: number,
): { readonly max: { intake: number; mempool: number }; stop(): Promise<void> } {
  const max = { intake: 0, mempool: 0 };
  let sampling = true;
  const done = (async () => {
    while (sampling) {
      await new Promise((r) => setTimeout(r, 500));
      const t = performance.now() - start();
      const samples = await Promise.all(rpcUrls.map((u) => nodeGauges(u)));
      if (t < w0 || t > w1) continue;
      for (const g of samples) {
        max.intake = Math.max(max.intake, g.get('blockchain_tx_intake_pending') ?? 0);
        max.mempool = Math.max(max.mempool, g.get('blockchain_mempool_size') ?? 0);
      }
    }
  })();
  return {
    max,
    stop: async () => {
      sampling = false;
      await done;
    },
  };
}
