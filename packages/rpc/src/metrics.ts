import { Counter, Gauge, Histogram, Registry } from 'prom-client';
import type { PeerNetworkStats } from './p2p/createPeerNetwork.js';

/**
 * The node's Prometheus metrics in a private registry (never the global one).
 *
 * @example
 * ```ts
 * import { createNodeApiServer, createNodeMetrics, type NodeMetrics } from '@aitbc/rpc';
 * const metrics: NodeMetrics = createNodeMetrics();
 * const server = createNodeApiServer({ backend, metrics });
 * backend.on('block', (b) => metrics.recordBlock(b.height, b.txs.length));
 * console.log(await metrics.render()); // Prometheus text format
 * ```
 */
export interface NodeMetrics {
  /** The private registry; `/metrics` serves its text exposition. */
  readonly registry: Registry;
  /** `blockchain_blocks_total`: blocks committed. */
  readonly blocksTotal: Counter;
  /** `blockchain_transactions_total`: transactions committed in blocks. */
  readonly transactionsTotal: Counter;
  /** `blockchain_consensus_rounds`: the current consensus round (gauge). */
  readonly consensusRounds: Gauge;
  /** `blockchain_network_peers`: connected peers. */
  readonly networkPeers: Gauge;
  /** `blockchain_head_height`: height of the head block. */
  readonly headHeight: Gauge;
  /** `blockchain_mempool_size`: pending transactions. */
  readonly mempoolSize: Gauge;
  /** `blockchain_tx_intake_pending`: gossiped transactions received and waiting to be admitted (decoded, verified). */
  readonly txIntakePending: Gauge;
  /** `blockchain_tx_intake_dropped_total`: gossiped transactions dropped because the intake queue was full. */
  readonly txIntakeDropped: Counter;
  /** `rpc_tx_submissions_pending`: transactions submitted through the API (REST or JSON-RPC) and not yet answered. */
  readonly submissionsPending: Gauge;
  /** `rpc_tx_submissions_busy_total`: submissions refused with `RPC_BUSY` (`limits.maxPendingTxs` already pending). */
  readonly submissionsRefused: Counter;
  /** `blockchain_finality_latency_seconds`: proposal-to-commit latency. */
  readonly finalityLatency: Histogram;
  /** `rpc_request_duration_seconds{route,method,status}`: API request durations. */
  readonly requestDuration: Histogram<'route' | 'method' | 'status'>;
  /** `rpc_ws_connections`: open WebSocket subscription connections. */
  readonly wsConnections: Gauge;
  /** Records a committed block: bumps the block and tx counters and sets the head height. */
  recordBlock(height: number, txCount: number): void;
  /** The text exposition format. */
  render(): Promise<string>;
}

/**
 * Options of {@link createNodeMetrics}.
 *
 * @example
 * ```ts
 * import { createNodeMetrics, type NodeMetricsOptions } from '@aitbc/rpc';
 * const options: NodeMetricsOptions = { mempoolSize: () => mempool.size };
 * const metrics = createNodeMetrics(options);
 * ```
 */
export interface NodeMetricsOptions {
  /**
   * Read at every scrape into `blockchain_mempool_size`, so the gauge is never stale (a validator's
   * mempool changes with every admission and block). Without it the gauge holds what was last `set`.
   */
  readonly mempoolSize?: () => number;
  /**
   * Read at every scrape into the peer network counters: `p2p_gossip_messages_total{verdict}`
   * (`accept`, `ignore`, `reject`, `duplicate`), `p2p_frames_dropped_total{reason}` (`rate_limit`,
   * `oversized`) and `p2p_peers_banned_total`. Without it they are not exported.
   */
  readonly peerNetwork?: () => PeerNetworkStats | undefined;
}

/**
 * Creates the node metrics in a fresh private {@link Registry}.
 *
 * @example
 * ```ts
 * const metrics = createNodeMetrics({ mempoolSize: () => mempool.size });
 * metrics.recordBlock(1, 3);
 * const text = await metrics.render(); // contains "blockchain_blocks_total 1"
 * ```
 */
export function createNodeMetrics(options: NodeMetricsOptions = {}): NodeMetrics {
  const readMempoolSize = options.mempoolSize;
  const registry = new Registry();
  const registers = [registry];
  const blocksTotal = new Counter({ name: 'blockchain_blocks_total', help: 'Blocks committed.', registers });
  const transactionsTotal = new Counter({
    name: 'blockchain_transactions_total',
    help: 'Transactions committed in blocks.',
    registers,
  });
  const consensusRounds = new Gauge({
    name: 'blockchain_consensus_rounds',
    help: 'Current consensus round at the current height.',
    registers,
  });
  const networkPeers = new Gauge({ name: 'blockchain_network_peers', help: 'Connected peers.', registers });
  const headHeight = new Gauge({ name: 'blockchain_head_height', help: 'Height of the head block.', registers });
  const mempoolSize = new Gauge({
    name: 'blockchain_mempool_size',
    help: 'Pending transactions.',
    registers,
    ...(readMempoolSize === undefined
      ? {}
      : {
          collect() {
            this.set(readMempoolSize());
          },
        }),
  });
  const txIntakePending = new Gauge({
    name: 'blockchain_tx_intake_pending',
    help: 'Gossiped transactions received and waiting to be admitted to the mempool.',
    registers,
  });
  const txIntakeDropped = new Counter({
    name: 'blockchain_tx_intake_dropped_total',
    help: 'Gossiped transactions dropped because the intake queue was full.',
    registers,
  });
  const submissionsPending = new Gauge({
    name: 'rpc_tx_submissions_pending',
    help: 'Transactions submitted through the API and waiting for admission to the mempool.',
    registers,
  });
  const submissionsRefused = new Counter({
    name: 'rpc_tx_submissions_busy_total',
    help: 'Transactions refused with RPC_BUSY because too many submissions were pending.',
    registers,
  });
  const finalityLatency = new Histogram({
    name: 'blockchain_finality_latency_seconds',
    help: 'Latency from block proposal to commit.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2, 5, 10, 30],
    registers,
  });
  const requestDuration = new Histogram<'route' | 'method' | 'status'>({
    name: 'rpc_request_duration_seconds',
    help: 'Node API request duration by route, method and status.',
    labelNames: ['route', 'method', 'status'],
    buckets: [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1],
    registers,
  });
  const wsConnections = new Gauge({
    name: 'rpc_ws_connections',
    help: 'Open WebSocket subscription connections.',
    registers,
  });
  const readPeers = options.peerNetwork;
  if (readPeers !== undefined) {
    /** A counter whose values are the peer network's own counters, read at scrape. */
    const mirror = (
      name: string,
      help: string,
      label: string,
      values: (s: PeerNetworkStats) => Record<string, number>,
    ) =>
      new Counter({
        name,
        help,
        labelNames: label === '' ? [] : [label],
        registers,
        collect() {
          const stats = readPeers();
          if (stats === undefined) return;
          this.reset();
          for (const [value, n] of Object.entries(values(stats)))
            if (label === '') this.inc(n);
            else this.inc({ [label]: value }, n);
        },
      });
    mirror('p2p_gossip_messages_total', 'Gossip messages received by verdict.', 'verdict', (s) => ({
      accept: s.gossipAccepted,
      ignore: s.gossipIgnored,
      reject: s.gossipRejected,
      duplicate: s.gossipDuplicates,
    }));
    mirror('p2p_frames_dropped_total', 'Peer frames dropped by the rate limit or the size limit.', 'reason', (s) => ({
      rate_limit: s.framesRateLimited,
      oversized: s.framesOversized,
    }));
    mirror('p2p_peers_banned_total', 'Peers banned (score at the ban threshold, or an oversized frame).', '', (s) => ({
      banned: s.peersBanned,
    }));
  }
  return {
    registry,
    blocksTotal,
    transactionsTotal,
    consensusRounds,
    networkPeers,
    headHeight,
    mempoolSize,
    txIntakePending,
    txIntakeDropped,
    submissionsPending,
    submissionsRefused,
    finalityLatency,
    requestDuration,
    wsConnections,
    recordBlock(height, txCount) {
      blocksTotal.inc();
      transactionsTotal.inc(txCount);
      headHeight.set(height);
    },
    render: () => registry.metrics(),
  };
}
