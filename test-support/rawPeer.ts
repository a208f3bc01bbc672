import { bytesToHex, generateKeyPair, randomBytes, signMessage } from '@aitbc/crypto';
import WebSocket from 'ws';

/** The chain a {@link RawPeer} claims, and `ws` client options. */
export interface RawPeerOptions {
  readonly chainId: string;
  /** Genesis hash, 64 lowercase hex digits without `0x` (as the peer handshake carries it). */
  readonly genesisHash: string;
  readonly autoPong?: boolean;
}

/**
 * A hand-driven peer speaking the `@aitbc/rpc` peer protocol over a real WebSocket, for tests that send
 * what a real node never would (malformed frames, floods, tampered handshakes).
 */
export class RawPeer {
  readonly key = generateKeyPair();
  readonly socket: WebSocket;
  readonly inbox: Record<string, unknown>[] = [];
  private wake: (() => void) | undefined;
  readonly closed: Promise<void>;
  readonly #chainId: string;
  readonly #genesisHash: string;

  constructor(url: string, options: RawPeerOptions) {
    const { chainId, genesisHash, ...ws } = options;
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
