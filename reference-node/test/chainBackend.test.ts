/** The node API's chain backend over a real devnet of one: commits by height, `0x` tx ids, tx lookups mid-commit. */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { blockHash, DEFAULT_PARAMS, headerFromJson, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToHex, generateKeyPair, isAitbcError } from '@aitbc/crypto';
import { createNodeClient } from '@aitbc/rpc/client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { type DevnetOfOne, startDevnetOfOne } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-chain-backend-'));
let node: DevnetOfOne;
beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 50 });
});
afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('chain backend', () => {
  it('send_tx answers 0x ids, and a tx is found at every instant from submission to commit', async () => {
    const client = createNodeClient({ baseUrl: node.rpcUrl });
    const bob = addressFromPublicKey(generateKeyPair().publicKey);
    const start = (await client.account(node.faucet.address)).nonce as number;
    const seen: string[] = [];
    for (let i = 0; i < 12; i++) {
      const tx = signTx(
        {
          type: 'transfer',
          chainId: node.chainId,
          from: node.faucet.address,
          nonce: start + i,
          fee: DEFAULT_PARAMS.minFee,
          to: bob,
          amount: 1n,
        },
        node.faucet.seed,
      );
      const id = await client.sendTx(txToJson(tx));
      expect(id).toMatch(/^0x[0-9a-f]{64}$/);
      // Look it up back to back while the block producer moves it from the mempool into a block:
      // every lookup must find it (pending, then committed), never RPC_NOT_FOUND.
      const deadline = Date.now() + 15_000;
      for (let n = 0; n < 20_000 && Date.now() < deadline; n++) {
        const t = await client.tx(id).catch((e: unknown) => (isAitbcError(e) ? e.code : String(e)));
        if (typeof t === 'string') throw new Error(`lookup ${n} of ${id} answered ${t}`);
        expect(t.id).toBe(id);
        if (t.status === 'committed') break;
        expect(t.status).toBe('pending');
      }
      seen.push(id);
    }
    for (const id of seen) expect((await client.tx(id)).status).toBe('committed');
  });
  it('a JSON-RPC batch of send_tx is admitted together, in order, with one result per request', async () => {
    const client = createNodeClient({ baseUrl: node.rpcUrl });
    const bob = addressFromPublicKey(generateKeyPair().publicKey);
    const start = (await client.account(node.faucet.address)).nonce as number;
    const sign = (nonce: number) =>
      txToJson(
        signTx(
          {
            type: 'transfer',
            chainId: node.chainId,
            from: node.faucet.address,
            nonce,
            fee: DEFAULT_PARAMS.minFee,
            to: bob,
            amount: 1n,
          },
          node.faucet.seed,
        ),
      );
    const forged = { ...sign(start + 2), signature: sign(start + 3).signature };
    const results = await client.rpcBatch([
      { method: 'send_tx', params: { tx: sign(start) } },
      { method: 'send_tx', params: { tx: sign(start + 1) } }, // needs the one before it, same batch
      { method: 'send_tx', params: { tx: forged } },
      { method: 'send_tx', params: { tx: sign(start - 1) } }, // already used
      { method: 'send_tx', params: { tx: { ...sign(start + 2), fee: 'x' } } },
      { method: 'send_tx', params: { tx: sign(start + 2) } },
    ]);
    expect(results.map((r) => (isAitbcError(r) ? r.code : 'ok'))).toEqual([
      'ok',
      'ok',
      'CHAIN_BAD_SIGNATURE',
      'CHAIN_BAD_NONCE',
      'CHAIN_TX_MALFORMED',
      'ok',
    ]);
    const ids = [results[0], results[1], results[5]].map((r) => (r as { id: string }).id);
    for (const id of ids) expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    await until(async () => {
      const statuses = await Promise.all(ids.map(async (id) => (await client.tx(id)).status));
      return statuses.every((s) => s === 'committed') ? true : undefined;
    });
    expect((await client.account(node.faucet.address)).nonce).toBe(start + 3);
  });

  it('serves the commit of every finalized height (also the head), equal to the next block’s lastCommit (blocks from the test above)', async () => {
    const client = createNodeClient({ baseUrl: node.rpcUrl });
    await until(async () => ((await client.head()).height >= 3 ? true : undefined));
    const head = (await client.head()).height;
    const block = await client.block(2);
    const commit = (await (await fetch(`${node.rpcUrl}/rpc/commit/2`)).json()) as Record<string, unknown>;
    expect(commit).toMatchObject({
      height: 2,
      blockHash: `0x${bytesToHex(blockHash(headerFromJson(block.header as never)))}`,
    });
    expect((commit.signatures as unknown[]).length).toBe(1);
    expect((await client.block(3)).lastCommit).toEqual(commit);
    const headCommit = await fetch(`${node.rpcUrl}/rpc/commit/${head}`);
    expect(headCommit.status).toBe(200);
    const unknown = await fetch(`${node.rpcUrl}/rpc/commit/${head + 1000}`);
    expect(unknown.status).toBe(404);
    expect(((await unknown.json()) as { error: { code: string } }).error.code).toBe('RPC_NOT_FOUND');
  });
});
