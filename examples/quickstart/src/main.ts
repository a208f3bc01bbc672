/**
 * Quickstart: submit a paid `hash` job, then check what came back — the receipt's signatures against
 * the coordinator key you pinned, and the output against the receipt's `artifact_hash`.
 *
 * Against `npm start` (its built-in demo miner runs the job):
 * `npm start -w examples/quickstart` reads `.aitbc/devnet/devnet.json` and the demo account's keystore.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { pathToFileURL } from 'node:url';
import { hexToBytes } from '@aitbc/crypto';
import { assertReceiptTrusted, createClient, createLocalSigner, type JobRun } from '@aitbc/sdk';
import { artifactHash, type JsonValue } from '@aitbc/sdk/miner';
import { unlockKeystore } from '@aitbc/wallet';

/** Options of {@link quickstart}. */
export interface QuickstartOptions {
  readonly nodeUrl: string;
  readonly coordinatorUrl: string;
  /** Coordinator API key of role `client`, bound to the payer's address. */
  readonly apiKey: string;
  /** The coordinator's chain address (named in the escrow lock) and public key (pinned for receipts). */
  readonly coordinatorAddress: string;
  readonly coordinatorPublicKey: Uint8Array;
  /** The payer's key seed (pays the escrow). */
  readonly payerSeed: Uint8Array;
  readonly text?: string;
  readonly log?: (line: string) => void;
}

/** Runs one job end to end and verifies it; resolves the run. */
export async function quickstart(options: QuickstartOptions): Promise<JobRun> {
  const log = options.log ?? console.log;
  const client = createClient({
    node: options.nodeUrl,
    coordinator: options.coordinatorUrl,
    apiKey: options.apiKey,
    coordinatorAddress: options.coordinatorAddress,
    trust: { coordinatorKeys: [options.coordinatorPublicKey] }, // receipts must carry its attestation
  });
  const payer = createLocalSigner(options.payerSeed);
  log(`payer ${payer.address}: balance ${await client.node.balance(payer.address)}`);

  // submit → lock max_price in escrow (signed by the payer) → wait for the miner → verified receipt
  const run = await client.jobs.run({
    kind: 'hash',
    input: { text: options.text ?? 'hello, AITBC', iterations: 2 },
    maxPrice: 10n ** 16n,
    wallet: payer,
    onProgress: (e) => log(`  ${e.type}${e.type === 'state' ? ` ${e.job.state}` : ''}`),
  });
  log(`job ${run.job.job_id} ${run.job.state}, escrow tx ${run.escrowTxId}`);

  // jobs.run already verified the receipt against `trust`; this is the same check, done by hand.
  const check = assertReceiptTrusted(run.receipt, { coordinatorKeys: [options.coordinatorPublicKey] });
  if (!check.ok) throw new Error('the receipt does not verify under the pinned coordinator key');
  // The output you fetched is the one the miner signed for.
  if (artifactHash(run.output as JsonValue) !== run.receipt.artifact_hash)
    throw new Error('the output does not match the receipt');
  log(`receipt ${run.receipt.receipt_id}: price ${String(run.receipt.price)}, miner ${run.receipt.provider}, verified`);
  return run;
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const dir = process.env.AITBC_DEVNET_DIR ?? join(process.env.INIT_CWD ?? process.cwd(), '.aitbc', 'devnet');
  const info = JSON.parse(readFileSync(join(dir, 'devnet.json'), 'utf8')) as {
    nodes: { rpcUrl: string }[];
    coordinatorUrl: string;
    keys: { coordinatorClient: string };
    faucet: { keystore: string };
    coordinator: { address: string; publicKey: string };
    passphraseFile: string | null;
  };
  const passphrase = process.env.AITBC_KEY_PASSPHRASE ?? readFileSync(info.passphraseFile ?? '', 'utf8').trim();
  const { seed } = await unlockKeystore(readFileSync(info.faucet.keystore, 'utf8'), passphrase, { upgrade: false });
  await quickstart({
    nodeUrl: info.nodes[0]?.rpcUrl ?? 'http://127.0.0.1:8006',
    coordinatorUrl: info.coordinatorUrl,
    apiKey: info.keys.coordinatorClient,
    coordinatorAddress: info.coordinator.address,
    coordinatorPublicKey: hexToBytes(info.coordinator.publicKey, 32),
    payerSeed: seed,
  });
}
