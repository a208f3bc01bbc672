/**
 * A validator whose database is on a real file system that fills up: four validators as separate
 * processes, node-3's chain database on a 20 MiB tmpfs (root mounts it; CI runs as root), filled by a
 * filler file until its writes fail, then freed.
 */
import { cpSync, mkdirSync, renameSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { mountTmpfs, type Tmpfs } from '../../test-support/tmpfs.ts';
import { until } from '../../test-support/until.ts';
import { headHeight, startTestNetwork, type TestNetwork, type TestNode } from './networkHarness.ts';

let net: TestNetwork | undefined;
let disk: Tmpfs | undefined;

afterAll(async () => {
  await Promise.all((net?.validators ?? []).map((n) => n.kill()));
  disk?.unmount();
  await net?.close();
}, 60_000);

describe('a validator whose disk fills up (4 processes, a real full tmpfs)', () => {
  beforeAll(async () => {
    net = await startTestNetwork({ validators: 4 });
    const node3 = net.validators[3] as TestNode;
    await until(async () => ((await headHeight(node3)) >= 3 ? true : undefined), 60_000);
    // node-3's chain database moves onto a 20 MiB tmpfs
    await node3.stop();
    const chainDir = join(node3.dir, 'chain');
    renameSync(chainDir, `${chainDir}.before`);
    mkdirSync(chainDir);
    disk = mountTmpfs(chainDir, 20);
    cpSync(`${chainDir}.before`, chainDir, { recursive: true });
    await node3.start();
  }, 180_000);

  it('blames no peer, answers /health 503 naming ENOSPC, refuses send_tx, and catches up by itself once space is freed', async () => {
    const [n0, n1, n2, n3] = net!.validators as [TestNode, TestNode, TestNode, TestNode];
    const fs = disk!;
    await until(async () => ((await headHeight(n3)) >= (await headHeight(n0)) - 1 ? true : undefined), 60_000);
    const healthOf = async (node: TestNode) => {
      const res = await fetch(`${node.rpcUrl}/health`);
      return { status: res.status, retryAfter: res.headers.get('retry-after'), body: (await res.json()) as never };
    };
    expect((await healthOf(n3)).status).toBe(200);

    fs.fill();
    const sick = await until(async () => {
      const h = await healthOf(n3);
      return h.status === 503 ? h : undefined;
    }, 60_000);
    const error = (sick.body as { error: { code: string; message: string; details: { cause: { code: string } } } })
      .error;
    expect(error.code).toBe('NODE_STORAGE_UNAVAILABLE');
    expect(error.details.cause.code).toBe('STORAGE_FULL');
    expect(error.message).toMatch(/no space left on device \(ENOSPC\) at \//);
    expect(Number(sick.retryAfter)).toBeGreaterThanOrEqual(1);
    expect(n3.output.join('\n')).toMatch(/ENOSPC/);

    // it refuses transactions it could not keep
    let nonce = 0;
    const to = addressFromPublicKey(generateKeyPair().publicKey);
    const transfer = () =>
      txToJson(
        signTx(
          {
            type: 'transfer',
            chainId: net!.chainId,
            from: net!.faucet.address,
            nonce: nonce++,
            fee: DEFAULT_PARAMS.minFee,
            to,
            amount: 3n,
          },
          net!.faucet.seed,
        ),
      );
    const refused = await fetch(`${n3.rpcUrl}/rpc/send_tx`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify(transfer()),
    });
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).not.toBeNull();
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe('NODE_STORAGE_UNAVAILABLE');
    nonce = 0; // it was not admitted anywhere

    // the other three go on (3 of 4 votes), node-3 stays behind and keeps its peers
    const stuck = await headHeight(n3);
    await n0.client.sendTx(transfer());
    await until(async () => ((await headHeight(n0)) >= stuck + 20 ? true : undefined), 60_000);
    // (polled: a link may flap on a loaded machine and reconnect, a banned peer would stay out for 10 min)
    const peers = await until(async () => {
      const list = await n3.client.peers();
      return list.length === 3 ? list : undefined;
    }, 20_000);
    expect(peers.map((p) => p.score)).toEqual([0, 0, 0]);
    for (const n of [n0, n1, n2])
      await until(async () => ((await n.client.peers()).length === 3 ? true : undefined), 20_000);
    const metrics = await (await fetch(`${n3.rpcUrl}/metrics`)).text();
    expect(metrics).toMatch(/^node_storage_writable 0$/m);
    expect(metrics).toMatch(/^node_storage_txs_refused_total 1$/m);
    expect(await headHeight(n3)).toBeLessThan(await headHeight(n0));

    // space is freed: it recovers by itself, catches up to the network head and takes transactions again
    fs.release();
    await until(async () => ((await healthOf(n3)).status === 200 ? true : undefined), 60_000);
    const target = await headHeight(n0);
    await until(async () => ((await headHeight(n3)) >= target ? true : undefined), 60_000);
    const [a, b] = await Promise.all([n0.client.block(target), n3.client.block(target)]);
    expect(b.hash).toBe(a.hash);
    expect(await n3.client.balance(to)).toBe(3n);
    await n3.client.sendTx(transfer());
    for (const n of [n0, n1, n2, n3])
      await until(async () => ((await n.client.balance(to)) === 6n ? true : undefined), 60_000);
    const after = await until(async () => {
      const list = await n3.client.peers();
      return list.length === 3 ? list : undefined;
    }, 20_000);
    expect(after.map((p) => p.score)).toEqual([0, 0, 0]);
  });
});
