import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { MemoryKVStore } from '@aitbc/chain-core';
import { type CoordinatorServer, createCoordinatorServer, createReceiptHandler, JobEngine } from '@aitbc/coordinator';
import { addressFromPublicKey, bytesToHex, generateKeyPair, publicKeyFromSeed } from '@aitbc/crypto';
import { createPoolHub } from '@aitbc/pool';
import { attestReceipt, createReceipt, signReceipt } from '@aitbc/receipts';
import { createNodeClient } from '@aitbc/rpc/client';
import { createKeystore, MIN_KDF } from '@aitbc/wallet';
import { createWalletDaemon, type WalletDaemon } from '@aitbc/wallet/daemon';
import { createWalletNodeGateway, type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { type AitbcClient, ApiError, createClient } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-sdk-wallet-'));
const PASS = 'correct horse battery staple';
let node: DevnetOfOne;
let daemon: WalletDaemon;
let coordinator: CoordinatorServer;
let engine: JobEngine;
let client: AitbcClient;
let walletUrl: string;
let faucetWallet: string;

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: join(dir, 'node'), rpcPort: 0, blockTimeMs: 50 });
  daemon = createWalletDaemon({
    dataDir: join(dir, 'wallet'),
    port: 0,
    node: createWalletNodeGateway(createNodeClient({ baseUrl: node.rpcUrl })),
    chainId: node.chainId,
    kdf: MIN_KDF,
    kdfWorker: false,
    logLevel: false,
  });
  walletUrl = await daemon.start();
  const hub = createPoolHub();
  engine = new JobEngine({
    store: new MemoryKVStore(),
    hub,
    receipts: createReceiptHandler({ chainId: node.chainId, coordinatorSeed: node.coordinator.seed }),
  });
  await engine.start();
  coordinator = createCoordinatorServer({
    engine,
    hub,
    chainId: node.chainId,
    coordinatorId: 'coord-wallet',
    port: 0,
    logLevel: false,
    apiKeys: [],
  });
  const { url } = await coordinator.start();
  client = createClient({
    node: node.rpcUrl,
    coordinator: url,
    wallet: { url: walletUrl, token: readFileSync(daemon.tokenFile, 'utf8').trim() },
    coordinatorAddress: node.coordinator.address,
    trust: { coordinatorKeys: [publicKeyFromSeed(node.coordinator.seed)] },
    retry: { baseDelayMs: 5 },
  });
  // The devnet's funded key, imported into the daemon as a keystore file.
  const keystore = await createKeystore(node.faucet.seed, PASS, { kdf: MIN_KDF });
  faucetWallet = (await client.wallet.create({ passphrase: PASS, keystore })).wallet.id;
});
afterAll(async () => {
  await coordinator?.stop();
  await engine?.stop();
  await daemon?.stop();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('wallet daemon client (real daemon on 127.0.0.1 over a real devnet node)', () => {
  it('creates, lists, unlocks, signs, sends, locks and verifies receipts', async () => {
    const created = await client.wallet.create({ passphrase: PASS, words: 12 });
    expect(created.mnemonic?.split(' ')).toHaveLength(12);
    const id = created.wallet.id;
    expect((await client.wallet.list()).map((w) => w.id).sort()).toEqual([faucetWallet, id].sort());
    expect(await client.wallet.get(id)).toMatchObject({
      id,
      address: created.wallet.address,
      unlocked: false,
      balance: '0',
    });

    const wrong = await client.wallet.unlock(id, { passphrase: 'nope' }).catch((e: unknown) => e);
    expect(wrong).toBeInstanceOf(ApiError);
    expect(wrong).toMatchObject({ code: 'WALLET_WRONG_PASSPHRASE', status: 403, service: 'wallet' });
    const { session } = await client.wallet.unlock(id, { passphrase: PASS, ttlSeconds: 60 });
    const sig = await client.wallet.sign(id, { session, message: { hello: 'world' } });
    expect(sig).toMatchObject({ kind: 'message', address: created.wallet.address });
    expect(sig.signature).toMatch(/^[0-9a-f]{128}$/);

    const faucet = await client.wallet.unlock(faucetWallet, { passphrase: PASS });
    const sent = await client.wallet.send(faucetWallet, {
      session: faucet.session,
      tx: { type: 'transfer', to: created.wallet.address, amount: 1234n },
      wait: true,
    });
    expect(sent).toMatchObject({ id: expect.stringMatching(/^0x[0-9a-f]{64}$/), status: 'final' });
    expect(await client.node.balance(created.wallet.address)).toBe(1234n);

    await client.wallet.lock(id);
    await expect(client.wallet.sign(id, { session, message: 1 })).rejects.toMatchObject({
      code: 'WALLET_LOCKED',
      status: 423,
    });
    await expect(client.wallet.get('0'.repeat(32))).rejects.toMatchObject({ code: 'WALLET_NOT_FOUND', status: 404 });
    await expect(client.wallet.get('not-an-id')).rejects.toMatchObject({ code: 'SDK_BAD_INPUT' });

    const minerKeys = generateKeyPair();
    const receipt = attestReceipt(
      signReceipt(
        createReceipt({
          jobId: 'job-1',
          provider: addressFromPublicKey(minerKeys.publicKey),
          client: created.wallet.address,
          units: 1n,
          unitType: 'job',
          unitPrice: 5n,
          startedAt: 1_000,
          completedAt: 2_000,
          chainId: node.chainId,
        }),
        minerKeys.seed,
      ),
      node.coordinator.seed,
    );
    const trusted = await client.wallet.verifyReceipt({
      receipt,
      minerKeys: [minerKeys.publicKey],
      coordinatorKeys: [bytesToHex(publicKeyFromSeed(node.coordinator.seed))],
    });
    expect(trusted.ok).toBe(true);
    const untrusted = await client.wallet.verifyReceipt({ receipt, minerKeys: [generateKeyPair().publicKey] });
    expect(untrusted.ok).toBe(false);
    // the same check in-process, with the SDK's pinned-key helper
    expect(client.receipts.check(receipt).ok).toBe(true);

    const noToken = createClient({ wallet: walletUrl });
    await expect(noToken.wallet.list()).rejects.toMatchObject({ code: 'WALLET_UNAUTHORIZED', status: 401 });
  });

  it('logs in at the coordinator with a wallet-daemon signature, then locks an escrow through the daemon', async () => {
    const { session } = await client.wallet.unlock(faucetWallet, { passphrase: PASS });
    const login = await client.login({ walletId: faucetWallet, session });
    expect(login.token_type).toBe('Bearer');
    // jobs.run paying through the daemon: nobody mines kind "later", so abort once the lock is final.
    const ac = new AbortController();
    let jobId: string | undefined;
    const run = client.jobs.run({
      kind: 'later',
      input: { x: 1 },
      maxPrice: 77n,
      wallet: { walletId: faucetWallet, session },
      signal: ac.signal,
      onProgress: (e) => {
        if (e.type === 'submitted') jobId = e.job.job_id;
        if (e.type === 'escrow_locked') ac.abort();
      },
    });
    await expect(run).rejects.toMatchObject({ code: 'SDK_ABORTED' });
    const escrow = await until(async () => (jobId === undefined ? undefined : client.node.escrow(jobId)));
    expect(escrow).toMatchObject({
      status: 'locked',
      amount: '77',
      client: node.faucet.address,
      coordinator: node.coordinator.address,
    });
    expect((await client.jobs.get(jobId!)).state).toBe('CANCELED');
  });
});
