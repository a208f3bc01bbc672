/**
 * Accepted transactions are neither lost nor stranded (issue 21 §3), with real node processes:
 * - a node SIGKILLed right after its API accepted a batch has every transaction of it back after the
 *   restart (the local journal), and they and the sender's later ones are all committed;
 * - a validator and a follower that were cut apart, each holding pending transactions the other lacks
 *   (one sender's nonces split between them, so neither side can commit any of its share past the gap),
 *   exchange them once connected (announce ids, fetch bodies) and commit them all.
 */
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { afterEach, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { startTestNetwork, type TestNetwork, type TestNode } from './networkHarness.ts';
import { startTcpGate, type TcpGate } from './tcpGate.ts';

let net: TestNetwork | undefined;
let gate: TcpGate | undefined;
afterEach(async () => {
  await gate?.stop();
  await net?.close();
  gate = undefined;
  net = undefined;
}, 60_000);

const sink = addressFromPublicKey(generateKeyPair().publicKey);

function transfer(n: TestNetwork, nonce: number) {
  return txToJson(
    signTx(
      {
        type: 'transfer',
        chainId: n.chainId,
        from: n.faucet.address,
        nonce,
        fee: DEFAULT_PARAMS.minFee,
        to: sink,
        amount: 1n,
      },
      n.faucet.seed,
    ),
  ) as Record<string, unknown>;
}

/** The faucet's account nonce on a node (how many of its transactions are committed), -1 if it does not answer. */
async function committedNonce(node: TestNode, address: string): Promise<number> {
  try {
    return (await node.client.account(address)).nonce as number;
  } catch {
    return -1;
  }
}

async function mempoolSize(node: TestNode): Promise<number> {
  return (await node.client.mempool(1)).size;
}

const allCommitted = (node: TestNode, address: string, count: number) =>
  until(async () => ((await committedNonce(node, address)) >= count ? true : undefined), 90_000);

describe('accepted transactions survive a crash', () => {
  it('a validator SIGKILLed right after accepting a batch commits all of it, and the later ones, after a restart', async () => {
    // Two validators of equal power: each block needs both, so with one down nothing commits and the
    // batch stays pending on the node that accepted it — a kill then loses it unless it was journaled.
    net = await startTestNetwork({ validators: 2 });
    const [v0, v1] = net.validators as [TestNode, TestNode];
    const faucet = net.faucet.address;
    await v1.kill();
    const batch = Array.from({ length: 40 }, (_, i) => transfer(net as TestNetwork, i));
    await Promise.all(batch.map((tx) => v0.client.sendTx(tx))); // every answer received: all accepted
    await v0.kill();
    expect(await committedNonce(v1, faucet)).toBe(-1); // down too: nothing can have gone anywhere

    await Promise.all([v0.start(), v1.start()]);
    // The sender goes on from where it was: these wait behind the 40, a gap would strand them.
    await Promise.all([40, 41, 42, 43, 44].map((n) => v1.client.sendTx(transfer(net as TestNetwork, n))));
    await allCommitted(v0, faucet, 45);
    await allCommitted(v1, faucet, 45);
    expect(await v0.client.balance(sink)).toBe(45n);
  });
});

describe('pending transactions are exchanged when peers (re)connect', () => {
  it('a validator and a follower cut apart, each with pending txs the other lacks, converge once connected', async () => {
    net = await startTestNetwork({ validators: 1, followers: 1 });
    const v = net.validators[0] as TestNode;
    const f = net.followers[0] as TestNode;
    const faucet = net.faucet.address;
    const port = Number(new URL(v.p2pUrl).port);
    gate = await startTcpGate(port); // closed: the follower cannot reach the validator
    await f.start({ AITBC_P2P_PEERS: gate.url });

    // One sender, nonces split across the partition: 0..9 on the follower, 10..19 on the validator.
    await Promise.all(Array.from({ length: 10 }, (_, i) => f.client.sendTx(transfer(net as TestNetwork, i))));
    await Promise.all(Array.from({ length: 10 }, (_, i) => v.client.sendTx(transfer(net as TestNetwork, 10 + i))));
    expect(await mempoolSize(f)).toBe(10);
    expect(await mempoolSize(v)).toBe(10);
    const heightBefore = (await v.client.head()).height;
    await until(async () => ((await v.client.head()).height >= heightBefore + 2 ? true : undefined), 30_000);
    expect(await committedNonce(v, faucet)).toBe(0); // stranded behind the nonces it lacks

    gate.open();
    await allCommitted(v, faucet, 20);
    await allCommitted(f, faucet, 20);
    await until(async () => ((await mempoolSize(f)) === 0 && (await mempoolSize(v)) === 0 ? true : undefined), 30_000);
  });
});
