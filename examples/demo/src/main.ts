/**
 * `npm run demo`: one paid job end to end against the running `npm start` devnet — escrow lock, run,
 * receipt, settlement — printing each step with its transaction ids and the balances before and
 * after. It reads the URLs and this run's API keys from `<devnet dir>/devnet.json` (written by
 * `aitbc-node devnet`, mode 0600), unlocks the demo account's keystore with the devnet passphrase,
 * and runs a miner agent of its own (a fresh key, the built-in `hash` runner) for the job.
 *
 * `AITBC_DEVNET_DIR` overrides the devnet directory (default `./.aitbc/devnet`).
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { AitbcError, addressFromPublicKey, hexToBytes, isAitbcError, publicKeyFromSeed } from '@aitbc/crypto';
import { type AitbcClient, createClient, createLocalSigner, type NodeApi } from '@aitbc/sdk';
import { createHashRunner, createMinerAgent, type JobRunner } from '@aitbc/sdk/miner';
import { unlockKeystore } from '@aitbc/wallet';

/** What `aitbc-node devnet` writes to `devnet.json` (the part the demo reads). */
interface DevnetInfo {
  readonly chainId: string;
  readonly nodes: readonly { readonly name: string; readonly rpcUrl: string }[];
  readonly coordinatorUrl: string;
  readonly keys: { readonly coordinatorClient: string; readonly miner: string };
  readonly minerId: string;
  /** The devnet miner's seed (hex), one key per miner id. */
  readonly minerKeyFile: string;
  readonly faucet: { readonly address: string; readonly keystore: string };
  readonly coordinator: { readonly address: string; readonly publicKey: string };
  readonly passphraseFile: string | null;
}

/** Options of {@link runDemo}. */
export interface DemoOptions {
  /** The devnet directory holding `devnet.json` (default `./.aitbc/devnet`). */
  readonly dir?: string;
  readonly env?: Readonly<Record<string, string | undefined>>;
  readonly out?: (line: string) => void;
  /** How long to wait for the settlement to be final (ms, default 120 000). */
  readonly settleTimeoutMs?: number;
}

/** What the demo did (also printed). */
export interface DemoResult {
  readonly jobId: string;
  readonly escrowTxId: string;
  readonly settleTxId: string;
  readonly paid: bigint;
  readonly minerAddress: string;
}

const AIT = 10n ** 18n;
/** Base units → `123.456 AIT` (up to 6 decimals, trailing zeros cut). */
function ait(units: bigint): string {
  const sign = units < 0n ? '-' : '';
  const abs = units < 0n ? -units : units;
  const frac = (abs % AIT).toString().padStart(18, '0').slice(0, 6).replace(/0+$/, '');
  return `${sign}${abs / AIT}${frac === '' ? '' : `.${frac}`} AIT`;
}

/** Reads `devnet.json`, or explains that the devnet is not running. */
function readDevnetInfo(dir: string): DevnetInfo {
  const file = join(dir, 'devnet.json');
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new AitbcError(
      'DEMO_NO_DEVNET',
      `no running devnet found: ${file} does not exist. Start the devnet first with \`npm start\` (in another terminal), wait for "Ctrl-C to stop", then run \`npm run demo\` again.`,
    );
  }
  return JSON.parse(text) as DevnetInfo;
}

/** Fails with a clear message unless `url` answers `/health`. */
async function assertUp(name: string, url: string): Promise<void> {
  const res = await fetch(`${url}/health`, { signal: AbortSignal.timeout(5_000) }).catch(() => undefined);
  if (res?.ok !== true)
    throw new AitbcError(
      'DEMO_DEVNET_DOWN',
      `the devnet is not running: ${name} at ${url} does not answer (a stale devnet.json?). Start it with \`npm start\`.`,
    );
}

/** The miner works only once the job's escrow is locked on chain (else it could work for free). */
function afterEscrow(inner: JobRunner, node: NodeApi): JobRunner {
  return {
    kind: inner.kind,
    async run(job, context) {
      for (let i = 0; ; i++) {
        const e = await node.escrow(job.jobId).catch(() => undefined);
        if (e?.status === 'locked') break;
        if (i >= 600) throw new AitbcError('DEMO_NOT_PAID', `no escrow for ${job.jobId} after 60 s`);
        await new Promise((r) => setTimeout(r, 100));
        context.signal.throwIfAborted();
      }
      return inner.run(job, context);
    },
  };
}

async function balances(client: AitbcClient, who: Record<string, string>): Promise<Record<string, bigint>> {
  const out: Record<string, bigint> = {};
  for (const [name, address] of Object.entries(who)) out[name] = await client.node.balance(address);
  return out;
}

/**
 * Runs the demo.
 * @throws AitbcError `DEMO_NO_DEVNET` (no `devnet.json`), `DEMO_DEVNET_DOWN` (its services do not
 * answer), `DEMO_NOT_SETTLED`, and the SDK's codes.
 */
export async function runDemo(options: DemoOptions = {}): Promise<DemoResult> {
  const out = options.out ?? console.log;
  const env = options.env ?? process.env;
  const dir = resolve(options.dir ?? env.AITBC_DEVNET_DIR ?? join(env.INIT_CWD ?? process.cwd(), '.aitbc', 'devnet'));
  const info = readDevnetInfo(dir);
  const nodeUrl = info.nodes[0]?.rpcUrl;
  if (nodeUrl === undefined) throw new AitbcError('DEMO_NO_DEVNET', `${join(dir, 'devnet.json')} lists no node`);
  await assertUp('node-0', nodeUrl);
  await assertUp('the coordinator', info.coordinatorUrl);

  const passphrase =
    env.AITBC_KEY_PASSPHRASE ??
    (info.passphraseFile === null ? '' : (readFileSync(info.passphraseFile, 'utf8').split('\n')[0] ?? '').trim());
  const faucet = await unlockKeystore(readFileSync(info.faucet.keystore, 'utf8'), passphrase, { upgrade: false });
  const payer = createLocalSigner(faucet.seed);
  const client = createClient({
    node: nodeUrl,
    coordinator: info.coordinatorUrl,
    apiKey: info.keys.coordinatorClient,
    coordinatorAddress: info.coordinator.address,
    trust: { coordinatorKeys: [hexToBytes(info.coordinator.publicKey, 32)] },
  });

  // A miner for the job, as the devnet's miner: its API key and its seed (the pool hub binds the
  // miner id to one public key, so every run uses the same one).
  const minerSeed = hexToBytes(readFileSync(info.minerKeyFile, 'utf8').trim(), 32);
  const minerAddress = addressFromPublicKey(publicKeyFromSeed(minerSeed));
  const pricePerUnit = 10n ** 15n;
  const agent = createMinerAgent({
    coordinatorUrl: info.coordinatorUrl,
    apiKey: info.keys.miner,
    minerId: info.minerId,
    seed: minerSeed,
    chainId: info.chainId,
    pricePerUnit,
    runners: [afterEscrow(createHashRunner(), client.node)],
    probe: { nvidiaSmiPath: false },
    // Its own region, which the job requires: the devnet's built-in demo miner (region `local`) does
    // not take this job, so the balances below are this miner's.
    capabilities: { region: 'demo' },
    pollWaitSeconds: 5,
  });
  await agent.start();
  try {
    const who = { client: payer.address, miner: minerAddress, coordinator: info.coordinator.address };
    out(`AITBC demo on ${info.chainId} (node ${nodeUrl}, coordinator ${info.coordinatorUrl})`);
    out(`  client      ${payer.address}`);
    out(`  miner       ${minerAddress} (${info.minerId}, ${ait(pricePerUnit)} per job)`);
    out(`  coordinator ${info.coordinator.address}`);
    const before = await balances(client, who);
    out(`balances before: client ${ait(before.client ?? 0n)}, miner ${ait(before.miner ?? 0n)}`);

    const maxPrice = 10n * pricePerUnit;
    const run = await client.jobs.run({
      kind: 'hash',
      input: { text: 'hello from npm run demo', iterations: 1000 },
      requirements: { regions: ['demo'] },
      maxPrice,
      wallet: payer,
      onProgress: (e) => {
        if (e.type === 'submitted') out(`1. submitted   job ${e.job.job_id} (kind hash, max price ${ait(maxPrice)})`);
        else if (e.type === 'escrow_submitted') out(`2. lock        escrow.lock tx ${e.txId}`);
        else if (e.type === 'escrow_locked')
          out(`   locked      ${ait(BigInt(e.escrow.amount))} in escrow, final on chain`);
        else if (e.type === 'state') out(`3. run         job state ${e.job.state}`);
        else out(`4. receipt     ${e.receipt.receipt_id} signed by the miner, attested by the coordinator: verified`);
      },
    });
    out(`   output      ${JSON.stringify(run.output)}`);

    // The coordinator's settler submits escrow.settle with the receipt; wait until it is final.
    const end = Date.now() + (options.settleTimeoutMs ?? 120_000);
    let escrow = await client.node.escrow(run.job.job_id);
    while (escrow.status !== 'settled') {
      if (Date.now() > end)
        throw new AitbcError(
          'DEMO_NOT_SETTLED',
          `the escrow of ${run.job.job_id} is still ${escrow.status}; is the settler running?`,
        );
      await new Promise((r) => setTimeout(r, 250));
      escrow = await client.node.escrow(run.job.job_id);
    }
    let settleTxId = '';
    for await (const tx of client.node.txsByAddress(info.coordinator.address, { maxItems: 200 }))
      if (tx.type === 'escrow.settle' && (tx as { jobId?: string }).jobId === run.job.job_id) {
        settleTxId = tx.id;
        break;
      }
    const paid = BigInt(escrow.paid ?? '0');
    out(
      `5. settle      escrow.settle tx ${settleTxId}: paid ${ait(paid)} to the miner, ${ait(maxPrice - paid)} back to the client`,
    );
    const after = await balances(client, who);
    const delta = (k: keyof typeof who) => (after[k] ?? 0n) - (before[k] ?? 0n);
    out(
      `balances after: client ${ait(after.client ?? 0n)} (${ait(delta('client'))}, fee included), miner ${ait(after.miner ?? 0n)} (+${ait(delta('miner'))})`,
    );
    out(`settled: job ${run.job.job_id} miner_delta=${delta('miner')} client_delta=${delta('client')}`);
    return { jobId: run.job.job_id, escrowTxId: run.escrowTxId, settleTxId, paid, minerAddress };
  } finally {
    await agent.stop({ drainTimeoutMs: 5_000 });
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  try {
    await runDemo();
    process.exit(0);
  } catch (err) {
    const message = isAitbcError(err)
      ? `${err.code}: ${err.message}`
      : err instanceof Error
        ? err.message
        : String(err);
    process.stderr.write(`demo: ${message}\n`);
    process.exit(1);
  }
}
