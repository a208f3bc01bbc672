import { mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { afterAll, describe, expect, it } from 'vitest';
import { WebSocket } from 'ws';
import { until } from '../../../test-support/until.ts';
import {
  createClient,
  createLocalSigner,
  type NodeBlock,
  type SubscriptionStatus,
  subscribeNode,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

function dataDir() {
  const d = mkdtempSync(join(tmpdir(), 'aitbc-sdk-ws-'));
  dirs.push(d);
  return d;
}

/** Sends `count` transfers from the faucet (nonces from `nonce`) and waits until the head reaches `minHeight`. */
async function produceBlocks(node: DevnetOfOne, nonce: number, count: number, minHeight: number) {
  const client = createClient({ node: node.rpcUrl });
  const faucet = createLocalSigner(node.faucet.seed);
  const to = addressFromPublicKey(generateKeyPair().publicKey);
  for (let i = 0; i < count; i++) {
    const id = await client.node.sendTx(
      await faucet.signTx({
        type: 'transfer',
        chainId: node.chainId,
        from: faucet.address,
        nonce: nonce + i,
        fee: DEFAULT_PARAMS.minFee,
        to,
        amount: 1n,
      }),
    );
    // one block per transfer: wait until it is committed before the next one
    await until(async () =>
      (await client.node.tx(id).catch(() => undefined))?.status === 'committed' ? true : undefined,
    );
  }
  await until(async () => ((await client.node.head()).height >= minHeight ? true : undefined));
  return (await client.node.head()).height;
}

describe('node subscriptions over /ws (real node API server, real restarts)', () => {
  it('survives the server being killed mid-stream: reconnects, resumes, every height exactly once', async () => {
    const dir = dataDir();
    let node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 50 });
    const port = Number(new URL(node.rpcUrl).port);
    let nonce = 0;
    const h1 = await produceBlocks(node, nonce, 3, 3);
    nonce += 3;

    const statuses: SubscriptionStatus[] = [];
    const client = createClient({ node: node.rpcUrl, webSocket: WebSocket });
    const sub = client.node.subscribeBlocks({
      fromHeight: 1,
      reconnect: { baseDelayMs: 20, maxDelayMs: 200 },
      onStatus: (s) => statuses.push(s),
    });
    await sub.ready;
    const heights: number[] = [];
    const reader = (async () => {
      for await (const block of sub as AsyncIterable<NodeBlock>) {
        heights.push(block.height);
        expect(block.header.height).toBe(block.height);
      }
    })();
    await until(async () => (heights.length >= h1 ? true : undefined));

    // Kill the node API mid-stream; while it is down, the chain grows (the node runs on another port).
    await node.stop();
    node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 50 });
    const h2 = await produceBlocks(node, nonce, 3, h1 + 3);
    nonce += 3;
    await node.stop();
    // A new server on the same port with more blocks: the subscriber must resume after h1.
    node = await startDevnetOfOne({ dataDir: dir, rpcPort: port, blockTimeMs: 50 });
    await until(async () => (heights.length >= h2 ? true : undefined));
    // ...and keep following live blocks.
    const h3 = await produceBlocks(node, nonce, 2, h2 + 2);
    await until(async () => (heights.length >= h3 ? true : undefined));

    sub.close();
    await reader;
    await node.stop();
    expect(heights).toEqual(Array.from({ length: h3 }, (_, i) => i + 1));
    expect(sub.reconnects).toBeGreaterThanOrEqual(1);
    expect(statuses).toContain('reconnecting');
    expect(statuses.at(-1)).toBe('closed');
  }, 60_000);

  it('refuses bad subscriptions with the server code, and needs a WebSocket class', async () => {
    const node = await startDevnetOfOne({ dataDir: dataDir(), rpcPort: 0, blockTimeMs: 50 });
    try {
      const client = createClient({ node: node.rpcUrl, webSocket: WebSocket });
      const bad = client.node.subscribeTransactions({ filter: { address: 'NOT-AN-ADDRESS' } });
      await expect(bad.ready).rejects.toMatchObject({ code: 'RPC_BAD_PARAMS' });
      await expect(bad.next()).rejects.toMatchObject({ code: 'RPC_BAD_PARAMS' });
      expect(() => client.node.subscribeBlocks({ fromHeight: -1 })).toThrow(
        expect.objectContaining({ code: 'SDK_BAD_INPUT' }),
      );
      const noWs = createClient({ node: node.rpcUrl });
      if ((globalThis as { WebSocket?: unknown }).WebSocket === undefined)
        expect(() => noWs.node.subscribeBlocks()).toThrow(expect.objectContaining({ code: 'SDK_NO_WEBSOCKET' }));
      // transactions: a mempool admission arrives live; abort ends the iteration
      const ac = new AbortController();
      const txs = client.node.subscribeTransactions({ signal: ac.signal });
      await txs.ready;
      const faucet = createLocalSigner(node.faucet.seed);
      const id = await client.node.sendTx(
        await faucet.signTx({
          type: 'transfer',
          chainId: node.chainId,
          from: faucet.address,
          nonce: 0,
          fee: DEFAULT_PARAMS.minFee,
          to: addressFromPublicKey(generateKeyPair().publicKey),
          amount: 1n,
        }),
      );
      const first = await txs.next();
      expect(first.done).toBe(false);
      expect((first.value as { id: string }).id).toBe(id);
      ac.abort();
      expect(await txs.next()).toEqual({ done: true, value: undefined });
    } finally {
      await node.stop();
    }
  });

  it('gives up after maxAttempts when nothing listens (SDK_SUBSCRIPTION_LOST)', async () => {
    const node = await startDevnetOfOne({ dataDir: dataDir(), rpcPort: 0, blockTimeMs: 50 });
    const url = node.rpcUrl;
    await node.stop();
    const client = createClient({ node: url, webSocket: WebSocket });
    const sub = client.node.subscribeBlocks({ reconnect: { baseDelayMs: 5, maxDelayMs: 10, maxAttempts: 3 } });
    await expect(sub.ready).rejects.toMatchObject({ code: 'SDK_SUBSCRIPTION_LOST' });
  });

  it('closes cleanly while the WebSocket handshake is still pending (a server that never answers)', async () => {
    const silent = createServer(() => undefined);
    await new Promise<void>((r) => silent.listen(0, '127.0.0.1', r));
    try {
      const port = (silent.address() as { port: number }).port;
      const sub = subscribeNode({ baseUrl: `http://127.0.0.1:${port}`, topic: 'new_blocks', webSocket: WebSocket });
      await new Promise((r) => setTimeout(r, 50));
      sub.close();
      expect(await sub.next()).toEqual({ done: true, value: undefined });
      await expect(sub.ready).rejects.toMatchObject({ code: 'SDK_SUBSCRIPTION_CLOSED' });
      // give the socket time to report its aborted handshake: it must not surface as an uncaught error
      await new Promise((r) => setTimeout(r, 100));
    } finally {
      silent.close();
    }
  });
});
