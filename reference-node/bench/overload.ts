/**
 * The overload case of `npm run bench:node` (`AITBC_BENCH_CASE=overload` runs it alone): 4 validators
 * offered 1.5× and 3× the network's capacity (`AITBC_BENCH_OVERLOAD`, default `1.5,3`). The capacity
 * is `AITBC_BENCH_CAPACITY` (tx/s) when given, else the finalized rate of the 4-validator case at the
 * default rate measured in the same invocation. A network past its capacity must shed the excess at
 * its edge (`RPC_BUSY`, HTTP 503 with `Retry-After`) and keep finalizing at its capacity: the target is
 * finalized ≥ 90% of the peak (the highest finalized rate of the invocation) and p99 finality ≤ 3 s
 * for what was accepted.
 *
 * The load is many clients, as in production: each funded sender submits its next transaction only
 * once the node accepted the one before (a wallet does not sign nonce n+1 before n is in), and a
 * sender refused with `RPC_BUSY` waits the `Retry-After` the node gave before it sends the same
 * transaction again. Every 200 ms the generator hands the offered rate's share to senders that are
 * free to send (round-robin), in JSON-RPC batches of at most 500 round-robin to the nodes; a refusal
 * is counted as shed, not as an error. Transactions are signed before the clock starts (as many as the
 * network can accept; more are signed as needed). Offered = submissions per second, retries included;
 * finality = from the accepted submission to the moment node 0 pushes the block to a `/ws`
 * subscriber; the phases (warm-up, window, cool-down) are the steady case's.
 */

import { readFileSync } from 'node:fs';
import { DEFAULT_PARAMS, signTx, txIdHex, txToJson } from '@aitbc/chain-core';
import { type NodeBlock, subscribeNode } from '@aitbc/sdk';
import { request } from 'undici';
import WebSocket from 'ws';
import type { BenchResult } from '../../bench/harness.ts';
import type { TestNode } from '../test/networkHarness.ts';
import {
  cpuSeconds,
  machineVerifyRate,
  makeSenders,
  NODE_ARGS,
  nodeGauges,
  quantile,
  type Sender,
  sampleBacklog,
  startBenchNetwork,
} from './benchSupport.ts';

const BATCH = 500;
const TICK_MS = 200;

/** Timing of a run (s), as the steady case's. */
export interface Phases {
  readonly warmup: number;
  readonly seconds: number;
  readonly cooldown: number;
}

/** What one overload run measured (rates over the window, tx/s). */
export interface OverloadOutcome {
  readonly offered: number;
  readonly accepted: number;
  readonly refused: number;
  /** Submissions answered with another error, or not answered (counted, retried after 1 s). */
  readonly errors: number;
  /** Share of the offered rate the generator could not hand out (every sender busy or backing off). */
  readonly short: number;
  /** Finalized tx/s between the first and the last block committed inside the window. */
  readonly tps: number;
  /** Finality of the accepted submissions sent inside the window (s). */
  readonly p50: number;
  readonly p99: number;
  /** Accepted inside the window and not final 60 s after the load stopped. */
  readonly notFinal: number;
  readonly cpuPerTxUs: number;
  readonly maxIntake: number;
  readonly maxMempool: number;
  readonly intakeDropped: number;
}

interface Client {
  readonly key: Sender;
  /** Encoded `send_tx` calls (without `jsonrpc`/`id`) and tx ids, by nonce. */
  readonly calls: string[];
  readonly ids: string[];
  nonce: number;
  busy: boolean;
  notBefore: number;
}

/** `/proc/loadavg`'s three load averages, as `uptime` prints them. */
export function loadAverage(): string {
  try {
    return readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(', ');
  } catch {
    return 'n/a';
  }
}

function encode(chainId: string, s: Sender, nonce: number, to: string): { call: string; id: string } {
  const tx = signTx(
    { type: 'transfer', chainId, from: s.address, nonce, fee: DEFAULT_PARAMS.minFee, to, amount: 1n },
    s.seed,
  );
  return { call: `"method":"send_tx","params":{"tx":${JSON.stringify(txToJson(tx))}}}`, id: txIdHex(tx) };
}

/** One run: 4 validators offered `rate` submissions per second; `expectAccepted` sizes the pre-signing. */
export async function runOverload(rate: number, expectAccepted: number, phases: Phases): Promise<OverloadOutcome> {
  // Enough clients that the offered rate is reached while most of them wait out a Retry-After.
  const senders = makeSenders(Math.max(1000, Math.ceil(rate * 3)));
  const net = await startBenchNetwork(4, senders);
  try {
    const total = phases.warmup + phases.seconds + phases.cooldown;
    const perSender = Math.ceil((1.3 * Math.min(rate, expectAccepted) * total) / senders.length);
    const clients: Client[] = senders.map((key, i) => {
      const to = (senders[(i * 7 + 1) % senders.length] as Sender).address;
      const calls: string[] = [];
      const ids: string[] = [];
      for (let n = 0; n < perSender; n++) {
        const e = encode(net.chainId, key, n, to);
        calls.push(e.call);
        ids.push(e.id);
      }
      return { key, calls, ids, nonce: 0, busy: false, notBefore: 0 };
    });
    const callOf = (c: Client) => {
      if (c.nonce >= c.calls.length) {
        const e = encode(net.chainId, c.key, c.nonce, (senders[0] as Sender).address);
        c.calls.push(e.call);
        c.ids.push(e.id);
      }
      return c.calls[c.nonce] as string;
    };
    const nodes = net.validators as TestNode[];
    const observer = nodes[0] as TestNode;
    const submittedAt = new Map<string, number>();
    const finality: Array<{ sentAt: number; ms: number }> = [];
    const seen: Array<{ at: number; txs: number; cpu: number }> = [];
    const nodeCpu = () => nodes.reduce((sum, n) => sum + cpuSeconds(n.process?.pid), 0);
    let start = Number.NaN;
    const w0 = phases.warmup * 1000;
    const w1 = (phases.warmup + phases.seconds) * 1000;
    const inWindow = (sentAt: number) => sentAt >= w0 && sentAt < w1;
    const count = { offered: 0, accepted: 0, refused: 0, errors: 0, short: 0, final: 0 };
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
        let ours = 0;
        for (const t of block.txs) {
          const at = submittedAt.get(t.id);
          if (at === undefined) continue;
          ours++;
          finality.push({ sentAt: at - start, ms: now - at });
          if (inWindow(at - start)) count.final++;
        }
        seen.push({ at: now - start, txs: ours, cpu: nodeCpu() });
      }
    })();
    const backlog = sampleBacklog(
      nodes.map((n) => n.rpcUrl),
      () => start,
      w0,
      w1,
    );

    const send = async (url: string, batch: Client[]): Promise<void> => {
      const at = performance.now();
      const counted = inWindow(at - start);
      if (counted) count.offered += batch.length;
      const body = `[${batch.map((c, k) => `{"jsonrpc":"2.0","id":${k},${callOf(c)}`).join(',')}]`;
      const backOff = (c: Client, seconds: number) => {
        c.notBefore = performance.now() + seconds * 1000;
        c.busy = false;
      };
      try {
        const res = await request(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
        const text = await res.body.text();
        if (res.statusCode === 503 || res.statusCode === 429) {
          const retry = Number(res.headers['retry-after'] ?? 1) || 1;
          if (counted) count.refused += batch.length;
          for (const c of batch) backOff(c, retry);
          return;
        }
        const answers = JSON.parse(text) as Array<{
          id: number;
          result?: unknown;
          error?: { data?: { code?: string; details?: { retryAfterSeconds?: number } } };
        }>;
        if (res.statusCode !== 200 || !Array.isArray(answers)) throw new Error(`HTTP ${res.statusCode}`);
        for (const a of answers) {
          const c = batch[a.id] as Client;
          if (a.error === undefined) {
            submittedAt.set(c.ids[c.nonce] as string, at);
            if (counted) count.accepted++;
            c.nonce++;
            c.busy = false;
          } else if (a.error.data?.code === 'RPC_BUSY') {
            if (counted) count.refused++;
            backOff(c, a.error.data.details?.retryAfterSeconds ?? 1);
          } else {
            if (counted) count.errors++;
            backOff(c, 1);
          }
        }
      } catch {
        if (counted) count.errors += batch.length;
        for (const c of batch) if (c.busy) backOff(c, 1);
      }
    };

    start = performance.now();
    const sends: Promise<void>[] = [];
    let cursor = 0;
    let credit = 0;
    let target = 0;
    for (let tick = 0; tick * TICK_MS < total * 1000; tick++) {
      const wait = start + tick * TICK_MS - performance.now();
      if (wait > 0) await new Promise((r) => setTimeout(r, wait));
      const now = performance.now();
      credit += (rate * TICK_MS) / 1000;
      const want = Math.floor(credit);
      const picked: Client[] = [];
      for (let scanned = 0; scanned < clients.length && picked.length < want; scanned++) {
        const c = clients[cursor] as Client;
        cursor = (cursor + 1) % clients.length;
        if (!c.busy && c.notBefore <= now) {
          c.busy = true;
          picked.push(c);
        }
      }
      credit -= want;
      if (inWindow(now - start)) count.short += want - picked.length;
      for (let b = 0; b < picked.length; b += BATCH) {
        const node = nodes[target++ % nodes.length] as TestNode;
        sends.push(send(`${node.rpcUrl}/rpc`, picked.slice(b, b + BATCH)));
      }
    }
    await Promise.all(sends);
    const deadline = performance.now() + 60_000;
    while (count.final < count.accepted && performance.now() < deadline) await new Promise((r) => setTimeout(r, 200));
    blocks.close();
    await watcher;
    await backlog.stop();
    const intakeDropped = (await Promise.all(nodes.map((n) => nodeGauges(n.rpcUrl)))).reduce(
      (sum, g) => sum + (g.get('blockchain_tx_intake_dropped_total') ?? 0),
      0,
    );
    const windowBlocks = seen.filter((b) => b.at >= w0 && b.at <= w1);
    const first = windowBlocks[0];
    const last = windowBlocks[windowBlocks.length - 1];
    const finalized = windowBlocks.slice(1).reduce((n, b) => n + b.txs, 0);
    const span = first === undefined || last === undefined || last === first ? Number.NaN : last.at - first.at;
    const measured = finality
      .filter((f) => inWindow(f.sentAt))
      .map((f) => f.ms)
      .sort((a, b) => a - b);
    return {
      offered: count.offered / phases.seconds,
      accepted: count.accepted / phases.seconds,
      refused: count.refused / phases.seconds,
      errors: count.errors,
      short: count.short / phases.seconds,
      tps: finalized / (span / 1000),
      p50: quantile(measured, 0.5) / 1000,
      p99: quantile(measured, 0.99) / 1000,
      notFinal: count.accepted - count.final,
      cpuPerTxUs: first === undefined || last === undefined ? Number.NaN : ((last.cpu - first.cpu) / finalized) * 1e6,
      maxIntake: backlog.max.intake,
      maxMempool: backlog.max.mempool,
      intakeDropped,
    };
  } finally {
    if (NODE_ARGS !== undefined) await Promise.all(net.validators.map((n) => n.stop()));
    await net.close();
  }
}

/** The steady 4-validator case's result, the overload case's capacity reference. */
export interface CapacityProbe {
  readonly tps: number;
  readonly p50: number;
  readonly p99: number;
  readonly offered: number;
}

/**
 * Runs the overload case at each multiple of `capacity` and prints a row per run (and one summary):
 * offered, accepted, refused (503), finalized and its share of the peak, p50/p99 of what was
 * accepted, and whether the target held.
 */
export async function runOverloadCases(options: {
  readonly capacity: number;
  /** Where the capacity came from, for the note. */
  readonly capacitySource: string;
  readonly multiples: readonly number[];
  readonly phases: Phases;
}): Promise<BenchResult[]> {
  const runs: Array<{
    multiple: number;
    rate: number;
    o: OverloadOutcome;
    before: number;
    after: number;
    load: string;
  }> = [];
  for (const multiple of options.multiples) {
    const rate = Math.round(options.capacity * multiple);
    const before = machineVerifyRate();
    const loadBefore = loadAverage();
    const o = await runOverload(rate, options.capacity * 1.5, options.phases);
    const after = machineVerifyRate();
    const load = `${loadBefore} / ${loadAverage()}`;
    runs.push({ multiple, rate, o, before, after, load });
    console.error(
      `overload ${multiple}× (${rate} tx/s offered): accepted ${o.accepted.toFixed(0)}/s, refused ${o.refused.toFixed(0)}/s, ` +
        `finalized ${(o.tps / 1000).toFixed(2)}k tx/s, p50 ${o.p50.toFixed(2)} s, p99 ${o.p99.toFixed(2)} s, ` +
        `intake ≤ ${o.maxIntake}, mempool ≤ ${o.maxMempool}, not final ${o.notFinal}, ` +
        `verify ${(before / 1000).toFixed(1)}k / ${(after / 1000).toFixed(1)}k/s, load ${load}`,
    );
  }
  const peak = Math.max(options.capacity, ...runs.map((r) => r.o.tps).filter((t) => Number.isFinite(t)));
  return runs.map(({ multiple, rate, o, before, after, load }) => {
    const share = o.tps / peak;
    const held = share >= 0.9 && o.p99 <= 3;
    // Nothing refused: the offered rate was within what the network finalizes (the capacity was
    // under-estimated), so its rate says nothing about the peak.
    const verdict = o.refused === 0 && !held ? 'not past capacity (nothing refused)' : held ? 'held' : 'NOT held';
    return {
      group: 'aitbc-node',
      name: `4 validators offered ${multiple}× capacity (${rate} tx/s): finalized transfers`,
      opsPerSec: o.tps,
      note:
        `offered ${o.offered.toFixed(0)} tx/s (retries included${o.short > 1 ? `; ${o.short.toFixed(0)} tx/s not handed out: every client busy or backing off` : ''}), ` +
        `accepted ${o.accepted.toFixed(0)} tx/s, refused ${o.refused.toFixed(0)} tx/s (503 RPC_BUSY)` +
        (o.errors > 0 ? `, ${o.errors} other errors` : '') +
        `; finalized ${o.tps.toFixed(0)} tx/s = ${(share * 100).toFixed(0)}% of the peak ${peak.toFixed(0)} tx/s; ` +
        `accepted txs final p50 ${o.p50.toFixed(2)} s, p99 ${o.p99.toFixed(2)} s` +
        (o.notFinal > 0 ? `, ${o.notFinal} accepted not final after 60 s` : '') +
        `; capacity ${options.capacity.toFixed(0)} tx/s (${options.capacitySource}); ` +
        `node CPU ${Number.isNaN(o.cpuPerTxUs) ? 'n/a' : `${o.cpuPerTxUs.toFixed(0)} µs`} per final tx; ` +
        `in the window at most ${o.maxIntake} gossiped txs waiting for admission on a node, mempool at most ${o.maxMempool}` +
        (o.intakeDropped > 0 ? `, ${o.intakeDropped} gossiped txs dropped (intake full)` : '') +
        `; target finalized ≥ 90% of peak, p99 ≤ 3 s: ${verdict}` +
        ` (machine before / after: Ed25519 verify ${(before / 1000).toFixed(1)}k / ${(after / 1000).toFixed(1)}k/s on one thread, load average ${load})`,
    };
  });
}
