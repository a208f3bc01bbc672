/**
 * A hostile peer against four validators in four processes: it completes the handshake with node-0
 * and sends garbage, junk gossip bodies, bad-signature transactions, bad-signature votes, votes from
 * a non-validator, an oversized (48 MiB) frame and a flood — each attack from a fresh key. Nothing of
 * it may reach a listener attached only to node-3 (nor node-3 itself: it never has to reject
 * anything), every attacking key is banned (disconnected, and refused when it comes back), memory
 * stays bounded and finality goes on.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { DEFAULT_PARAMS, genesisFromJson, genesisHashHex, signTx, txToJson } from '@aitbc/chain-core';
import { encodeConsensusMessage, signVote } from '@aitbc/consensus-poa';
import { addressFromPublicKey, generateKeyPair, type KeyPair } from '@aitbc/crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RawPeer } from '../../test-support/rawPeer.ts';
import { until } from '../../test-support/until.ts';
import { headHeight, startTestNetwork, type TestNetwork, type TestNode } from './networkHarness.ts';

let net: TestNetwork;
let genesisHash: string;

beforeAll(async () => {
  net = await startTestNetwork({ validators: 4 });
  const genesis = genesisFromJson(JSON.parse(readFileSync(join(net.dir, 'genesis.json'), 'utf8')));
  genesisHash = genesisHashHex(genesis).replace(/^0x/, '');
}, 180_000);
afterAll(async () => {
  await net?.close();
}, 60_000);

const nodes = () => net.validators as [TestNode, TestNode, TestNode, TestNode];

/** A raw peer that ran the handshake with `node`. */
async function peerOf(node: TestNode, key?: KeyPair): Promise<RawPeer> {
  const p = new RawPeer(node.p2pUrl, { chainId: net.chainId, genesisHash, ...(key !== undefined ? { key } : {}) });
  await p.handshake();
  return p;
}

/** A raw peer the node took in: it got a frame that only handshaken peers get (status or gossip). */
async function joined(node: TestNode): Promise<RawPeer> {
  const p = await peerOf(node);
  await until(async () => (p.inbox.some((m) => m.t === 'status' || m.t === 'gossip') ? true : undefined), 30_000);
  return p;
}

/** Resident memory of a node process in bytes. */
function rss(node: TestNode): number {
  const status = readFileSync(`/proc/${node.process?.pid}/status`, 'utf8');
  return Number(/VmRSS:\s+(\d+) kB/.exec(status)?.[1]) * 1024;
}

/** A metric's value on a node (`0` when absent). */
async function metric(node: TestNode, line: string): Promise<number> {
  const text = await (await fetch(new URL('/metrics', node.rpcUrl))).text();
  const found = text.split('\n').find((l) => l.startsWith(`${line} `));
  return found === undefined ? 0 : Number(found.slice(line.length + 1));
}

/** Resolves once the peer is disconnected; then checks that its key is refused when it comes back. */
async function expectBanned(attacker: RawPeer, node: TestNode) {
  await until(async () => (attacker.open ? undefined : true), 30_000);
  const again = await peerOf(node, attacker.key);
  expect((await again.next('reject')).code).toBe('RPC_P2P_BANNED');
  again.socket.terminate();
}

describe('a hostile peer against 4 validators', () => {
  it('nothing invalid is relayed, every attacker is banned, memory stays bounded, finality goes on', async () => {
    const [node0, , node2, node3] = nodes();
    await until(async () => ((await headHeight(node0)) >= 2 ? true : undefined), 60_000);
    // The listener: a peer of node-3 only. It records what node-3 relays to it.
    const listener = await joined(node3);
    const memBefore = nodes().map(rss);
    const startHeight = await headHeight(node2);
    const sent: string[] = []; // every signature the attackers used

    // 1. Junk gossip bodies (some shaped like a tx batch or a consensus message), garbage frames.
    {
      const a = await joined(node0);
      for (let i = 0; i < 1_000; i++) {
        a.gossip('tx', { txs: [{ junk: i }] });
        a.gossip('vote', { m: { type: 'prevote', junk: i }, s: `junk:${i}` });
        a.gossip('tx', { junk: i });
      }
      a.send('not json at all');
      a.socket.send(Buffer.from([1, 2, 3]));
      await expectBanned(a, node0);
    }
    // 2. Well-formed transactions with bad signatures (a fresh sender: nonce 0 is unused).
    {
      const a = await joined(node0);
      for (let b = 0; b < 20; b++) {
        const txs = Array.from({ length: 50 }, (_, i) => {
          const sender = generateKeyPair();
          const tx = txToJson(
            signTx(
              {
                type: 'transfer',
                chainId: net.chainId,
                from: addressFromPublicKey(sender.publicKey),
                nonce: 0,
                fee: DEFAULT_PARAMS.minFee,
                to: net.faucet.address,
                amount: BigInt(b * 100 + i + 1),
              },
              sender.seed,
            ),
          ) as Record<string, unknown>;
          const signature = String(tx.signature);
          tx.signature = `${signature.slice(0, -2)}${signature.endsWith('00') ? '01' : '00'}`;
          sent.push(tx.signature as string);
          return tx;
        });
        a.gossip('tx', { txs });
      }
      await expectBanned(a, node0);
    }
    // 3. Votes claiming validator-0 with a signature that does not verify, for the next heights.
    // 4. Votes correctly signed by a non-validator key.
    for (const forge of ['bad-signature', 'non-validator'] as const) {
      const a = await joined(node0);
      const head = await headHeight(node0); // votes for the next two heights: relevant, so judged by signer
      for (let i = 0; i < 200; i++) {
        const stranger = generateKeyPair();
        const validator = forge === 'bad-signature' ? node0.address : addressFromPublicKey(stranger.publicKey);
        const vote = signVote(
          net.chainId,
          i % 2 ? 'prevote' : 'precommit',
          head + 1 + (i % 2),
          i,
          null,
          validator,
          stranger.seed,
        );
        const m = encodeConsensusMessage(vote);
        sent.push(m.signature as string);
        a.gossip('vote', { m, s: `attack:${forge}:${i}` });
      }
      await expectBanned(a, node0);
    }
    // 5. A 48 MiB frame: refused from its header, the sender banned at once.
    {
      const a = await joined(node0);
      a.send(
        JSON.stringify({ t: 'gossip', to: [a.nodeId], kind: 'tx', body: { txs: [{ junk: 'x'.repeat(48 << 20) }] } }),
      );
      await expectBanned(a, node0);
    }
    // 6. A flood of small frames (status announcements): past the rate limit, dropped, then banned.
    {
      const a = await joined(node0);
      const status = JSON.stringify({ t: 'status', height: 0, hash: genesisHash });
      for (let i = 0; i < 20_000 && a.open; i++) {
        a.send(status);
        if (i % 1_000 === 999) await new Promise<void>((r) => setImmediate(r));
      }
      await expectBanned(a, node0);
    }

    // Finality went on through the attack, and goes on after it.
    await until(async () => ((await headHeight(node2)) >= startHeight + 3 ? true : undefined), 60_000);
    expect(listener.open).toBe(true);
    // Nothing the attackers sent reached the listener on node-3.
    const signatures = new Set(sent);
    const leaked = listener.gossipReceived().filter((g) => {
      const text = JSON.stringify(g.body);
      return text.includes('"junk"') || [...signatures].some((s) => text.includes(s));
    });
    expect(leaked).toEqual([]);
    expect(listener.gossipReceived().length).toBeGreaterThan(0); // it does get node-3's own gossip
    // node-3 never had to reject anything (nothing invalid was relayed to it); node-0 rejected and banned.
    expect(await metric(node3, 'p2p_gossip_messages_total{verdict="reject"}')).toBe(0);
    expect(await metric(node0, 'p2p_gossip_messages_total{verdict="reject"}')).toBeGreaterThanOrEqual(4);
    expect(await metric(node0, 'p2p_peers_banned_total')).toBeGreaterThanOrEqual(6);
    // Memory: no node grew by anything like the 48 MiB frame or the junk it was sent.
    const memAfter = nodes().map(rss);
    const growth = memAfter.map((m, i) => m - (memBefore[i] as number));
    console.log(
      `hostile peer: RSS before ${memBefore.map((m) => Math.round(m / 2 ** 20))} MiB, after ${memAfter.map((m) => Math.round(m / 2 ** 20))} MiB; ` +
        `node-0 rejected ${await metric(node0, 'p2p_gossip_messages_total{verdict="reject"}')}, ` +
        `rate-limited ${await metric(node0, 'p2p_frames_dropped_total{reason="rate_limit"}')}, banned ${await metric(node0, 'p2p_peers_banned_total')}; ` +
        `height ${startHeight} → ${await headHeight(node2)}`,
    );
    expect(Math.max(...growth), `RSS growth per node: ${growth.map((g) => Math.round(g / 2 ** 20))} MiB`).toBeLessThan(
      96 * 2 ** 20,
    );
    listener.socket.terminate();
  }, 300_000);
});
