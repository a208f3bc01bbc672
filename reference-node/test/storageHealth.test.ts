/**
 * A node whose store cannot write (a fault-injecting wrapper over a real level database, as on a
 * full disk): it blames no peer, answers /health 503 with the cause, refuses transactions, shows it
 * in its metrics, and recovers by itself once the store writes again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS, MemoryKVStore, signTx, txToJson } from '@aitbc/chain-core';
import { AitbcError, addressFromPublicKey, generateKeyPair, isAitbcError } from '@aitbc/crypto';
import { createNodeClient, type NodeClient } from '@aitbc/rpc/client';
import { LevelKVStore } from '@aitbc/storage-level';
import { afterAll, describe, expect, it } from 'vitest';
import { FaultyKVStore } from '../../test-support/faultyStore.ts';
import { freePort } from '../../test-support/freePort.ts';
import { until } from '../../test-support/until.ts';
import {
  createStorageHealth,
  createValidatorEngine,
  initNetwork,
  loadNodeConfig,
  type RunningNode,
  readKeystoreFile,
  readPassphrase,
  startNode,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

async function height(client: NodeClient): Promise<number> {
  return (await client.head()).height;
}

describe('createStorageHealth', () => {
  it('turns unavailable on the first STORAGE_* write failure only, probes with backoff, and recovers when a probe succeeds', async () => {
    const faulty = new FaultyKVStore(new MemoryKVStore());
    let recovered = 0;
    const health = createStorageHealth({
      probe: async () => {
        await faulty.reopen();
        await faulty.put(Uint8Array.of(1), Uint8Array.of(1));
      },
      onRecovered: () => recovered++,
      backoff: { initialMs: 10, maxMs: 40 },
    });
    try {
      const store = health.watch(faulty);
      await store.put(Uint8Array.of(0), Uint8Array.of(0));
      expect(health.failure).toBeUndefined();
      expect(() => health.check()).not.toThrow();
      // misuse and a closed store are not storage failures
      health.report(new AitbcError('STORE_CLOSED', 'the store is closed'));
      health.report(new Error('boom'));
      expect(health.failure).toBeUndefined();
      faulty.failWrites();
      await expect(
        store.batch([{ type: 'put', key: Uint8Array.of(2), value: Uint8Array.of(2) }]),
      ).rejects.toMatchObject({
        code: 'STORAGE_FULL',
      });
      expect(health.failure?.code).toBe('STORAGE_FULL');
      let thrown: unknown;
      try {
        health.check();
      } catch (err) {
        thrown = err;
      }
      expect(isAitbcError(thrown, 'NODE_STORAGE_UNAVAILABLE')).toBe(true);
      expect((thrown as AitbcError).message).toBe(
        'the node cannot write its database: no space left on device (ENOSPC) at /test/000003.log',
      );
      expect((thrown as AitbcError).details).toMatchObject({
        cause: { code: 'STORAGE_FULL' },
        retryAfterSeconds: expect.any(Number),
      });
      // probes keep failing while the fault lasts
      await until(async () => (faulty.reopens >= 3 ? true : undefined));
      expect(recovered).toBe(0);
      faulty.heal();
      await until(async () => (health.failure === undefined ? true : undefined));
      expect(recovered).toBe(1);
      await store.put(Uint8Array.of(3), Uint8Array.of(3));
    } finally {
      health.stop();
    }
  });
});

describe('a node whose store cannot write (in-process validator and follower, real level databases)', () => {
  it('blames no peer, answers /health 503 naming ENOSPC, refuses send_tx, and catches up by itself once it writes again', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aitbc-storage-'));
    dirs.push(dir);
    const net = await initNetwork({
      dir,
      validators: 1,
      followers: 1,
      kdf: 'fast',
      env: {},
      logLevel: 'silent',
      params: { blockTimeMs: 100, emptyBlockIntervalMs: 200 },
    });
    const [v, f] = net.nodes as [(typeof net.nodes)[0], (typeof net.nodes)[0]];
    const ports = await Promise.all([freePort(), freePort(), freePort(), freePort()]);
    const env = { AITBC_KEY_PASSPHRASE: '' };
    const running: RunningNode[] = [];
    try {
      const validator = await startNode(
        loadNodeConfig({
          file: v.configPath,
          env: {},
          overrides: { 'rpc.port': ports[0], 'p2p.port': ports[1], 'p2p.peers': [] },
        }),
        { env, validatorEngine: createValidatorEngine },
      );
      running.push(validator);
      let faulty: FaultyKVStore | undefined;
      const follower = await startNode(
        loadNodeConfig({
          file: f.configPath,
          env: {},
          overrides: { 'rpc.port': ports[2], 'p2p.port': ports[3], 'p2p.peers': [validator.p2pUrl] },
        }),
        {
          env,
          openStore: async (path) => {
            faulty = new FaultyKVStore(await LevelKVStore.open({ path }));
            return faulty;
          },
        },
      );
      running.push(follower);
      const vc = createNodeClient({ baseUrl: validator.rpcUrl });
      const fc = createNodeClient({ baseUrl: follower.rpcUrl });
      await until(async () => ((await height(fc)) >= 2 ? true : undefined));
      expect(await fc.health()).toEqual({ status: 'ok' });

      faulty!.failWrites();
      const health = await until(async () => {
        const res = await fetch(`${follower.rpcUrl}/health`);
        return res.status === 503 ? res : undefined;
      });
      expect(Number(health.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      const body = (await health.json()) as { error: { code: string; message: string; details: unknown } };
      expect(body.error).toMatchObject({
        code: 'NODE_STORAGE_UNAVAILABLE',
        message: 'the node cannot write its database: no space left on device (ENOSPC) at /test/000003.log',
        details: { cause: { code: 'STORAGE_FULL' } },
      });
      const stuck = await height(fc);

      // send_tx is refused with the same reason
      const faucet = await readKeystoreFile(net.faucet.keystore, readPassphrase(net.passphraseFile, {}));
      const to = addressFromPublicKey(generateKeyPair().publicKey);
      const tx = (nonce: number) =>
        txToJson(
          signTx(
            {
              type: 'transfer',
              chainId: net.chainId,
              from: net.faucet.address,
              nonce,
              fee: DEFAULT_PARAMS.minFee,
              to,
              amount: 5n,
            },
            faucet.seed,
          ),
        );
      const refused = await fetch(`${follower.rpcUrl}/rpc/send_tx`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(tx(0)),
      });
      expect(refused.status).toBe(503);
      expect(refused.headers.get('retry-after')).not.toBeNull();
      expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('NODE_STORAGE_UNAVAILABLE');
      const metrics = await (await fetch(`${follower.rpcUrl}/metrics`)).text();
      expect(metrics).toMatch(/^node_storage_writable 0$/m);
      expect(metrics).toMatch(/^node_storage_txs_refused_total 1$/m);
      expect(metrics).toMatch(/^node_storage_write_failures_total [1-9]/m);

      // the network goes on (a transfer sent to the validator), the follower stays at its height
      await vc.sendTx(tx(0));
      await until(async () => ((await vc.balance(to)) === 5n ? true : undefined));
      await until(async () => ((await height(vc)) >= stuck + 5 ? true : undefined));
      expect(await height(fc)).toBe(stuck);
      // the honest validator is still its peer, unscored
      expect((await fc.peers()).map((p) => [p.nodeId, p.score])).toEqual([[expect.any(String), 0]]);

      faulty!.heal();
      await until(async () => ((await fetch(`${follower.rpcUrl}/health`)).status === 200 ? true : undefined), 30_000);
      const target = await height(vc);
      await until(async () => ((await height(fc)) >= target ? true : undefined), 30_000);
      expect(await fc.balance(to)).toBe(5n);
      expect((await fc.peers()).map((p) => p.score)).toEqual([0]);
      expect(await (await fetch(`${follower.rpcUrl}/metrics`)).text()).toMatch(/^node_storage_writable 1$/m);
      // and it takes transactions again
      expect(await fc.sendTx(tx(1))).toMatch(/^0x[0-9a-f]{64}$/);
    } finally {
      for (const n of running.reverse()) await n.stop();
    }
  });
});
