/**
 * `aitbc client run --pay-from` end to end, in-process, every part real on 127.0.0.1 (port 0): a
 * devnet of one (level database, node API), the wallet daemon holding the paying wallet, the pool
 * hub, the coordinator with its engine and settler, and the SDK miner agent.
 *
 * The rig's miner waits until the client's escrow is locked on chain before it runs the job: the
 * coordinator's settler currently gives up on a job that completes before its escrow exists, so a
 * miner faster than the lock would leave the job unpaid.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { addressFromPublicKey, bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { hashApiKey } from '@aitbc/pool';
import { createNodeClient } from '@aitbc/rpc/client';
import { createClient } from '@aitbc/sdk';
import { createHashRunner, createMinerAgent, type JobRunner, type MinerAgent } from '@aitbc/sdk/miner';
import { createKeystore, MIN_KDF } from '@aitbc/wallet';
import { createWalletDaemon } from '@aitbc/wallet/daemon';
import { createWalletNodeGateway, type DevnetOfOne, startCoordinatorServices, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { EXIT } from '../src/exitCodes.js';
import { cli, tempDir } from './cliHarness.js';

const tmp = tempDir('aitbc-cli-pay-');
const PASS = 'correct horse battery staple';
const clientKey = 'pay-client-key-0123456789abcdef';
const minerKey = 'pay-miner-key-0123456789abcdef';
const minerSeed = generateKeyPair().seed;
const minerAddress = addressFromPublicKey(publicKeyFromSeed(minerSeed));
const PRICE = 10n ** 15n; // per unit; a hash job is 1 unit

let node: DevnetOfOne;
let agent: MinerAgent;
let env: Record<string, string>;
let walletId: string;
const passFile = join(tmp.dir, 'pass');
const wrongPassFile = join(tmp.dir, 'wrong');
const stops: Array<() => Promise<unknown>> = [];

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: join(tmp.dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
  stops.unshift(() => node.stop());
  const daemon = createWalletDaemon({
    dataDir: join(tmp.dir, 'wallet'),
    port: 0,
    kdf: MIN_KDF,
    kdfWorker: false,
    node: createWalletNodeGateway(createNodeClient({ baseUrl: node.rpcUrl })),
    chainId: node.chainId,
    logLevel: false,
  });
  const walletUrl = await daemon.start();
  stops.unshift(() => daemon.stop());
  const walletToken = readFileSync(daemon.tokenFile, 'utf8').trim();

  const services = await startCoordinatorServices({
    dataDir: join(tmp.dir, 'services'),
    nodeRpcUrl: node.rpcUrl,
    chainId: node.chainId,
    coordinatorSeed: node.coordinator.seed,
    coordinatorId: 'cli-pay-coordinator',
    coordinator: {
      port: 0,
      apiKeys: [
        { role: 'client', subject: node.faucet.address, hash: hashApiKey(clientKey) },
        { role: 'miner', subject: 'pay-miner', hash: hashApiKey(minerKey) },
      ],
    },
    settler: { intervalMs: 100 },
    logLevel: false,
  });
  stops.unshift(() => services.stop());
  const { coordinatorUrl } = services;

  // The miner agent; its hash runner first waits for the escrow lock (see the file comment).
  const chain = createClient({ node: node.rpcUrl });
  const hash = createHashRunner();
  const afterLock: JobRunner = {
    kind: 'hash',
    async run(job, ctx) {
      await until(async () =>
        (await chain.node.escrow(job.jobId).catch(() => undefined))?.status === 'locked' ? true : undefined,
      );
      return hash.run(job, ctx);
    },
  };
  agent = createMinerAgent({
    coordinatorUrl,
    apiKey: minerKey,
    minerId: 'pay-miner',
    seed: minerSeed,
    chainId: node.chainId,
    pricePerUnit: PRICE,
    runners: [afterLock],
    pollWaitSeconds: 1,
    heartbeatMs: 500,
  });
  await agent.start();
  stops.unshift(() => agent.stop({ drainTimeoutMs: 2_000 }));

  // The paying wallet: the devnet's funded key, imported into the daemon.
  const sdk = createClient({ wallet: { url: walletUrl, token: walletToken } });
  const keystore = await createKeystore(node.faucet.seed, PASS, { kdf: MIN_KDF });
  walletId = (await sdk.wallet.create({ passphrase: PASS, keystore })).wallet.id;
  writeFileSync(passFile, `${PASS}\n`, { mode: 0o600 });
  writeFileSync(wrongPassFile, 'not it\n', { mode: 0o600 });

  env = {
    AITBC_CONFIG: join(tmp.dir, 'config.json'),
    AITBC_NODE: node.rpcUrl,
    AITBC_COORDINATOR: coordinatorUrl,
    AITBC_WALLET: walletUrl,
    AITBC_WALLET_TOKEN: walletToken,
    AITBC_API_KEY: clientKey,
  };
  // The coordinator's public key pinned in the profile, the way a user sets it up.
  const set = await cli(['config', 'set', 'coordinatorKey', bytesToHex(publicKeyFromSeed(node.coordinator.seed))], env);
  expect(set.code).toBe(0);
}, 60_000);

afterAll(async () => {
  for (const stop of stops) await stop();
  tmp.cleanup();
}, 30_000);

const json = <T = Record<string, unknown>>(text: string) => JSON.parse(text) as T;

describe('client run --pay-from (wallet daemon, escrow, verified receipt, settled on chain)', () => {
  it('pays from the wallet: escrow locked, receipt verified under the pinned key, miner paid on chain', async () => {
    const chain = createClient({ node: node.rpcUrl });
    const before = await chain.node.balance(minerAddress).catch(() => 0n);
    const r = await cli(
      [
        'client',
        'run',
        '-k',
        'hash',
        '-i',
        '{"text":"hello"}',
        '--max-price',
        '0.01',
        '--pay-from',
        walletId,
        '--passphrase-file',
        passFile,
        '--json',
      ],
      env,
    );
    expect(r.stderr).toBe('');
    expect(r.code).toBe(0);
    const out = json<{
      job_id: string;
      output: { digest: string };
      receipt: { provider: string; price: string; job_id: string };
      escrow_tx: string;
    }>(r.stdout);
    expect(out.output.digest).toMatch(/^[0-9a-f]{64}$/);
    expect(out.receipt).toMatchObject({ provider: minerAddress, job_id: out.job_id, price: PRICE.toString() });
    expect(out.escrow_tx).toMatch(/^0x[0-9a-f]{64}$/);
    expect((await chain.node.tx(out.escrow_tx)).type).toBe('escrow.lock');
    const escrow = await until(async () => {
      const e = await chain.node.escrow(out.job_id);
      return e.status === 'settled' ? e : undefined;
    });
    expect(BigInt(escrow.amount)).toBe(10n ** 16n);
    expect(await chain.node.balance(minerAddress)).toBe(before + PRICE);
  }, 60_000);

  it('human output notes each step on stderr and prints the output; the passphrase may come from AITBC_PASSPHRASE', async () => {
    const r = await cli(
      ['client', 'run', '-k', 'hash', '-i', '{"text":"again"}', '--max-price', '0.01', '--pay-from', walletId],
      { ...env, AITBC_PASSPHRASE: PASS },
    );
    expect(r.code).toBe(0);
    expect(r.stderr).toMatch(
      /^job job_\S+ submitted\nescrow locked: 0\.01 AIT\nreceipt \S+ verified: 0\.001 AIT to ait1/,
    );
    expect(json<{ digest: string }>(r.stdout).digest).toMatch(/^[0-9a-f]{64}$/);
  }, 60_000);

  it('refuses without a passphrase, with a wrong one, without a pinned coordinator key, or an unknown wallet', async () => {
    const args = ['client', 'run', '-k', 'hash', '-i', '{"text":"x"}', '--max-price', '0.01', '--pay-from', walletId];
    const none = await cli(args, env);
    expect(none.code).toBe(EXIT.usage);
    expect(none.stderr).toMatch(/^error CLI_USAGE_NO_PASSPHRASE: /);
    const wrong = await cli([...args, '--passphrase-file', wrongPassFile], env);
    expect(wrong.stderr).toMatch(/^error WALLET_WRONG_PASSPHRASE: /);
    expect(wrong.code).not.toBe(0);
    const unpinned = await cli([...args, '--passphrase-file', passFile], {
      ...env,
      AITBC_CONFIG: join(tmp.dir, 'empty-config.json'),
    });
    expect(unpinned.code).toBe(EXIT.usage);
    expect(unpinned.stderr).toMatch(/needs the coordinator’s public key pinned/);
    const badKey = await cli([...args, '--passphrase-file', passFile, '--coordinator-key', 'abc'], env);
    expect(badKey.code).toBe(EXIT.usage);
    expect(badKey.stderr).toMatch(/^error CLI_CONFIG_BAD_VALUE: /);
    const unknown = await cli([...args.slice(0, -1), '0'.repeat(32), '--passphrase-file', passFile], env);
    expect(unknown.code).not.toBe(0);
    expect(unknown.stderr).toMatch(/^error WALLET_/);
    // a passphrase is never an option of its own
    const inline = await cli([...args, '--passphrase', PASS], env);
    expect(inline.code).toBe(EXIT.usage);
    expect(inline.stderr).not.toContain(PASS);
  }, 60_000);
});
