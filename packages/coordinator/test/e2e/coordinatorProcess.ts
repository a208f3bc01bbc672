/**
 * A coordinator as its own process, for the crash tests: LevelKVStore at AITBC_DATA_DIR (shared by the
 * pool registry and the job engine), HTTP on 127.0.0.1:AITBC_PORT. Prints `{"url": …}` once ready.
 */
import { hexToBytes } from '@aitbc/crypto';
import { createPoolHub, hashApiKey } from '@aitbc/pool';
import { LevelKVStore } from '@aitbc/storage-level';
import { createCoordinatorServer, createReceiptHandler, JobEngine } from '../../src/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};
const store = await LevelKVStore.open({ path: env('AITBC_DATA_DIR') });
const hub = createPoolHub({ store, heartbeatTimeoutMs: 60_000 });
await hub.open();
const engine = new JobEngine({
  store,
  hub,
  receipts: createReceiptHandler({
    chainId: 'aitbc-devnet',
    coordinatorSeed: hexToBytes(env('AITBC_COORDINATOR_SEED'), 32),
  }),
  leaseMs: 30_000,
  sweepIntervalMs: 200,
});
await engine.start();
const server = createCoordinatorServer({
  engine,
  hub,
  chainId: 'aitbc-devnet',
  coordinatorId: 'coord-e2e',
  port: Number(env('AITBC_PORT')),
  logLevel: false,
  apiKeys: [
    { role: 'client', subject: env('AITBC_CLIENT_ADDRESS'), hash: hashApiKey('client-key') },
    { role: 'miner', subject: 'miner-0', hash: hashApiKey('miner-key') },
  ],
});
const { url } = await server.start();
process.stdout.write(`${JSON.stringify({ url })}\n`);
