import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { DEFAULT_PARAMS, genesisFromJson, genesisHashHex, signTx, txIdHex, txToJson } from '@aitbc/chain-core';
import { addressFromPublicKey, generateKeyPair } from '@aitbc/crypto';
import type { JsonObject } from '@aitbc/rpc';
import { createNodeClient } from '@aitbc/rpc/client';
import { afterAll, describe, expect, it } from 'vitest';
import { freePort } from '../../test-support/freePort.ts';
import { RawPeer } from '../../test-support/rawPeer.ts';
import { until } from '../../test-support/until.ts';
import {
  createTxIntake,
  initNetwork,
  loadNodeConfig,
  readKeystoreFile,
  readPassphrase,
  startNode,
} from '../src/index.js';

const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const batch = (n: number): JsonObject[] => Array.from({ length: n }, (_, i) => ({ i }));

describe('createTxIntake', () => {
  it('admits batches one at a time in order, and drops what does not fit the count or byte bound', async () => {
    const admitted: number[] = [];
    const gauge: number[] = [];
    let dropped = 0;
    let release: () => void = () => undefined;
    const gate = new Promise<void>((r) => {
      release = r;
    });
    const intake = createTxIntake({
      maxTxs: 10,
      maxBytes: 1000,
      admit: async (b) => {
        await gate; // admission is slow: the queue fills
        admitted.push(b.length);
      },
      onPending: (n) => gauge.push(n),
      onDropped: (n) => {
        dropped += n;
      },
    });
    expect(intake.offer(batch(4), 100)).toBe(true);
    expect(intake.offer(batch(6), 100)).toBe(true); // 10 txs: at the bound
    expect(intake.offer(batch(1), 10)).toBe(false); // 11 would not fit
    expect(intake.pendingTxs).toBe(10);
    expect(intake.pendingBytes).toBe(200);
    expect(intake.droppedTxs).toBe(1);
    release();
    await intake.idle();
    expect(admitted).toEqual([4, 6]);
    expect(intake.pendingTxs).toBe(0);
    expect(intake.pendingBytes).toBe(0);
    // the byte bound: 900 + 200 bytes do not fit 1000, whatever the count
    expect(intake.offer(batch(1), 900)).toBe(true);
    expect(intake.offer(batch(1), 200)).toBe(false);
    await intake.idle();
    expect(dropped).toBe(2);
    expect(gauge).toEqual([4, 10, 6, 0, 1, 0]);
  });

  it('takes a batch larger than its bounds when empty, and goes on after a batch fails', async () => {
    const errors: unknown[] = [];
    const admitted: number[] = [];
    const intake = createTxIntake({
      maxTxs: 2,
      maxBytes: 64,
      admit: async (b) => {
        if (b.length === 3) throw new Error('boom');
        admitted.push(b.length);
      },
      onError: (e) => errors.push(e),
    });
    expect(intake.offer(batch(3), 10_000)).toBe(true); // over both bounds, but nothing waits: taken
    expect(intake.offer(batch(1), 1)).toBe(false);
    await intake.idle();
    expect(intake.offer(batch(2), 1)).toBe(true);
    await intake.idle();
    expect((errors[0] as Error).message).toBe('boom');
    expect(admitted).toEqual([2]);
    expect(intake.pendingTxs).toBe(0);
  });
});

describe('a node under a gossip flood (real peer socket, real level database)', () => {
  it('drops gossiped batches past its intake bound, keeps the peer, and admits gossip again once caught up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'aitbc-intake-'));
    dirs.push(dir);
    const net = await initNetwork({ dir, validators: 1, followers: 1, kdf: 'fast', env: {}, logLevel: 'warn' });
    const follower = net.nodes.find((n) => n.role === 'follower');
    if (follower === undefined) throw new Error('no follower');
    const [rpcPort, p2pPort] = [await freePort(), await freePort()];
    const config = loadNodeConfig({
      file: follower.configPath,
      env: {},
      overrides: {
        'rpc.port': rpcPort,
        'p2p.port': p2pPort,
        'p2p.peers': [], // the validator is not running: nobody to dial
        'mempool.maxIntakeTxs': 1024,
      },
    });
    const node = await startNode(config, { env: { AITBC_KEY_PASSPHRASE: '' } });
    try {
      const genesis = genesisFromJson(JSON.parse(readFileSync(net.genesisPath, 'utf8')));
      const peer = new RawPeer(`ws://127.0.0.1:${p2pPort}`, {
        chainId: net.chainId,
        genesisHash: genesisHashHex(genesis).replace(/^0x/, ''),
      });
      await peer.handshake();
      const client = createNodeClient({ baseUrl: `http://127.0.0.1:${rpcPort}` });
      await until(async () => ((await client.peers()).length === 1 ? true : undefined));

      // 40 frames of 512 well-formed, validly signed transfers from accounts without funds: each costs
      // the node 512 verifications, so while it works through the first two (the bound is 1,024) the
      // rest arrive. The mempool refuses them all (no funds): ignored, not an offence of the sender —
      // unlike a bad signature, which no honest peer forwards.
      const to = addressFromPublicKey(generateKeyPair().publicKey);
      const frames = Array.from({ length: 40 }, () => {
        const key = generateKeyPair();
        const from = addressFromPublicKey(key.publicKey);
        return Array.from({ length: 512 }, (_, i) =>
          txToJson(
            signTx(
              { type: 'transfer', chainId: net.chainId, from, nonce: i, fee: DEFAULT_PARAMS.minFee, to, amount: 1n },
              key.seed,
            ),
          ),
        );
      });
      for (const txs of frames) peer.send({ t: 'gossip', kind: 'tx', body: { txs } });
      const metric = async (name: string) => {
        const text = await (await fetch(`http://127.0.0.1:${rpcPort}/metrics`)).text();
        const line = text.split('\n').find((l) => l.startsWith(`${name} `));
        return line === undefined ? undefined : Number(line.slice(name.length + 1));
      };
      // caught up: nothing waits, and most of the flood was dropped, not queued
      await until(async () => ((await metric('blockchain_tx_intake_pending')) === 0 ? true : undefined));
      const dropped = (await metric('blockchain_tx_intake_dropped_total')) as number;
      expect(dropped).toBeGreaterThan(0);
      expect(dropped % 512).toBe(0); // whole batches
      expect(dropped).toBeLessThanOrEqual(40 * 512 - 1024);
      expect((await client.mempool()).size).toBe(0); // no unfunded transaction got in
      // the peer was not scored down for sending fast, and the node still admits what it gossips
      expect((await client.peers())[0]?.score).toBe(0);
      const faucet = await readKeystoreFile(net.faucet.keystore, readPassphrase(net.passphraseFile, {}));
      const good = signTx(
        {
          type: 'transfer',
          chainId: net.chainId,
          from: net.faucet.address,
          nonce: 0,
          fee: DEFAULT_PARAMS.minFee,
          to,
          amount: 5n,
        },
        faucet.seed,
      );
      peer.send({ t: 'gossip', kind: 'tx', body: { txs: [txToJson(good)] } });
      await until(async () => ((await client.mempool()).size === 1 ? true : undefined));
      expect((await client.mempool()).txs[0]?.id).toBe(txIdHex(good));
      expect((await client.health()).status).toBe('ok');
      peer.socket.close();
    } finally {
      await node.stop();
    }
  });
});
