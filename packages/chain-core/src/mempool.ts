import { AitbcError, isAitbcError, toHex0x, verifyMany } from '@aitbc/crypto';
import type { Account } from './ledgerState.js';
import { SignatureCache } from './signatureCache.js';
// A transaction id's Map key: its binary string (one char per byte), cheaper than hex.
import { toBinary as idKey } from './stateTree/binaryHash.js';
import { type SignedTx, sharedSigningBytes, txFromJson, verifyTxSignature } from './tx.js';

/**
 * Limits and policy of a {@link Mempool}.
 *
 * @example
 * ```ts
 * import { createMempool, type MempoolOptions } from '@aitbc/chain-core';
 * const options: MempoolOptions = { chainId, minFee: genesis.params.minFee, account: (a) => chain.account(a), maxTxs: 50_000 };
 * const mempool = createMempool(options);
 * ```
 */
export interface MempoolOptions {
  readonly chainId: string;
  readonly minFee: bigint;
  /** Current account state (balance, next nonce), e.g. `chain.account`. */
  readonly account: (address: string) => Promise<Account>;
  /** Most transactions held (default 20,000). */
  readonly maxTxs?: number;
  /** Most pending transactions per sender (default 64): nonces beyond `next + maxPerSender` are refused. */
  readonly maxPerSender?: number;
  /** Most bytes held (wire size, default 64 MiB). */
  readonly maxBytes?: number;
  /** A replacement (same sender and nonce) must raise the fee by at least this percent (default 10). */
  readonly replaceBumpPercent?: number;
  /** Shared with the chain so that block import skips transactions verified here. */
  readonly signatureCache?: SignatureCache;
}

/**
 * What {@link Mempool.add} did.
 *
 * @example
 * ```ts
 * const { status, id } = await mempool.addJson(wire);
 * if (status === 'known') console.log(`${id} was already pending`);
 * ```
 */
export type AddResult = { readonly status: 'added' | 'replaced' | 'known'; readonly id: string };

/**
 * What {@link Mempool.addMany} reports for one transaction: what was done, or the error that refused it.
 *
 * @example
 * ```ts
 * import { isAitbcError } from '@aitbc/crypto';
 * for (const r of await mempool.addManyJson(wires)) console.log(isAitbcError(r) ? r.code : r.status);
 * ```
 */
export type AddManyResult = AddResult | AitbcError;

/**
 * Most transactions one {@link Mempool.addMany} call takes.
 *
 * @example
 * ```ts
 * import { MAX_ADD_BATCH } from '@aitbc/chain-core';
 * for (let i = 0; i < wires.length; i += MAX_ADD_BATCH) await mempool.addManyJson(wires.slice(i, i + MAX_ADD_BATCH));
 * ```
 */
export const MAX_ADD_BATCH = 10_000;

/** Refuses a transaction whose nonce the sender's account has already used. */
function checkNonceUnused(tx: SignedTx, account: Account): void {
  if (tx.body.nonce < account.nonce)
    throw new AitbcError('CHAIN_BAD_NONCE', `nonce ${tx.body.nonce} was already used`, {
      details: { expected: account.nonce },
    });
}

function badSignature(): AitbcError {
  return new AitbcError('CHAIN_BAD_SIGNATURE', 'the transaction signature does not verify');
}

function amountOf(tx: SignedTx): bigint {
  const b = tx.body;
  return b.type === 'transfer' || b.type === 'escrow.lock' ? b.amount : 0n;
}

/** What a transaction can take from its sender's balance: its fee and amount. */
function costOf(tx: SignedTx): bigint {
  return tx.body.fee + amountOf(tx);
}

/**
 * One sender's pending transactions by nonce, with the total they spend and the highest nonce held,
 * so that admitting the next nonce checks funds in O(1) instead of summing the queue.
 */
class SenderQueue {
  readonly txs = new Map<number, SignedTx>();
  /** Arrival order (the mempool's admission counter) by nonce: equal fees are taken oldest first. */
  readonly arrived = new Map<number, number>();
  /** Sum of {@link costOf} over `txs`. */
  #spend = 0n;
  /** Highest nonce in `txs` (-1 when empty). */
  #top = -1;

  get size(): number {
    return this.txs.size;
  }

  /** What all the held transactions spend. */
  get spend(): bigint {
    return this.#spend;
  }

  /** The highest-nonce transaction. */
  last(): SignedTx | undefined {
    return this.txs.get(this.#top);
  }

  /** Adds a transaction whose nonce is not held, admitted `arrival`-th. */
  add(tx: SignedTx, arrival: number): void {
    const n = tx.body.nonce;
    this.txs.set(n, tx);
    this.arrived.set(n, arrival);
    this.#spend += costOf(tx);
    if (n > this.#top) this.#top = n;
  }

  delete(nonce: number): void {
    const tx = this.txs.get(nonce);
    if (tx === undefined) return;
    this.txs.delete(nonce);
    this.arrived.delete(nonce);
    this.#spend -= costOf(tx);
    if (nonce === this.#top) {
      this.#top = -1;
      for (const n of this.txs.keys()) if (n > this.#top) this.#top = n;
    }
  }

  /** What the held transactions with nonces below `nonce` spend. */
  spendBefore(nonce: number): bigint {
    if (nonce > this.#top) return this.#spend;
    let spend = 0n;
    for (const [n, p] of this.txs) if (n < nonce) spend += costOf(p);
    return spend;
  }
}

/**
 * Pending transactions: strict nonce order per sender, fee priority across senders, replace-by-fee
 * with a minimum bump, limits on count, per-sender depth and bytes (the lowest fee is evicted when
 * full), dedupe by id, re-validation after each block, and a signature cache so that each
 * transaction is verified once per node.
 *
 * @example
 * ```ts
 * const mempool = createMempool({ chainId, minFee, account: (a) => chain.account(a), signatureCache });
 * await mempool.addJson(wireTx);
 * const txs = mempool.select(genesis.params.maxBlockTxs, genesis.params.maxBlockBytes);
 * ```
 */
export class Mempool {
  readonly #opts: Required<Omit<MempoolOptions, 'signatureCache'>>;
  readonly #cache: SignatureCache;
  /** sender → its pending transactions by nonce */
  readonly #bySender = new Map<string, SenderQueue>();
  readonly #byId = new Map<string, SignedTx>();
  #bytes = 0;
  /** Admissions so far: each held transaction's arrival order (see `SenderQueue.arrived`). */
  #arrivals = 0;

  constructor(options: MempoolOptions) {
    this.#opts = {
      maxTxs: 20_000,
      maxPerSender: 64,
      maxBytes: 64 * 1024 * 1024,
      replaceBumpPercent: 10,
      ...options,
    };
    this.#cache = options.signatureCache ?? new SignatureCache();
  }

  /** Transactions held. */
  get size(): number {
    return this.#byId.size;
  }

  /** Bytes held (wire size). */
  get bytes(): number {
    return this.#bytes;
  }

  /** The shared signature cache. */
  get signatureCache(): SignatureCache {
    return this.#cache;
  }

  /** A held transaction by id. */
  get(id: Uint8Array): SignedTx | undefined {
    return this.#byId.get(idKey(id));
  }

  /**
   * The held transactions, oldest admission first (a replacement counts as a new admission). Live: do
   * not add or remove while iterating.
   */
  txs(): IterableIterator<SignedTx> {
    return this.#byId.values();
  }

  /**
   * The highest nonce among `address`'s pending transactions, or `undefined` when none is held. A
   * transaction with a lower nonce that is not held fills a gap: the pending ones above it cannot be
   * included in a block before it (admission control uses this to let such a transaction in).
   *
   * @example
   * ```ts
   * const top = mempool.highestPendingNonce(tx.body.from);
   * const fillsGap = top !== undefined && tx.body.nonce < top;
   * ```
   */
  highestPendingNonce(address: string): number | undefined {
    return this.#bySender.get(address)?.last()?.body.nonce;
  }

  /** Decodes a wire transaction and {@link add}s it. */
  addJson(json: unknown): Promise<AddResult> {
    return this.add(txFromJson(json));
  }

  /**
   * Admits a transaction.
   * @throws AitbcError `CHAIN_WRONG_CHAIN`, `CHAIN_FEE_TOO_LOW`, `CHAIN_BAD_SIGNATURE`,
   * `CHAIN_BAD_NONCE` (already used, or too far ahead), `CHAIN_INSUFFICIENT_FUNDS`,
   * `MEMPOOL_REPLACEMENT_UNDERPRICED`, `MEMPOOL_FULL` (the pool is full of higher fees).
   */
  async add(tx: SignedTx): Promise<AddResult> {
    const id = idKey(tx.id);
    if (this.#byId.has(id)) return { status: 'known', id: toHex0x(tx.id) };
    this.#precheck(tx);
    // Read once: nothing awaits between this read and the insert (verification is synchronous here).
    const account = await this.#opts.account(tx.body.from);
    if (!this.#cache.hasKey(id, tx.signature)) {
      checkNonceUnused(tx, account);
      if (!verifyTxSignature(tx)) throw badSignature();
      this.#cache.addKey(id, tx.signature);
    }
    return this.#insert(tx, id, account);
  }

  /**
   * Admits a batch: the same checks as {@link add} for each transaction, in order, but the signatures
   * not yet verified on this node are checked together first (`verifyMany`: worker threads on every
   * core for large batches). One result per transaction, in input order: an {@link AddResult}, or the `AitbcError` that
   * refused it (never thrown for a single transaction).
   * @throws AitbcError `MEMPOOL_BATCH_TOO_LARGE` for more than {@link MAX_ADD_BATCH} transactions.
   */
  async addMany(txs: readonly SignedTx[]): Promise<AddManyResult[]> {
    if (!Array.isArray(txs)) throw new AitbcError('MEMPOOL_BAD_INPUT', 'addMany takes an array of transactions');
    if (txs.length > MAX_ADD_BATCH)
      throw new AitbcError('MEMPOOL_BATCH_TOO_LARGE', `at most ${MAX_ADD_BATCH} transactions per batch`);
    const results: (AddManyResult | undefined)[] = new Array(txs.length);
    const ids: string[] = new Array(txs.length);
    const toVerify: number[] = [];
    for (let i = 0; i < txs.length; i++) {
      const tx = txs[i]!;
      try {
        const id = idKey(tx.id);
        ids[i] = id;
        if (this.#byId.has(id)) continue; // reported as known below, in order
        this.#precheck(tx);
        if (this.#cache.hasKey(id, tx.signature)) continue;
        // A used nonce is refused before the signature costs anything (a replayed or late-gossiped
        // transaction that a block already included: the signature cache forgot it at import).
        checkNonceUnused(tx, await this.#opts.account(tx.body.from));
        toVerify.push(i);
      } catch (e) {
        if (!isAitbcError(e)) throw e;
        results[i] = e;
      }
    }
    const verified = await verifyMany(
      toVerify.map((i) => ({
        signature: txs[i]!.signature,
        message: sharedSigningBytes(txs[i]!),
        publicKey: txs[i]!.publicKey,
      })),
    );
    for (let j = 0; j < toVerify.length; j++) {
      const i = toVerify[j]!;
      if (verified[j]) this.#cache.addKey(ids[i]!, txs[i]!.signature);
      else results[i] = badSignature();
    }
    for (let i = 0; i < txs.length; i++) {
      if (results[i] !== undefined) continue;
      const tx = txs[i]!;
      const id = ids[i]!;
      try {
        results[i] = this.#byId.has(id)
          ? { status: 'known', id: toHex0x(tx.id) }
          : this.#insert(tx, id, await this.#opts.account(tx.body.from));
      } catch (e) {
        if (!isAitbcError(e)) throw e;
        results[i] = e;
      }
    }
    return results as AddManyResult[];
  }

  /**
   * Decodes wire transactions and {@link addMany}s them; a transaction that does not decode gets its
   * decoding error as its result.
   * @throws AitbcError `MEMPOOL_BATCH_TOO_LARGE`.
   */
  async addManyJson(jsons: readonly unknown[]): Promise<AddManyResult[]> {
    if (!Array.isArray(jsons)) throw new AitbcError('MEMPOOL_BAD_INPUT', 'addManyJson takes an array');
    if (jsons.length > MAX_ADD_BATCH)
      throw new AitbcError('MEMPOOL_BATCH_TOO_LARGE', `at most ${MAX_ADD_BATCH} transactions per batch`);
    const decoded: (SignedTx | AitbcError)[] = jsons.map((j) => {
      try {
        return txFromJson(j);
      } catch (e) {
        if (!isAitbcError(e)) throw e;
        return e;
      }
    });
    const txs = decoded.filter((d): d is SignedTx => !isAitbcError(d));
    const added = await this.addMany(txs);
    let k = 0;
    return decoded.map((d) => (isAitbcError(d) ? d : added[k++]!));
  }

  /** The checks that need neither the signature nor the account. */
  #precheck(tx: SignedTx): void {
    const b = tx.body;
    if (b.chainId !== this.#opts.chainId)
      throw new AitbcError('CHAIN_WRONG_CHAIN', `transaction is for chain "${b.chainId}"`);
    if (b.fee < this.#opts.minFee)
      throw new AitbcError('CHAIN_FEE_TOO_LOW', `fee is below the minimum of ${this.#opts.minFee}`);
  }

  /** Everything after the signature, once the sender's account is read: nonce, funds, replacement, room; then inserts. */
  #insert(tx: SignedTx, id: string, account: Account): AddResult {
    const b = tx.body;
    checkNonceUnused(tx, account);
    if (b.nonce >= account.nonce + this.#opts.maxPerSender) {
      throw new AitbcError('CHAIN_BAD_NONCE', `nonce ${b.nonce} is too far ahead of ${account.nonce}`, {
        details: { expected: account.nonce },
      });
    }
    const queue = this.#bySender.get(b.from) ?? new SenderQueue();
    // Funds: this transaction plus every pending one before it must be payable.
    if (costOf(tx) + queue.spendBefore(b.nonce) > account.balance)
      throw new AitbcError(
        'CHAIN_INSUFFICIENT_FUNDS',
        'balance does not cover this and the sender’s earlier pending transactions',
      );
    const existing = queue.txs.get(b.nonce);
    if (existing !== undefined) {
      const needed = existing.body.fee + (existing.body.fee * BigInt(this.#opts.replaceBumpPercent)) / 100n;
      if (b.fee < needed) {
        throw new AitbcError('MEMPOOL_REPLACEMENT_UNDERPRICED', `a replacement must pay a fee of at least ${needed}`, {
          details: { minimumFee: needed.toString() },
        });
      }
      this.#remove(existing);
    }
    if (!this.#makeRoom(tx))
      throw new AitbcError('MEMPOOL_FULL', 'the mempool is full of transactions paying higher fees');
    queue.add(tx, this.#arrivals++);
    this.#bySender.set(b.from, queue);
    this.#byId.set(id, tx);
    this.#bytes += tx.size;
    return { status: existing === undefined ? 'added' : 'replaced', id: toHex0x(tx.id) };
  }

  /**
   * Transactions for the next block: each sender's executable run (consecutive nonces from its
   * next), interleaved by fee, highest first — equal fees oldest admission first — within `maxTxs`
   * and `maxBytes`. Account nonces are read with `account` so only executable transactions are picked.
   */
  async select(maxTxs: number, maxBytes: number): Promise<SignedTx[]> {
    const runs: SignedTx[][] = [];
    const arrivals: number[][] = [];
    for (const [sender, queue] of this.#bySender) {
      let next = (await this.#opts.account(sender)).nonce;
      const run: SignedTx[] = [];
      const arrived: number[] = [];
      for (let tx = queue.txs.get(next); tx !== undefined; tx = queue.txs.get(++next)) {
        run.push(tx);
        arrived.push(queue.arrived.get(next)!);
      }
      if (run.length > 0) {
        runs.push(run);
        arrivals.push(arrived);
      }
    }
    const out: SignedTx[] = [];
    let bytes = 0;
    const heads = runs.map(() => 0);
    // A binary max-heap of runs by their next transaction's fee, then its arrival (oldest first, so
    // that under a backlog no sender waits behind another's whole run), so a block of b
    // transactions from s senders costs O(b log s), not O(b · s).
    const fee = (i: number) => runs[i]![heads[i]!]!.body.fee;
    const above = (i: number, j: number) => {
      const fi = fee(i);
      const fj = fee(j);
      return fi > fj || (fi === fj && arrivals[i]![heads[i]!]! < arrivals[j]![heads[j]!]!);
    };
    const heap = runs.map((_, i) => i);
    const down = (at: number) => {
      const n = heap.length;
      for (;;) {
        const l = 2 * at + 1;
        if (l >= n) return;
        const r = l + 1;
        const c = r < n && above(heap[r]!, heap[l]!) ? r : l;
        if (!above(heap[c]!, heap[at]!)) return;
        [heap[at], heap[c]] = [heap[c]!, heap[at]!];
        at = c;
      }
    };
    for (let i = (heap.length >> 1) - 1; i >= 0; i--) down(i);
    while (out.length < maxTxs && heap.length > 0) {
      const best = heap[0]!;
      const tx = runs[best]![heads[best]!]!;
      let drop = bytes + tx.size > maxBytes; // the rest of this sender's run waits for the next block
      if (!drop) {
        out.push(tx);
        bytes += tx.size;
        heads[best]! += 1;
        drop = heads[best]! >= runs[best]!.length;
      }
      if (drop) {
        const last = heap.pop()!;
        if (heap.length > 0) heap[0] = last;
      }
      down(0);
    }
    return out;
  }

  /** After a block: drops included and now-stale transactions, and those the sender can no longer pay. */
  async revalidate(): Promise<void> {
    for (const [sender, queue] of [...this.#bySender]) {
      const account = await this.#opts.account(sender);
      // Included (or replaced on chain): their cost is already out of the balance.
      for (const [n, tx] of queue.txs) if (n < account.nonce) this.#remove(tx);
      // Costs are never negative, so when the balance covers them all it covers every nonce-ordered
      // prefix: the common case after a block costs no sort and no sum.
      if (queue.spend <= account.balance) continue;
      let spend = 0n;
      for (const n of [...queue.txs.keys()].sort((a, b) => a - b)) {
        const tx = queue.txs.get(n)!;
        spend += costOf(tx);
        if (spend > account.balance) this.#remove(tx);
      }
    }
  }

  #remove(tx: SignedTx): void {
    const id = idKey(tx.id);
    if (!this.#byId.delete(id)) return;
    this.#bytes -= tx.size;
    const queue = this.#bySender.get(tx.body.from);
    queue?.delete(tx.body.nonce);
    if (queue?.size === 0) this.#bySender.delete(tx.body.from);
  }

  /** Evicts the lowest-fee transactions (highest nonce first within a sender) until `tx` fits; false if it pays less than they do. */
  #makeRoom(tx: SignedTx): boolean {
    while (this.#byId.size + 1 > this.#opts.maxTxs || this.#bytes + tx.size > this.#opts.maxBytes) {
      let victim: SignedTx | undefined;
      for (const queue of this.#bySender.values()) {
        const last = queue.last();
        if (last !== undefined && (victim === undefined || last.body.fee < victim.body.fee)) victim = last;
      }
      if (victim === undefined || victim.body.fee >= tx.body.fee) return false;
      this.#remove(victim);
    }
    return true;
  }
}

/**
 * Creates a {@link Mempool}.
 *
 * @example
 * ```ts
 * import { createMempool, SignatureCache } from '@aitbc/chain-core';
 * const signatureCache = new SignatureCache(); // share it with createChain: import skips verified txs
 * const mempool = createMempool({ chainId, minFee: genesis.params.minFee, account: (a) => chain.account(a), signatureCache });
 * ```
 */
export function createMempool(options: MempoolOptions): Mempool {
  return new Mempool(options);
}
