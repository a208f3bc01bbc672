/**
 * `npm start`: runs the local AITBC services that exist so far, on embedded defaults, bound to
 * 127.0.0.1, with data under ./.aitbc/devnet. Today that is the pool hub (with a persistent miner
 * registry and a demo miner); the validators, coordinator API and wallet daemon join this command as
 * the reference node lands (see README "Status"). Ctrl-C stops everything cleanly.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToBase64url, generateKeyPair, randomBytes } from '@aitbc/crypto';
import { createPoolHub, createPoolHubServer, hashApiKey } from '@aitbc/pool';
import { LevelKVStore } from '@aitbc/storage-level';

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
console.log(`
AITBC local services (data in ${dataDir})

  pool hub    ${url}        health: ${url}/health   metrics: ${url}/metrics
  admin key   ${adminKey}
  client key  ${clientKey}

Try:
  curl -s ${url}/health
  curl -s -X POST ${url}/v1/match -H 'content-type: application/json' -H 'x-api-key: ${clientKey}' \\
       -d '{"requirements":{"job_kind":"hash"},"top_k":3}'
  curl -s ${url}/v1/miners -H 'x-api-key: ${adminKey}'

Validators, the coordinator API and the wallet daemon join this command as the reference node lands.
Ctrl-C to stop.`);

let stopping = false;
async function shutdown(signal: string): Promise<void> {
  if (stopping) return;
  stopping = true;
  console.log(`\n${signal}: stopping…`);
  clearInterval(beat);
  await server.stop();
  await store.close();
  process.exit(0);
}
process.on('SIGINT', () => void shutdown('SIGINT'));
process.on('SIGTERM', () => void shutdown('SIGTERM'));
