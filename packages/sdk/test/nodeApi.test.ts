import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, bytesToHex, generateKeyPair } from '@aitbc/crypto';
import { type DevnetOfOne, startDevnetOfOne } from 'aitbc-node';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { until } from '../../../test-support/until.ts';
import {
  type AitbcClient,
  ApiError,
  createClient,
  createLocalSigner,
  type NodeTx,
  trustedValidatorSet,
  verifyAccountProof,
  verifyFinalHeader,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-sdk-node-'));
let node: DevnetOfOne;
let client: AitbcClient;
const bob = addressFromPublicKey(generateKeyPair().publicKey);
const txIds: string[] = [];
let faucetNonce = 3;

/** Sends a 1-unit transfer to bob, so that the devnet produces a block soon. */
const nudge = () =>
  client.node.sendTx(
    txToJson(
      signTx(
        {
          type: 'transfer',
          chainId: node.chainId,
          from: node.faucet.address,
          nonce: faucetNonce++,
          fee: DEFAULT_PARAMS.minFee,
          to: bob,
          amount: 1n,
        },
        node.faucet.seed,
      ),
    ),
  );

beforeAll(async () => {
  node = await startDevnetOfOne({ dataDir: dir, rpcPort: 0, blockTimeMs: 50 });
  client = createClient({ node: node.rpcUrl, retry: { baseDelayMs: 5 } });
  const faucet = createLocalSigner(node.faucet.seed);
  for (let nonce = 0; nonce < 3; nonce++) {
    const tx = await faucet.signTx({
      type: 'transfer',
      chainId: node.chainId,
      from: faucet.address,
      nonce,
      fee: DEFAULT_PARAMS.minFee,
      to: bob,
      amount: BigInt(10 + nonce),
    });
    txIds.push(await client.node.sendTx(tx));
  }
  await until(async () => ((await client.node.balance(bob)) === 33n ? true : undefined));
});
afterAll(async () => {
  await node?.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('node API client against a real devnet node (LevelDB, HTTP on 127.0.0.1)', () => {
  it('reads every REST route with typed results', async () => {
    expect(await client.node.health()).toEqual({ status: 'ok' });
    const head = await client.node.head();
    expect(head.height).toBeGreaterThanOrEqual(1);
    expect(await client.node.syncStatus()).toMatchObject({ syncing: false });
    const block = await client.node.block(head.height);
    expect(block).toMatchObject({ height: head.height, hash: head.hash, header: { chainId: node.chainId } });
    expect((await client.node.block(head.hash)).height).toBe(head.height);
    const tx = await client.node.tx(txIds[0]!);
    expect(tx).toMatchObject({ id: txIds[0], status: 'committed', type: 'transfer', to: bob });
    const acct = await client.node.account(bob, { proof: true });
    expect(acct).toMatchObject({ address: bob, balance: '33', nonce: 0 });
    expect(acct.proof?.siblings).toBeInstanceOf(Array);
    const validators = await client.node.validators();
    expect(validators).toHaveLength(1);
    expect(validators[0]!.publicKey).toMatch(/^[0-9a-f]{64}$/);
    expect(await client.node.peers()).toEqual([]);
    expect(await client.node.mempool({ limit: 10 })).toMatchObject({ size: 0, txs: [] });
    expect(await client.node.metrics()).toContain('# HELP');
  });

  it('pages transactions by address with an async iterator', async () => {
    const seen: NodeTx[] = [];
    for await (const tx of client.node.txsByAddress(bob, { limit: 1 })) seen.push(tx);
    expect(seen.map((t) => t.id).sort()).toEqual([...txIds].sort());
    const first = await client.node.txsByAddressPage(bob, { limit: 2 });
    expect(first.items).toHaveLength(2);
    expect(first.nextCursor).toEqual(expect.any(String));
    const capped: NodeTx[] = [];
    for await (const tx of client.node.txsByAddress(bob, { limit: 1, maxItems: 2 })) capped.push(tx);
    expect(capped).toHaveLength(2);
  });

  it('speaks JSON-RPC, single and batch, with AITBC codes on errors', async () => {
    const head = await client.node.rpc<{ height: number }>('get_head');
    expect(head.height).toBeGreaterThanOrEqual(1);
    const [ok, missing] = await client.node.rpcBatch([
      { method: 'get_balance', params: { address: bob } },
      { method: 'get_block', params: { height: 1_000_000 } },
    ]);
    expect(ok).toMatchObject({ balance: '33' });
    expect(missing).toMatchObject({ code: 'RPC_NOT_FOUND' });
    await expect(client.node.rpc('no_such_method')).rejects.toMatchObject({ code: expect.stringMatching(/^RPC_/) });
  });

  it('surfaces node errors as ApiError with the server code and status', async () => {
    const e = await client.node.block(1_000_000).catch((x: unknown) => x);
    expect(e).toBeInstanceOf(ApiError);
    expect(e).toMatchObject({ code: 'RPC_NOT_FOUND', status: 404, service: 'node' });
    await expect(client.node.account('ait1notanaddress')).rejects.toMatchObject({
      code: 'RPC_BAD_PARAMS',
      status: 400,
    });
    // the same signed transfer again: the chain's own code comes through
    const replay = signTx(
      {
        type: 'transfer',
        chainId: node.chainId,
        from: node.faucet.address,
        nonce: 0,
        fee: DEFAULT_PARAMS.minFee,
        to: bob,
        amount: 10n,
      },
      node.faucet.seed,
    );
    await expect(client.node.sendTx(txToJson(replay))).rejects.toMatchObject({ code: 'CHAIN_BAD_NONCE' });
    await expect(client.node.escrow('no-such-job')).rejects.toMatchObject({ code: 'RPC_NOT_FOUND' });
    await expect(client.node.tx('zz')).rejects.toMatchObject({ code: 'RPC_BAD_PARAMS' });
  });

  it('an unconfigured service throws SDK_BAD_CONFIG on use', () => {
    const only = createClient({ node: node.rpcUrl });
    expect(() => only.pool.health()).toThrow(expect.objectContaining({ code: 'SDK_BAD_CONFIG' }));
    expect(() => only.jobs.get('x')).toThrow(expect.objectContaining({ code: 'SDK_BAD_CONFIG' }));
  });
});

describe('light-client account verification (proof against a header finalized by the pinned validators)', () => {
  it('verifies an account end to end and refuses a validator set other than the pinned one', async () => {
    const validators = (await client.node.validators()).map((v) => ({
      publicKey: v.publicKey,
      power: v.power,
      name: v.name,
    }));
    // The proven header's commit travels in the next block: make the devnet produce one soon.
    const verifying = client.verifyAccount(node.faucet.address, { validators, commitWaitMs: 10_000 });
    await nudge();
    const verified = await verifying;
    expect(verified.nonce).toBeGreaterThanOrEqual(3);
    expect(verified.balance).toBeGreaterThan(0n);
    expect(verified.signedPower).toBe(1);
    expect(verified.totalPower).toBe(1);

    const stranger = [{ publicKey: generateKeyPair().publicKey, power: 1, name: 'mallory' }];
    const refused = client.verifyAccount(bob, { validators: stranger, commitWaitMs: 10_000 });
    await nudge();
    await expect(refused).rejects.toMatchObject({
      code: 'SDK_PROOF_INVALID',
      details: { reason: 'validators_mismatch' },
    });
  });

  it('light client: reads the commit from /rpc/commit/{height} (no waiting for a block), falls back to the next block without it', async () => {
    const validators = (await client.node.validators()).map((v) => ({
      publicKey: v.publicKey,
      power: v.power,
      name: v.name,
    }));
    const paths: string[] = [];
    const recording = createClient({
      node: node.rpcUrl,
      fetch: (input, init) => {
        paths.push(new URL(String(input)).pathname);
        return fetch(input, init);
      },
    });
    const v = await recording.verifyAccount(node.faucet.address, { validators, commitWaitMs: 10_000 });
    expect(paths.filter((p) => p.startsWith('/rpc/commit/'))).toEqual([`/rpc/commit/${v.height}`]);
    expect(paths).not.toContain(`/rpc/block/${v.height + 1}`);
    const commit = await client.node.commit(v.height);
    expect(commit.height).toBe(v.height);
    await expect(client.node.commit(-1)).rejects.toMatchObject({ code: 'SDK_BAD_INPUT' });

    // A node without the route (404 RPC_NOT_FOUND "no such route"): the next block's lastCommit.
    const legacy = createClient({
      node: node.rpcUrl,
      fetch: async (input, init) => {
        const path = new URL(String(input)).pathname;
        paths.push(path);
        if (path.startsWith('/rpc/commit/'))
          return new Response(JSON.stringify({ error: { code: 'RPC_NOT_FOUND', message: 'no such route' } }), {
            status: 404,
            headers: { 'content-type': 'application/json' },
          });
        return fetch(input, init);
      },
    });
    paths.length = 0;
    const verifying = legacy.verifyAccount(node.faucet.address, { validators, commitWaitMs: 10_000 });
    await nudge();
    const old = await verifying;
    expect(paths).toContain(`/rpc/block/${old.height + 1}`);
    expect(old.nonce).toBeGreaterThanOrEqual(3);
    expect(old.signedPower).toBe(1);
  });

  it('rejects a tampered claim, a tampered commit and a commit for another header', async () => {
    const set = trustedValidatorSet(
      (await client.node.validators()).map((v) => ({ publicKey: v.publicKey, power: v.power, name: v.name })),
    );
    const acct = await client.node.account(bob, { proof: true });
    const block = await client.node.block(acct.height);
    await nudge();
    const next = await until(async () => client.node.block(acct.height + 1).catch(() => undefined), 10_000);
    const { header } = verifyFinalHeader(block.header, next.lastCommit, set);
    expect(verifyAccountProof(header.stateRoot, acct)).toEqual({ balance: BigInt(acct.balance), nonce: acct.nonce });
    // a node lying about the balance
    expect(() =>
      verifyAccountProof(header.stateRoot, { ...acct, balance: (BigInt(acct.balance) + 1n).toString() }),
    ).toThrow(
      expect.objectContaining({
        code: 'SDK_PROOF_INVALID',
        details: expect.objectContaining({ reason: 'account_proof_invalid' }),
      }),
    );
    // a forged precommit signature
    const commit = next.lastCommit!;
    const sig = commit.signatures[0]!.signature;
    const forged = {
      ...commit,
      signatures: [{ ...commit.signatures[0]!, signature: `${sig[0] === 'a' ? 'b' : 'a'}${sig.slice(1)}` }],
    };
    expect(() => verifyFinalHeader(block.header, forged, set)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ reason: 'CONSENSUS_BAD_SIGNATURE' }) }),
    );
    // a valid commit, but for another header (the state root swapped)
    const swapped = { ...block.header, stateRoot: `0x${bytesToHex(new Uint8Array(32).fill(7))}` };
    expect(() => verifyFinalHeader(swapped, next.lastCommit, set)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ reason: 'commit_mismatch' }) }),
    );
    // no proof at all
    const { proof: _p, ...bare } = acct;
    expect(() => verifyAccountProof(header.stateRoot, bare)).toThrow(
      expect.objectContaining({ details: expect.objectContaining({ reason: 'proof_missing' }) }),
    );
  });
});
