import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import {
  type CoordinatorServerOptions,
  createCoordinatorServer,
  createReceiptHandler,
  JobEngine,
  Marketplace,
  Settler,
} from '@aitbc/coordinator';
import { type AitbcError, addressFromPublicKey, publicKeyFromSeed } from '@aitbc/crypto';
import { type ApiKeyEntry, createPoolHub, createPoolHubServer, type PoolHub } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { LevelKVStore } from '@aitbc/storage-level';
import { apiKeyEntries } from './apiKeys.js';
import type { NodeConfig } from './nodeConfig.js';
import { readKeystoreFile, readPassphrase } from './nodeKeys.js';
import { createNodeLog, type NodeLog } from './nodeLog.js';
import { POOL_KEY_ROLES } from './poolRole.js';
import { createNodeSettlementGateway, settleTxSigner } from './settlementGateway.js';

/** The roles a coordinator API key may have. */
export const COORDINATOR_KEY_ROLES: readonly string[] = Object.freeze(['client', 'miner', 'admin']);

/** Options of {@link startCoordinatorServices}. */
export interface CoordinatorServicesOptions {
  /** The pool hub database goes in `<dataDir>/pool`, the coordinator's in `<dataDir>/coordinator`. */
  readonly dataDir: string;
  /** The node API the settler submits `escrow.settle` through. */
  readonly nodeRpcUrl: string;
  readonly chainId: string;
  /** The coordinator's chain key seed (pays settlement fees, attests receipts). */
  readonly coordinatorSeed: Uint8Array;
  /** Default `local-coordinator`. */
  readonly coordinatorId?: string;
  readonly coordinator: {
    readonly host?: string;
    /** Default 8000; 0 = any free port. */
    readonly port?: number;
    readonly apiKeys: readonly ApiKeyEntry[];
    /** Longest miner long-poll (s, library default 60). */
    readonly maxPollSeconds?: number;
  };
  /** Serve the in-process pool hub over HTTP too (omit: the hub is only used in process). */
  readonly pool?: { readonly host?: string; readonly port?: number; readonly apiKeys: readonly ApiKeyEntry[] };
  /** Job engine settings (library defaults when omitted). */
  readonly engine?: { readonly leaseMs?: number; readonly maxAttempts?: number; readonly sweepIntervalMs?: number };
  /** Settler settings (library defaults when omitted). */
  readonly settler?: { readonly intervalMs?: number; readonly maxAttempts?: number; readonly lockWaitMs?: number };
  /** Log level of the HTTP servers (default `warn`). */
  readonly logLevel?: CoordinatorServerOptions['logLevel'];
  /** Where settlement trouble is logged (the node unreachable, a refused settle transaction). */
  readonly log?: NodeLog;
}

/** The coordinator services started by {@link startCoordinatorServices}. */
export interface CoordinatorServices {
  readonly coordinatorUrl: string;
  /** The pool hub's URL when it is served over HTTP. */
  readonly poolUrl: string | undefined;
  /** The in-process pool hub (for more services in the same process). */
  readonly hub: PoolHub;
  /** The job engine behind the coordinator API (for in-process miners and tests). */
  readonly engine: JobEngine;
  /** The coordinator's chain address. */
  readonly address: string;
  /** Stops the settler, the servers, the engine and marketplace, then closes the databases (reverse order of start). */
  stop(): Promise<void>;
}

/**
 * The settler's `onError` as log lines: one warning per failed pass (the delay grows with the backoff,
 * so an outage logs a few lines, not a flood) and per refused settlement; the code, the operation and
 * the job, never a key.
 */
function settlementLogger(log: NodeLog): (error: AitbcError) => void {
  return (error) => {
    const d = error.details as { operation?: string; jobId?: string; cause?: string };
    log.warn(`settlement: ${error.code} ${error.message}${d.jobId !== undefined ? ` (job ${d.jobId})` : ''}`);
  };
}

/**
 * The coordinator wired from the packages: the pool hub (level database, optionally served over HTTP),
 * the marketplace, the job engine, the coordinator API, and the settler paying completed jobs on chain
 * through the node API. Used by `role: coordinator` and the devnet.
 */
export async function startCoordinatorServices(options: CoordinatorServicesOptions): Promise<CoordinatorServices> {
  const stack: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const fn of stack.splice(0).reverse()) await fn();
  };
  const logLevel: CoordinatorServerOptions['logLevel'] = options.logLevel ?? 'warn';
  try {
    const poolStore = await LevelKVStore.open({ path: join(options.dataDir, 'pool') });
    stack.push(() => poolStore.close());
    const hub = createPoolHub({ store: poolStore });
    await hub.open();
    let poolUrl: string | undefined;
    if (options.pool !== undefined) {
      const pool = createPoolHubServer({
        hub,
        port: options.pool.port ?? 8018,
        ...(options.pool.host !== undefined ? { host: options.pool.host } : {}),
        logLevel,
        apiKeys: options.pool.apiKeys,
      });
      poolUrl = (await pool.start()).url;
      stack.push(() => pool.stop());
    }
    const coordinatorStore = await LevelKVStore.open({ path: join(options.dataDir, 'coordinator') });
    stack.push(() => coordinatorStore.close());
    const marketplace = new Marketplace({ store: coordinatorStore, hub });
    await marketplace.start();
    stack.push(() => marketplace.stop());
    const e = options.engine ?? {};
    const engine = new JobEngine({
      store: coordinatorStore,
      hub,
      marketplace,
      receipts: createReceiptHandler({ chainId: options.chainId, coordinatorSeed: options.coordinatorSeed }),
      ...(e.leaseMs !== undefined ? { leaseMs: e.leaseMs } : {}),
      ...(e.maxAttempts !== undefined ? { maxAttempts: e.maxAttempts } : {}),
      ...(e.sweepIntervalMs !== undefined ? { sweepIntervalMs: e.sweepIntervalMs } : {}),
    });
    await engine.start();
    stack.push(() => engine.stop());
    const s = options.settler ?? {};
    const settler = new Settler({
      engine,
      store: coordinatorStore,
      gateway: createNodeSettlementGateway(createNodeClient({ baseUrl: options.nodeRpcUrl })),
      sign: settleTxSigner,
      chainId: options.chainId,
      coordinatorSeed: options.coordinatorSeed,
      fee: DEFAULT_PARAMS.minFee,
      ...(s.intervalMs !== undefined ? { intervalMs: s.intervalMs } : {}),
      ...(s.maxAttempts !== undefined ? { maxAttempts: s.maxAttempts } : {}),
      ...(s.lockWaitMs !== undefined ? { lockWaitMs: s.lockWaitMs } : {}),
      ...(options.log !== undefined ? { onError: settlementLogger(options.log) } : {}),
    });
    const c = options.coordinator;
    const coordinator = createCoordinatorServer({
      engine,
      hub,
      chainId: options.chainId,
      coordinatorId: options.coordinatorId ?? 'local-coordinator',
      marketplace,
      logLevel,
      apiKeys: c.apiKeys,
      ...(c.host !== undefined ? { host: c.host } : {}),
      ...(c.port !== undefined ? { port: c.port } : {}),
      ...(c.maxPollSeconds !== undefined ? { maxPollSeconds: c.maxPollSeconds } : {}),
      settler,
    });
    const coordinatorUrl = (await coordinator.start()).url;
    stack.push(() => coordinator.stop());
    settler.start();
    stack.push(() => settler.stop());
    return {
      coordinatorUrl,
      poolUrl,
      hub,
      engine,
      address: addressFromPublicKey(publicKeyFromSeed(options.coordinatorSeed)),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/**
 * `aitbc-node start` with `role: coordinator`: {@link startCoordinatorServices} from the config — the
 * coordinator API on `coordinator.host:coordinator.port` (default 127.0.0.1:8000) with the keys of
 * `coordinator.apiKeysFile`, the chain key from `keystore`, settling through `coordinator.nodeUrl`; the
 * in-process pool hub is also served on `pool.host:pool.port` when `pool.apiKeysFile` is set.
 */
export async function startCoordinatorRole(
  config: NodeConfig,
  options: { readonly env?: Readonly<Record<string, string | undefined>>; readonly log?: NodeLog } = {},
): Promise<CoordinatorServices> {
  const log = options.log ?? createNodeLog(config.name, config.log.level);
  const c = config.coordinator;
  const coordinatorKeys = apiKeyEntries(c.apiKeysFile as string, COORDINATOR_KEY_ROLES);
  const poolKeys =
    config.pool.apiKeysFile === undefined ? undefined : apiKeyEntries(config.pool.apiKeysFile, POOL_KEY_ROLES);
  const key = await readKeystoreFile(config.keystore, readPassphrase(config.passphraseFile, options.env));
  const services = await startCoordinatorServices({
    dataDir: config.dataDir,
    nodeRpcUrl: c.nodeUrl,
    chainId: c.chainId,
    coordinatorSeed: key.seed,
    coordinatorId: c.id,
    coordinator: { host: c.host, port: c.port, apiKeys: coordinatorKeys, maxPollSeconds: c.maxPollSeconds },
    ...(poolKeys !== undefined ? { pool: { host: config.pool.host, port: config.pool.port, apiKeys: poolKeys } } : {}),
    engine: { leaseMs: c.leaseMs, maxAttempts: c.maxAttempts, sweepIntervalMs: c.sweepIntervalMs },
    settler: { intervalMs: c.settleIntervalMs, maxAttempts: c.settleMaxAttempts, lockWaitMs: c.settleLockWaitMs },
    logLevel: config.log.level === 'silent' ? false : config.log.level === 'info' ? 'warn' : config.log.level,
    log,
  });
  log.info(
    `coordinator ${c.id} ${services.coordinatorUrl} (${coordinatorKeys.length} API keys) account ${services.address} on chain ${c.chainId}, settling via ${c.nodeUrl}; pool hub ${services.poolUrl ?? 'in process only'}; data in ${config.dataDir}`,
  );
  return services;
}
