import { hash } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import { bytesToHex, hexToBytes, type KeyPair, randomBytes, signMessage, verifyMessage } from '@aitbc/crypto';
import { WebSocket, WebSocketServer } from 'ws';
import type { JsonObject, PeerWire } from '../nodeBackend.js';
import { rpcError } from '../rpcErrors.js';
import { type GossipValidator, type GossipVerdict, toVerdict } from './gossipVerdict.js';
import { isLocalFailure } from './localFailure.js';
import { livenessTickMs, livenessVerdict } from './peerLiveness.js';
import {
  type GossipKind,
  MAX_GOSSIP_TO,
  type PeerMessage,
  parsePeerMessage,
  type TxExchangeMessage,
} from './peerMessages.js';
import { createPeerRateLimit, type PeerRateLimit } from './peerRateLimit.js';
import { createPeerScores, type PenaltyKind } from './peerScore.js';

/**
 * A gossip message delivered to the node (once per message id).
 *
 * @example
 * ```ts
 * import type { GossipEvent } from '@aitbc/rpc';
 * network.on('gossip', (e: GossipEvent) => {
 *   if (e.kind === 'tx') mempool.add(e.body); // delivered once per message id e.id, from peer e.from
 * });
 * ```
 */
export interface GossipEvent {
  readonly kind: GossipKind;
  readonly body: JsonObject;
  /** Message id (hex of the domain-separated SHA-256 of the body). */
  readonly id: string;
  /** Node id (hex public key) of the peer it came from. */
  readonly from: string;
  /**
   * Size of the frame it came in (UTF-8 bytes): what holding the body costs, to within a small
   * factor, for a receiver that bounds the gossip it queues (the reference node's transaction intake).
   */
  readonly bytes: number;
}

/**
 * Events of a {@link PeerNetwork}.
 *
 * @example
 * ```ts
 * import type { PeerNetworkEvents } from '@aitbc/rpc';
 * const onConnected: PeerNetworkEvents['peer:connected'] = (peer) => console.log('peer up', peer.nodeId, peer.address);
 * network.on('peer:connected', onConnected);
 * network.on('status', ({ nodeId, height }) => console.log(`${nodeId} is at ${height}`));
 * ```
 */
export interface PeerNetworkEvents {
  gossip: (event: GossipEvent) => void;
  'peer:connected': (peer: PeerWire) => void;
  'peer:disconnected': (peer: { nodeId: string; reason: string }) => void;
  /** A peer was banned (and dropped): its score reached `banScore`, or it sent an oversized frame. */
  'peer:banned': (peer: { nodeId: string; reason: string; until: number }) => void;
  status: (status: { nodeId: string; height: number; hash: string }) => void;
}

/**
 * Limits and timings of the peer network (bounded counters and milliseconds).
 *
 * @example
 * ```ts
 * import { createPeerNetwork, type PeerNetworkLimits } from '@aitbc/rpc';
 * const limits: PeerNetworkLimits = { maxSyncRange: 32, banMs: 60_000, pingIntervalMs: 5_000 };
 * const network = createPeerNetwork({ nodeKey, chainId: 'aitbc-devnet', genesisHash, limits });
 * ```
 */
export interface PeerNetworkLimits {
  /** Bytes buffered for one peer before it is dropped as a slow peer (default 8 MiB). */
  readonly maxBufferedBytes?: number;
  /**
   * Largest frame accepted (default 16 MiB); a peer that sends a larger one is banned at once (the
   * frame is refused from its header, before its payload is buffered). Fit it to the largest legitimate
   * message (a maximal block): range-sync responses are trimmed to it, and {@link PeerNetwork.publish}
   * refuses a larger message.
   */
  readonly maxMessageBytes?: number;
  /** Blocks per sync request (default 64). */
  readonly maxSyncRange?: number;
  /** Message ids remembered for dedupe (default 100 000). */
  readonly seenCacheSize?: number;
  /** Score penalty for invalid data (default 25); a peer at or below `banScore` is dropped and banned. */
  readonly invalidPenalty?: number;
  /** Score penalty per frame dropped by the rate limit (default 10). */
  readonly rateLimitPenalty?: number;
  /** Frames one peer may send per second, sustained (default 1 000); over it a frame is dropped and scored. */
  readonly maxMessagesPerSecond?: number;
  /** Frames one peer may send in a burst (default 2 × `maxMessagesPerSecond`). */
  readonly messageBurst?: number;
  /** Bytes one peer may send per second, sustained (default 32 MiB). Solicited sync responses are exempt. */
  readonly maxBytesPerSecond?: number;
  /** Bytes one peer may send in a burst (default 4 × `maxMessageBytes`, at least 64 MiB). */
  readonly byteBurst?: number;
  /** Gossip messages waiting for an asynchronous verdict at once (default 1 024); past it a message is ignored. */
  readonly maxPendingValidations?: number;
  /** Score at which a peer is banned (default -100). */
  readonly banScore?: number;
  /** Ban duration in ms (default 10 min). */
  readonly banMs?: number;
  /** Handshake deadline in ms (default 5 000). */
  readonly handshakeTimeoutMs?: number;
  /** Reconnect backoff: first delay and cap in ms (default 200 / 10 000). */
  readonly reconnectBaseMs?: number;
  readonly reconnectMaxMs?: number;
  /** Sync request deadline in ms (default 10 000). */
  readonly syncTimeoutMs?: number;
  /** Keep-alive: every interval each peer is pinged; one that did not answer the previous ping is dropped (default 15 000). */
  readonly pingIntervalMs?: number;
  /**
   * Stalled-connection detection: a connection from which nothing (no frame, ping or pong) was heard
   * for this long is dropped and a configured peer redialled — a fresh connection instead of one whose
   * TCP retransmissions backed off for seconds during an outage. A quiet peer is pinged after half of
   * it. Also: a new connection from a node whose current one has been silent for half of it replaces
   * that one instead of being refused as a duplicate. 0 disables (default 10 000).
   */
  readonly stallTimeoutMs?: number;
  /** How long an outbound dial (TCP connect and WebSocket upgrade) may take (default 5 000). */
  readonly dialTimeoutMs?: number;
}

/**
 * Options of {@link createPeerNetwork}.
 *
 * @example
 * ```ts
 * import { generateKeyPair } from '@aitbc/crypto';
 * import { createPeerNetwork, type PeerNetworkOptions } from '@aitbc/rpc';
 * const options: PeerNetworkOptions = { nodeKey: generateKeyPair(), chainId: 'aitbc-devnet', genesisHash,
 *   listen: { port: 0 }, peers: ['ws://127.0.0.1:7070'], status: () => ({ height: head.height, hash: head.hash }) };
 * const network = createPeerNetwork(options);
 * ```
 */
export interface PeerNetworkOptions {
  /** This node's key; the handshake proves it with a signed challenge. */
  readonly nodeKey: KeyPair;
  readonly chainId: string;
  /** Genesis block hash, 64 lowercase hex chars. */
  readonly genesisHash: string;
  /** Where to accept inbound peers (`port: 0` picks one); omit for outbound only. */
  readonly listen?: { readonly host?: string; readonly port: number };
  /** Peer URLs to dial and keep connected (`ws://host:port`). */
  readonly peers?: readonly string[];
  /** Serves a block range (with commits) to syncing peers; blocks in height order. */
  readonly getBlocks?: (from: number, to: number) => Promise<JsonObject[]> | JsonObject[];
  /**
   * Validates a gossip message before it is delivered or relayed (see {@link GossipVerdict}): only
   * `accept`ed messages are delivered and relayed; `reject` scores the sender down. Without it every
   * well-formed message is accepted.
   */
  readonly validateGossip?: GossipValidator;
  /** Our height and head hash, sent to peers in the handshake and with `announceStatus`. */
  readonly status?: () => { height: number; hash: string };
  /**
   * Receives the pending-transaction exchange frames of handshaken peers (see `createTxExchange`);
   * `false` marks the frame invalid (the sender is scored down). Without it they are ignored.
   */
  readonly onTxExchange?: (nodeId: string, message: TxExchangeMessage) => boolean;
  readonly limits?: PeerNetworkLimits;
}

/**
 * Options of {@link PeerNetwork.sync}.
 *
 * @example
 * ```ts
 * import type { SyncOptions } from '@aitbc/rpc';
 * const options: SyncOptions = {
 *   from: chain.head.height + 1,
 *   importBlocks: async (items) => { for (const item of items) await verifyAndImport(item); }, // { block, commit }; throw on bad data
 * };
 * const next = await network.sync(options); // the next height to fetch
 * ```
 */
export interface SyncOptions {
  /** First height to fetch. */
  readonly from: number;
  /**
   * Verifies and imports a range in order; throwing marks the peer's data invalid (score down) —
   * except a local failure (`CHAIN_STORE_FAILED`, `STORAGE_*`, `STORE_*`: this node's store could not
   * read or write), which blames no peer and ends the sync, `sync` rejecting with that error.
   */
  readonly importBlocks: (blocks: JsonObject[]) => Promise<void> | void;
}

/**
 * Counters of a {@link PeerNetwork} since its creation (see {@link PeerNetwork.stats}).
 *
 * @example
 * ```ts
 * import type { PeerNetworkStats } from '@aitbc/rpc';
 * const s: PeerNetworkStats = network.stats();
 * console.log(`${s.gossipRejected} gossip messages rejected, ${s.peersBanned} peers banned`);
 * ```
 */
export interface PeerNetworkStats {
  /** Gossip frames sent, one per peer: published and relayed. */
  readonly gossipSent: number;
  /** Of `gossipSent`, the frames relayed (messages first sent by another node). */
  readonly gossipRelayed: number;
  /** Gossip frames received from handshaken peers, duplicates included. */
  readonly gossipReceived: number;
  /** Of `gossipReceived`, the frames dropped as duplicates (message id already seen). */
  readonly gossipDuplicates: number;
  /** Gossip messages the validator accepted (delivered, and relayed where a peer lacked them). */
  readonly gossipAccepted: number;
  /** Gossip messages the validator ignored (dropped, not relayed, no penalty), or that found no room to be checked. */
  readonly gossipIgnored: number;
  /** Gossip messages the validator rejected (dropped, not relayed, sender scored down). */
  readonly gossipRejected: number;
  /** Frames dropped because their peer was over its message or byte rate. */
  readonly framesRateLimited: number;
  /** Frames refused for exceeding `maxMessageBytes` (each bans its peer). */
  readonly framesOversized: number;
  /** Peers banned. */
  readonly peersBanned: number;
}

/**
 * A WebSocket peer network; see {@link createPeerNetwork}.
 *
 * @example
 * ```ts
 * import { createPeerNetwork, type PeerNetwork } from '@aitbc/rpc';
 * const network: PeerNetwork = createPeerNetwork({ nodeKey, chainId: 'aitbc-devnet', genesisHash, listen: { port: 0 } });
 * await network.start();
 * const id = network.publish('tx', txJson); // gossiped to every peer once
 * console.log(network.listenUrl, network.peers().length);
 * await network.stop();
 * ```
 */
export interface PeerNetwork {
  /** Listens (if configured) and dials the configured peers. */
  start(): Promise<void>;
  /** Closes every connection, stops reconnecting and the listener. */
  stop(): Promise<void>;
  /** This node's id: hex of its public key. */
  readonly nodeId: string;
  /** The inbound URL once listening (`ws://127.0.0.1:port`). */
  readonly listenUrl: string | undefined;
  /** Connected (handshaken) peers. */
  peers(): PeerWire[];
  /**
   * Gossips a message to every peer (once per message id); returns the id: the SHA-256 (hex) of the
   * frame's `"kind":…,"body":…` text, which relays forward unchanged. Bodies go as plain JSON (no
   * canonical re-encoding), so the same value with its keys in another order is another message.
   */
  publish(kind: GossipKind, body: JsonObject): string;
  /** Tells peers our new head. */
  announceStatus(height: number, hash: string): void;
  /** Requests blocks `from..to` (inclusive, at most `maxSyncRange`) from one peer. */
  requestBlocks(nodeId: string, from: number, to: number): Promise<JsonObject[]>;
  /**
   * Fetches and imports blocks from `from` up to the best peer height, range by range, moving to
   * another peer when one sends invalid data. Resolves the next height to fetch.
   */
  sync(options: SyncOptions): Promise<number>;
  /** Dials a peer URL now (and keeps it connected). */
  dial(url: string): void;
  /** Sends a pending-transaction exchange frame to one peer; `false` when it is not connected or too slow. */
  sendTo(nodeId: string, message: TxExchangeMessage): boolean;
  /** Scores a peer down for invalid data found after delivery (e.g. a fetched transaction with a bad signature). */
  reportInvalid(nodeId: string, reason: string): void;
  /** Gossip and peer counters since creation (for metrics and tests); a fresh snapshot on each call. */
  stats(): PeerNetworkStats;
  /** Subscribes to an event; returns the unsubscribe function. */
  on<E extends keyof PeerNetworkEvents>(event: E, listener: PeerNetworkEvents[E]): () => void;
}

type GossipMessage = Extract<PeerMessage, { t: 'gossip' }>;

interface Peer {
  readonly socket: WebSocket;
  readonly direction: 'inbound' | 'outbound';
  readonly address: string;
  readonly nonce: string;
  nodeId: string | undefined;
  theirNonce: string | undefined;
  verified: boolean;
  ready: boolean;
  score: number;
  height: number;
  hash: string;
  timer: NodeJS.Timeout | undefined;
  alive: boolean;
  /** When anything (a frame, ping or pong) was last received (ms since the epoch). */
  heardAt: number;
  /** Whether a liveness ping went out since {@link heardAt}. */
  pinged: boolean;
  readonly limit: PeerRateLimit;
}

const HEX32 = /^[0-9a-f]{64}$/;
const GOSSIP_PREFIX = '{"t":"gossip"';
const SYNC_RES_PREFIX = Buffer.from('{"t":"sync_res"', 'utf8');
/** A gossip frame as this node encodes it: the `to` list first, then `kind` and `body`. */
const GOSSIP_TO_PREFIX = '{"t":"gossip","to":[';

/**
 * Where the part of a gossip frame after its `to` list starts (`,"kind":…,"body":…}`), or after the
 * `{"t":"gossip"` prefix when the frame does not lead with a `to` list. Node ids are hex, so in a
 * well-formed frame the first `]` closes the list; the frame is still parsed strictly before use.
 */
function gossipRestStart(text: string): number {
  if (!text.startsWith(GOSSIP_TO_PREFIX)) return GOSSIP_PREFIX.length;
  const end = text.indexOf(']', GOSSIP_TO_PREFIX.length);
  return end < 0 ? GOSSIP_PREFIX.length : end + 1;
}

/** Unique ids in order of priority, at most {@link MAX_GOSSIP_TO} (an unlisted peer only costs a redundant relay). */
function toList(...groups: readonly (readonly string[])[]): string[] {
  const out = new Set<string>();
  for (const group of groups)
    for (const id of group) {
      if (out.size === MAX_GOSSIP_TO) return [...out];
      out.add(id);
    }
  return [...out];
}

/**
 * Creates a peer network over WebSocket (`ws`). Peers exchange `hello` (chain id, genesis hash, node
 * key, random nonce) and then `auth`: a `handshake`-kind signature ({@link signMessage}) over both
 * nonces, the genesis hash and the signer's key, so a peer proves its key and cannot replay another
 * session. Wrong chain or genesis, a bad signature, a self-connection or a duplicate node id close the
 * connection. Gossip is deduplicated by message id; a frame lists in `to` the nodes it has reached (its
 * sender and the sender's targets) and is relayed once, only to peers not listed; invalid data scores a peer down
 * until it is dropped and banned; a peer whose send buffer exceeds the limit is dropped (a slow peer
 * cannot stall the node). Configured peers are redialled with exponential backoff.
 *
 * @example
 * ```ts
 * const net = createPeerNetwork({ nodeKey, chainId: 'aitbc-devnet', genesisHash, listen: { port: 0 } });
 * net.on('gossip', (m) => console.log(m.kind, m.id));
 * await net.start();
 * net.publish('tx', txJson);
 * ```
 */
export function createPeerNetwork(options: PeerNetworkOptions): PeerNetwork {
  const { nodeKey, chainId, genesisHash } = options;
  if (!HEX32.test(genesisHash)) throw rpcError('RPC_BAD_CONFIG', 'genesisHash must be 64 lowercase hex chars');
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/.test(chainId)) throw rpcError('RPC_BAD_CONFIG', 'invalid chainId');
  if (!(nodeKey?.seed instanceof Uint8Array) || nodeKey.seed.length !== 32 || nodeKey.publicKey?.length !== 32)
    throw rpcError('RPC_BAD_CONFIG', 'nodeKey must be a KeyPair');
  for (const url of options.peers ?? [])
    if (!/^wss?:\/\/[^\s/]+\/?$/.test(url))
      throw rpcError('RPC_BAD_CONFIG', 'peer urls must be ws://host:port', { url });
  const l = options.limits ?? {};
  const maxBuffered = l.maxBufferedBytes ?? 8 * 1024 * 1024;
  const maxRange = l.maxSyncRange ?? 64;
  const seenMax = l.seenCacheSize ?? 100_000;
  const maxFrame = l.maxMessageBytes ?? 16 * 1024 * 1024;
  const maxPendingValidations = l.maxPendingValidations ?? 1_024;
  const scores = createPeerScores({
    ...(l.invalidPenalty !== undefined ? { invalidPenalty: l.invalidPenalty } : {}),
    ...(l.rateLimitPenalty !== undefined ? { rateLimitPenalty: l.rateLimitPenalty } : {}),
    ...(l.banScore !== undefined ? { banScore: l.banScore } : {}),
    ...(l.banMs !== undefined ? { banMs: l.banMs } : {}),
  });
  const rateLimit = {
    messagesPerSecond: l.maxMessagesPerSecond ?? 1_000,
    ...(l.messageBurst !== undefined ? { messageBurst: l.messageBurst } : {}),
    bytesPerSecond: l.maxBytesPerSecond ?? 32 * 1024 * 1024,
    byteBurst: l.byteBurst ?? Math.max(4 * maxFrame, 64 * 1024 * 1024),
  };
  const stallTimeoutMs = l.stallTimeoutMs ?? 10_000;
  const baseBackoff = l.reconnectBaseMs ?? 200;
  const maxBackoff = l.reconnectMaxMs ?? 10_000;
  const nodeId = bytesToHex(nodeKey.publicKey);

  const listeners = new Map<keyof PeerNetworkEvents, Set<(...args: never[]) => void>>();
  const emit = <E extends keyof PeerNetworkEvents>(event: E, ...args: Parameters<PeerNetworkEvents[E]>) => {
    for (const fn of listeners.get(event) ?? [])
      (fn as unknown as (...a: Parameters<PeerNetworkEvents[E]>) => void)(...args);
  };

  const connections = new Set<Peer>();
  const ready = new Map<string, Peer>();
  /**
   * Ids of the gossip messages seen (sent, or received and parsed): the SHA-256 of a frame's text after
   * its `to` list (see {@link gossipRestStart}), i.e. of its `kind` and `body` as the origin encoded
   * them — relays forward that text unchanged, so every copy of a message has the same id, and a copy
   * is dropped before it is parsed. Hashing the text (native, ~1 GB/s) replaced a canonical encoding
   * of the body, which for a 512-transaction batch or a proposed block cost more than parsing it. Two
   * frames with the same id have the same kind and body (SHA-256), so the dedupe can drop nothing
   * new; an id is recorded only once its frame parsed, so a malformed frame cannot shadow a good one.
   */
  const seen = new Set<string>();
  const dialed = new Map<string, { attempt: number; timer: NodeJS.Timeout | undefined; peer: Peer | undefined }>();
  const pending = new Map<
    number,
    { nodeId: string; resolve: (b: JsonObject[]) => void; reject: (e: unknown) => void; timer: NodeJS.Timeout }
  >();
  let nextReqId = 1;
  let server: WebSocketServer | undefined;
  let listenUrl: string | undefined;
  let running = false;
  let keepAlive: NodeJS.Timeout | undefined;
  let liveness: NodeJS.Timeout | undefined;
  let pendingValidations = 0;
  const counters = {
    gossipSent: 0,
    gossipRelayed: 0,
    gossipReceived: 0,
    gossipDuplicates: 0,
    gossipAccepted: 0,
    gossipIgnored: 0,
    gossipRejected: 0,
    framesRateLimited: 0,
    framesOversized: 0,
    peersBanned: 0,
  };

  function remember(id: string): boolean {
    if (seen.has(id)) return false;
    seen.add(id);
    if (seen.size > seenMax) {
      const oldest = seen.values().next().value;
      if (oldest !== undefined) seen.delete(oldest);
    }
    return true;
  }

  /**
   * The message id of a gossip frame (see {@link seen}) from its UTF-8 bytes. `restStart` is a character
   * index into the frame's text; the prefix before it is ASCII in any frame that can parse (`{"t":"gossip"`
   * and hex ids), so it is the byte index too — in one that cannot, the id only has to be deterministic.
   */
  const gossipId = (bytes: Uint8Array, restStart: number) => hash('sha256', bytes.subarray(restStart), 'hex');

  /** Whether a frame can be sent to `peer` now; a peer whose send buffer is over the limit is dropped. */
  function writable(peer: Peer): boolean {
    if (peer.socket.readyState !== WebSocket.OPEN) return false;
    if (peer.socket.bufferedAmount <= maxBuffered) return true;
    drop(peer, 'slow peer');
    return false;
  }

  function send(peer: Peer, msg: PeerMessage | string) {
    if (writable(peer)) peer.socket.send(typeof msg === 'string' ? msg : JSON.stringify(msg));
  }

  /**
   * Sends one gossip frame, UTF-8 encoded once for all of them (`ws` would encode a string per socket),
   * to peers already checked {@link writable}.
   */
  function sendGossip(targets: readonly Peer[], data: Buffer, relayed: boolean) {
    for (const peer of targets) peer.socket.send(data, { binary: false });
    counters.gossipSent += targets.length;
    if (relayed) counters.gossipRelayed += targets.length;
  }

  /**
   * Relays a first-seen, valid gossip message to the ready peers it has not reached: not the peer it came
   * from, not one listed in its `to` (a frame without `to`, from an older peer, goes to every other peer).
   * The new frame lists us, our targets, the sender and the received list. When the received frame leads
   * with its `to` list (or has none) only that list is re-encoded and the `kind`/`body` text is forwarded as
   * received, so a block-sized body is not stringified again.
   */
  function relay(from: Peer, msg: GossipMessage, text: string, restStart: number | undefined) {
    const reached = new Set(msg.to);
    const targets = [...ready.values()].filter((p) => p !== from && !reached.has(p.nodeId as string) && writable(p));
    if (targets.length === 0) return;
    const to = toList(
      [nodeId],
      targets.map((p) => p.nodeId as string),
      [from.nodeId as string],
      msg.to ?? [],
    );
    // The fast path needs the parsed `to` to be the leading list (no later duplicate key overrides it).
    const fast =
      restStart !== undefined &&
      (msg.to === undefined
        ? restStart === GOSSIP_PREFIX.length
        : restStart > GOSSIP_TO_PREFIX.length &&
          text.slice(GOSSIP_TO_PREFIX.length - 1, restStart) === JSON.stringify(msg.to));
    const frame = fast
      ? `${GOSSIP_TO_PREFIX.slice(0, -1)}${JSON.stringify(to)}${text.slice(restStart)}`
      : JSON.stringify({ t: 'gossip', to, kind: msg.kind, body: msg.body });
    const data = Buffer.from(frame, 'utf8');
    if (data.length > maxFrame) return; // its longer `to` list pushed it over: the peers would refuse it
    sendGossip(targets, data, true);
  }

  function drop(peer: Peer, reason: string) {
    if (peer.timer !== undefined) clearTimeout(peer.timer);
    peer.socket.terminate();
    forget(peer, reason);
  }

  function forget(peer: Peer, reason: string) {
    if (!connections.delete(peer)) return;
    if (peer.timer !== undefined) clearTimeout(peer.timer);
    if (peer.nodeId !== undefined && ready.get(peer.nodeId) === peer) {
      ready.delete(peer.nodeId);
      for (const [id, req] of pending)
        if (req.nodeId === peer.nodeId) {
          pending.delete(id);
          clearTimeout(req.timer);
          req.reject(rpcError('RPC_UNAVAILABLE', 'peer disconnected', { nodeId: peer.nodeId }));
        }
      emit('peer:disconnected', { nodeId: peer.nodeId, reason });
    }
    for (const [url, d] of dialed) if (d.peer === peer) scheduleDial(url);
  }

  /** Scores `peer` down; past the ban score it is banned (node id and dialled URL) and dropped. */
  function penalize(peer: Peer, reason: string, kind: PenaltyKind = 'invalid') {
    if (peer.score === Number.NEGATIVE_INFINITY) return; // banned already (a late verdict)
    const { score, ban } = scores.penalize(peer.score, kind);
    peer.score = score;
    if (!ban) return;
    peer.score = Number.NEGATIVE_INFINITY;
    const keys = [...(peer.nodeId !== undefined ? [peer.nodeId] : [])];
    for (const [url, d] of dialed) if (d.peer === peer) keys.push(url);
    const until = scores.ban(keys);
    counters.peersBanned++;
    if (peer.nodeId !== undefined) emit('peer:banned', { nodeId: peer.nodeId, reason, until });
    drop(peer, `banned: ${reason}`);
  }

  function reject(peer: Peer, code: string) {
    send(peer, { t: 'reject', code });
    peer.socket.close(4001, code);
    setTimeout(() => drop(peer, code), 200).unref();
  }

  function authBody(signerKey: string, signerNonce: string, verifierNonce: string) {
    return { genesisHash, nodeKey: signerKey, signerNonce, verifierNonce };
  }

  /** `bytes`: the frame as received (its UTF-8), hashed for the gossip id without encoding `text` again. */
  function onMessage(peer: Peer, text: string, bytes: Uint8Array) {
    // A copy of a gossip message already seen: dropped before parsing (see `seen`).
    let restStart: number | undefined;
    let id: string | undefined;
    if (peer.ready && text.startsWith(GOSSIP_PREFIX)) {
      counters.gossipReceived++;
      restStart = gossipRestStart(text);
      id = gossipId(bytes, restStart);
      if (seen.has(id)) {
        counters.gossipDuplicates++;
        return;
      }
    }
    const msg = parsePeerMessage(text);
    if (msg === undefined) return penalize(peer, 'malformed message');
    if (!peer.ready) return onHandshake(peer, msg);
    switch (msg.t) {
      case 'status':
        peer.height = msg.height;
        peer.hash = msg.hash;
        emit('status', { nodeId: peer.nodeId as string, height: msg.height, hash: msg.hash });
        return;
      case 'gossip': {
        // A gossip frame has the prefix, so its id was taken above; checked for the type's sake.
        if (id === undefined || !remember(id)) {
          counters.gossipDuplicates++;
          return;
        }
        return validateThenDeliver(peer, msg, id, text, restStart, bytes.length);
      }
      case 'sync_req':
        return void serveSync(peer, msg.reqId, msg.from, msg.to);
      case 'tx_announce':
      case 'tx_request':
      case 'tx_bodies':
        if (options.onTxExchange?.(peer.nodeId as string, msg) === false) return penalize(peer, `invalid ${msg.t}`);
        return;
      case 'sync_res':
      case 'sync_err': {
        const req = pending.get(msg.reqId);
        if (req === undefined || req.nodeId !== peer.nodeId) return penalize(peer, 'unsolicited sync response');
        pending.delete(msg.reqId);
        clearTimeout(req.timer);
        if (msg.t === 'sync_err') req.reject(rpcError('RPC_UNAVAILABLE', 'peer refused the range', { code: msg.code }));
        else req.resolve(msg.blocks);
        return;
      }
      default:
        return penalize(peer, 'unexpected message');
    }
  }

  /**
   * Asks the validator about a first-seen gossip message, then acts on its verdict: `accept` relays and
   * delivers, `ignore` drops, `reject` drops and scores the sender down. An asynchronous verdict holds
   * the message (at most `maxPendingValidations` at once; past that it is ignored).
   */
  function validateThenDeliver(
    peer: Peer,
    msg: GossipMessage,
    id: string,
    text: string,
    restStart: number | undefined,
    bytes: number,
  ) {
    const from = peer.nodeId as string;
    const settle = (verdict: GossipVerdict) => {
      if (verdict === 'ignore') {
        counters.gossipIgnored++;
        return;
      }
      if (verdict === 'reject') {
        counters.gossipRejected++;
        return penalize(peer, `invalid ${msg.kind}`);
      }
      counters.gossipAccepted++;
      relay(peer, msg, text, restStart);
      emit('gossip', { kind: msg.kind, body: msg.body, id, from, bytes });
    };
    if (options.validateGossip === undefined) return settle('accept');
    let answer: ReturnType<GossipValidator>;
    try {
      answer = options.validateGossip(msg.kind, msg.body, from, bytes);
    } catch {
      return settle('ignore');
    }
    if (!(answer instanceof Promise)) return settle(toVerdict(answer));
    if (pendingValidations >= maxPendingValidations) {
      answer.catch(() => {});
      return settle('ignore');
    }
    pendingValidations++;
    answer.then(
      (v) => {
        pendingValidations--;
        if (running) settle(toVerdict(v));
      },
      () => {
        pendingValidations--;
        if (running) settle('ignore');
      },
    );
  }

  async function serveSync(peer: Peer, reqId: number, from: number, to: number): Promise<void> {
    if (to < from || to - from + 1 > maxRange) {
      send(peer, { t: 'sync_err', reqId, code: 'RPC_P2P_BAD_RANGE' });
      return penalize(peer, 'bad sync range');
    }
    if (options.getBlocks === undefined) return send(peer, { t: 'sync_err', reqId, code: 'RPC_UNAVAILABLE' });
    let blocks: JsonObject[];
    try {
      blocks = await options.getBlocks(from, to);
    } catch {
      return send(peer, { t: 'sync_err', reqId, code: 'RPC_UNAVAILABLE' });
    }
    // Trimmed to the frame limit (the requester asks again from where it ends); each block is
    // encoded once, here.
    const head = `{"t":"sync_res","reqId":${reqId},"blocks":[`;
    const parts: string[] = [];
    let size = head.length + 2;
    for (const block of blocks) {
      const part = JSON.stringify(block);
      const n = Buffer.byteLength(part, 'utf8') + (parts.length > 0 ? 1 : 0);
      if (size + n > maxFrame) break;
      parts.push(part);
      size += n;
    }
    if (parts.length === 0 && blocks.length > 0) return send(peer, { t: 'sync_err', reqId, code: 'RPC_P2P_TOO_LARGE' });
    send(peer, `${head}${parts.join(',')}]}`);
  }

  function onHandshake(peer: Peer, msg: PeerMessage) {
    if (msg.t === 'hello' && peer.nodeId === undefined) {
      if (msg.chainId !== chainId) return reject(peer, 'RPC_P2P_WRONG_CHAIN');
      if (msg.genesisHash !== genesisHash) return reject(peer, 'RPC_P2P_WRONG_GENESIS');
      if (msg.nodeKey === nodeId) return reject(peer, 'RPC_P2P_SELF');
      if (scores.isBanned(msg.nodeKey)) return reject(peer, 'RPC_P2P_BANNED');
      peer.nodeId = msg.nodeKey;
      peer.theirNonce = msg.nonce;
      peer.height = msg.height;
      const signature = signMessage('handshake', chainId, authBody(nodeId, peer.nonce, msg.nonce), nodeKey.seed);
      send(peer, { t: 'auth', signature: bytesToHex(signature) });
      return;
    }
    if (msg.t === 'auth' && peer.nodeId !== undefined && !peer.verified) {
      const ok = verifyMessage(
        'handshake',
        chainId,
        authBody(peer.nodeId, peer.theirNonce as string, peer.nonce),
        hexToBytes(msg.signature),
        hexToBytes(peer.nodeId),
      );
      if (!ok) return reject(peer, 'RPC_P2P_BAD_SIGNATURE');
      peer.verified = true;
      const current = ready.get(peer.nodeId);
      if (current !== undefined) {
        // The node proved its key on a new connection while its current one has gone quiet: that one
        // is half-open (it dropped it during an outage), so the new one takes its place.
        const silentMs = Date.now() - current.heardAt;
        if (stallTimeoutMs <= 0 || silentMs < stallTimeoutMs / 2) return reject(peer, 'RPC_P2P_DUPLICATE');
        drop(current, `replaced: silent for ${silentMs} ms`);
      }
      peer.ready = true;
      if (peer.timer !== undefined) clearTimeout(peer.timer);
      peer.timer = undefined;
      ready.set(peer.nodeId, peer);
      for (const d of dialed.values()) if (d.peer === peer) d.attempt = 0;
      emit('peer:connected', wire(peer));
      return;
    }
    if (msg.t === 'reject') return drop(peer, `rejected: ${msg.code}`);
    reject(peer, 'RPC_P2P_HANDSHAKE_FAILED');
  }

  function wire(peer: Peer): PeerWire {
    return {
      nodeId: peer.nodeId ?? '',
      address: peer.address,
      direction: peer.direction,
      score: peer.score,
      height: peer.height,
    };
  }

  function attach(socket: WebSocket, direction: 'inbound' | 'outbound', address: string): Peer {
    const peer: Peer = {
      socket,
      direction,
      address,
      nonce: bytesToHex(randomBytes(32)),
      nodeId: undefined,
      theirNonce: undefined,
      verified: false,
      ready: false,
      score: 0,
      height: 0,
      hash: '',
      timer: undefined,
      alive: true,
      heardAt: Date.now(),
      pinged: false,
      limit: createPeerRateLimit(rateLimit),
    };
    connections.add(peer);
    const heard = () => {
      peer.heardAt = Date.now();
      peer.pinged = false;
    };
    socket.on('pong', () => {
      peer.alive = true;
      heard();
    });
    socket.on('ping', heard);
    peer.timer = setTimeout(() => drop(peer, 'handshake timeout'), l.handshakeTimeoutMs ?? 5_000);
    socket.on('message', (data, isBinary) => {
      if (!connections.has(peer)) return; // dropped (banned): what it had in flight is not read
      heard();
      if (isBinary) return penalize(peer, 'binary frame');
      const bytes = Array.isArray(data)
        ? Buffer.concat(data)
        : Buffer.isBuffer(data)
          ? data
          : Buffer.from(data as ArrayBuffer);
      // Solicited range-sync responses are bounded by our requests (an unsolicited one is scored below).
      if (!peer.limit.take(bytes.length) && !bytes.subarray(0, SYNC_RES_PREFIX.length).equals(SYNC_RES_PREFIX)) {
        counters.framesRateLimited++;
        return penalize(peer, 'rate limit exceeded', 'rate');
      }
      onMessage(peer, bytes.toString('utf8'), bytes);
    });
    socket.on('close', () => forget(peer, 'closed'));
    socket.on('error', (err: Error & { code?: string }) => {
      if (err.code !== 'WS_ERR_UNSUPPORTED_MESSAGE_LENGTH') return drop(peer, 'socket error');
      counters.framesOversized++;
      penalize(peer, `frame over ${maxFrame} bytes`, 'oversized');
    });
    const sendHello = () => {
      const st = options.status?.() ?? { height: 0, hash: genesisHash };
      send(peer, { t: 'hello', chainId, genesisHash, nodeKey: nodeId, nonce: peer.nonce, height: st.height });
    };
    if (socket.readyState === WebSocket.OPEN) sendHello();
    else socket.once('open', sendHello);
    return peer;
  }

  function scheduleDial(url: string) {
    const d = dialed.get(url);
    if (d === undefined || !running) return;
    d.peer = undefined;
    if (d.timer !== undefined) return;
    const until = scores.bannedUntil(url);
    const backoff = Math.min(maxBackoff, baseBackoff * 2 ** d.attempt) * (0.75 + Math.random() * 0.5);
    const delay = until !== undefined && until > Date.now() ? until - Date.now() : backoff;
    d.attempt = Math.min(d.attempt + 1, 30);
    d.timer = setTimeout(() => {
      d.timer = undefined;
      connect(url);
    }, delay);
    d.timer.unref();
  }

  function connect(url: string) {
    const d = dialed.get(url);
    if (d === undefined || !running) return;
    const socket = new WebSocket(url, {
      maxPayload: maxFrame,
      handshakeTimeout: l.dialTimeoutMs ?? 5_000,
      // An all-zero masking key: `ws` then skips masking here and unmasking at the peer, an XOR pass
      // (and a copy) over every frame on both ends. Masking protects HTTP intermediaries from frames
      // whose bytes a web page chose; peers are nodes, and every frame is authenticated JSON.
      generateMask: (mask: Buffer) => mask.fill(0),
    });
    d.peer = attach(socket, 'outbound', url);
  }

  return {
    nodeId,
    get listenUrl() {
      return listenUrl;
    },
    async start() {
      if (running) return;
      running = true;
      if (options.listen !== undefined) {
        const host = options.listen.host ?? '127.0.0.1';
        const wss = new WebSocketServer({
          host,
          port: options.listen.port,
          maxPayload: maxFrame,
        });
        server = wss;
        await new Promise<void>((resolve, reject) => {
          wss.once('listening', resolve);
          wss.once('error', reject);
        });
        const addr = wss.address() as AddressInfo;
        listenUrl = `ws://${host}:${addr.port}`;
        wss.on('connection', (socket, req) =>
          attach(socket, 'inbound', `${req.socket.remoteAddress}:${req.socket.remotePort}`),
        );
      }
      keepAlive = setInterval(() => {
        for (const peer of [...connections]) {
          if (!peer.alive) {
            drop(peer, 'no pong');
            continue;
          }
          peer.alive = false;
          if (peer.socket.readyState === WebSocket.OPEN) peer.socket.ping();
        }
      }, l.pingIntervalMs ?? 15_000);
      keepAlive.unref();
      if (stallTimeoutMs > 0) {
        const tickMs = livenessTickMs(stallTimeoutMs);
        let lastTick = Date.now();
        liveness = setInterval(() => {
          // Decide after the poll phase has read what the kernel holds (see peerLiveness.ts).
          setImmediate(() => {
            const now = Date.now();
            const late = now - lastTick > 2 * tickMs; // our own event loop was blocked: decide nothing
            lastTick = now;
            if (late || !running) return;
            for (const peer of [...connections]) {
              if (!peer.ready) continue; // the handshake has its own deadline
              const verdict = livenessVerdict(now - peer.heardAt, peer.pinged, stallTimeoutMs);
              if (verdict === 'drop') drop(peer, `stalled: nothing heard for ${now - peer.heardAt} ms`);
              else if (verdict === 'ping' && peer.socket.readyState === WebSocket.OPEN) {
                peer.pinged = true;
                peer.socket.ping();
              }
            }
          });
        }, tickMs);
        liveness.unref();
      }
      for (const url of options.peers ?? []) this.dial(url);
    },
    async stop() {
      running = false;
      if (keepAlive !== undefined) clearInterval(keepAlive);
      keepAlive = undefined;
      if (liveness !== undefined) clearInterval(liveness);
      liveness = undefined;
      for (const d of dialed.values()) if (d.timer !== undefined) clearTimeout(d.timer);
      dialed.clear();
      for (const peer of [...connections]) drop(peer, 'stopped');
      if (server !== undefined) {
        const s = server;
        server = undefined;
        await new Promise<void>((resolve) => s.close(() => resolve()));
      }
      listenUrl = undefined;
    },
    peers: () => [...ready.values()].map(wire),
    publish(kind, body) {
      const targets = [...ready.values()].filter(writable);
      const to = toList(
        [nodeId],
        targets.map((p) => p.nodeId as string),
      );
      const text = JSON.stringify({ t: 'gossip', to, kind, body });
      const data = Buffer.from(text, 'utf8');
      if (data.length > maxFrame)
        throw rpcError('RPC_P2P_TOO_LARGE', `a ${kind} message of ${data.length} bytes exceeds the frame limit`, {
          kind,
          bytes: data.length,
          maxMessageBytes: maxFrame,
        });
      const id = gossipId(data, gossipRestStart(text));
      if (remember(id)) sendGossip(targets, data, false); // also drops our own frame relayed back to us
      return id;
    },
    announceStatus(height, hash) {
      const text = JSON.stringify({ t: 'status', height, hash });
      for (const peer of ready.values()) send(peer, text);
    },
    requestBlocks(peerId, from, to) {
      const peer = ready.get(peerId);
      if (!running) return Promise.reject(rpcError('RPC_P2P_NOT_STARTED', 'peer network is not started'));
      if (!Number.isSafeInteger(from) || !Number.isSafeInteger(to) || from < 0 || to < from || to - from + 1 > maxRange)
        return Promise.reject(rpcError('RPC_P2P_BAD_RANGE', `range must be 1..${maxRange} heights`, { from, to }));
      if (peer === undefined) return Promise.reject(rpcError('RPC_UNAVAILABLE', 'no such peer', { nodeId: peerId }));
      const reqId = nextReqId++;
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          pending.delete(reqId);
          reject(rpcError('RPC_UNAVAILABLE', 'sync request timed out', { nodeId: peerId }));
        }, l.syncTimeoutMs ?? 10_000);
        pending.set(reqId, { nodeId: peerId, resolve, reject, timer });
        send(peer, { t: 'sync_req', reqId, from, to });
      });
    },
    async sync({ from, importBlocks }) {
      let next = from;
      const skip = new Set<string>();
      for (;;) {
        const best = [...ready.values()]
          .filter((p) => !skip.has(p.nodeId as string) && p.height >= next)
          .sort((a, b) => b.height - a.height)[0];
        if (best === undefined) return next;
        const to = Math.min(best.height, next + maxRange - 1);
        let blocks: JsonObject[];
        try {
          blocks = await this.requestBlocks(best.nodeId as string, next, to);
        } catch {
          skip.add(best.nodeId as string);
          continue;
        }
        const inOrder = blocks.length > 0 && blocks.every((b, i) => b.height === next + i);
        if (!inOrder) {
          penalize(best, 'bad sync response');
          skip.add(best.nodeId as string);
          continue;
        }
        try {
          await importBlocks(blocks);
        } catch (err) {
          // Our store failed (e.g. a full disk): the blocks say nothing about the peer; stop here.
          if (isLocalFailure(err)) throw err;
          penalize(best, 'invalid blocks');
          skip.add(best.nodeId as string);
          continue;
        }
        next += blocks.length;
      }
    },
    dial(url) {
      if (!/^wss?:\/\/[^\s/]+\/?$/.test(url))
        throw rpcError('RPC_BAD_CONFIG', 'peer urls must be ws://host:port', { url });
      if (dialed.has(url)) return;
      dialed.set(url, { attempt: 0, timer: undefined, peer: undefined });
      connect(url);
    },
    sendTo(peerId, message) {
      const peer = ready.get(peerId);
      if (peer === undefined || !writable(peer)) return false;
      peer.socket.send(JSON.stringify(message));
      return true;
    },
    reportInvalid(peerId, reason) {
      const peer = ready.get(peerId);
      if (peer !== undefined) penalize(peer, reason);
    },
    stats: () => ({ ...counters }),
    on(event, listener) {
      let set = listeners.get(event);
      if (set === undefined) {
        set = new Set();
        listeners.set(event, set);
      }
      set.add(listener);
      const current = set;
      return () => {
        current.delete(listener);
      };
    },
  };
}
