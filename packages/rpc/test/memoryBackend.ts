import { AitbcError, addressFromPublicKey, bytesToHex, generateKeyPair, sha256, utf8ToBytes } from '@aitbc/crypto';
import type {
  BlockWire,
  ConsensusEventWire,
  JsonObject,
  NodeBackend,
  NodeBackendEvents,
  PeerWire,
} from '../src/index.js';

/** A fresh valid AITBC address. */
export function newAddress(): string {
  return addressFromPublicKey(generateKeyPair().publicKey);
}

/**
 * A NodeBackend over real in-memory data (a Map of JSON blocks), standing in for the chain until the
 * reference node's integration tests use the real one.
 */
export class MemoryBackend implements NodeBackend {
  readonly blocks: BlockWire[] = [];
  readonly byHash = new Map<string, BlockWire>();
  readonly txs = new Map<string, JsonObject>();
  readonly accounts = new Map<string, JsonObject>();
  readonly escrows = new Map<string, JsonObject>();
  readonly pool: JsonObject[] = [];
  peerList: PeerWire[] = [];
  private readonly listeners = new Map<string, Set<(arg: never) => void>>();

  constructor() {
    this.addBlock([]);
  }

  /** Commits served by `commit(height)`: one per block except the newest (its commit is still open). */
  readonly commits = new Map<number, JsonObject>();

  /** Appends a block with `txs`, indexes it and emits `block`; the previous block gets its commit. */
  addBlock(txs: JsonObject[], padding = 0): BlockWire {
    const height = this.blocks.length;
    const hash = bytesToHex(sha256(utf8ToBytes(`block-${height}-${JSON.stringify(txs)}`)));
    const block: BlockWire = { height, hash, txs, ...(padding > 0 ? { pad: 'x'.repeat(padding) } : {}) };
    const prev = this.blocks[height - 1];
    if (prev !== undefined)
      this.commits.set(prev.height, { height: prev.height, round: 0, blockHash: prev.hash, signatures: [] });
    this.blocks.push(block);
    this.byHash.set(hash, block);
    for (const tx of txs) this.txs.set(String(tx.id), tx);
    this.emit('block', block);
    return block;
  }

  /** Listeners registered for `event` now. */
  listenerCount(event: keyof NodeBackendEvents): number {
    return this.listeners.get(event)?.size ?? 0;
  }

  emit<E extends keyof NodeBackendEvents>(event: E, arg: Parameters<NodeBackendEvents[E]>[0]): void {
    for (const fn of this.listeners.get(event) ?? []) (fn as (a: typeof arg) => void)(arg);
  }

  head() {
    const b = this.blocks[this.blocks.length - 1] as BlockWire;
    return { height: b.height, hash: b.hash };
  }
  blockByHeight(height: number) {
    return this.blocks[height];
  }
  blockByHash(hash: string) {
    return this.byHash.get(hash);
  }
  commit(height: number) {
    return this.commits.get(height);
  }
  tx(id: string) {
    return this.txs.get(id);
  }
  account(address: string, options: { proof: boolean }) {
    const a = this.accounts.get(address);
    if (a === undefined) return undefined;
    return options.proof ? { ...a, proof: ['00'.repeat(32)] } : a;
  }
  escrow(jobId: string, options: { proof: boolean }) {
    const e = this.escrows.get(jobId);
    if (e === undefined) return undefined;
    return options.proof ? { ...e, proof: ['11'.repeat(32)] } : e;
  }
  validators() {
    return [{ address: 'v1', power: 1 }];
  }
  mempool(limit: number) {
    return { size: this.pool.length, txs: this.pool.slice(0, limit) };
  }
  submitTx(tx: JsonObject): Promise<string> | string {
    if (typeof tx.from !== 'string' || typeof tx.type !== 'string')
      throw new AitbcError('CHAIN_TX_MALFORMED', 'tx.from must be an address', { details: { field: 'from' } });
    const id = bytesToHex(sha256(utf8ToBytes(JSON.stringify(tx))));
    const withId = { ...tx, id };
    this.pool.push(withId);
    this.txs.set(id, withId);
    this.emit('tx', withId);
    return id;
  }
  txsByAddress(address: string, page: { cursor: string | undefined; limit: number }) {
    const all = [...this.txs.values()].filter((t) => t.from === address || t.to === address);
    const start = page.cursor === undefined ? 0 : Number(page.cursor);
    const items = all.slice(start, start + page.limit);
    const next = start + page.limit < all.length ? String(start + page.limit) : null;
    return { items, nextCursor: next };
  }
  syncStatus() {
    return { syncing: false, height: this.head().height, targetHeight: this.head().height };
  }
  peers() {
    return this.peerList;
  }
  consensus(event: ConsensusEventWire): void {
    this.emit('consensus', event);
  }
  on<E extends keyof NodeBackendEvents>(event: E, listener: NodeBackendEvents[E]): () => void {
    let set = this.listeners.get(event);
    if (set === undefined) {
      set = new Set();
      this.listeners.set(event, set);
    }
    const s = set;
    s.add(listener as (arg: never) => void);
    return () => {
      s.delete(listener as (arg: never) => void);
    };
  }
}
