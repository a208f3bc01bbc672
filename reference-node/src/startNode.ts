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
  type SignedTx,
  txFromJson,
} from '@aitbc/chain-core';
import { createPoaConsensus } from '@aitbc/consensus-poa';
import {
  AitbcError,
  addressFromPublicKey,
  bytesEqual,
  bytesToHex,
  isAitbcError,
  type KeyPair,
  randomBytes,
} from '@aitbc/crypto';
import {
  type ConsensusEventWire,
  createNodeApiServer,
  createNodeMetrics,
  createPeerNetwork,
  type JsonObject,
  type NodeApiServer,
  type NodeMetrics,
  type PeerNetwork,
} from '@aitbc/rpc';
import { LevelKVStore } from '@aitbc/storage-level';
import { createAdmissionControl, fillsNonceGap } from './admissionControl.js';
import { type ChainBackend, createChainBackend } from './chainBackend.js';
import { createConsensusPriority } from './consensusPriority.js';
import type { NodeConfig } from './nodeConfig.js';
import { readKeystoreFile, readPassphrase } from './nodeKeys.js';
import { createNodeLog, type NodeLog } from './nodeLog.js';
import { createTxIntake } from './txIntake.js';

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

const MAX_TX_BATCH = 512;
/**
 * Signatures of gossiped transactions verified at once, the event loop running between chunks. In
 * Node, `@aitbc/crypto` verifies on this thread (libsodium); where it falls back to OpenSSL the
 * chunk goes to the libuv thread pool, which also runs the database (every level read and the fsync of
 * each consensus vote and block import): a whole batch queued at once (512 jobs of ~85 µs) put the
 * consensus I/O behind it, for seconds under load.
 */
const VERIFY_CHUNK = 32;
const SYNC_TX_BUDGET = 20_000;

/**
 * The payload of a gossip body: `{txs: [...]}` (a batch of wire transactions) or `{m: {...}, s}` (a
 * consensus message, `s` making each broadcast its own message). Bodies are plain JSON, parsed once
 * with their frame (the peer network's message id is a digest of the frame text). Bodies whose payload
 * is JSON text (`{txs: "[...]"}`, `{m: "{...}"}`), as earlier versions sent them, are accepted too.
 */
function parseGossip(kind: string, body: JsonObject): unknown {
  try {
    if (kind === 'tx') {
      if (Object.keys(body).length !== 1) return undefined;
      const txs: unknown = typeof body.txs === 'string' ? JSON.parse(body.txs) : body.txs;
      return Array.isArray(txs) &&
        txs.length > 0 &&
        txs.length <= MAX_TX_BATCH &&
        txs.every((t) => typeof t === 'object' && t !== null && !Array.isArray(t))
        ? txs
        : undefined;
    }
    if (kind === 'proposal' || kind === 'vote') {
      if (Object.keys(body).length !== 2 || typeof body.s !== 'string' || body.s.length > 64) return undefined;
      const m: unknown = typeof body.m === 'string' ? JSON.parse(body.m) : body.m;
      return typeof m === 'object' && m !== null && !Array.isArray(m) && typeof (m as JsonObject).type === 'string'
        ? m
        : undefined;
    }
  } catch {
    return undefined;
  }
  return undefined;
}

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
    const store = await LevelKVStore.open({ path: join(config.dataDir, 'chain') });
    cleanups.push(() => store.close());
    const signatureCache = new SignatureCache();
    const chain = createChain({ store, genesis, consensus: createPoaConsensus(), signatureCache });
    await chain.open();
    cleanups.pop();
    cleanups.push(() => chain.close());
    const mempool = createMempool({
      chainId: genesis.chainId,
      minFee: genesis.params.minFee,
      account: (a) => chain.account(a),
      signatureCache,
      maxTxs: config.mempool.maxTxs,
      maxPerSender: config.mempool.maxPerSender,
    });
    const metrics = createNodeMetrics({ mempoolSize: () => mempool.size });
    // Block building, validation and import go before tx intake (the engine and block sync use `tracked`).
    const priority = createConsensusPriority({ intakeShare: config.mempool.intakeShare / 100 });
    const tracked = priority.track(chain);
    const genesisHash = genesisHashHex(genesis).replace(/^0x/, '');

    let net: PeerNetwork | undefined;
    let syncTarget = 0;
    let syncing = false;
    /** Our head when a peer was first seen ahead of it (see `sync`). */
    let lag: { head: number; since: number } | undefined;
    const pendingGossip: JsonObject[] = [];
    let gossipTimer: NodeJS.Timeout | undefined;
    const flushGossip = () => {
      gossipTimer = undefined;
      while (pendingGossip.length > 0) net?.publish('tx', { txs: pendingGossip.splice(0, MAX_TX_BATCH) });
    };
    const backend: ChainBackend = createChainBackend(chain, mempool, undefined, {
      peers: () => net?.peers() ?? [],
      syncStatus: () => ({
        syncing,
        height: chain.head.height,
        targetHeight: Math.max(chain.head.height, syncTarget),
      }),
      onAdmitted: (tx) => {
        pendingGossip.push(tx);
        if (pendingGossip.length >= MAX_TX_BATCH) flushGossip();
        else gossipTimer ??= setTimeout(flushGossip, 10);
      },
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
      for (let h = from; h <= Math.min(to, chain.head.height); h++) {
        const [block, commit] = await Promise.all([chain.getBlock(h), chain.getCommit(h)]);
        if (block === undefined || commit === undefined) break;
        out.push({ height: h, block: blockToJson(block), commit: commitToJson(commit) } as unknown as JsonObject);
        txs += block.txs.length;
        if (txs >= SYNC_TX_BUDGET) break; // the rest in the next request
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
      if (syncing || net === undefined) return;
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
    const parsed = new WeakMap<JsonObject, unknown>();
    // Gossiped transactions: decoded, then admitted in slices of VERIFY_CHUNK (`mempool.addMany`: the
    // slice's signatures not yet in the shared cache checked together, then each admitted in order),
    // the event loop running between slices. Batches are admitted in arrival order, through a bounded
    // queue (`mempool.maxIntakeTxs`, `mempool.maxIntakeBytes`): past it, gossiped batches are dropped.
    const admitGossipedTxs = async (jsons: readonly JsonObject[]) => {
      const txs: SignedTx[] = [];
      for (const json of jsons) {
        try {
          const tx = txFromJson(json);
          if (mempool.get(tx.id) === undefined) txs.push(tx);
        } catch {
          // malformed: dropped (the sender's node refused it too)
        }
      }
      for (let i = 0; i < txs.length; i += VERIFY_CHUNK) {
        // libsodium verifies on this thread: 512 signatures at once would hold it for ~30 ms.
        if (i > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const slice = txs.slice(i, i + VERIFY_CHUNK);
        const results = await priority.intakeSlice(() => mempool.addMany(slice));
        // Refusals (a bad signature, a nonce already used by a block) are dropped: gossip has no one to tell.
        results.forEach((r, j) => {
          if (!isAitbcError(r) && r.status !== 'known') backend.emitTx(slice[j]!);
        });
      }
    };
    const intake = createTxIntake({
      maxTxs: config.mempool.maxIntakeTxs,
      maxBytes: config.mempool.maxIntakeBytes,
      admit: admitGossipedTxs,
      onPending: (n) => metrics.txIntakePending.set(n),
      onDropped: (n) => metrics.txIntakeDropped.inc(n),
      onError: (err) => log.warn(`gossiped txs failed: ${(err as Error).message}`),
    });
    // API submissions past the measured capacity: RPC_BUSY (503, Retry-After) at the edge.
    const admission = createAdmissionControl({
      ...config.admission,
      backlog: () => mempool.size + intake.pendingTxs,
      inFlightWeight: () => 1 + (net?.peers().length ?? 0),
      unblocks: fillsNonceGap(mempool, (a) => chain.account(a)),
      onRefused: () => metrics.submissionsRefused.inc(),
    });
    net = createPeerNetwork({
      nodeKey,
      chainId: genesis.chainId,
      genesisHash,
      listen: { host: config.p2p.host, port: config.p2p.port },
      peers: config.p2p.peers,
      getBlocks,
      status: () => ({ height: chain.head.height, hash: bytesToHex(chain.headHash) }),
      validateGossip: (kind, body) => {
        const value = parseGossip(kind, body);
        if (value === undefined) return false;
        parsed.set(body, value);
        return true;
      },
      limits: { maxMessageBytes: 64 * 1024 * 1024, maxBufferedBytes: 64 * 1024 * 1024, maxSyncRange: 64 },
    });
    const network = net;
    network.on('gossip', (event) => {
      if (event.kind === 'tx') {
        const jsons = (parsed.get(event.body) ?? []) as JsonObject[];
        if (!intake.offer(jsons, event.bytes))
          log.debug(`tx intake full (${intake.pendingTxs} txs waiting): dropped ${jsons.length} gossiped txs`);
        return;
      }
      if ((event.kind === 'proposal' || event.kind === 'vote') && engine !== undefined)
        engine.receive(parsed.get(event.body) as JsonObject);
    });
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
      backend: admission.guard(backend),
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
