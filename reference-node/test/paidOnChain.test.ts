import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS, MemoryKVStore, signTx, txToJson } from '@aitbc/chain-core';
import { createReceiptHandler, JobEngine, Settler } from '@aitbc/coordinator';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { createPoolHub } from '@aitbc/pool';
import { createReceipt, serializeReceipt, signReceipt } from '@aitbc/receipts';
import { createNodeClient } from '@aitbc/rpc/client';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { createNodeSettlementGateway, settleTxSigner, startDevnetOfOne } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-paid-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('a job paid on chain (devnet of one over HTTP, coordinator engine, settler)', () => {
  it('escrow locked → job run → receipt attested → escrow.settle final: the miner gets the price, the client the rest', async () => {
    const node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 100 });
    try {
      const client = createNodeClient({ baseUrl: node.rpcUrl });
      const miner = generateKeyPair();
      const minerAddress = addressFromPublicKey(miner.publicKey);
      const hub = createPoolHub();
      await hub.registry.register({
        id: 'miner-1',
        address: minerAddress,
        publicKey: miner.publicKey,
        pricePerUnit: 1n,
        maxConcurrency: 1,
        capabilities: { gpus: [], cpuCores: 1, ramGb: 1, models: [], jobKinds: ['hash'], region: 'local' },
      });
      const store = new MemoryKVStore();
      const engine = new JobEngine({
        store,
        hub,
        receipts: createReceiptHandler({ chainId: node.chainId, coordinatorSeed: node.coordinator.seed }),
      });
      await engine.start();
      const settler = new Settler({
        engine,
        store,
        gateway: createNodeSettlementGateway(client),
        sign: settleTxSigner,
        chainId: node.chainId,
        coordinatorSeed: node.coordinator.seed,
        fee: DEFAULT_PARAMS.minFee,
        intervalMs: 3_600_000,
      });
      settler.start();

      const locked = 3n * 10n ** 18n;
      const job = await engine.submit(node.faucet.address, { kind: 'hash', input: { data: 'aGk' }, maxPrice: locked });
      const lock = signTx(
        {
          type: 'escrow.lock',
          chainId: node.chainId,
          from: node.faucet.address,
          nonce: 0,
          fee: DEFAULT_PARAMS.minFee,
          jobId: job.id,
          amount: locked,
          coordinator: node.coordinator.address,
          expiresAtHeight: 10_000,
        },
        node.faucet.seed,
      );
      await client.sendTx(txToJson(lock));
      await until(async () =>
        (await client.escrow(job.id).catch(() => undefined))?.status === 'locked' ? true : undefined,
      );
      const clientBefore = await client.balance(node.faucet.address);

      const assignment = await engine.poll('miner-1', { maxWaitMs: 2000 });
      const price = 10n ** 18n;
      const receipt = serializeReceipt(
        signReceipt(
          createReceipt({
            jobId: assignment!.jobId,
            provider: minerAddress,
            client: node.faucet.address,
            units: 1n,
            unitType: 'job',
            unitPrice: price,
            startedAt: Date.now() - 5,
            completedAt: Date.now(),
            chainId: node.chainId,
          }),
          miner.seed,
        ),
      );
      await engine.complete('miner-1', assignment!.jobId, { digest: 'x' }, receipt);
      await until(async () => ((await settler.get(job.id)) !== undefined ? true : undefined));
      await settler.tick();
      await until(async () => ((await client.escrow(job.id)).status === 'settled' ? true : undefined));
      await settler.tick();
      expect((await settler.get(job.id))!.state).toBe('final');
      expect(await client.balance(minerAddress)).toBe(price);
      expect(await client.balance(node.faucet.address)).toBe(clientBefore + locked - price);
      await settler.stop();
      await engine.stop();
    } finally {
      await node.stop();
    }
  });
});
