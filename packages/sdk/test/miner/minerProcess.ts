/**
 * A miner agent as its own process, for the e2e tests: connects to AITBC_COORDINATOR_URL as
 * AITBC_MINER_ID with AITBC_MINER_KEY, signs with the hex seed AITBC_MINER_SEED, and prints one JSON
 * line per event (`{"event":"ready"}` once registered).
 */
import { hexToBytes } from '@aitbc/crypto';
import { createMinerAgent } from '../../src/miner/index.js';

const env = (name: string): string => {
  const v = process.env[name];
  if (v === undefined) throw new Error(`${name} is required`);
  return v;
};
const print = (value: Record<string, unknown>) => process.stdout.write(`${JSON.stringify(value)}\n`);

const agent = createMinerAgent({
  coordinatorUrl: env('AITBC_COORDINATOR_URL'),
  apiKey: env('AITBC_MINER_KEY'),
  minerId: env('AITBC_MINER_ID'),
  seed: hexToBytes(env('AITBC_MINER_SEED'), 32),
  chainId: 'aitbc-devnet',
  pricePerUnit: 10n,
  heartbeatMs: 200,
  pollWaitSeconds: 1,
  probe: { nvidiaSmiPath: false },
});
agent.on('jobStarted', (e) => print({ event: 'jobStarted', jobId: e.jobId }));
agent.on('jobCompleted', (e) => print({ event: 'jobCompleted', jobId: e.jobId }));
agent.on('jobFailed', (e) => print({ event: 'jobFailed', jobId: e.jobId, code: e.code }));
await agent.start();
print({ event: 'ready', address: agent.address });
process.once('SIGTERM', () => void agent.stop().then(() => process.exit(0)));
