import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { bytesToBase64url, bytesToHex, generateKeyPair, hexToBytes, randomBytes } from '@aitbc/crypto';
import { hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { createMinerAgent } from '@aitbc/sdk/miner';
import { createWalletDaemon } from '@aitbc/wallet/daemon';
import { startCoordinatorServices } from './coordinatorRole.js';
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
 * `nodeRpcUrl` (all through {@link startCoordinatorServices}, as `role: coordinator` runs them, but
 * with fresh random API keys each start), the wallet daemon over the same node API, and a demo miner
 * agent working jobs.
 */
export async function startDevnetServices(options: DevnetServicesOptions): Promise<DevnetServices> {
  const stack: Array<() => Promise<void> | void> = [];
  const stop = async () => {
    for (const fn of stack.splice(0).reverse()) await fn();
  };
  try {
    const admin = bytesToBase64url(randomBytes(24));
    const poolClient = bytesToBase64url(randomBytes(24));
    const coordinatorClient = bytesToBase64url(randomBytes(24));
    const minerKey = bytesToBase64url(randomBytes(24));
    const demoMinerKey = bytesToBase64url(randomBytes(24));
    // The same wiring as `aitbc-node start --role coordinator` (pool hub served too), with fresh keys.
    const services = await startCoordinatorServices({
      dataDir: options.dataDir,
      nodeRpcUrl: options.nodeRpcUrl,
      chainId: options.chainId,
      coordinatorSeed: options.coordinatorSeed,
      coordinatorId: 'local-coordinator',
      pool: {
        port: options.poolPort ?? 8018,
        apiKeys: [
          { role: 'admin', hash: hashApiKey(admin) },
          { role: 'client', hash: hashApiKey(poolClient) },
        ],
      },
      coordinator: {
        ...(options.coordinatorPort !== undefined ? { port: options.coordinatorPort } : {}),
        apiKeys: [
          { role: 'client', subject: options.faucetAddress, hash: hashApiKey(coordinatorClient) },
          { role: 'admin', hash: hashApiKey(admin) },
          { role: 'miner', subject: DEVNET_MINER_ID, hash: hashApiKey(minerKey) },
          { role: 'miner', subject: DEMO_MINER_ID, hash: hashApiKey(demoMinerKey) },
        ],
      },
      logLevel: 'warn',
    });
    stack.push(() => services.stop());
    const { coordinatorUrl } = services;
    const poolUrl = services.poolUrl as string;
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
