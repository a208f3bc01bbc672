/**
 * A node past its capacity sheds submissions at the edge: RPC_BUSY (503, Retry-After) over REST and
 * JSON-RPC, and admits again once its backlog clears. Two real nodes in process (level databases on
 * disk, real sockets on 127.0.0.1): a follower whose chain does not move (its validator is not started
 * yet, so it finalizes nothing) fills up to its admission floor; then the validator starts, the
 * backlog is committed and the follower, having synced the blocks, accepts again.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test-support/freePort.ts';
import { until } from '../../test-support/until.ts';
import {
  createValidatorEngine,
  initNetwork,
  loadNodeConfig,
  type RunningNode,
  readKeystoreFile,
  readPassphrase,
  startNode,
} from '../src/index.js';

const dir = mkdtempSync(join(tmpdir(), 'aitbc-admission-'));
const running: RunningNode[] = [];
afterAll(async () => {
  for (const n of running.reverse()) await n.stop();
  rmSync(dir, { recursive: true, force: true });
});

describe('admission control at the node API (real nodes)', () => {
  it('answers 503 RPC_BUSY with Retry-After past its capacity, and accepts again when the backlog clears', async () => {
    const net = await initNetwork({
      dir,
      validators: 1,
      followers: 1,
      kdf: 'fast',
      env: {},
      logLevel: 'warn',
      params: { blockTimeMs: 200, emptyBlockIntervalMs: 1000 },
      consensus: { timeoutProposeMs: 1000, timeoutVoteMs: 500, timeoutDeltaMs: 100 },
    });
    const [vNode, fNode] = net.nodes;
    if (vNode === undefined || fNode === undefined) throw new Error('no nodes');
    const [vRpc, vP2p, fRpc, fP2p] = [await freePort(), await freePort(), await freePort(), await freePort()];
    const env = { AITBC_KEY_PASSPHRASE: '' };
    const follower = await startNode(
      loadNodeConfig({
        file: fNode.configPath,
        env: {},
        overrides: {
          'rpc.port': fRpc,
          'p2p.port': fP2p,
          'p2p.peers': [`ws://127.0.0.1:${vP2p}`], // not up yet: the follower keeps dialing
          'admission.minBacklogTxs': 4,
        },
      }),
      { env },
    );
    running.push(follower);

    const faucet = await readKeystoreFile(net.faucet.keystore, readPassphrase(net.passphraseFile, {}));
    const to = addressFromPublicKey(generateKeyPair().publicKey);
    const transfer = (nonce: number) =>
      txToJson(
        signTx(
          {
            type: 'transfer',
            chainId: net.chainId,
            from: net.faucet.address,
            nonce,
            fee: DEFAULT_PARAMS.minFee,
            to,
            amount: 1n,
          },
          faucet.seed,
        ),
      );
    const send = (url: string, nonce: number) =>
      fetch(`${url}/rpc/send_tx`, {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify(transfer(nonce)),
      });

    // Nothing finalized yet: the follower admits its floor (4), no more. Nonces 1–4 first: they wait
    // for nonce 0, which is refused by nobody (refusing it would strand them, and stall admission).
    for (let nonce = 1; nonce <= 4; nonce++) expect((await send(follower.rpcUrl, nonce)).status).toBe(200);
    const refused = await send(follower.rpcUrl, 5);
    expect(refused.status).toBe(503);
    expect(Number(refused.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
    const body = (await refused.json()) as { error: { code: string; details: Record<string, unknown> } };
    expect(body.error.code).toBe('RPC_BUSY');
    expect(body.error.details).toMatchObject({ backlog: 4, limit: 4, capacityTxsPerSecond: 0 });
    // JSON-RPC: the call's error carries the code and the retry delay.
    const rpc = await fetch(`${follower.rpcUrl}/rpc`, {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ jsonrpc: '2.0', id: 1, method: 'send_tx', params: { tx: transfer(5) } }),
    });
    const answer = (await rpc.json()) as { error?: { data: { code: string; details: { retryAfterSeconds: number } } } };
    expect(answer.error?.data.code).toBe('RPC_BUSY');
    expect(answer.error?.data.details.retryAfterSeconds).toBeGreaterThanOrEqual(1);
    expect(((await (await fetch(`${follower.rpcUrl}/rpc/mempool`)).json()) as { size: number }).size).toBe(4);
    expect((await send(follower.rpcUrl, 0)).status).toBe(200); // fills the gap: admitted past the limit
    expect(((await (await fetch(`${follower.rpcUrl}/rpc/mempool`)).json()) as { size: number }).size).toBe(5);

    // The validator starts and commits the same five; the follower syncs the blocks, its backlog clears.
    const validator = await startNode(
      loadNodeConfig({
        file: vNode.configPath,
        env: {},
        overrides: { 'rpc.port': vRpc, 'p2p.port': vP2p },
      }),
      { env, validatorEngine: createValidatorEngine },
    );
    running.push(validator);
    for (let nonce = 0; nonce <= 4; nonce++) expect((await send(validator.rpcUrl, nonce)).status).toBe(200);
    await until(async () => {
      const m = (await (await fetch(`${follower.rpcUrl}/rpc/mempool`)).json()) as { size: number };
      return m.size === 0 ? true : undefined;
    }, 30_000);
    const again = await send(follower.rpcUrl, 5);
    expect(again.status).toBe(200);
    // …and what it accepted is gossiped and finalized.
    await until(async () => {
      const acct = (await (await fetch(`${validator.rpcUrl}/rpc/account/${net.faucet.address}`)).json()) as {
        nonce: number;
      };
      return acct.nonce === 6 ? true : undefined;
    }, 30_000);
  });
});
