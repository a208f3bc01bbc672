import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  accountKey,
  DEFAULT_PARAMS,
  encodeAccount,
  signTx,
  stateProofFromJson,
  txToJson,
  verifyStateProof,
} from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair, hexToBytes } from '@aitbc/crypto';
import { createNodeClient } from '@aitbc/rpc/client';
import { afterAll, describe, expect, it } from 'vitest';
import { until } from '../../test-support/until.ts';
import { startDevnetOfOne } from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-devnet1-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('devnet of one (real level database, real HTTP on 127.0.0.1)', () => {
  it('finalizes submitted transfers, serves proofs, and resumes after a restart', async () => {
    let node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 100 });
    expect(statSync(join(dir, 'keys.json')).mode & 0o777).toBe(0o600);
    const client = createNodeClient({ baseUrl: node.rpcUrl });
    const bob = addressFromPublicKey(generateKeyPair().publicKey);
    const tx = signTx(
      {
        type: 'transfer',
        chainId: node.chainId,
        from: node.faucet.address,
        nonce: 0,
        fee: DEFAULT_PARAMS.minFee,
        to: bob,
        amount: 42n,
      },
      node.faucet.seed,
    );
    const id = await client.sendTx(txToJson(tx));
    expect(id).toMatch(/^0x[0-9a-f]{64}$/);
    await until(async () => ((await client.balance(bob)) === 42n ? true : undefined));
    const account = await client.account(bob, { proof: true });
    const proof = stateProofFromJson(account.proof);
    expect(
      verifyStateProof(
        hexToBytes(account.stateRoot as string),
        accountKey(bob),
        encodeAccount({ balance: 42n, nonce: 0 }),
        proof,
      ),
    ).toBe(true);
    // a replay of the same transaction is refused with the chain's code
    await expect(client.sendTx(txToJson(tx))).rejects.toMatchObject({ code: 'CHAIN_BAD_NONCE' });
    const height = (await client.head()).height as number;
    await node.stop();

    node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 100 });
    const again = createNodeClient({ baseUrl: node.rpcUrl });
    expect((await again.head()).height).toBeGreaterThanOrEqual(height);
    expect(await again.balance(bob)).toBe(42n);
    await node.stop();
  });
});
