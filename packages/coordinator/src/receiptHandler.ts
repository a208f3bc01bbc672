import { AitbcError, isAitbcError, publicKeyFromSeed } from '@aitbc/crypto';
import type { MinerRecord } from '@aitbc/pool';
import {
  attestReceipt,
  parseReceiptJson,
  type Receipt,
  receiptPrice,
  serializeReceipt,
  validateReceipt,
  verifyReceiptAsync,
} from '@aitbc/receipts';
import type { Job } from './job.js';
import type { ReceiptHandler } from './jobEngine.js';

/**
 * Options of {@link createReceiptHandler}.
 *
 * @example
 * ```ts
 * import { createReceiptHandler, type ReceiptHandlerOptions } from '@aitbc/coordinator';
 * const options: ReceiptHandlerOptions = { chainId: 'aitbc-devnet', coordinatorSeed };
 * const receipts = createReceiptHandler(options);
 * ```
 */
export interface ReceiptHandlerOptions {
  /** The chain the receipts settle on; a receipt must name it in `chain_id`. */
  readonly chainId: string;
  /** The coordinator's Ed25519 seed: it attests every receipt it accepts. */
  readonly coordinatorSeed: Uint8Array;
}

function invalid(message: string, details?: Record<string, unknown>): AitbcError {
  return new AitbcError('COORD_RECEIPT_INVALID', message, details === undefined ? {} : { details });
}

/**
 * The production {@link ReceiptHandler}: accepts the miner's receipt (JSON text or object) only if
 * it is signed by the key the miner registered, names the job, its client, the miner as `provider`,
 * this chain, status `completed`, a price within the job's `maxPrice` (and, for a job bought through
 * the marketplace, a `unit_price` within the matched price per unit); then attests it with the
 * coordinator key.
 *
 * @example
 * ```ts
 * const receipts = createReceiptHandler({ chainId: 'aitbc-devnet', coordinatorSeed });
 * const engine = new JobEngine({ store, hub, receipts });
 * ```
 */
export function createReceiptHandler(options: ReceiptHandlerOptions): ReceiptHandler {
  const coordinatorPublicKey = publicKeyFromSeed(options.coordinatorSeed);
  return {
    async verifyAndAttest(job: Job, miner: MinerRecord, input: unknown) {
      let receipt: Receipt;
      try {
        receipt = validateReceipt(typeof input === 'string' ? parseReceiptJson(input) : input);
      } catch (e) {
        throw invalid(`receipt is malformed: ${isAitbcError(e) ? e.message : 'not a receipt'}`);
      }
      // On the thread pool: receipt checks of concurrent completions use every core.
      const result = await verifyReceiptAsync(receipt, { minerKeys: [miner.publicKey], requireAttestation: false });
      const miners = result.signatures.filter((s) => s.role === 'miner');
      if (!result.ok || miners.length !== 1) {
        throw invalid('the miner signature does not verify under the registered key', {
          reasons: result.signatures.map((s) => s.reason ?? 'ok'),
        });
      }
      if (receipt.job_id !== job.id) throw invalid('receipt.job_id is not this job', { field: 'job_id' });
      if (receipt.client !== job.client) throw invalid('receipt.client is not the job’s client', { field: 'client' });
      if (receipt.provider !== miner.address)
        throw invalid('receipt.provider is not the miner’s address', { field: 'provider' });
      if (receipt.chain_id !== options.chainId)
        throw invalid(`receipt.chain_id must be "${options.chainId}"`, { field: 'chain_id' });
      if (receipt.status !== 'completed') throw invalid('receipt.status must be "completed"', { field: 'status' });
      let price: bigint;
      try {
        price = receiptPrice(receipt);
      } catch {
        throw invalid('receipt.price must be a decimal string of base units', { field: 'price' });
      }
      if (price > job.maxPrice) throw invalid('receipt.price exceeds the job’s max price', { field: 'price' });
      if (job.market !== undefined) {
        // A job bought through the marketplace is charged at most the matched price per unit.
        const unit = receipt.unit_price;
        if (typeof unit !== 'string' || !/^(0|[1-9][0-9]{0,77})$/.test(unit) || BigInt(unit) > job.market.pricePerUnit)
          throw invalid('receipt.unit_price exceeds the matched price per unit', { field: 'unit_price' });
      }
      const attested = attestReceipt(receipt, options.coordinatorSeed, coordinatorPublicKey);
      return { receiptId: receipt.receipt_id, attestedJson: serializeReceipt(attested) };
    },
  };
}
