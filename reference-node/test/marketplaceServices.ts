/**
 * The devnet's marketplace services as their own process, for `marketplace.e2e.ts`: the pool hub
 * and the coordinator (job engine, marketplace, API, and the settler paying completed jobs on chain
 * through the node API) wired exactly as `startDevnetServices` wires them, but with what a crash
 * test needs from outside: fixed ports and API keys (so miners reconnect after a SIGKILL and a
 * restart), one miner key per miner id, and a short lease. Level databases under AITBC_DATA_DIR.
 *
 * Environment: AITBC_DATA_DIR, AITBC_NODE_URL, AITBC_CHAIN_ID, AITBC_KEYSTORE (the coordinator's
 * keystore) and AITBC_PASSPHRASE_FILE, AITBC_POOL_PORT, AITBC_COORDINATOR_PORT, AITBC_CLIENT_ADDRESS
 * and AITBC_CLIENT_KEY (a client key bound to that address), AITBC_POOL_ADMIN_KEY, AITBC_MINER_KEYS (JSON
 * `{minerId: apiKey}`), AITBC_LEASE_MS. Prints `{"coordinatorUrl": …, "poolUrl": …}` once ready.
 */
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { createCoordinatorServer, createReceiptHandler, JobEngine, Marketplace, Settler } from '@aitbc/coordinator';
import { createPoolHub, createPoolHubServer, hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { LevelKVStore } from '@aitbc/storage-level';
import { createNodeSettlementGateway, readKeystoreFile, readPassphrase, settleTxSigner } from '../src/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined || v === '') throw new Error(`${name} is required`);
  return v;
};
const dataDir = env('AITBC_DATA_DIR');
const chainId = env('AITBC_CHAIN_ID');
const coordinatorKey = await readKeystoreFile(env('AITBC_KEYSTORE'), readPassphrase(env('AITBC_PASSPHRASE_FILE'), {}));
const minerKeys = JSON.parse(env('AITBC_MINER_KEYS')) as Record<string, string>;

const poolStore = await LevelKVStore.open({ path: join(dataDir, 'pool') });
const hub = createPoolHub({ store: poolStore });
await hub.open();
const pool = createPoolHubServer({
  hub,
  port: Number(env('AITBC_POOL_PORT')),
  logLevel: 'warn',
  apiKeys: [{ role: 'admin', hash: hashApiKey(env('AITBC_POOL_ADMIN_KEY')) }],
});
const poolUrl = (await pool.start()).url;

const coordinatorStore = await LevelKVStore.open({ path: join(dataDir, 'coordinator') });
const marketplace = new Marketplace({ store: coordinatorStore, hub });
await marketplace.start();
const engine = new JobEngine({
  store: coordinatorStore,
  hub,
  marketplace,
  receipts: createReceiptHandler({ chainId, coordinatorSeed: coordinatorKey.seed }),
  leaseMs: Number(env('AITBC_LEASE_MS')),
  sweepIntervalMs: 250,
});
await engine.start();
const settler = new Settler({
  engine,
  store: coordinatorStore,
  gateway: createNodeSettlementGateway(createNodeClient({ baseUrl: env('AITBC_NODE_URL') })),
  sign: settleTxSigner,
  chainId,
  coordinatorSeed: coordinatorKey.seed,
  fee: DEFAULT_PARAMS.minFee,
  intervalMs: 250,
});
const coordinator = createCoordinatorServer({
  engine,
  hub,
  chainId,
  coordinatorId: 'local-coordinator',
  marketplace,
  logLevel: 'warn',
  port: Number(env('AITBC_COORDINATOR_PORT')),
  apiKeys: [
    { role: 'client', subject: env('AITBC_CLIENT_ADDRESS'), hash: hashApiKey(env('AITBC_CLIENT_KEY')) },
    ...Object.entries(minerKeys).map(([id, key]) => ({ role: 'miner' as const, subject: id, hash: hashApiKey(key) })),
  ],
});
const coordinatorUrl = (await coordinator.start()).url;
settler.start();
process.stdout.write(`${JSON.stringify({ coordinatorUrl, poolUrl })}\n`);
process.once('SIGTERM', () => {
  void (async () => {
    await settler.stop();
    await coordinator.stop();
    await engine.stop();
    await marketplace.stop();
    await coordinatorStore.close();
    await pool.stop();
    await poolStore.close();
    process.exit(0);
  })();
});
