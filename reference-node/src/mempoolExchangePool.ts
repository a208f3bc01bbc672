import { type Mempool, type SignedTx, txFromJson, txToJson } from '@aitbc/chain-core';
import { bytesToHex, hexToBytes, isAitbcError } from '@aitbc/crypto';
import type { JsonObject, TxAdmission, TxExchangePool } from '@aitbc/rpc';

/** Refusals that only bad data earns (an honest peer serves transactions its own mempool verified). */
const INVALID = new Set(['CHAIN_BAD_SIGNATURE', 'CHAIN_WRONG_CHAIN']);

/**
 * Signatures verified per slice of fetched transactions, the event loop running between slices (as for
 * gossiped ones: libsodium verifies on this thread).
 */
const VERIFY_CHUNK = 32;

/**
 * The node's mempool as `@aitbc/rpc`'s pending-transaction exchange sees it (`TxExchangePool`): ids of
 * pending transactions oldest first, bodies by id, and the admission of fetched transactions through
 * the normal path (`mempool.addMany`: fee, signature, nonce, funds, limits) in small slices.
 *
 * @example
 * ```ts
 * const exchange = createTxExchange({ network, pool: mempoolExchangePool(mempool, (tx) => backend.emitTx(tx)) });
 * ```
 */
export function mempoolExchangePool(mempool: Mempool, onAdmitted?: (tx: SignedTx) => void): TxExchangePool {
  const idOf = (hex: string) => hexToBytes(hex, 32);
  return {
    *pendingIds() {
      // A snapshot: the caller may admit while it iterates (the map is live).
      const ids = [...mempool.txs()].map((tx) => bytesToHex(tx.id));
      yield* ids;
    },
    has: (id) => mempool.get(idOf(id)) !== undefined,
    body(id) {
      const tx = mempool.get(idOf(id));
      return tx === undefined ? undefined : (txToJson(tx) as JsonObject);
    },
    async admit(_from, jsons) {
      const out: TxAdmission[] = new Array(jsons.length);
      const txs: SignedTx[] = [];
      const at: number[] = [];
      jsons.forEach((json, i) => {
        try {
          const tx = txFromJson(json);
          txs.push(tx);
          at.push(i);
        } catch {
          out[i] = { status: 'invalid' };
        }
      });
      for (let k = 0; k < txs.length; k += VERIFY_CHUNK) {
        if (k > 0) await new Promise<void>((resolve) => setImmediate(resolve));
        const slice = txs.slice(k, k + VERIFY_CHUNK);
        const results = await mempool.addMany(slice);
        results.forEach((r, j) => {
          const tx = slice[j]!;
          const id = bytesToHex(tx.id);
          if (isAitbcError(r)) {
            out[at[k + j]!] = { id, status: INVALID.has(r.code) ? 'invalid' : 'refused' };
            return;
          }
          if (r.status !== 'known') onAdmitted?.(tx);
          out[at[k + j]!] = { id, status: r.status === 'known' ? 'refused' : 'admitted' };
        });
      }
      return out;
    },
  };
}
