import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { createClient, createLocalSigner } from '@aitbc/sdk';
import { type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import { watchBlocks } from '../src/main.js';

// A real node (one validator, LevelDB in a temp dir, node API on a free port): a block every 50 ms
// while transactions wait, empty blocks only every `emptyBlockIntervalMs` — so the test sends transfers.
const dir = mkdtempSync(join(tmpdir(), 'aitbc-example-watch-'));
let node: DevnetOfOne;
let nonce = 0;
const bob = addressFromPublicKey(generateKeyPair().publicKey);
async function transfer(): Promise<string> {
  const alice = createLocalSigner(node.faucet.seed);
  const tx = {
    type: 'transfer',
    chainId: node.chainId,
    from: alice.address,
    nonce: nonce++,
    fee: DEFAULT_PARAMS.minFee,
    to: bob,
    amount: 7n,
  } as const;
  return createClient({ node: node.rpcUrl }).node.sendTx(await alice.signTx(tx));
}
beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 50 });
  const client = createClient({ node: node.rpcUrl });
  for (let i = 0; i < 3; i++) {
    const id = await transfer();
    await until(async () =>
      (await client.node.tx(id).catch(() => undefined))?.status === 'committed' ? true : undefined,
    );
  }
});
afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('example: watch blocks over WebSocket', () => {
  it('replays from height 1, then follows live blocks, each height once and in order', async () => {
    const heights = await watchBlocks({ nodeUrl: node.rpcUrl, count: 3 });
    expect(heights).toEqual([1, 2, 3]);
  });

  it('sees a transfer in the block that includes it', async () => {
    const head = await createClient({ node: node.rpcUrl }).node.head();
    const txId = await transfer(); // lands in a block after the head: seen live
    const stop = new AbortController();
    let found: number | undefined;
    const heights = await watchBlocks({
      nodeUrl: node.rpcUrl,
      fromHeight: head.height,
      signal: stop.signal,
      onBlock: (b) => {
        if (b.txs.some((t) => t.id === txId)) {
          found = b.height;
          stop.abort(); // the example's Ctrl-C path
        }
      },
    });
    expect(found).toBeDefined();
    expect(heights.at(-1)).toBe(found);
    expect(heights[0]).toBe(head.height);
  });

  it('refuses a bad start height before connecting (SDK_BAD_INPUT)', async () => {
    await expect(watchBlocks({ nodeUrl: node.rpcUrl, fromHeight: -1 })).rejects.toMatchObject({
      code: 'SDK_BAD_INPUT',
    });
  });
});
