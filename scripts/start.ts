/**
 * `npm start`: runs the local AITBC services on embedded defaults, bound to 127.0.0.1, with data under
 * ./.aitbc/devnet: a single-validator chain with the node API (8006), the pool hub (8018) with a demo
 * miner, and the coordinator API (8000). The 4-validator BFT devnet, the wallet daemon and the miner
 * agent join as they land (see README "Status"). Ctrl-C stops everything cleanly.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { createCoordinatorServer, createReceiptHandler, JobEngine, Settler } from '@aitbc/coordinator';
import { addressFromPublicKey, bytesToBase64url, generateKeyPair, randomBytes } from '@aitbc/crypto';
import { createPoolHub, createPoolHubServer, hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { LevelKVStore } from '@aitbc/storage-level';
import { createNodeSettlementGateway, settleTxSigner, startDevnetOfOne } from 'aitbc-node';

const dataDir = join(process.cwd(), '.aitbc', 'devnet');
mkdirSync(dataDir, { recursive: true });
const port = Number(process.env.AITBC_POOL_PORT ?? 8018);
if (!Number.isInteger(port) || port < 0 || port > 65_535) {
  console.error(`AITBC_POOL_PORT must be a port number, got "${process.env.AITBC_POOL_PORT}"`);
  process.exit(2);
}

const store = await LevelKVStore.open({ path: join(dataDir, 'pool') });
const hub = createPoolHub({ store });
await hub.open();

// Fresh API keys for this run: printed once, only their hashes are held by the server.
const adminKey = bytesToBase64url(randomBytes(24));
const clientKey = bytesToBase64url(randomBytes(24));
const server = createPoolHubServer({
  hub,
  port,
  logLevel: 'warn',
  apiKeys: [
    { role: 'admin', hash: hashApiKey(adminKey) },
    { role: 'client', hash: hashApiKey(clientKey) },
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

const { url } = await server.start();
const node = await startDevnetOfOne({ dataDir: join(dataDir, 'node') });
const coordinatorStore = await LevelKVStore.open({ path: join(dataDir, 'coordinator') });
const engine = new JobEngine({
  store: coordinatorStore,
  hub,
  receipts: createReceiptHandler({ chainId: node.chainId, coordinatorSeed: node.coordinator.seed }),
});
await engine.start();
// Completed jobs are paid on chain: escrow.settle through the node API.
const settler = new Settler({
  engine,
  store: coordinatorStore,
  gateway: createNodeSettlementGateway(createNodeClient({ baseUrl: node.rpcUrl })),
  sign: settleTxSigner,
  chainId: node.chainId,
  coordinatorSeed: node.coordinator.seed,
  fee: DEFAULT_PARAMS.minFee,
});
settler.start();
const coordinatorClientKey = bytesToBase64url(randomBytes(24));
const coordinator = createCoordinatorServer({
  engine,
  hub,
  chainId: node.chainId,
  coordinatorId: 'local-coordinator',
  logLevel: 'warn',
  apiKeys: [
    { role: 'client', subject: node.faucet.address, hash: hashApiKey(coordinatorClientKey) },
    { role: 'admin', hash: hashApiKey(adminKey) },
  ],
});
const coordinatorUrl = (await coordinator.start()).url;
console.log(`
AITBC local services (data in ${dataDir})

  node API     ${node.rpcUrl}   chain ${node.chainId}, one validator   openapi: ${node.rpcUrl}/docs/openapi.json
  coordinator  ${coordinatorUrl}   client key (bound to the demo account): ${coordinatorClientKey}
  pool hub     ${url}   health: ${url}/health   metrics: ${url}/metrics
  admin key    ${adminKey}
  pool client  ${clientKey}
  demo account ${node.faucet.address} (funded at genesis; its seed is in ${join(dataDir, 'node', 'keys.json')})
  coordinator  account ${node.coordinator.address}: name it in escrow.lock; completed jobs are settled on chain

Try:
  curl -s ${node.rpcUrl}/rpc/head
  curl -s ${node.rpcUrl}/rpc/get_balance/${node.faucet.address}
  curl -s -X POST ${coordinatorUrl}/v1/jobs -H 'content-type: application/json' -H 'x-api-key: ${coordinatorClientKey}' \\
       -d '{"kind":"hash","input":{"data":"aGVsbG8"},"max_price":"1000"}'
  curl -s ${url}/health
  curl -s -X POST ${url}/v1/match -H 'content-type: application/json' -H 'x-api-key: ${clientKey}' \\
       -d '{"requirements":{"job_kind":"hash"},"top_k":3}'
  curl -s ${url}/v1/miners -H 'x-api-key: ${adminKey}'

The 4-validator BFT devnet, the wallet daemon and the miner agent join this command as they land.
Ctrl-C to stop.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  clearInterval(beat);
  await settler.stop();
  await coordinator.stop();
  await engine.stop();
  await coordinatorStore.close();
  await node.stop();
  await server.stop();
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
