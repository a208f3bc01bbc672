/**
 * `npm run bench:node` (also part of `npm run bench`): sustained finalized throughput of signed
 * transfers on a 4-validator network of `aitbc-node` processes (blockTimeMs 1000), beside the same
 * load on a single validator. The load is pre-signed (many funded senders, so per-sender mempool
 * limits do not bind), submitted in JSON-RPC batches round-robin to the nodes at a fixed offered rate,
 * and finality is measured from each batch's submission to the moment node 0 pushes the tx's committed
 * block to a `/ws` `new_blocks` subscriber (the SDK's `subscribeNode`). Speed is reported, never asserted.
 * These steady cases run with admission control off (see `run`); the overload case (`overload.ts`) with it.
 *
 * "Sustained" is measured in steady state, in three phases at the same offered rate: a warm-up
 * (AITBC_BENCH_WARMUP seconds: JIT, heap growth, first reads of every account), the measured window
 * (AITBC_BENCH_SECONDS), and a cool-down that keeps the load on while the window's last transactions
 * finalize, so that the window never sees an emptying network. Throughput is the rate at which
 * transactions were finalized between the first and the last block committed inside the window (all
 * transactions in those blocks, whichever phase sent them); p50/p99 are over the transactions sent
 * inside the window. The note gives the whole run's p99 too, warm-up included.
 *
 * The note also gives the CPU the node processes used (user + system, every thread, from `/proc`)
 * over the same blocks, per finalized transaction. It moves less with the load than the rate does,
 * but this shared machine still drifts by ±10% between runs: compare two versions in alternating
 * runs, not against a figure from an hour before.
 *
 * Knobs (environment): AITBC_BENCH_RATE (offered tx/s, default 2100), AITBC_BENCH_SECONDS (measured
 * window, default 20), AITBC_BENCH_WARMUP (default 10), AITBC_BENCH_COOLDOWN (default 4),
 * AITBC_BENCH_ONLY (`4` or `1` to run one case), AITBC_BENCH_MAX_BLOCK_TXS (the genesis block cap, default
 * chain-core's `DEFAULT_PARAMS.maxBlockTxs`, 5,000), AITBC_BENCH_NODE_ARGS (Node.js flags of every node
 * process, e.g. `--cpu-prof --cpu-prof-dir=/tmp/prof`: the nodes are then stopped gracefully so that
 * they write their profiles), AITBC_BENCH_THREADS=1 (also print the nodes' CPU split between their
 * main threads and the others — libuv pool, GC helpers, LevelDB — and the load generator's own CPU),
 * AITBC_BENCH_BLOCKS=1 (print each block as the observer sees it: size, round, finality range),
 * AITBC_BENCH_REPEAT=N (run the 4-validator case N times, a row each, and print in how many of them the
 * target was met: one run says little on a machine whose speed drifts), AITBC_BENCH_CASE (`steady`: the
 * 4- and 1-validator cases only; `overload`: the overload case only, see `overload.ts`, with its
 * capacity from AITBC_BENCH_CAPACITY or a 4-validator run at AITBC_BENCH_RATE; unset: all of them),
 * AITBC_BENCH_OVERLOAD (the overload multiples of the capacity, default `1.5,3`), AITBC_BENCH_PEAK_RATE (the
 * overload case's peak probe: 4 validators offered this rate with admission off, default 1.6 × the rate; the
 * capacity is the larger finalized rate of that and the steady run; 0: no probe), AITBC_BENCH_NODE_ENV
 * (extra `AITBC_*` settings of every node, e.g. `AITBC_ADMISSION_BUDGET_MS=0` to compare).
 *
 * Each row gives the single-thread verify rate of an idle machine just before and just after its run, so
 * that a run on a slowed machine can be told from a slower build, and where a backlog sat (sampled from
 * each node's `/metrics` every 500 ms in the window): gossiped transactions waiting for admission
 * (`blockchain_tx_intake_pending`: a node whose CPU cannot verify at the network's rate) or admitted
 * ones waiting for a block (`blockchain_mempool_size`).
 */

import { readdirSync, readFileSync } from 'node:fs';
import { DEFAULT_PARAMS, signTx, txIdHex, txToJson } from '@aitbc/chain-core';
import { type NodeBlock, subscribeNode } from '@aitbc/sdk';
import { request } from 'undici';
import WebSocket from 'ws';
import { type BenchResult, emit } from '../../bench/harness.ts';
import type { TestNode } from '../test/networkHarness.ts';
import {
  cpuSeconds,
  MAX_BLOCK_TXS,
  machineVerifyRate,
  makeSenders,
  NODE_ARGS,
  nodeGauges,
  quantile,
  sampleBacklog,
  startBenchNetwork,
} from './benchSupport.ts';
import { loadAverage, runOverloadCases } from './overload.ts';

const RATE = Number(process.env.AITBC_BENCH_RATE ?? 2100);
const SECONDS = Number(process.env.AITBC_BENCH_SECONDS ?? 20);
const WARMUP = Number(process.env.AITBC_BENCH_WARMUP ?? 10);
const COOLDOWN = Number(process.env.AITBC_BENCH_COOLDOWN ?? 4);
const ONLY = process.env.AITBC_BENCH_ONLY;
/** `steady` (the 4- and 1-validator cases), `overload` (the overload case alone), unset: both. */
const CASE = process.env.AITBC_BENCH_CASE;
const BATCH = 500;
const SENDERS = 500;
const TICK_MS = 200;
const REPEAT = Math.max(1, Math.floor(Number(process.env.AITBC_BENCH_REPEAT ?? 1)) || 1);

interface Outcome {
  /** Transactions sent inside the measured window, and how many of them were finalized. */
  readonly offered: number;
  readonly committed: number;
  /** Finalized tx/s between the first and the last block committed inside the window. */
  readonly tps: number;
  /** Finality of the window's transactions (s). */
  readonly p50: number;
  readonly p99: number;
  /** Finality p99 of every transaction of the run, warm-up and cool-down included (s). */
  readonly p99All: number;
  /** Blocks committed inside the window, and the largest block of the run. */
  readonly blocks: number;
  readonly maxBlockTxs: number;
  /** Submissions refused over the whole run (errors), and those refused with RPC_BUSY and sent again. */
  readonly rejected: number;
  readonly shed: number;
  /** CPU of all node processes over the window's blocks, per finalized tx (µs). */
  readonly cpuPerTxUs: number;
  /** Inside the window, sampled from each node's `/metrics`: the most gossiped txs waiting for admission on one node, and the largest mempool. */
  readonly maxIntake: number;
  readonly maxMempool: number;
  /** Gossiped txs the nodes dropped because their intake queue was full (whole run, all nodes). */
  readonly intakeDropped: number;
  /** Peers the nodes banned (whole run, all nodes): an honest network bans none. */
  readonly peersBanned: number;
}

/** A JSON-RPC batch of `send_tx` calls, encoded before the run: its tx ids, node URL and body. */
interface Batch {
  readonly ids: string[];
  readonly url: string;
  readonly body: string;
  /** The calls of the body (to resend those refused with RPC_BUSY). */
  readonly calls: ReadonlyArray<Record<string, unknown>>;
}

/** A block as the observer first saw it committed. */
interface SeenBlock {
  readonly at: number;
  readonly txs: number;
  /** CPU seconds of all node processes at that moment. */
  readonly cpu: number;
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

async function run(validators: number, rate = RATE): Promise<Outcome> {
  const senders = makeSenders(SENDERS);
  // Admission control off (AITBC_BENCH_NODE_ENV can turn it on): this load is open-loop, each sender's
  // nonces pipelined across the nodes, for a network below its capacity. A network past it refuses
  // some; their resends (below) and the sender's later nonces, sent meanwhile, then multiply — on a
  // slowed machine the refusals took the nodes' CPU (5.5M in one run). The overload case measures
  // admission, with clients that wait for each answer.
  const net = await startBenchNetwork(validators, senders, { AITBC_ADMISSION_BUDGET_MS: '0' });
  try {
    const total = rate * (WARMUP + SECONDS + COOLDOWN);
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
        load.push({ id: txIdHex(tx), json: txToJson(tx) as unknown as Record<string, unknown> });
      }
    const nodes = net.validators as TestNode[];
    const observer = nodes[0] as TestNode;
    const submittedAt = new Map<string, number>();
    /** Finality (ms) by the submission time (ms after start) of every finalized bench tx. */
    const finality: Array<{ sentAt: number; ms: number }> = [];
    const seen: SeenBlock[] = [];
    let rejected = 0;
    let maxBlockTxs = 0;
    let start = Number.NaN;
    const w0 = WARMUP * 1000;
    const w1 = (WARMUP + SECONDS) * 1000;
    const inWindow = (sentAt: number) => sentAt >= w0 && sentAt < w1;
    let windowFinal = 0;
    const nodeCpu = () => nodes.reduce((sum, n) => sum + cpuSeconds(n.process?.pid), 0);
    const threadsAtStart = nodes.map((n) => threadCpu(n.process?.pid));
    const selfAtStart = process.cpuUsage();
    // Blocks pushed by node 0 as it commits them (`/ws` new_blocks, through the SDK): no polling delay.
    const blocks = subscribeNode<NodeBlock>({
      baseUrl: observer.rpcUrl,
      topic: 'new_blocks',
      fromHeight: (await observer.client.head()).height + 1,
      webSocket: WebSocket as never,
    });
    await blocks.ready;
    const watcher = (async () => {
      for await (const block of blocks) {
        const now = performance.now();
        maxBlockTxs = Math.max(maxBlockTxs, block.txs.length);
        let ours = 0;
        for (const t of block.txs) {
          const at = submittedAt.get(t.id);
          if (at === undefined) continue;
          ours++;
          finality.push({ sentAt: at - start, ms: now - at });
          if (inWindow(at - start)) windowFinal++;
        }
        seen.push({ at: now - start, txs: ours, cpu: nodeCpu() });
        if (process.env.AITBC_BENCH_BLOCKS === '1') {
          const own = finality.slice(finality.length - ours).map((f) => f.ms);
          console.error(
            `height ${block.height} seen at ${((now - start) / 1000).toFixed(2)} s: ${block.txs.length} txs, round ${block.header.round}, ` +
              `finality ${(Math.min(...own) / 1000).toFixed(2)}–${(Math.max(...own) / 1000).toFixed(2)} s`,
          );
        }
      }
    })();
    // Every JSON-RPC batch encoded before the clock starts: the load generator shares the two cores
    // with the nodes, so during the run it only sends bodies and counts refusals.
    const perTick = Math.max(1, Math.round((rate * TICK_MS) / 1000));
    const ticks: Batch[][] = [];
    for (let i = 0, tick = 0; i < load.length; tick++) {
      const slice = load.slice(i, i + perTick);
      i += slice.length;
      const parts: Batch[] = [];
      for (let b = 0; b < slice.length; b += BATCH) {
        const part = slice.slice(b, b + BATCH);
        const target = nodes[(tick + b / BATCH) % nodes.length] as TestNode;
        const calls = part.map((t, k) => ({ jsonrpc: '2.0', id: k, method: 'send_tx', params: { tx: t.json } }));
        parts.push({ ids: part.map((t) => t.id), url: `${target.rpcUrl}/rpc`, body: JSON.stringify(calls), calls });
      }
      ticks.push(parts);
    }
    // A submission refused with RPC_BUSY (the node past its capacity) is sent again after the
    // Retry-After it gave — the same transaction: a gap in a sender's nonces would strand the rest —
    // and counted as shed, not as an error. Its finality still counts from its first submission.
    let shed = 0;
    const send = async (part: Batch): Promise<void> => {
      let busy: number[] = [];
      let retryAfter = 1;
      try {
        const res = await request(part.url, {
          method: 'POST',
          headers: { 'content-type': 'application/json' },
          body: part.body,
        });
        const answers = (await res.body.json()) as Array<{
          id: number;
          error?: { data?: { code?: string; details?: { retryAfterSeconds?: number } } };
        }>;
        if (res.statusCode === 503) {
          busy = part.ids.map((_, k) => k);
          retryAfter = Number(res.headers['retry-after'] ?? 1) || 1;
        } else if (res.statusCode !== 200 || !Array.isArray(answers)) rejected += part.ids.length;
        else
          for (const a of answers) {
            if (a.error === undefined) continue;
            if (a.error.data?.code !== 'RPC_BUSY') rejected++;
            else {
              busy.push(a.id);
              retryAfter = Math.max(retryAfter, a.error.data.details?.retryAfterSeconds ?? 1);
            }
          }
      } catch {
        rejected += part.ids.length;
      }
      if (busy.length === 0) return;
      shed += busy.length;
      await new Promise((r) => setTimeout(r, retryAfter * 1000));
      const calls = busy.map((k, i) => ({ ...part.calls[k], id: i }));
      await send({ ids: busy.map((k) => part.ids[k] as string), url: part.url, body: JSON.stringify(calls), calls });
    };
    const backlog = sampleBacklog(
      nodes.map((n) => n.rpcUrl),
      () => start,
      w0,
      w1,
    );
    start = performance.now();
    const sends: Promise<void>[] = [];
    for (const [tick, parts] of ticks.entries()) {
      const wait = start + tick * TICK_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      for (const part of parts) {
        const at = performance.now();
        for (const id of part.ids) submittedAt.set(id, at);
        sends.push(send(part));
      }
    }
    await Promise.all(sends);
    const expected = load.filter((t) => inWindow((submittedAt.get(t.id) as number) - start)).length;
    const deadline = performance.now() + 60_000;
    while (windowFinal < expected - rejected && performance.now() < deadline)
      await new Promise((r) => setTimeout(r, 200));
    blocks.close();
    await watcher;
    await backlog.stop();
    const finalGauges = await Promise.all(nodes.map((n) => nodeGauges(n.rpcUrl)));
    const intakeDropped = finalGauges.reduce((sum, g) => sum + (g.get('blockchain_tx_intake_dropped_total') ?? 0), 0);
    const peersBanned = finalGauges.reduce((sum, g) => sum + (g.get('p2p_peers_banned_total') ?? 0), 0);
    const windowBlocks = seen.filter((b) => b.at >= w0 && b.at <= w1);
    const first = windowBlocks[0];
    const last = windowBlocks[windowBlocks.length - 1];
    const finalized = windowBlocks.slice(1).reduce((n, b) => n + b.txs, 0);
    const measured = finality
      .filter((f) => inWindow(f.sentAt))
      .map((f) => f.ms)
      .sort((a, b) => a - b);
    const all = finality.map((f) => f.ms).sort((a, b) => a - b);
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
      console.error(`load generator: ${((self.user + self.system) / 1e6).toFixed(2)} s CPU (whole run)`);
      for (const [name, [u, sy]] of [...sum].sort((a, b) => b[1][0] + b[1][1] - a[1][0] - a[1][1]))
        console.error(
          `${name.padEnd(18)} user ${u.toFixed(2)} s  sys ${sy.toFixed(2)} s  per tx ${(((u + sy) / all.length) * 1e6).toFixed(0)} µs (whole run)`,
        );
    }
    const span = first === undefined || last === undefined || last === first ? Number.NaN : last.at - first.at;
    return {
      offered: expected,
      committed: measured.length,
      tps: finalized / (span / 1000),
      p50: quantile(measured, 0.5) / 1000,
      p99: quantile(measured, 0.99) / 1000,
      p99All: quantile(all, 0.99) / 1000,
      blocks: windowBlocks.length,
      maxBlockTxs,
      rejected,
      shed,
      cpuPerTxUs: first === undefined || last === undefined ? Number.NaN : ((last.cpu - first.cpu) / finalized) * 1e6,
      maxIntake: backlog.max.intake,
      maxMempool: backlog.max.mempool,
      intakeDropped,
      peersBanned,
    };
  } finally {
    if (NODE_ARGS !== undefined) await Promise.all(net.validators.map((n) => n.stop()));
    await net.close();
  }
}

const rows: BenchResult[] = [];
let met4 = 0;
/** The finalized rate of the last 4-validator steady run: the overload case's capacity. */
let capacity: { tps: number; source: string } | undefined;
if (process.env.AITBC_BENCH_CAPACITY !== undefined)
  capacity = { tps: Number(process.env.AITBC_BENCH_CAPACITY), source: 'AITBC_BENCH_CAPACITY' };
const steadyCases = CASE === 'overload' ? (capacity === undefined ? [4] : []) : [4, 1];
for (const validators of steadyCases) {
  if (ONLY !== undefined && ONLY !== String(validators)) continue;
  const runs = validators === 4 ? REPEAT : 1;
  for (let r = 1; r <= runs; r++) {
    const before = machineVerifyRate();
    const loadBefore = loadAverage();
    const o = await run(validators);
    const after = machineVerifyRate();
    const load = `${loadBefore} / ${loadAverage()}`;
    const met = o.tps >= 2000 && o.p50 <= 1.5 && o.p99 <= 3;
    if (validators === 4 && met) met4++;
    if (validators === 4 && capacity?.source !== 'AITBC_BENCH_CAPACITY')
      capacity = { tps: o.tps, source: `finalized by the 4-validator case at ${RATE} tx/s offered in this run` };
    // As each run ends (the table comes at the end): a series of long runs keeps what it measured.
    console.error(
      `${validators} validator(s), run ${r}/${runs}: ${(o.tps / 1000).toFixed(2)}k tx/s, p50 ${o.p50.toFixed(2)} s, ` +
        `p99 ${o.p99.toFixed(2)} s, ${o.cpuPerTxUs.toFixed(0)} µs CPU/tx, intake ≤ ${o.maxIntake}, mempool ≤ ${o.maxMempool}, ` +
        `${o.rejected} refused, ${o.shed} busy, verify ${(before / 1000).toFixed(1)}k / ${(after / 1000).toFixed(1)}k/s, load ${load}` +
        (validators === 4 ? (met ? ', met' : ', NOT met') : ''),
    );
    rows.push({
      group: 'aitbc-node',
      name:
        `${validators === 4 ? '4 validators (4 processes)' : 'single validator'}: finalized transfers, blockTimeMs 1000` +
        (runs > 1 ? `, run ${r}/${runs}` : ''),
      opsPerSec: o.tps,
      note:
        `p50 ${o.p50.toFixed(2)} s, p99 ${o.p99.toFixed(2)} s (whole run incl. ${WARMUP} s warm-up: p99 ${o.p99All.toFixed(2)} s); ` +
        `${o.committed}/${o.offered} of the window final (${o.rejected} refused in the run${o.shed > 0 ? `, ${o.shed} submissions answered RPC_BUSY and sent again after Retry-After` : ''}), ` +
        `offered ${RATE} tx/s, window ${SECONDS} s, ${o.blocks} blocks in it (max ${o.maxBlockTxs} txs, cap ${MAX_BLOCK_TXS}); ` +
        `node CPU ${Number.isNaN(o.cpuPerTxUs) ? 'n/a' : `${o.cpuPerTxUs.toFixed(0)} µs`} per final tx; ` +
        `in the window at most ${o.maxIntake} gossiped txs waiting for admission on a node, mempool at most ${o.maxMempool}` +
        (o.intakeDropped > 0 ? `, ${o.intakeDropped} gossiped txs dropped (intake full)` : '') +
        (o.peersBanned > 0 ? `, ${o.peersBanned} peers BANNED` : '') +
        (validators === 4 ? `; target ≥ 2,000 tx/s, p50 ≤ 1.5 s, p99 ≤ 3 s: ${met ? 'met' : 'NOT met'}` : '') +
        ` (measured under load; machine before / after the run: Ed25519 verify ${(before / 1000).toFixed(1)}k / ${(after / 1000).toFixed(1)}k/s on one thread, load average ${load})`,
    });
  }
}
if (REPEAT > 1 && ONLY !== '1' && CASE !== 'overload')
  console.error(`4 validators: target met in ${met4} of ${REPEAT} runs`);
// The peak: what the network finalizes when offered more than it can take (admission off), so that
// the overload case is judged against the network's real capacity, not the default rate it met.
const PEAK_RATE = Number(process.env.AITBC_BENCH_PEAK_RATE ?? Math.round(RATE * 1.6));
if (
  (CASE === undefined || CASE === 'overload') &&
  ONLY !== '1' &&
  capacity !== undefined &&
  capacity.source !== 'AITBC_BENCH_CAPACITY' &&
  PEAK_RATE > 0
) {
  const o = await run(4, PEAK_RATE);
  console.error(
    `peak probe (${PEAK_RATE} tx/s offered, admission off): ${(o.tps / 1000).toFixed(2)}k tx/s finalized, p50 ${o.p50.toFixed(2)} s, p99 ${o.p99.toFixed(2)} s`,
  );
  if (o.tps > capacity.tps)
    capacity = {
      tps: o.tps,
      source: `the peak: finalized by 4 validators offered ${PEAK_RATE} tx/s (admission off) in this run`,
    };
}
if ((CASE === undefined || CASE === 'overload') && ONLY !== '1' && capacity !== undefined && capacity.tps > 0)
  rows.push(
    ...(await runOverloadCases({
      capacity: capacity.tps,
      capacitySource: capacity.source,
      multiples: (process.env.AITBC_BENCH_OVERLOAD ?? '1.5,3').split(',').map(Number),
      phases: { warmup: WARMUP, seconds: SECONDS, cooldown: COOLDOWN },
    })),
  );
emit(rows);
