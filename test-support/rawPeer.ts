import { bytesToHex, generateKeyPair, type KeyPair, randomBytes, signMessage } from '@aitbc/crypto';
import WebSocket from 'ws';

/** The chain a {@link RawPeer} claims, and `ws` client options. */
export interface RawPeerOptions {
  readonly chainId: string;
  /** Genesis hash, 64 lowercase hex digits without `0x` (as the peer handshake carries it). */
  readonly genesisHash: string;
  readonly autoPong?: boolean;
  /** The peer's key (default: a fresh one); pass a banned peer's key to try coming back. */
  readonly key?: KeyPair;
}

/**
 * A hand-driven peer speaking the `@aitbc/rpc` peer protocol over a real WebSocket, for tests that send
 * what a real node never would (malformed frames, floods, tampered handshakes).
 */
export class RawPeer {
  readonly key: KeyPair;
  readonly socket: WebSocket;
  readonly inbox: Record<string, unknown>[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;
  readonly #chainId: string;
  readonly #genesisHash: string;

  constructor(url: string, options: RawPeerOptions) {
    const { chainId, genesisHash, key, ...ws } = options;
    this.key = key ?? generateKeyPair();
    this.#chainId = chainId;
    this.#genesisHash = genesisHash;
    this.socket = new WebSocket(url, ws);
    this.socket.on('message', (d) => {
      this.inbox.push(JSON.parse(String(d)));
      this.wake?.();
    });
    this.closed = new Promise((r) => this.socket.on('close', () => r()));
  }

  /** The next received frame (of type `t`, when given), waiting for one. */
  async next(t?: string): Promise<Record<string, unknown>> {
    for (;;) {
      const i = this.inbox.findIndex((m) => t === undefined || m.t === t);
      if (i >= 0) return this.inbox.splice(i, 1)[0] as Record<string, unknown>;
      await new Promise<void>((r) => {
        this.wake = r;
      });
    }
  }

  send(m: unknown) {
    this.socket.send(typeof m === 'string' ? m : JSON.stringify(m));
  }

  /** This peer's node id (hex public key). */
  get nodeId(): string {
    return bytesToHex(this.key.publicKey);
  }

  /** Sends a gossip frame as a node would (its `to` list naming only this peer). */
  gossip(kind: string, body: unknown) {
    this.send({ t: 'gossip', to: [this.nodeId], kind, body });
  }

  /** The gossip frames received so far (kind and body). */
  gossipReceived(): { kind: string; body: Record<string, unknown> }[] {
    return this.inbox
      .filter((m) => m.t === 'gossip')
      .map((m) => ({ kind: m.kind as string, body: m.body as Record<string, unknown> }));
  }

  /** Whether the socket is open. */
  get open(): boolean {
    return this.socket.readyState === WebSocket.OPEN;
  }

  /** Runs the handshake; `tamper` lets a test break one field. */
  async handshake(tamper: { chainId?: string; genesisHash?: string; badSignature?: boolean } = {}) {
    const hello = await this.next('hello');
    const nonce = bytesToHex(randomBytes(32));
    const nodeKey = bytesToHex(this.key.publicKey);
    this.send({
      t: 'hello',
      chainId: tamper.chainId ?? this.#chainId,
      genesisHash: tamper.genesisHash ?? this.#genesisHash,
      nodeKey,
      nonce,
      height: 0,
    });
    const body = { genesisHash: this.#genesisHash, nodeKey, signerNonce: nonce, verifierNonce: hello.nonce as string };
    const seed = tamper.badSignature ? generateKeyPair().seed : this.key.seed;
    this.send({ t: 'auth', signature: bytesToHex(signMessage('handshake', this.#chainId, body, seed)) });
  }
}
