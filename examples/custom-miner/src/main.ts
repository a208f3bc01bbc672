/**
 * A miner with a custom runner: registers with the coordinator as a miner agent offering the kind
 * `text.reverse` (plus the built-in `hash`), each behind an on-chain escrow check, and logs each job.
 *
 * Against `npm start`: `npm start -w examples/custom-miner` reads `.aitbc/devnet/devnet.json`
 * (the devnet's URLs and its miner key) and runs until Ctrl-C.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { addressFromPublicKey, hexToBytes, publicKeyFromSeed } from '@aitbc/crypto';
import { createClient } from '@aitbc/sdk';
import { createHashRunner, createMinerAgent, type MinerAgent } from '@aitbc/sdk/miner';
import { createReverseRunner, requireEscrow } from './reverseRunner.js';

/** Options of {@link startCustomMiner}. */
export interface CustomMinerOptions {
  readonly coordinatorUrl: string;
  /** The node API the escrow check reads. */
  readonly nodeUrl: string;
  /** A coordinator API key of role `miner`, bound to `minerId`. */
  readonly apiKey: string;
  readonly minerId: string;
  /** The miner key: signs receipts; its address is paid when jobs settle. */
  readonly seed: Uint8Array;
  readonly chainId: string;
  /** Base units per unit of work (default 10^15). */
  readonly pricePerUnit?: bigint;
  readonly log?: (line: string) => void;
}

/** Starts the agent (registers, then long-polls); `stop()` it to drain and leave. */
export async function startCustomMiner(options: CustomMinerOptions): Promise<MinerAgent> {
  const log = options.log ?? console.log;
  const node = createClient({ node: options.nodeUrl }).node;
  const agent = createMinerAgent({
    coordinatorUrl: options.coordinatorUrl,
    apiKey: options.apiKey,
    minerId: options.minerId,
    seed: options.seed,
    chainId: options.chainId,
    pricePerUnit: options.pricePerUnit ?? 10n ** 15n,
    concurrency: 2,
    // `runners` replaces the defaults: these kinds are exactly what the miner advertises.
    runners: [requireEscrow(createReverseRunner(), node), requireEscrow(createHashRunner(), node)],
    probe: { nvidiaSmiPath: false }, // CPU-only here; the probe still reports cores and RAM
    heartbeatMs: 2_000,
    pollWaitSeconds: 5,
  });
  agent.on('jobStarted', (e) => log(`started ${e.jobId} (${e.kind}) for ${e.client}`));
  agent.on('jobCompleted', (e) =>
    log(`completed ${e.jobId}: receipt ${e.receipt.receipt_id}, price ${e.receipt.price}`),
  );
  agent.on('jobFailed', (e) => log(`failed ${e.jobId}: ${e.code} ${e.message}`));
  agent.on('error', (e) => log(`${e.operation} error: ${e.error.code}`));
  await agent.start();
  log(
    `miner ${options.minerId} (${addressFromPublicKey(publicKeyFromSeed(options.seed))}) is polling ${options.coordinatorUrl}`,
  );
  return agent;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const file = join(
    process.env.AITBC_DEVNET_DIR ?? join(process.env.INIT_CWD ?? process.cwd(), '.aitbc', 'devnet'),
    'devnet.json',
  );
  const info = JSON.parse(readFileSync(file, 'utf8')) as {
    chainId: string;
    nodes: { rpcUrl: string }[];
    coordinatorUrl: string;
    minerId: string;
    keys: { miner: string };
    minerKeyFile: string;
  };
  const agent = await startCustomMiner({
    coordinatorUrl: info.coordinatorUrl,
    nodeUrl: info.nodes[0]?.rpcUrl ?? 'http://127.0.0.1:8006',
    apiKey: info.keys.miner,
    minerId: info.minerId,
    // The devnet miner's seed: the pool hub binds a miner id to one key. Keep yours in a keystore.
    seed: hexToBytes(readFileSync(info.minerKeyFile, 'utf8').trim(), 32),
    chainId: info.chainId,
  });
  process.once('SIGINT', () => void agent.stop({ drainTimeoutMs: 10_000 }));
}
