/**
 * The hostile peer: raw peers (test-support/rawPeer.ts) that complete the handshake with one node and
 * send what no honest node would, while another raw peer on a second node listens for any of it
 * coming out the other side. Each kind of frame goes on a connection of its own, with a fresh key (so
 * a ban after the first kind does not hide how the node treats the next), until the node closes it:
 * junk gossip bodies (`{junk: i}`), non-JSON text, transfers with a bad signature, votes claiming a
 * validator with a bad signature, validly signed votes from a non-validator (half for a height far
 * ahead), a flood of junk. Then the junk sender comes back with the same key (a banned peer is
 * refused), and a fresh key sends one oversized frame (the node must close the connection).
 */
import { DEFAULT_PARAMS, signTx, txToJson } from '@aitbc/chain-core';
import { encodeConsensusMessage, signVote } from '@aitbc/consensus-poa';
import { addressFromPublicKey, bytesToHex, generateKeyPair, type KeyPair, randomBytes } from '@aitbc/crypto';
import { RawPeer } from '../../test-support/rawPeer.ts';

/** What the attack should send; see the module comment. */
export interface HostileAttackOptions {
  /** Peer URL of the attacked node, and of the node the observer listens on. */
  readonly targetUrl: string;
  readonly observerUrl: string;
  readonly chainId: string;
  /** 64 hex digits (no `0x`). */
  readonly genesisHash: string;
  /** Address of a real validator (claimed by the bad-signature votes). */
  readonly validatorAddress: string;
  /**
   * The chain's current height, read again right before each kind's volley (votes are for the next
   * height: a vote the node finds stale is ignored, not held against its sender, so the votes must
   * stay inside the node's window while the chain moves on under load).
   */
  readonly height: () => number;
  readonly junkFrames?: number;
  readonly badFrames?: number;
  readonly floodFrames?: number;
  /** Size of the oversized frame (default 24 MiB; the issue saw 48 MiB accepted). */
  readonly oversizeBytes?: number;
  /** How long to wait for each answer of a node (ms). */
  readonly settleMs?: number;
}

/** The kinds of hostile frames, each sent on a connection of its own (a fresh key). */
export const HOSTILE_KINDS = ['junk', 'garbage', 'bad-sig-tx', 'bad-sig-vote', 'stranger-vote', 'flood'] as const;
/** A kind of hostile frames. */
export type HostileKind = (typeof HOSTILE_KINDS)[number];

/** What one kind's connection did. */
export interface HostileVolley {
  readonly kind: HostileKind;
  readonly planned: number;
  /** Frames written before the node closed the connection (or all). */
  readonly sent: number;
  /** Whether the node closed the connection. */
  readonly disconnected: boolean;
  /** Frames of this kind a peer of the observed node received. */
  readonly leaked: number;
}

/** What happened; see {@link runHostileAttack}. */
export interface HostileAttackResult {
  readonly volleys: readonly HostileVolley[];
  /** The junk sender's new handshake with the same key: `accepted`, `refused <code>` or `closed`. */
  readonly reconnect: string;
  /** The oversized frame: `closed` (the node dropped the connection), `accepted`, or why it was not sent. */
  readonly oversize: string;
}

/** A raw peer with a chosen key (to come back as the same node). */
class KeyedPeer extends RawPeer {
  override readonly key: KeyPair;
  constructor(url: string, key: KeyPair, chainId: string, genesisHash: string) {
    super(url, { chainId, genesisHash });
    this.key = key;
  }
}

/** Resolves with the first of: a `status`/`gossip` frame (accepted), a `reject` frame, the close, or `ms`. */
async function handshakeOutcome(peer: RawPeer, ms: number): Promise<string> {
  const end = Date.now() + ms;
  let closed = false;
  void peer.closed.then(() => {
    closed = true;
  });
  while (Date.now() < end) {
    const reject = peer.inbox.find((m) => m.t === 'reject');
    if (reject !== undefined) return `refused ${String(reject.code)}`;
    if (peer.inbox.some((m) => m.t === 'status' || m.t === 'gossip')) return 'accepted';
    if (closed) return 'closed';
    await new Promise((r) => setTimeout(r, 50));
  }
  return closed ? 'closed' : 'no answer';
}

const isOpen = (p: RawPeer) => p.socket.readyState === p.socket.OPEN;

/** Runs the handshake and waits for its outcome; a node that closes or stays silent cannot hold it. */
async function handshake(peer: RawPeer, ms: number): Promise<string> {
  peer.socket.on('error', () => undefined); // a refused connection is an outcome, not a crash
  const timeout = new Promise<'timeout'>((r) => setTimeout(() => r('timeout'), ms).unref());
  const sent = await Promise.race([peer.handshake().then(() => 'sent'), peer.closed.then(() => 'closed'), timeout]);
  if (sent !== 'sent') return sent === 'closed' ? 'closed' : 'no hello';
  return handshakeOutcome(peer, ms);
}

/**
 * Builds each kind's frames for the chain at `height`; `mark` records what identifies a frame of a
 * kind when it comes back.
 */
function volleys(
  o: HostileAttackOptions,
  height: number,
  mark: (token: string, kind: HostileKind) => void,
): Map<HostileKind, string[]> {
  const bad = o.badFrames ?? 200;
  const out = new Map<HostileKind, string[]>();
  const gossip = (kind: string, body: unknown) => JSON.stringify({ t: 'gossip', kind, body });
  const junkOf = (kind: HostileKind, n: number) =>
    Array.from({ length: n }, (_, i) => gossip('tx', { junk: i, k: kind }));
  out.set('junk', junkOf('junk', o.junkFrames ?? 1_000));
  out.set(
    'garbage',
    Array.from({ length: bad }, (_, i) => `not json ${i} {`),
  );
  const stranger = generateKeyPair();
  const strangerAddress = addressFromPublicKey(stranger.publicKey);
  out.set(
    'bad-sig-tx',
    Array.from({ length: bad }, (_, i) => {
      const tx = txToJson(
        signTx(
          {
            type: 'transfer',
            chainId: o.chainId,
            from: strangerAddress,
            nonce: i,
            fee: DEFAULT_PARAMS.minFee,
            to: strangerAddress,
            amount: 1n,
          },
          stranger.seed,
        ),
      ) as unknown as Record<string, string>;
      const signature = bytesToHex(randomBytes(64));
      mark(signature, 'bad-sig-tx');
      return gossip('tx', { txs: [{ ...tx, signature }] });
    }),
  );
  out.set(
    'bad-sig-vote',
    Array.from({ length: bad }, (_, i) => {
      const signature = bytesToHex(randomBytes(64));
      mark(signature, 'bad-sig-vote');
      const m = {
        type: 'prevote',
        height: height + 1,
        round: i,
        blockHash: null,
        validator: o.validatorAddress,
        signature,
      };
      return gossip('vote', { m, s: bytesToHex(randomBytes(8)) });
    }),
  );
  out.set(
    'stranger-vote',
    Array.from({ length: bad }, (_, i) => {
      const at = i % 2 === 0 ? height + 1 : height + 100_000;
      const vote = encodeConsensusMessage(signVote(o.chainId, 'prevote', at, i, null, strangerAddress, stranger.seed));
      mark(vote.signature as string, 'stranger-vote');
      return gossip('vote', { m: vote, s: bytesToHex(randomBytes(8)) });
    }),
  );
  out.set('flood', junkOf('flood', o.floodFrames ?? 5_000));
  return out;
}

/** Writes `frames` until the node closes the connection; waits up to `settleMs` for it to. */
async function volley(peer: RawPeer, frames: readonly string[], settleMs: number) {
  let sent = 0;
  for (const f of frames) {
    if (!isOpen(peer)) break;
    peer.send(f);
    sent++;
    if (sent % 100 === 0) await new Promise((r) => setImmediate(r)); // let a close come in
  }
  const end = Date.now() + settleMs;
  while (Date.now() < end && isOpen(peer)) await new Promise((r) => setTimeout(r, 100));
  return { sent, disconnected: !isOpen(peer) };
}

/** Runs the attack; see the module comment. Every wait is bounded by `settleMs`. */
export async function runHostileAttack(o: HostileAttackOptions): Promise<HostileAttackResult> {
  const settleMs = o.settleMs ?? 3_000;
  const marks = new Map<string, HostileKind>(); // a token in a frame → its kind
  const leaked = new Map<HostileKind, number>();
  const leak = (kind: HostileKind) => leaked.set(kind, (leaked.get(kind) ?? 0) + 1);
  // The observer: counts attacker frames arriving on the other node.
  const observer = new RawPeer(o.observerUrl, { chainId: o.chainId, genesisHash: o.genesisHash });
  let counting = false;
  observer.socket.on('message', (d) => {
    const text = String(d);
    if (!text.startsWith('{"t":"gossip"')) return;
    const junk = /"junk":\d+,"k":"([a-z-]+)"/.exec(text);
    if (junk !== null) leak(junk[1] as HostileKind);
    else
      for (const m of text.matchAll(/"signature":"([0-9a-f]{128})"/g)) {
        const kind = marks.get(m[1] as string);
        if (kind !== undefined) leak(kind);
      }
    if (counting) observer.inbox.length = 0; // after the handshake, nothing is read from it
  });
  const peers: RawPeer[] = [observer];
  try {
    const watching = await handshake(observer, settleMs);
    if (watching !== 'accepted') throw new Error(`the observer peer's handshake was not accepted: ${watching}`);
    counting = true;
    const results: Array<Omit<HostileVolley, 'leaked'>> = [];
    let junkKey: KeyPair | undefined;
    for (const kind of HOSTILE_KINDS) {
      const key = generateKeyPair();
      junkKey ??= key;
      const attacker = new KeyedPeer(o.targetUrl, key, o.chainId, o.genesisHash);
      peers.push(attacker);
      const admitted = await handshake(attacker, settleMs);
      const list = volleys(o, o.height(), (token, k) => marks.set(token, k)).get(kind) ?? [];
      if (admitted !== 'accepted') {
        results.push({ kind, planned: list.length, sent: 0, disconnected: true });
        continue;
      }
      results.push({ kind, planned: list.length, ...(await volley(attacker, list, settleMs)) });
      attacker.socket.terminate();
    }
    // The junk sender back with the same key.
    const again = new KeyedPeer(o.targetUrl, junkKey as KeyPair, o.chainId, o.genesisHash);
    peers.push(again);
    const reconnect = await handshake(again, settleMs);
    again.socket.terminate();
    // One oversized frame on a connection with a new key.
    const big = new RawPeer(o.targetUrl, { chainId: o.chainId, genesisHash: o.genesisHash });
    peers.push(big);
    let oversize: string;
    const bigIn = await handshake(big, settleMs);
    if (bigIn !== 'accepted') oversize = `not sent: handshake ${bigIn}`;
    else {
      const size = o.oversizeBytes ?? 24 * 1024 * 1024;
      const pad = 'x'.repeat(Math.max(0, size - 64));
      big.send(`{"t":"gossip","kind":"tx","body":{"txs":[{"pad":"${pad}"}]}}`);
      const closedAt = Date.now() + settleMs * 2;
      while (Date.now() < closedAt && isOpen(big)) await new Promise((r) => setTimeout(r, 100));
      oversize = isOpen(big) ? 'accepted' : 'closed';
    }
    // Anything node-0 relayed of the attack went out before its consensus messages of the next
    // heights (one ordered connection per peer): once the chain has moved two heights past the
    // attack's end, the observer has seen whatever could leak. Bounded: a halted chain ends the wait.
    const attackEnd = o.height();
    const relayedBy = Date.now() + settleMs * 3;
    while (Date.now() < relayedBy && o.height() < attackEnd + 2) await new Promise((r) => setTimeout(r, 100));
    return {
      volleys: results.map((r) => ({ ...r, leaked: leaked.get(r.kind) ?? 0 })),
      reconnect,
      oversize,
    };
  } finally {
    for (const p of peers) p.socket.terminate();
  }
}
