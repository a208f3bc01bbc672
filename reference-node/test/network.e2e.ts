/**
 * Four validators (and a follower) as separate `aitbc-node` processes on 127.0.0.1 with real level
 * databases: BFT finality, transfer propagation, crash and restart, loss of quorum, sync from genesis.
 */
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { headHeight, startTestNetwork, type TestNetwork, type TestNode } from './networkHarness.ts';

let net: TestNetwork;
let nonce = 0;

beforeAll(async () => {
  net = await startTestNetwork({ validators: 4, followers: 1 });
}, 180_000);
afterAll(async () => {
  await net?.close();
}, 60_000);

function transfer(amount: bigint) {
  const to = addressFromPublicKey(generateKeyPair().publicKey);
  const tx = signTx(
    {
      type: 'transfer',
      chainId: net.chainId,
      from: net.faucet.address,
      nonce: nonce++,
      fee: DEFAULT_PARAMS.minFee,
      to,
      amount,
    },
    net.faucet.seed,
  );
  return { to, json: txToJson(tx) };
}

async function balanceOn(node: TestNode, address: string): Promise<bigint> {
  try {
    return await node.client.balance(address);
  } catch {
    return -1n;
  }
}

/** Waits until every node has the same block at the lowest common height ≥ `atLeast`; returns the block hashes. */
async function sameBlockEverywhere(nodes: readonly TestNode[], atLeast: number) {
  return until(async () => {
    const heights = await Promise.all(nodes.map(headHeight));
    const h = Math.min(...heights);
    if (h < atLeast) return undefined;
    const blocks = await Promise.all(nodes.map((n) => n.client.block(h)));
    return { height: h, blocks };
  }, 60_000);
}

const stateRootOf = (b: Record<string, unknown>) => (b.header as { stateRoot: string }).stateRoot;

describe('4 validators in 4 processes', () => {
  it('finalize blocks; a transfer sent to one node is final on all four with identical state roots', async () => {
    const [, , node2] = net.validators as [TestNode, TestNode, TestNode, TestNode];
    await until(async () => ((await headHeight(net.validators[0] as TestNode)) >= 2 ? true : undefined), 60_000);
    const { to, json } = transfer(777n);
    await node2.client.sendTx(json);
    for (const n of net.validators)
      await until(async () => ((await balanceOn(n, to)) === 777n ? true : undefined), 60_000);
    const height = Math.max(...(await Promise.all(net.validators.map(headHeight))));
    const { blocks } = await sameBlockEverywhere(net.validators, height);
    expect(new Set(blocks.map((b) => b.hash)).size).toBe(1);
    expect(new Set(blocks.map(stateRootOf)).size).toBe(1);
    // the committed block carries the commit signatures of > 2/3 of the validators in the next block
    const next = await until(async () => {
      try {
        return await net.validators[0]?.client.block((blocks[0]?.height as number) + 1);
      } catch {
        return undefined;
      }
    }, 30_000);
    const lastCommit = next.lastCommit as { signatures: unknown[] };
    expect(lastCommit.signatures.length).toBeGreaterThanOrEqual(3);
    const validators = await net.validators[0]?.client.validators();
    expect(validators).toHaveLength(4);
  });

  it('a fresh follower syncs from genesis and serves the same head', async () => {
    const follower = net.followers[0] as TestNode;
    const target = await headHeight(net.validators[0] as TestNode);
    await follower.start();
    const { blocks } = await sameBlockEverywhere([follower, ...net.validators], target);
    expect(new Set(blocks.map((b) => b.hash)).size).toBe(1);
    const status = await follower.client.syncStatus();
    expect(status.height).toBeGreaterThanOrEqual(target);
    // a transaction submitted to the follower is gossiped to the validators and becomes final
    const { to, json } = transfer(5n);
    await follower.client.sendTx(json);
    await until(async () => ((await balanceOn(net.validators[0] as TestNode, to)) === 5n ? true : undefined), 60_000);
    await until(async () => ((await balanceOn(follower, to)) === 5n ? true : undefined), 60_000);
  });

  it('SIGKILL one validator: the other three keep finalizing; restarted, it syncs and rejoins', async () => {
    const [n0, n1, n2, n3] = net.validators as [TestNode, TestNode, TestNode, TestNode];
    await n3.kill();
    const before = await headHeight(n0);
    const { to, json } = transfer(11n);
    await n1.client.sendTx(json);
    for (const n of [n0, n1, n2])
      await until(async () => ((await balanceOn(n, to)) === 11n ? true : undefined), 60_000);
    await until(async () => ((await headHeight(n0)) >= before + 3 ? true : undefined), 60_000);
    await n3.start();
    const { blocks } = await sameBlockEverywhere([n0, n1, n2, n3], before + 3);
    expect(new Set(blocks.map((b) => b.hash)).size).toBe(1);
    expect(await balanceOn(n3, to)).toBe(11n);
    // it rejoins: a transfer sent to it is final everywhere
    const again = transfer(12n);
    await n3.client.sendTx(again.json);
    for (const n of [n0, n1, n2, n3])
      await until(async () => ((await balanceOn(n, again.to)) === 12n ? true : undefined), 60_000);
  });

  it('stop two of four: finality halts (safety over liveness); restart one: it resumes', async () => {
    const [n0, n1, n2, n3] = net.validators as [TestNode, TestNode, TestNode, TestNode];
    await Promise.all([n2.stop(), n3.stop()]);
    // let whatever was decided before the stop reach both survivors, then the head must not move
    // while a transaction waits
    await new Promise((r) => setTimeout(r, 1_000));
    const halted = await until(async () => {
      const [a, b] = await Promise.all([headHeight(n0), headHeight(n1)]);
      return a === b && a >= 0 ? a : undefined;
    }, 30_000);
    const { to, json } = transfer(21n);
    await n0.client.sendTx(json);
    await new Promise((r) => setTimeout(r, 4_000)); // 16 block times
    expect(await headHeight(n0)).toBe(halted);
    expect(await headHeight(n1)).toBe(halted);
    expect(await balanceOn(n0, to)).toBe(0n);
    await n2.start();
    for (const n of [n0, n1, n2])
      await until(async () => ((await balanceOn(n, to)) === 21n ? true : undefined), 90_000);
    expect(await headHeight(n0)).toBeGreaterThan(halted);
    const { blocks } = await sameBlockEverywhere([n0, n1, n2], halted + 1);
    expect(new Set(blocks.map((b) => b.hash)).size).toBe(1);
  });
});
