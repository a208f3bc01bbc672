import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bytesToHex, generateKeyPair, publicKeyFromSeed, sha256, utf8ToBytes } from '@aitbc/crypto';
import { createMinerAgent, type MinerAgent } from '@aitbc/sdk/miner';
import { type DevnetOfOne, type DevnetServices, startDevnetOfOne, startDevnetServices } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type QuickstartOptions, quickstart } from '../src/main.js';

// Real parts on 127.0.0.1, port 0: a one-validator chain with its node API; the devnet's pool hub,
// coordinator (with the settler) and wallet daemon; and a miner agent with the built-in runners.
const dir = mkdtempSync(join(tmpdir(), 'aitbc-example-quickstart-'));
let node: DevnetOfOne;
let services: DevnetServices;
let miner: MinerAgent;
let options: QuickstartOptions;

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: join(dir, 'node'), rpcPort: 0, blockTimeMs: 100 });
  services = await startDevnetServices({
    dataDir: join(dir, 'services'),
    nodeRpcUrl: node.rpcUrl,
    chainId: node.chainId,
    coordinatorSeed: node.coordinator.seed,
    faucetAddress: node.faucet.address,
    poolPort: 0,
    coordinatorPort: 0,
    walletPort: 0,
    demoMiner: false, // this test runs its own miner
  });
  miner = createMinerAgent({
    coordinatorUrl: services.coordinatorUrl,
    apiKey: services.keys.miner,
    minerId: services.minerId,
    seed: generateKeyPair().seed,
    chainId: node.chainId,
    pricePerUnit: 10n ** 15n,
    probe: { nvidiaSmiPath: false },
    pollWaitSeconds: 5,
  });
  await miner.start();
  options = {
    nodeUrl: node.rpcUrl,
    coordinatorUrl: services.coordinatorUrl,
    apiKey: services.keys.coordinatorClient,
    coordinatorAddress: node.coordinator.address,
    coordinatorPublicKey: publicKeyFromSeed(node.coordinator.seed),
    payerSeed: node.faucet.seed,
    log: () => undefined,
  };
});

afterAll(async () => {
  await miner?.stop({ drainTimeoutMs: 1_000 });
  await services?.stop();
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('example: quickstart', () => {
  it('submits a paid hash job and verifies the receipt and the output', async () => {
    const lines: string[] = [];
    const run = await quickstart({ ...options, text: 'hello', log: (l) => lines.push(l) });
    // hash runner, 2 iterations: sha256(sha256("hello"))
    expect(run.output).toEqual({ digest: bytesToHex(sha256(sha256(utf8ToBytes('hello')))), iterations: 2 });
    expect(run.job.state).toBe('COMPLETED');
    expect(run.receipt).toMatchObject({
      job_id: run.job.job_id,
      client: node.faucet.address,
      price: String(10n ** 15n),
    });
    expect(lines).toContain('  escrow_locked');
    expect(lines.at(-1)).toMatch(/^receipt .+: price 1000000000000000, miner ait1.+, verified$/);
  });

  it('refuses receipts attested by a coordinator key other than the pinned one', async () => {
    await expect(quickstart({ ...options, coordinatorPublicKey: generateKeyPair().publicKey })).rejects.toMatchObject({
      code: 'SDK_RECEIPT_UNTRUSTED',
    });
  });

  it('a wrong API key is refused before anything is paid', async () => {
    await expect(quickstart({ ...options, apiKey: 'wrong' })).rejects.toMatchObject({ code: 'COORD_UNAUTHORIZED' });
  });
});
