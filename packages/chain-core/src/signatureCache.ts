// An id's Map key: its binary string (one char per byte), cheaper than hex.
import { toBinary as idKey } from './stateTree/binaryHash.js';

/**
 * Ids of transactions whose signatures this node has verified (bounded, least-recently-added first
 * out). Shared by the mempool and the chain so that a transaction is verified once per node: at
 * admission, not again at block import. The id covers every signed byte, so an id seen here was
 * verified together with its exact body; the signature itself is compared too. The chain deletes
 * the ids of the transactions it imports, so the entries are those still waiting for a block.
 *
 * @example
 * ```ts
 * import { createChain, createMempool, SignatureCache } from '@aitbc/chain-core';
 * const signatureCache = new SignatureCache();
 * const chain = createChain({ store, genesis, consensus, signatureCache });
 * const mempool = createMempool({ chainId: genesis.chainId, minFee: genesis.params.minFee, account: (a) => chain.account(a), signatureCache });
 * ```
 */
export class SignatureCache {
  readonly #ids = new Map<string, Uint8Array>();
  readonly #max: number;

  constructor(max = 200_000) {
    this.#max = max;
  }

  /** Whether `(id, signature)` was verified. */
  has(id: Uint8Array, signature: Uint8Array): boolean {
    return this.hasKey(idKey(id), signature);
  }

  /** Records a verified `(id, signature)`. */
  add(id: Uint8Array, signature: Uint8Array): void {
    this.addKey(idKey(id), signature);
  }

  /**
   * {@link SignatureCache.has} for an id in key form (one character per byte), as the mempool holds it.
   * @internal
   */
  hasKey(key: string, signature: Uint8Array): boolean {
    const sig = this.#ids.get(key);
    if (sig === undefined || sig.length !== signature.length) return false;
    for (let i = 0; i < sig.length; i++) if (sig[i] !== signature[i]) return false;
    return true;
  }

  /**
   * {@link SignatureCache.add} for an id in key form (one character per byte).
   * @internal
   */
  addKey(key: string, signature: Uint8Array): void {
    if (this.#ids.size >= this.#max && !this.#ids.has(key)) {
      const oldest = this.#ids.keys().next();
      if (!oldest.done) this.#ids.delete(oldest.value);
    }
    this.#ids.set(key, signature.slice());
  }

  /**
   * Forgets `id`: the chain calls this for every transaction of a block it imports, since an
   * included transaction cannot be valid again (its nonce is used). The cache then holds about what
   * the mempool holds, not the last `max` transactions seen.
   */
  delete(id: Uint8Array): void {
    this.#ids.delete(idKey(id));
  }

  get size(): number {
    return this.#ids.size;
  }
}
