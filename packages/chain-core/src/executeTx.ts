import { AitbcError, addressFromPublicKey, base64urlToBytes, isAitbcError } from '@aitbc/crypto';
import { parseReceiptJson, type Receipt, receiptPrice, validateReceipt, verifyReceipt } from '@aitbc/receipts';
import type { ChainParams, Genesis } from './genesis.js';
import type { LedgerState } from './ledgerState.js';
import type { SignedTx } from './tx.js';

/**
 * What execution needs to know about the block a transaction is in.
 *
 * @example
 * ```ts
 * import { DEFAULT_PARAMS, type ExecutionContext } from '@aitbc/chain-core';
 * const ctx: ExecutionContext = { chainId: 'aitbc-devnet', height: 1, params: DEFAULT_PARAMS };
 * ```
 */
export interface ExecutionContext {
  readonly chainId: string;
  /** Height of the block being executed (bounded counter). */
  readonly height: number;
  readonly params: ChainParams;
}

/**
 * What a transaction did, beyond state changes.
 *
 * @example
 * ```ts
 * const { burned } = await executeTx(state, tx, ctx);
 * ```
 */
export interface TxOutcome {
  /** Fee burned (removed from the supply). */
  readonly burned: bigint;
}

function fail(code: string, message: string, details?: Record<string, unknown>): never {
  throw new AitbcError(code, message, details === undefined ? {} : { details });
}

/**
 * Credits genesis allocations into an empty state.
 *
 * @example
 * ```ts
 * import { applyGenesis, LedgerState, MemoryKVStore, SparseMerkleTree } from '@aitbc/chain-core';
 * const state = new LedgerState(new SparseMerkleTree(new MemoryKVStore()));
 * await applyGenesis(state, genesis);
 * ```
 */
export async function applyGenesis(state: LedgerState, genesis: Genesis): Promise<void> {
  for (const a of genesis.allocations) state.setAccount(a.address, { balance: a.amount, nonce: 0 });
}

/**
 * Applies one transaction whose signature was already verified. Checks, in order: chain id, fee ≥
 * `minFee`, nonce = the sender's next nonce, then the type's own rules; on any failure nothing is
 * written (all checks happen before the first write). The whole fee is burned.
 *
 * @throws AitbcError `CHAIN_WRONG_CHAIN`, `CHAIN_FEE_TOO_LOW`, `CHAIN_BAD_NONCE`,
 * `CHAIN_INSUFFICIENT_FUNDS`, `CHAIN_ESCROW_EXISTS`, `CHAIN_UNKNOWN_ESCROW`, `CHAIN_ESCROW_CLOSED`,
 * `CHAIN_NOT_COORDINATOR`, `CHAIN_NOT_AUTHORIZED`, `CHAIN_ESCROW_NOT_EXPIRED`, `CHAIN_BAD_EXPIRY`,
 * `CHAIN_RECEIPT_INVALID`.
 *
 * @example
 * ```ts
 * import { executeTx } from '@aitbc/chain-core';
 * import { isAitbcError } from '@aitbc/crypto';
 * try {
 *   const { burned } = await executeTx(state, tx, { chainId: genesis.chainId, height: 1, params: genesis.params });
 * } catch (e) {
 *   if (isAitbcError(e) && e.code === 'CHAIN_BAD_NONCE') console.log('resend with the next nonce');
 * }
 * ```
 */
export async function executeTx(state: LedgerState, tx: SignedTx, ctx: ExecutionContext): Promise<TxOutcome> {
  const body = tx.body;
  if (body.chainId !== ctx.chainId)
    fail('CHAIN_WRONG_CHAIN', `transaction is for chain "${body.chainId}"`, { expected: ctx.chainId });
  if (body.fee < ctx.params.minFee)
    fail('CHAIN_FEE_TOO_LOW', `fee is below the minimum of ${ctx.params.minFee}`, {
      minFee: ctx.params.minFee.toString(),
    });
  const sender = await state.account(body.from);
  if (body.nonce !== sender.nonce)
    fail('CHAIN_BAD_NONCE', `expected nonce ${sender.nonce}, got ${body.nonce}`, {
      expected: sender.nonce,
      got: body.nonce,
    });
  const debit = (amount: bigint) => {
    const total = body.fee + amount;
    if (sender.balance < total)
      fail('CHAIN_INSUFFICIENT_FUNDS', 'balance does not cover amount + fee', {
        balance: sender.balance.toString(),
        needed: total.toString(),
      });
    return { balance: sender.balance - total, nonce: sender.nonce + 1 };
  };

  // Credits re-read the account after the sender's write, so a sender paying itself (or a client
  // that is also the miner) is credited on top of the debit, never over it.
  const credit = async (address: string, amount: bigint) => {
    const a = await state.account(address);
    state.setAccount(address, { balance: a.balance + amount, nonce: a.nonce });
  };
  switch (body.type) {
    case 'transfer': {
      state.setAccount(body.from, debit(body.amount));
      await credit(body.to, body.amount);
      break;
    }
    case 'escrow.lock': {
      if ((await state.escrow(body.jobId)) !== undefined)
        fail('CHAIN_ESCROW_EXISTS', 'an escrow for this job id exists', { jobId: body.jobId });
      if (body.expiresAtHeight <= ctx.height)
        fail('CHAIN_BAD_EXPIRY', 'expiresAtHeight must be above the current height', { height: ctx.height });
      if (body.amount === 0n) fail('CHAIN_TX_MALFORMED', 'an escrow must lock a positive amount', { field: 'amount' });
      state.setAccount(body.from, debit(body.amount));
      state.setEscrow({
        jobId: body.jobId,
        client: body.from,
        coordinator: body.coordinator,
        amount: body.amount,
        expiresAtHeight: body.expiresAtHeight,
        status: 'locked',
      });
      break;
    }
    case 'escrow.settle': {
      const escrow = await state.escrow(body.jobId);
      if (escrow === undefined) fail('CHAIN_UNKNOWN_ESCROW', 'no escrow for this job id', { jobId: body.jobId });
      if (escrow.status !== 'locked')
        fail('CHAIN_ESCROW_CLOSED', `the escrow is already ${escrow.status}`, { status: escrow.status });
      if (body.from !== escrow.coordinator)
        fail('CHAIN_NOT_COORDINATOR', 'only the coordinator named in the lock may settle');
      const { receipt, provider, price } = checkSettlementReceipt(
        body.receipt,
        tx,
        escrow.client,
        escrow.amount,
        body.jobId,
        ctx.chainId,
      );
      state.setAccount(body.from, debit(0n));
      await credit(provider, price);
      if (escrow.amount > price) await credit(escrow.client, escrow.amount - price);
      state.setEscrow({ ...escrow, status: 'settled', provider, paid: price, receiptId: receipt.receipt_id });
      break;
    }
    case 'escrow.refund': {
      const escrow = await state.escrow(body.jobId);
      if (escrow === undefined) fail('CHAIN_UNKNOWN_ESCROW', 'no escrow for this job id', { jobId: body.jobId });
      if (escrow.status !== 'locked')
        fail('CHAIN_ESCROW_CLOSED', `the escrow is already ${escrow.status}`, { status: escrow.status });
      const byCoordinator = body.from === escrow.coordinator;
      if (!byCoordinator && body.from !== escrow.client)
        fail('CHAIN_NOT_AUTHORIZED', 'only the client or the coordinator may refund');
      if (!byCoordinator && ctx.height <= escrow.expiresAtHeight) {
        fail('CHAIN_ESCROW_NOT_EXPIRED', `the client may refund after height ${escrow.expiresAtHeight}`, {
          expiresAtHeight: escrow.expiresAtHeight,
        });
      }
      state.setAccount(body.from, debit(0n));
      await credit(escrow.client, escrow.amount);
      state.setEscrow({ ...escrow, status: 'refunded' });
      break;
    }
  }
  return { burned: body.fee };
}

/**
 * The settlement rules for a receipt: it parses and validates; its miner signature comes from the key
 * whose address is `provider` and verifies; it carries a valid attestation by the settling
 * coordinator; `job_id`, `client` and `chain_id` match; `price` is within the escrow.
 */
function checkSettlementReceipt(
  text: string,
  tx: SignedTx,
  client: string,
  locked: bigint,
  jobId: string,
  chainId: string,
): { receipt: Receipt; provider: string; price: bigint } {
  let receipt: Receipt;
  try {
    receipt = validateReceipt(parseReceiptJson(text));
  } catch (e) {
    fail('CHAIN_RECEIPT_INVALID', `the receipt is malformed: ${isAitbcError(e) ? e.message : 'not a receipt'}`, {
      reason: 'malformed',
    });
  }
  let minerKey: Uint8Array;
  try {
    minerKey = base64urlToBytes(receipt.signature?.key_id ?? '', 32);
  } catch {
    fail('CHAIN_RECEIPT_INVALID', 'the receipt has no usable miner signature', { reason: 'missing_signature' });
  }
  if (addressFromPublicKey(minerKey) !== receipt.provider)
    fail('CHAIN_RECEIPT_INVALID', 'the miner key is not the key of receipt.provider', { reason: 'provider_mismatch' });
  const result = verifyReceipt(receipt, {
    minerKeys: [minerKey],
    coordinatorKeys: [tx.publicKey],
    requireAttestation: true,
  });
  if (!result.ok) {
    fail('CHAIN_RECEIPT_INVALID', 'the receipt signatures do not verify', {
      reasons: result.signatures.map((s) => s.reason ?? 'ok'),
    });
  }
  if (receipt.job_id !== jobId)
    fail('CHAIN_RECEIPT_INVALID', 'receipt.job_id is not the escrow’s job', { reason: 'job_mismatch' });
  if (receipt.client !== client)
    fail('CHAIN_RECEIPT_INVALID', 'receipt.client is not the escrow’s client', { reason: 'client_mismatch' });
  if (receipt.chain_id !== chainId)
    fail('CHAIN_RECEIPT_INVALID', 'receipt.chain_id is not this chain', { reason: 'chain_mismatch' });
  let price: bigint;
  try {
    price = receiptPrice(receipt);
  } catch {
    fail('CHAIN_RECEIPT_INVALID', 'receipt.price must be a decimal string of base units', { reason: 'malformed' });
  }
  if (price > locked)
    fail('CHAIN_RECEIPT_INVALID', 'receipt.price exceeds the locked amount', { reason: 'price_exceeds_escrow' });
  return { receipt, provider: receipt.provider, price };
}
