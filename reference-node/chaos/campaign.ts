/**
 * The chaos campaign (`npm run chaos`, and the CI subset in chaos.e2e.ts): four validators as separate
 * `aitbc-node` processes (test/networkHarness.ts) — each in a network namespace of its own when the
 * partition is to run and this process may create namespaces (root), else on 127.0.0.1 — under a
 * steady load of transfers, and the scenarios (scenarios.ts) in sequence. Each scenario has its own
 * funded senders, so every transaction belongs to exactly one scenario.
 *
 * Per scenario: load on, warm-up, the fault, then recovery measured from the fault's end to the next
 * height finalized by any node (bounded by `boundMs`) and to every node being at or above it again
 * (catch-up, bounded by `catchUpMs`), a short tail of load, load off. After the last scenario the
 * pools get `drainMs` to empty (they stop when no pool shrinks for 5 s), then the checker
 * (chainChecker.ts) compares every height's hash on every node, finds every accepted transaction on
 * chain (or reports it lost or stranded) and checks the supply.
 *
 * Everything is bounded (every wait has a deadline) and cleaned up on the way out, failure or not:
 * processes, namespaces, the temp directory. {@link abortCampaigns} does it from a signal handler.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { genesisFromJson, genesisHashHex } from '@aitbc/chain-core';
import type { NodeClient } from '@aitbc/rpc/client';
import { startTestNetwork, type TestNetwork } from '../test/networkHarness.ts';
import { type ChainSummary, checkSupply, missingTxs, type SupplyCheck, summarizeChain } from './chainChecker.ts';
import { startHeightMonitor } from './heightMonitor.ts';
import { type LoadStats, makeSenders, type Sender, startLoad } from './loadGenerator.ts';
import { createNetnsTopology, type NetnsTopology, netnsUnavailable, removeStaleNamespaces } from './netns.ts';
import { pause, timedClient } from './nodeProbe.ts';
import { type Check, SCENARIO_BY_NAME, type ScenarioContext, type ScenarioName } from './scenarios.ts';

/** Options of {@link runCampaign}. */
export interface CampaignOptions {
  readonly scenarios: readonly ScenarioName[];
  /** Offered transfers per second (default 300). */
  readonly rate?: number;
  /** Finality must resume within this after a fault ends (ms, default 10,000). */
  readonly boundMs?: number;
  /** Every node must be back at the network's height within this after a fault ends (ms, default 30,000). */
  readonly catchUpMs?: number;
  /** How long a fault is held (ms, default 6,000). */
  readonly holdMs?: number;
  /** Load before each fault (ms, default 3,000) and after recovery (default 2,000). */
  readonly warmupMs?: number;
  readonly tailMs?: number;
  /** Most time the pools get to empty after the last scenario (ms, default 30,000). */
  readonly drainMs?: number;
  /** Senders per scenario (default 32). */
  readonly senders?: number;
  /** Most a node's memory may grow under the hostile peer (bytes, default 96 MiB). */
  readonly memoryBoundBytes?: number;
  /** Progress lines (default: none). */
  readonly log?: (line: string) => void;
}

/** One row of the campaign's table. */
export interface ScenarioResult {
  readonly name: ScenarioName;
  readonly fault: string;
  /** `not run: <why>` when it could not run here. */
  readonly notRun?: string;
  /** From the fault's end to the next finalized height (ms), undefined if none within the bound's deadline. */
  readonly recoveryMs?: number;
  /** From the fault's end to every node at that height or above (ms). */
  readonly catchUpMs?: number;
  readonly accepted: number;
  readonly included: number;
  /** Accepted, not on chain, every earlier nonce of the sender on chain. */
  readonly lost: number;
  /** Accepted, not on chain, behind a lost one of the same sender. */
  readonly stranded: number;
  readonly refused: Readonly<Record<string, number>>;
  readonly checks: readonly Check[];
  readonly passed: boolean;
}

/** The whole campaign. */
export interface CampaignReport {
  readonly placement: 'netns' | 'loopback';
  readonly scenarios: readonly ScenarioResult[];
  /** Checks of the whole chain: identical history, supply. `passed` ignores scenarios that could not run. */
  readonly checks: readonly Check[];
  /** What the table does not show (the pools after the drain). */
  readonly notes: readonly string[];
  readonly passed: boolean;
  readonly height: number;
  readonly durationMs: number;
}

const cleanups = new Set<() => Promise<void>>();

/** Kills every process and removes every namespace and directory of the campaigns running in this process. */
export async function abortCampaigns(): Promise<void> {
  await Promise.all([...cleanups].map((c) => c().catch(() => undefined)));
}

interface Played {
  readonly endedAt?: number;
  readonly hEnd: number;
  readonly stats: LoadStats;
  readonly checks: Check[];
  readonly recoveryMs?: number;
  readonly catchUpMs?: number;
}

/** Runs the campaign; see the module comment. Resolves the report (it throws only if the network cannot start). */
export async function runCampaign(options: CampaignOptions): Promise<CampaignReport> {
  const started = Date.now();
  const log = options.log ?? (() => undefined);
  const boundMs = options.boundMs ?? 10_000;
  const catchUpMs = options.catchUpMs ?? 30_000;
  const rate = options.rate ?? 300;
  const scenarios = options.scenarios.map((n) => {
    const s = SCENARIO_BY_NAME.get(n);
    if (s === undefined) throw new Error(`unknown scenario ${n}`);
    return s;
  });
  let topology: NetnsTopology | undefined;
  let netnsProblem: string | undefined;
  if (options.scenarios.includes('partition')) {
    netnsProblem = await netnsUnavailable();
    if (netnsProblem === undefined) {
      try {
        const stale = await removeStaleNamespaces();
        if (stale.length > 0) log(`removed namespaces of earlier runs: ${stale.join(', ')}`);
        topology = await createNetnsTopology(4);
      } catch (err) {
        netnsProblem = `cannot create network namespaces (${(err as Error).message.split('\n')[0]})`;
      }
    }
  }
  const senders = new Map<ScenarioName, Sender[]>(scenarios.map((s) => [s.name, makeSenders(options.senders ?? 32)]));
  let net: TestNetwork | undefined;
  const cleanup = async () => {
    await net?.close();
    await topology?.destroy();
  };
  cleanups.add(cleanup);
  try {
    log(`starting 4 validators (${topology === undefined ? 'loopback' : 'one network namespace each'})`);
    net = await startTestNetwork({
      validators: 4,
      params: { blockTimeMs: 500, emptyBlockIntervalMs: 1_000 },
      allocations: [...senders.values()].flat().map((s) => ({ address: s.address, amount: 10n ** 24n })),
      ...(topology === undefined ? {} : { placement: (i: number) => (topology as NetnsTopology).placement(i) }),
    });
    const nodes = net.validators;
    const clients: NodeClient[] = nodes.map((n) => timedClient(n.rpcUrl));
    const genesis = genesisFromJson(JSON.parse(readFileSync(join(net.dir, 'genesis.json'), 'utf8')));
    const genesisHash = genesisHashHex(genesis).replace(/^0x/, '');
    const monitor = startHeightMonitor(clients);
    const results: ScenarioResult[] = [];
    const allAccepted: Array<{ scenario: ScenarioName; stats: LoadStats }> = [];
    const played = new Map<ScenarioName, Played>();
    try {
      const ctx: ScenarioContext = {
        net,
        nodes,
        clients,
        monitor,
        topology,
        chainId: net.chainId,
        genesisHash,
        holdMs: options.holdMs ?? 6_000,
        boundMs,
        memoryBoundBytes: options.memoryBoundBytes ?? 96 * 1024 * 1024,
        log,
      };
      for (const scenario of scenarios) {
        const notRun = scenario.unavailable({ topology, ...(netnsProblem === undefined ? {} : { netnsProblem }) });
        if (notRun !== undefined) {
          log(`${scenario.name}: ${notRun}`);
          results.push({
            name: scenario.name,
            fault: scenario.fault,
            notRun,
            accepted: 0,
            included: 0,
            lost: 0,
            stranded: 0,
            refused: {},
            checks: [],
            passed: false,
          });
          continue;
        }
        // Start from a live network: every node at the top, a new height since.
        const top = monitor.heightAt(Date.now());
        const ready = await monitor.waitFor(() => monitor.allReached(top + 1, 0), catchUpMs);
        const checks: Check[] = [];
        if (ready === undefined)
          checks.push({ name: 'live before the fault', ok: false, detail: `not every node passed height ${top}` });
        log(`${scenario.name}: load on (${rate} tx/s)`);
        const load = startLoad({
          chainId: net.chainId,
          senders: senders.get(scenario.name) as Sender[],
          clients,
          rate,
        });
        let outcome: Awaited<ReturnType<typeof scenario.inject>> | undefined;
        try {
          await pause(options.warmupMs ?? 3_000);
          log(`${scenario.name}: ${scenario.fault}`);
          outcome = await scenario.inject(ctx);
          checks.push(...outcome.checks);
        } catch (err) {
          checks.push({ name: 'fault injected', ok: false, detail: (err as Error).message.split('\n')[0] ?? '' });
        }
        let recoveryMs: number | undefined;
        let caughtUpMs: number | undefined;
        let hEnd = -1;
        if (outcome !== undefined) {
          const endedAt = outcome.endedAt;
          hEnd = monitor.heightAt(endedAt);
          const resumed = await monitor.waitFor(() => monitor.firstAbove(hEnd, endedAt), Math.max(boundMs, catchUpMs));
          recoveryMs = resumed === undefined ? undefined : resumed - endedAt;
          checks.push({
            name: 'finality resumed',
            ok: recoveryMs !== undefined && recoveryMs <= boundMs,
            detail:
              recoveryMs === undefined
                ? `no height above ${hEnd} within ${Math.max(boundMs, catchUpMs) / 1000} s of the fault's end`
                : `height ${hEnd + 1} ${(recoveryMs / 1000).toFixed(1)} s after the fault's end (bound ${boundMs / 1000} s)`,
          });
          const caught = await monitor.waitFor(() => monitor.allReached(hEnd + 1, endedAt), catchUpMs);
          caughtUpMs = caught === undefined ? undefined : caught - endedAt;
          checks.push({
            name: 'every node caught up',
            ok: caughtUpMs !== undefined,
            detail:
              caughtUpMs === undefined
                ? `not every node reached height ${hEnd + 1} within ${catchUpMs / 1000} s`
                : `all at ≥ ${hEnd + 1} after ${(caughtUpMs / 1000).toFixed(1)} s`,
          });
        }
        await pause(options.tailMs ?? 2_000);
        const stats = await load.stop();
        log(`${scenario.name}: load off, ${stats.accepted.length} accepted of ${stats.attempts} sent`);
        allAccepted.push({ scenario: scenario.name, stats });
        played.set(scenario.name, {
          ...(outcome === undefined ? {} : { endedAt: outcome.endedAt }),
          hEnd,
          stats,
          checks,
          ...(recoveryMs === undefined ? {} : { recoveryMs }),
          ...(caughtUpMs === undefined ? {} : { catchUpMs: caughtUpMs }),
        });
      }
      // Every node must be up for the checker (a scenario that failed to restart one leaves it down).
      for (const n of nodes) if (n.process === undefined || !n.process.running) await n.start().catch(() => undefined);
      const chainChecks: Check[] = [];
      const notes = [await drain(clients, options.drainMs ?? 30_000)];
      // The checker reads whole blocks in batches: a patient client.
      const readers = nodes.map((n) => timedClient(n.rpcUrl, 60_000));
      let summary: ChainSummary | undefined;
      let supply: SupplyCheck | undefined;
      try {
        for (let attempt = 0; attempt < 3; attempt++) {
          summary = await summarizeChain(readers);
          supply = await checkSupply(readers, genesis, summary);
          const after = await summarizeChain([readers[0] as NodeClient]);
          if (after.included.size === summary.included.size) break; // no transaction landed while reading
        }
      } catch (err) {
        const cause = (err as Error & { cause?: Error }).cause;
        chainChecks.push({
          name: 'chain readable',
          ok: false,
          detail: `${(err as Error).message}${cause === undefined ? '' : `: ${cause.message}`}`,
        });
      }
      if (summary !== undefined) {
        chainChecks.push({
          name: 'identical history',
          ok: summary.mismatchCount === 0,
          detail:
            summary.mismatchCount === 0
              ? `heights 1..${summary.height}: one hash each on all ${nodes.length} nodes`
              : `${summary.mismatchCount} heights differ, e.g. ${JSON.stringify(summary.mismatches.slice(0, 3))}`,
        });
      }
      if (supply !== undefined) chainChecks.push({ name: 'supply conserved', ok: supply.ok, detail: supply.note });
      for (const scenario of scenarios) {
        const p = played.get(scenario.name);
        if (p === undefined) continue;
        const included = summary?.included ?? new Set<string>();
        const missing = missingTxs(p.stats.accepted, included);
        const lost = missing.filter((m) => m.kind === 'lost');
        const stranded = missing.length - lost.length;
        p.checks.push({
          name: 'no accepted tx lost',
          ok: summary !== undefined && missing.length === 0,
          detail:
            missing.length === 0
              ? `${p.stats.accepted.length} accepted, all on chain`
              : `${lost.length} lost (accepted by ${describeNodes(lost.map((m) => m.tx.node))}, e.g. ${lost
                  .slice(0, 3)
                  .map((m) => `${m.tx.from.slice(0, 12)}… nonce ${m.tx.nonce}`)
                  .join(', ')}), ${stranded} stranded behind them (same senders, later nonces)`,
        });
        results.push({
          name: scenario.name,
          fault: scenario.fault,
          ...(p.recoveryMs === undefined ? {} : { recoveryMs: p.recoveryMs }),
          ...(p.catchUpMs === undefined ? {} : { catchUpMs: p.catchUpMs }),
          accepted: p.stats.accepted.length,
          included: p.stats.accepted.length - missing.length,
          lost: lost.length,
          stranded,
          refused: p.stats.refused,
          checks: p.checks,
          passed: p.checks.every((c) => c.ok),
        });
      }
      const ordered = scenarios.map((s) => results.find((r) => r.name === s.name) as ScenarioResult);
      return {
        placement: topology === undefined ? 'loopback' : 'netns',
        scenarios: ordered,
        checks: chainChecks,
        notes,
        // A scenario that could not run here is no failure of the code, and the table says so.
        passed: ordered.every((r) => r.notRun !== undefined || r.passed) && chainChecks.every((c) => c.ok),
        height: summary?.height ?? -1,
        durationMs: Date.now() - started,
      };
    } finally {
      await monitor.stop();
    }
  } finally {
    await cleanup();
    cleanups.delete(cleanup);
  }
}

function describeNodes(nodes: readonly number[]): string {
  const counts = new Map<number, number>();
  for (const n of nodes) counts.set(n, (counts.get(n) ?? 0) + 1);
  return [...counts].map(([n, c]) => `node-${n} ×${c}`).join(', ');
}

/** Waits for the pools to empty, or to stop shrinking for 5 s, within `ms`; says what they still hold. */
async function drain(clients: readonly NodeClient[], ms: number): Promise<string> {
  const end = Date.now() + ms;
  let last = Number.POSITIVE_INFINITY;
  let still = 0;
  let sizes: number[] = [];
  while (Date.now() < end) {
    sizes = await Promise.all(clients.map(async (c) => (await c.mempool(1).catch(() => ({ size: -1 }))).size));
    const total = sizes.reduce((s, n) => s + Math.max(0, n), 0);
    if (total === 0) break;
    still = total >= last ? still + 1 : 0;
    last = total;
    if (still >= 5) break;
    await pause(1_000);
  }
  return `pending in the pools after the drain: ${sizes.map((n, i) => `node-${i} ${n < 0 ? '?' : n}`).join(', ')}`;
}
