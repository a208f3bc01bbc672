import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { createCoordinatorServer, createReceiptHandler, JobEngine, Marketplace, Settler } from '@aitbc/coordinator';
import { bytesToBase64url, bytesToHex, generateKeyPair, hexToBytes, randomBytes } from '@aitbc/crypto';
import { createPoolHub, createPoolHubServer, hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { createMinerAgent } from '@aitbc/sdk/miner';
import { LevelKVStore } from '@aitbc/storage-level';
import { createWalletDaemon } from '@aitbc/wallet/daemon';
import { createNodeSettlementGateway, settleTxSigner } from './settlementGateway.js';
import { createWalletNodeGateway } from './walletNodeGateway.js';

/** The miner id the devnet's coordinator `miner` key is bound to (for a miner the user starts). */
const DEVNET_MINER_ID = 'devnet-miner';
/** The built-in demo miner agent's id. */
export const DEMO_MINER_ID = 'demo-miner';
/** The demo miner's price per job (base units: 0.001 AIT). */
const DEMO_MINER_PRICE = 10n ** 15n;

/** Options of {@link startDevnetServices}. */
export interface DevnetServicesOptions {
  /** Data directory: the pool hub and coordinator databases go in `pool/` and `coordinator/`. */
  readonly dataDir: string;
  /** The node API the coordinator settles through (node 0 of the devnet). */
  readonly nodeRpcUrl: string;
  readonly chainId: string;
  /** The coordinator's chain key seed (funded at genesis for settlement fees). */
  readonly coordinatorSeed: Uint8Array;
  /** The demo account: the coordinator client key is bound to it. */
  readonly faucetAddress: string;
  /** Pool hub port (default 8018; 0 = any). */
  readonly poolPort?: number;
  /** Coordinator API port (default 8000; 0 = any). */
  readonly coordinatorPort?: number;
  /** Wallet daemon port (default 8002; 0 = any). */
  readonly walletPort?: number;
  /**
   * Run the built-in demo miner agent (`demo-miner`: the SDK's agent with the `hash` and `wasm`
   * runners, region `local`) so that submitted jobs complete without another process (default true).
   */
  readonly demoMiner?: boolean;
}

/** The marketplace services of a devnet; see {@link startDevnetServices}. */
export interface DevnetServices {
  readonly poolUrl: string;
  readonly coordinatorUrl: string;
  readonly walletUrl: string;
  /** The wallet daemon's bearer-token file (0600). */
  readonly walletTokenFile: string;
  /**
   * Fresh API keys for this run (only their hashes are held by the servers). `miner` is a coordinator
   * key of role `miner` bound to the miner id {@link DevnetServices.minerId}, for a miner agent to join.
   */
  readonly keys: {
    readonly admin: string;
    readonly poolClient: string;
    readonly coordinatorClient: string;
    readonly miner: string;
  };
  /** The miner id the `miner` key is bound to (`devnet-miner`). */
  readonly minerId: string;
  /** The built-in demo miner's id and address (when it runs). */
  readonly demoMiner?: { readonly id: string; readonly address: string };
  /** Stops settler, coordinator, engine, pool hub and their databases (reverse order of start). */
  stop(): Promise<void>;
}

/**
 * The services half of the devnet, wired from the packages: the pool hub, the coordinator job engine,
 * marketplace and API, the settler paying completed jobs on chain through the node API at
 * `nodeRpcUrl`, the wallet daemon over the same node API, and a demo miner agent working jobs.
 */
export async function startDevnetServices(options: DevnetServicesOptions): Promise<DevnetServices> {
  const stack: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const fn of stack.splice(0).reverse()) await fn();
  };
  try {
    const poolStore = await LevelKVStore.open({ path: join(options.dataDir, 'pool') });
    stack.push(() => poolStore.close());
    const hub = createPoolHub({ store: poolStore });
    await hub.open();
    const admin = bytesToBase64url(randomBytes(24));
    const poolClient = bytesToBase64url(randomBytes(24));
    const coordinatorClient = bytesToBase64url(randomBytes(24));
    const minerKey = bytesToBase64url(randomBytes(24));
    const demoMinerKey = bytesToBase64url(randomBytes(24));
    const pool = createPoolHubServer({
      hub,
      port: options.poolPort ?? 8018,
      logLevel: 'warn',
      apiKeys: [
        { role: 'admin', hash: hashApiKey(admin) },
        { role: 'client', hash: hashApiKey(poolClient) },
      ],
    });
    const poolUrl = (await pool.start()).url;
    stack.push(() => pool.stop());

    const coordinatorStore = await LevelKVStore.open({ path: join(options.dataDir, 'coordinator') });
    stack.push(() => coordinatorStore.close());
    // The marketplace (offers, bids, matches; the web marketplace and `aitbc market` read it).
    const marketplace = new Marketplace({ store: coordinatorStore, hub });
    await marketplace.start();
    stack.push(() => marketplace.stop());
    const engine = new JobEngine({
      store: coordinatorStore,
      hub,
      marketplace,
      receipts: createReceiptHandler({ chainId: options.chainId, coordinatorSeed: options.coordinatorSeed }),
    });
    await engine.start();
    stack.push(() => engine.stop());
    const settler = new Settler({
      engine,
      store: coordinatorStore,
      gateway: createNodeSettlementGateway(createNodeClient({ baseUrl: options.nodeRpcUrl })),
      sign: settleTxSigner,
      chainId: options.chainId,
      coordinatorSeed: options.coordinatorSeed,
      fee: DEFAULT_PARAMS.minFee,
    });
    const coordinator = createCoordinatorServer({
      engine,
      hub,
      chainId: options.chainId,
      coordinatorId: 'local-coordinator',
      marketplace,
      logLevel: 'warn',
      ...(options.coordinatorPort !== undefined ? { port: options.coordinatorPort } : {}),
      apiKeys: [
        { role: 'client', subject: options.faucetAddress, hash: hashApiKey(coordinatorClient) },
        { role: 'admin', hash: hashApiKey(admin) },
        { role: 'miner', subject: DEVNET_MINER_ID, hash: hashApiKey(minerKey) },
        { role: 'miner', subject: DEMO_MINER_ID, hash: hashApiKey(demoMinerKey) },
      ],
    });
    const coordinatorUrl = (await coordinator.start()).url;
    stack.push(() => coordinator.stop());
    settler.start();
    stack.push(() => settler.stop());
    let demoMiner: DevnetServices['demoMiner'];
    if (options.demoMiner !== false) {
      // One key per miner id, kept across runs: the pool hub binds an id to its first key.
      const agent = createMinerAgent({
        coordinatorUrl,
        apiKey: demoMinerKey,
        minerId: DEMO_MINER_ID,
        seed: keySeed(join(options.dataDir, 'demo-miner.key')),
        chainId: options.chainId,
        coordinatorId: 'local-coordinator',
        pricePerUnit: DEMO_MINER_PRICE,
        concurrency: 2,
        probe: { nvidiaSmiPath: false },
        capabilities: { region: 'local' },
        pollWaitSeconds: 10,
        drainTimeoutMs: 2_000,
      });
      await agent.start();
      stack.push(() => agent.stop());
      demoMiner = { id: DEMO_MINER_ID, address: agent.address };
    }
    const wallet = createWalletDaemon({
      dataDir: join(options.dataDir, 'wallet'),
      port: options.walletPort ?? 8002,
      chainId: options.chainId,
      node: createWalletNodeGateway(createNodeClient({ baseUrl: options.nodeRpcUrl })),
      logLevel: 'warn',
    });
    const walletUrl = await wallet.start();
    stack.push(() => wallet.stop());
    return {
      poolUrl,
      coordinatorUrl,
      walletUrl,
      walletTokenFile: wallet.tokenFile,
      keys: { admin, poolClient, coordinatorClient, miner: minerKey },
      minerId: DEVNET_MINER_ID,
      ...(demoMiner !== undefined ? { demoMiner } : {}),
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}

/** A 32-byte seed kept as hex in `file` (0600), made on first use. */
function keySeed(file: string): Uint8Array {
  if (!existsSync(file)) writeFileSync(file, `${bytesToHex(generateKeyPair().seed)}\n`, { mode: 0o600 });
  return hexToBytes(readFileSync(file, 'utf8').trim(), 32);
}
