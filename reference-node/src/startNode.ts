import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  blockFromJson,
  blockToJson,
  type Chain,
  commitFromJson,
  commitToJson,
  createChain,
  createMempool,
  type Genesis,
  genesisFromJson,
  genesisHashHex,
  type KVStore,
  type Mempool,
  SignatureCache,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import { AitbcError, addressFromPublicKey, bytesEqual, bytesToHex, type KeyPair, randomBytes } from '@aitbc/crypto';
import {
  type ConsensusEventWire,
  createNodeApiServer,
  createNodeMetrics,
  createPeerNetwork,
  createTxExchange,
  type JsonObject,
  type NodeApiServer,
  type NodeMetrics,
  type PeerNetwork,
  type TxExchange,
} from '@aitbc/rpc';
import { LevelKVStore } from '@aitbc/storage-level';
import { createAdmissionControl, fillsNonceGap } from './admissionControl.js';
import { type ChainBackend, createChainBackend } from './chainBackend.js';
import { createConsensusPriority } from './consensusPriority.js';
import {
  createGossipValidation,
  MAX_TX_BATCH,
  peerFrameLimit,
  txBatchBudget,
  txGossipBatches,
} from './gossipValidation.js';
import { createLocalTxJournal } from './localTxJournal.js';
import { mempoolExchangePool } from './mempoolExchangePool.js';
import type { NodeConfig } from './nodeConfig.js';
import { readKeystoreFile, readPassphrase } from './nodeKeys.js';
import { createNodeLog, type NodeLog } from './nodeLog.js';
import { peerLivenessLimits } from './peerLivenessLimits.js';
import { createStorageHealth, probeStoreWrites, type ReopenableStore } from './storageHealth.js';

/** What a validator engine gets from the node (see {@link ValidatorEngineFactory}). */
export interface ValidatorEngineDeps {
  readonly chain: Chain;
  readonly mempool: Mempool;
  readonly genesis: Genesis;
  readonly nodeKey: KeyPair;
  /** The node's own store (the engine persists its lock/votes there). */
  readonly store: KVStore;
  /** Sends a consensus message (JSON, `{type: 'proposal'|'prevote'|'precommit', ...}`) to every peer. */
  readonly broadcast: (message: JsonObject) => void;
  readonly config: NodeConfig;
  readonly log: NodeLog;
}

/** The consensus engine of a validator, as the node drives it. */
export interface ValidatorEngine {
  start(): void | Promise<void>;
  stop(): void | Promise<void>;
  /** A consensus message from a peer (JSON as gossiped); malformed ones are dropped by the engine. */
  receive(message: JsonObject): void;
  /** Subscribes to commits (the engine has imported the block) and round changes. */
  onCommit(
    listener: (event: { height: number; round: number; blockHash: Uint8Array; latencyMs: number }) => void,
  ): void;
  onRound(listener: (event: { height: number; round: number; step: string }) => void): void;
  /**
   * Re-sends what the validator signed at the current height; the node calls it when a peer
   * connects (what was sent before reached nobody, or not that peer). Optional for custom engines.
   */
  resend?(): void;
}

/** Creates the {@link ValidatorEngine} of a validator node. */
export type ValidatorEngineFactory = (deps: ValidatorEngineDeps) => ValidatorEngine;

/** Parts {@link startNode} can take instead of building them (STYLE.md: every part replaceable). */
export interface StartNodeModules {
  /** The validator engine (default: `@aitbc/consensus-poa`'s validator driver). */
  readonly validatorEngine?: ValidatorEngineFactory;
  /** Where the node logs (default: stdout lines). */
  readonly log?: NodeLog;
  /** Environment for the passphrase (default `process.env`). */
  readonly env?: Readonly<Record<string, string | undefined>>;
  /** Opens the chain database at a path (default: `LevelKVStore.open`; tests pass a fault-injecting store). */
  readonly openStore?: (path: string) => Promise<ReopenableStore>;
}

/** A running node; see {@link startNode}. */
export interface RunningNode {
  readonly config: NodeConfig;
  readonly chainId: string;
  readonly genesisHash: string;
  /** This node's key address (the validator address for validators). */
  readonly address: string;
  readonly rpcUrl: string;
  readonly p2pUrl: string;
  readonly chain: Chain;
  readonly metrics: NodeMetrics;
  /** Stops in reverse order of start: engine, API server, peers, database. */
  stop(): Promise<void>;
}

const SYNC_TX_BUDGET = 20_000;

function readGenesis(file: string): Genesis {
  let json: unknown;
  try {
    json = JSON.parse(readFileSync(file, 'utf8'));
  } catch (err) {
    throw new AitbcError('NODE_GENESIS_UNREADABLE', `cannot read the genesis file ${file}: ${(err as Error).message}`, {
      details: { file },
    });
  }
  return genesisFromJson(json);
}

/**
 * Starts one node from a validated config: opens the chain (LevelDB in `<dataDir>/chain`), the mempool,
 * the peer network (tx gossip, consensus gossip, range sync of blocks with their commits), the node API
 * and, for a validator, the BFT engine. Construction order is keys → genesis → store → chain → mempool →
 * peers → API → engine; `stop()` releases them in reverse.
 *
 * @throws AitbcError `NODE_NOT_A_VALIDATOR` (role validator with a key that is not in the genesis),
 * `NODE_GENESIS_UNREADABLE`, `NODE_NO_VALIDATOR_ENGINE`, `NODE_KEY_*`, `WALLET_*`, `CHAIN_BAD_GENESIS`.
 */
export async function startNode(config: NodeConfig, modules: StartNodeModules = {}): Promise<RunningNode> {
  if (config.role !== 'validator' && config.role !== 'follower')
    throw new AitbcError('NODE_BAD_ROLE', `startNode runs validators and followers, not ${config.role}`);
  const log = modules.log ?? createNodeLog(config.name, config.log.level);
  const passphrase = readPassphrase(config.passphraseFile, modules.env ?? process.env);
  const nodeKey = await readKeystoreFile(config.keystore, passphrase);
  const genesis = readGenesis(config.genesis);
  const address = addressFromPublicKey(nodeKey.publicKey);
  if (config.role === 'validator' && !genesis.validators.some((v) => bytesEqual(v.publicKey, nodeKey.publicKey)))
    throw new AitbcError(
      'NODE_NOT_A_VALIDATOR',
      `the key in ${config.keystore} (${address}) is not a genesis validator`,
      {
        details: { address },
      },
    );
  if (config.role === 'validator' && modules.validatorEngine === undefined)
    throw new AitbcError('NODE_NO_VALIDATOR_ENGINE', 'no validator engine is available');

  const cleanups: Array<() => Promise<void> | void> = [];
  const stopAll = async () => {
    for (const fn of cleanups.splice(0).reverse()) {
      try {
        await fn();
      } catch (err) {
        log.warn(`shutdown step failed: ${(err as Error).message}`);
      }
    }
  };
  try {
    const storePath = join(config.dataDir, 'chain');
    const level = await (modules.openStore ?? ((path: string) => LevelKVStore.open({ path })))(storePath);
    cleanups.push(() => level.close());
    // A store that cannot write (full disk): /health 503, send_tx refused, probed until it writes again.
    const storage = createStorageHealth({
      probe: () => probeStoreWrites(level, { path: storePath }),
      log,
      onRecovered: () => void sync(),
    });
    const store = storage.watch(level);
    const signatureCache = new SignatureCache();
    const chain = createChain({ store, genesis, consensus: createPoaConsensus(), signatureCache });
    await chain.open();
    cleanups.pop();
    cleanups.push(
      () => chain.close(),
      () => storage.stop(),
    );
    const mempool = createMempool({
      chainId: genesis.chainId,
      minFee: genesis.params.minFee,
      account: (a) => chain.account(a),
      signatureCache,
      maxTxs: config.mempool.maxTxs,
      maxPerSender: config.mempool.maxPerSender,
    });
    // Transactions accepted from this node's API: journaled before the API answers, replayed here.
    const journal =
      config.mempool.journalMaxBytes > 0
        ? createLocalTxJournal({
            path: join(config.dataDir, 'tx-journal.ndjson'),
            maxBytes: config.mempool.journalMaxBytes,
            mempool,
          })
        : undefined;
    if (journal !== undefined) {
      const r = await journal.start();
      cleanups.push(() => journal.stop());
      log.info(`tx journal: ${r.replayed} pending again, ${r.dropped} dropped, ${r.skipped} torn or corrupt`);
    }
    const metrics = createNodeMetrics({ mempoolSize: () => mempool.size, peerNetwork: () => net?.stats() });
    storage.exposeMetrics(metrics);
    // Block building, validation and import go before tx intake (the engine and block sync use `tracked`).
    const priority = createConsensusPriority({ intakeShare: config.mempool.intakeShare / 100 });
    const tracked = priority.track(chain);
    const genesisHash = genesisHashHex(genesis).replace(/^0x/, '');

    let net: PeerNetwork | undefined;
    const maxFrameBytes = peerFrameLimit(genesis.params, genesis.validators.length);
    let syncTarget = 0;
    let syncing = false;
    /** Our head when a peer was first seen ahead of it (see `sync`). */
    let lag: { head: number; since: number } | undefined;
    const pendingGossip: JsonObject[] = [];
    let gossipTimer: NodeJS.Timeout | undefined;
    const flushGossip = () => {
      gossipTimer = undefined;
      for (const txs of txGossipBatches(pendingGossip.splice(0), txBatchBudget(genesis.params)))
        net?.publish('tx', { txs });
    };
    const queueGossip = (tx: JsonObject) => {
      pendingGossip.push(tx);
      if (pendingGossip.length >= MAX_TX_BATCH) flushGossip();
      else gossipTimer ??= setTimeout(flushGossip, 10);
    };
    const backend: ChainBackend = createChainBackend(chain, mempool, undefined, {
      peers: () => net?.peers() ?? [],
      syncStatus: () => ({
        syncing,
        height: chain.head.height,
        targetHeight: Math.max(chain.head.height, syncTarget),
      }),
      onAdmitted: queueGossip,
      ...(journal !== undefined ? { persist: (txs) => journal.persist(txs) } : {}),
      admitSlice: (work) => priority.intakeSlice(work),
    });
    cleanups.push(() => {
      if (gossipTimer !== undefined) clearTimeout(gossipTimer);
    });

    // After every imported block (by the engine or by sync): fan out, record, revalidate, announce.
    let revalidating: Promise<void> | undefined;
    let revalidateAgain = false;
    const revalidate = () => {
      if (revalidating !== undefined) {
        revalidateAgain = true;
        return;
      }
      revalidating = mempool
        .revalidate()
        .catch((err: unknown) => log.warn(`mempool revalidation failed: ${(err as Error).message}`))
        .finally(() => {
          revalidating = undefined;
          metrics.mempoolSize.set(mempool.size);
          if (revalidateAgain) {
            revalidateAgain = false;
            revalidate();
          }
        });
    };
    const offBlock = chain.onBlock((block) => {
      metrics.recordBlock(block.header.height, block.txs.length);
      admission.recordCommit(block.txs.length);
      backend.emitBlock(block);
      if (engine === undefined) revalidate(); // a validator's engine revalidates after its own imports
      net?.announceStatus(block.header.height, bytesToHex(chain.headHash));
      journal?.compact().catch((err: unknown) => log.warn(`tx journal compaction failed: ${(err as Error).message}`));
    });
    cleanups.push(() => {
      offBlock();
    });

    let engine: ValidatorEngine | undefined;
    const session = bytesToHex(randomBytes(8));
    let seq = 0;
    const getBlocks = async (from: number, to: number): Promise<JsonObject[]> => {
      const out: JsonObject[] = [];
      let txs = 0;
      let bytes = 0;
      for (let h = from; h <= Math.min(to, chain.head.height); h++) {
        const [block, commit] = await Promise.all([chain.getBlock(h), chain.getCommit(h)]);
        if (block === undefined || commit === undefined) break;
        out.push({ height: h, block: blockToJson(block), commit: commitToJson(commit) } as unknown as JsonObject);
        txs += block.txs.length;
        for (const tx of block.txs) bytes += tx.size;
        // The rest in the next request (the peer network trims the response to its frame limit).
        if (txs >= SYNC_TX_BUDGET || bytes >= maxFrameBytes) break;
      }
      return out;
    };
    const importBlocks = async (items: JsonObject[]) => {
      for (const item of items) {
        if ((item.height as number) <= chain.head.height) continue; // committed meanwhile by our engine
        const block = blockFromJson(item.block);
        const commit = commitFromJson(item.commit);
        try {
          await tracked.importBlock(block, commit);
        } catch (err) {
          if (block.header.height <= chain.head.height) continue; // raced with our engine
          throw err;
        }
      }
      revalidate();
    };
    const sync = async () => {
      if (syncing || net === undefined || storage.failure !== undefined) return;
      const best = Math.max(0, ...net.peers().map((p) => (typeof p.height === 'number' ? p.height : 0)));
      syncTarget = Math.max(syncTarget, best);
      const head = chain.head.height;
      if (best <= head) {
        lag = undefined;
        return;
      }
      // A validator one height behind is almost always finishing that height itself (its engine is
      // importing the decided block): fetching it from the first peer that announced it would make
      // both execute and (de)serialize the whole block once more. It syncs when it stays behind.
      if (engine !== undefined && best === head + 1) {
        if (lag?.head !== head) lag = { head, since: Date.now() };
        if (Date.now() - lag.since < 2 * Math.max(250, genesis.params.blockTimeMs)) return;
      }
      syncing = true;
      try {
        await net.sync({ from: chain.head.height + 1, importBlocks });
      } catch (err) {
        log.warn(`block sync failed: ${(err as Error).message}`);
      } finally {
        syncing = false;
      }
    };
    const gossip = createGossipValidation({
      chainId: genesis.chainId,
      chain,
      mempool,
      intake: { maxTxs: config.mempool.maxIntakeTxs, maxBytes: config.mempool.maxIntakeBytes },
      onAdmitted: (tx) => backend.emitTx(tx),
      republish: (txs) => {
        for (const tx of txs) queueGossip(tx);
      },
      onIntakePending: (n) => metrics.txIntakePending.set(n),
      onIntakeDropped: (n) => metrics.txIntakeDropped.inc(n),
      onError: (err) => log.warn(`gossiped txs failed: ${(err as Error).message}`),
      admitSlice: (work) => priority.intakeSlice(work),
    });
    // API submissions past the measured capacity: RPC_BUSY (503, Retry-After) at the edge.
    const admission = createAdmissionControl({
      ...config.admission,
      backlog: () => mempool.size + gossip.intake.pendingTxs,
      inFlightWeight: () => 1 + (net?.peers().length ?? 0),
      unblocks: fillsNonceGap(mempool, (a) => chain.account(a)),
      onRefused: () => metrics.submissionsRefused.inc(),
    });
    let txExchange: TxExchange | undefined;
    net = createPeerNetwork({
      nodeKey,
      chainId: genesis.chainId,
      genesisHash,
      listen: { host: config.p2p.host, port: config.p2p.port },
      peers: config.p2p.peers,
      getBlocks,
      status: () => ({ height: chain.head.height, hash: bytesToHex(chain.headHash) }),
      validateGossip: gossip.validate,
      limits: {
        maxMessageBytes: maxFrameBytes,
        maxBufferedBytes: 64 * 1024 * 1024,
        maxSyncRange: 64,
        maxPendingValidations: config.mempool.maxIntakeTxs, // every queued batch holds at least one tx
        ...peerLivenessLimits,
      },
      onTxExchange: (from, message) => txExchange?.handle(from, message) ?? true,
    });
    const network = net;
    // Only accepted gossip arrives here; transactions were admitted while they were validated.
    // Pending transactions announced to each peer that connects, and re-announced while they stay pending.
    const blockMs = Math.max(250, genesis.params.blockTimeMs);
    const exchange = createTxExchange({
      network,
      pool: mempoolExchangePool(mempool, (tx) => backend.emitTx(tx)),
      limits: { reannounceIntervalMs: 4 * blockMs, reannounceAfterMs: 4 * blockMs },
      onError: (err) => log.warn(`tx exchange failed: ${(err as Error).message}`),
    });
    txExchange = exchange;
    exchange.start();
    cleanups.push(() => exchange.stop());
    network.on('gossip', (event) => {
      const message =
        event.kind === 'proposal' || event.kind === 'vote' ? gossip.consensusMessage(event.body) : undefined;
      if (message !== undefined) engine?.receive(message);
    });
    network.on('peer:banned', (p) => log.warn(`peer ${p.nodeId.slice(0, 12)} banned: ${p.reason}`));
    network.on('status', (s) => {
      if (s.height > chain.head.height) void sync();
    });
    network.on('peer:connected', (p) => {
      metrics.networkPeers.set(network.peers().length);
      log.info(`peer connected ${p.nodeId.slice(0, 12)} (${p.direction})`);
      // The first proposal and votes of a fresh network go out before the peers are connected.
      engine?.resend?.();
      void sync();
    });
    network.on('peer:disconnected', (p) => {
      metrics.networkPeers.set(network.peers().length);
      log.info(`peer disconnected ${p.nodeId.slice(0, 12)}: ${p.reason}`);
    });
    await network.start();
    cleanups.push(() => network.stop());
    const syncTimer = setInterval(() => void sync(), Math.max(250, genesis.params.blockTimeMs));
    cleanups.push(() => clearInterval(syncTimer));

    const server: NodeApiServer = createNodeApiServer({
      backend: admission.guard(storage.guard(backend)),
      host: config.rpc.host,
      port: config.rpc.port,
      metrics,
      logger: config.log.level === 'debug' ? { level: 'info' } : false,
      limits: {
        bodyLimit: config.rpc.bodyLimit,
        maxBatch: config.rpc.maxBatch,
        rateLimit: config.rpc.rateLimit,
        maxPendingTxs: config.rpc.maxPendingTxs,
      },
      ...(config.rpc.corsOrigins.length > 0 ? { cors: { origins: config.rpc.corsOrigins } } : {}),
    });
    const rpcUrl = await server.start();
    cleanups.push(() => server.stop());

    if (config.role === 'validator' && modules.validatorEngine !== undefined) {
      const consensusEvent = (event: ConsensusEventWire) => backend.emitConsensus(event);
      engine = modules.validatorEngine({
        chain: tracked,
        mempool,
        genesis,
        nodeKey,
        store,
        config,
        log,
        // Each broadcast gets a fresh envelope id so the engine's periodic re-gossip is not deduplicated away.
        broadcast: (message) =>
          network.publish(message.type === 'proposal' ? 'proposal' : 'vote', {
            m: message,
            s: `${session}:${seq++}`,
          }),
      });
      const e = engine;
      e.onRound(({ height, round, step }) => {
        metrics.consensusRounds.set(round);
        consensusEvent({ type: 'step', height, round, step });
      });
      e.onCommit(({ height, round, blockHash, latencyMs }) => {
        metrics.finalityLatency.observe(latencyMs / 1000);
        consensusEvent({ type: 'commit', height, round, hash: bytesToHex(blockHash), latencyMs });
      });
      await e.start();
      cleanups.push(() => e.stop());
    }
    log.info(
      `${config.role} ${address} on chain ${genesis.chainId} at height ${chain.head.height}: api ${rpcUrl}, p2p ${network.listenUrl}`,
    );
    return {
      config,
      chainId: genesis.chainId,
      genesisHash,
      address,
      rpcUrl,
      p2pUrl: network.listenUrl as string,
      chain,
      metrics,
      stop: stopAll,
    };
  } catch (err) {
    await stopAll();
    throw err;
  }
}
