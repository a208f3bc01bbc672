import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { createCoordinatorServer, createReceiptHandler, JobEngine, Marketplace, Settler } from '@aitbc/coordinator';
import { addressFromPublicKey, bytesToBase64url, generateKeyPair, randomBytes } from '@aitbc/crypto';
import { createPoolHub, createPoolHubServer, hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { LevelKVStore } from '@aitbc/storage-level';
import { createWalletDaemon } from '@aitbc/wallet/daemon';
import { createNodeSettlementGateway, settleTxSigner } from './settlementGateway.js';
import { createWalletNodeGateway } from './walletNodeGateway.js';

/** The miner id the devnet's coordinator `miner` key is bound to. */
const DEVNET_MINER_ID = 'devnet-miner';

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
  /** Stops settler, coordinator, engine, pool hub and their databases (reverse order of start). */
  stop(): Promise<void>;
}

/**
 * The services half of the devnet, wired from the packages: the pool hub (with a registered demo
 * miner that heartbeats), the coordinator job engine and API, the settler paying completed jobs on
 * chain through the node API at `nodeRpcUrl`, and the wallet daemon over the same node API.
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
    const pool = createPoolHubServer({
      hub,
      port: options.poolPort ?? 8018,
      logLevel: 'warn',
      apiKeys: [
        { role: 'admin', hash: hashApiKey(admin) },
        { role: 'client', hash: hashApiKey(poolClient) },
      ],
    });
    const miner = generateKeyPair();
    await hub.registry.register({
      id: 'demo-miner',
      address: addressFromPublicKey(miner.publicKey),
      publicKey: miner.publicKey,
      pricePerUnit: 10n ** 15n,
      maxConcurrency: 2,
      capabilities: { gpus: [], cpuCores: 2, ramGb: 24, models: [], jobKinds: ['hash', 'wasm'], region: 'local' },
    });
    const beat = setInterval(() => hub.registry.heartbeat('demo-miner', { activeJobs: 0, utilization: 0 }), 5_000);
    stack.push(() => clearInterval(beat));
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
      ],
    });
    const coordinatorUrl = (await coordinator.start()).url;
    stack.push(() => coordinator.stop());
    settler.start();
    stack.push(() => settler.stop());
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
      stop,
    };
  } catch (err) {
    await stop();
    throw err;
  }
}
