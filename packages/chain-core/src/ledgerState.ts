import { AitbcError, bytesToUtf8, canonicalize, concatBytes, parseAddress, sha256, utf8ToBytes } from '@aitbc/crypto';
import type { SparseMerkleTree } from './stateTree/sparseMerkleTree.js';

/**
 * An account: its balance (base units) and the nonce its next transaction must carry.
 *
 * @example
 * ```ts
 * import type { Account } from '@aitbc/chain-core';
 * const account: Account = { balance: 10n ** 18n, nonce: 0 };
 * ```
 */
export interface Account {
  readonly balance: bigint;
  /** Bounded counter (< 2^53). */
  readonly nonce: number;
}

/**
 * Where an escrow stands.
 *
 * @example
 * ```ts
 * const escrow = await chain.getEscrow('job-1');
 * if (escrow?.status === 'locked') console.log('still payable until height', escrow.expiresAtHeight);
 * ```
 */
export type EscrowStatus = 'locked' | 'settled' | 'refunded';

/**
 * Payment locked for a job.
 *
 * @example
 * ```ts
 * const escrow = await chain.getEscrow('job-1');
 * if (escrow?.status === 'settled') console.log(`${escrow.provider} was paid ${escrow.paid}`);
 * ```
 */
export interface Escrow {
  readonly jobId: string;
  /** The client's address: it locked the payment and gets refunds. */
  readonly client: string;
  /** The coordinator allowed to settle (and to refund at any time). */
  readonly coordinator: string;
  readonly amount: bigint;
  /** The client may refund once the chain is past this height. */
  readonly expiresAtHeight: number;
  readonly status: EscrowStatus;
  /** After settlement: the miner paid, the amount paid and the receipt id. */
  readonly provider?: string;
  readonly paid?: bigint;
  readonly receiptId?: string;
}

const ACCOUNT_TAG = utf8ToBytes('AITBC/account\n');
const ESCROW_TAG = utf8ToBytes('AITBC/escrow\n');
const EMPTY_ACCOUNT: Account = Object.freeze({ balance: 0n, nonce: 0 });

/**
 * Account keys by address (bounded, oldest out): deriving one decodes the bech32m address and hashes
 * it, which a block does twice per touched account. Only valid addresses get here.
 */
const accountKeys = new Map<string, Uint8Array>();
const ACCOUNT_KEYS_MAX = 1 << 17;

/** The cached key of an account; callers inside this package never mutate it. */
function sharedAccountKey(address: string): Uint8Array {
  let key = accountKeys.get(address);
  if (key === undefined) {
    key = sha256(concatBytes(ACCOUNT_TAG, parseAddress(address)));
    if (accountKeys.size >= ACCOUNT_KEYS_MAX) accountKeys.delete(accountKeys.keys().next().value as string);
    accountKeys.set(address, key);
  }
  return key;
}

/**
 * The state-tree key of an account: `sha256("AITBC/account\n" || address payload)`.
 *
 * @example
 * ```ts
 * import { accountKey, decodeAccount } from '@aitbc/chain-core';
 * const bytes = await tree.get(accountKey(address)); // raw record, or undefined
 * const account = bytes === undefined ? undefined : decodeAccount(bytes);
 * ```
 */
export function accountKey(address: string): Uint8Array {
  return sharedAccountKey(address).slice();
}

/**
 * The state-tree key of an escrow: `sha256("AITBC/escrow\n" || utf8(jobId))`.
 *
 * @example
 * ```ts
 * import { escrowKey } from '@aitbc/chain-core';
 * const proof = await tree.prove(escrowKey('job-1')); // inclusion or exclusion proof
 * ```
 */
export function escrowKey(jobId: string): Uint8Array {
  return sha256(concatBytes(ESCROW_TAG, utf8ToBytes(jobId)));
}

/** `{"balance":"` and `","nonce":` as bytes: the fixed parts of an account record. */
const BALANCE_OPEN = utf8ToBytes('{"balance":"');
const NONCE_OPEN = utf8ToBytes('","nonce":');

/**
 * Canonical bytes of an account (JCS of `{balance, nonce}`): what the state tree and proofs hold.
 *
 * @example
 * ```ts
 * import { encodeAccount } from '@aitbc/chain-core';
 * encodeAccount({ balance: 5n, nonce: 1 }); // utf8 of {"balance":"5","nonce":1}
 * ```
 */
export function encodeAccount(a: Account): Uint8Array {
  if (typeof a.balance !== 'bigint' || !Number.isSafeInteger(a.nonce))
    return canonicalize({ balance: a.balance, nonce: a.nonce });
  // The JCS of this two-field object, written directly: keys in order, bigint as a decimal string,
  // a safe integer as ECMAScript prints it — byte for byte what canonicalize returns (tested).
  const text = `{"balance":"${a.balance}","nonce":${a.nonce}}`;
  const out = new Uint8Array(text.length);
  for (let i = 0; i < text.length; i++) out[i] = text.charCodeAt(i);
  return out;
}

/** Reads `{"balance":"<digits>","nonce":<digits>}` without JSON.parse; `undefined` for any other shape. */
function decodeCanonicalAccount(b: Uint8Array): Account | undefined {
  const n = b.length;
  let i = BALANCE_OPEN.length;
  if (n < i + NONCE_OPEN.length + 3) return undefined;
  for (let j = 0; j < i; j++) if (b[j] !== BALANCE_OPEN[j]) return undefined;
  let balance = '';
  const start = i;
  while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) i++;
  if (i === start || i - start > 78 || (b[start] === 0x30 && i - start > 1)) return undefined;
  balance = String.fromCharCode.apply(null, b.subarray(start, i) as unknown as number[]);
  for (let j = 0; j < NONCE_OPEN.length; j++, i++) if (b[i] !== NONCE_OPEN[j]) return undefined;
  let nonce = 0;
  const nonceStart = i;
  while (i < n && b[i]! >= 0x30 && b[i]! <= 0x39) nonce = nonce * 10 + (b[i++]! - 0x30);
  if (i === nonceStart || i - nonceStart > 15 || (b[nonceStart] === 0x30 && i - nonceStart > 1)) return undefined;
  if (i !== n - 1 || b[i] !== 0x7d) return undefined;
  return { balance: BigInt(balance), nonce };
}

/**
 * Decodes {@link encodeAccount}.
 * @throws AitbcError `CHAIN_STATE_CORRUPT`.
 *
 * @example
 * ```ts
 * import { decodeAccount, encodeAccount } from '@aitbc/chain-core';
 * decodeAccount(encodeAccount({ balance: 5n, nonce: 1 })); // { balance: 5n, nonce: 1 }
 * ```
 */
export function decodeAccount(bytes: Uint8Array): Account {
  const fast = decodeCanonicalAccount(bytes);
  if (fast !== undefined) return fast;
  const o = JSON.parse(bytesToUtf8(bytes)) as { balance?: unknown; nonce?: unknown };
  if (typeof o.balance !== 'string' || typeof o.nonce !== 'number')
    throw new AitbcError('CHAIN_STATE_CORRUPT', 'an account record does not decode');
  return { balance: BigInt(o.balance), nonce: o.nonce };
}

function encodeEscrow(e: Escrow): Uint8Array {
  return canonicalize({ ...e, amount: e.amount, paid: e.paid });
}

function decodeEscrow(bytes: Uint8Array): Escrow {
  const o = JSON.parse(bytesToUtf8(bytes)) as Record<string, unknown>;
  if (typeof o.jobId !== 'string' || typeof o.amount !== 'string')
    throw new AitbcError('CHAIN_STATE_CORRUPT', 'an escrow record does not decode');
  return {
    ...(o as unknown as Escrow),
    amount: BigInt(o.amount),
    ...(typeof o.paid === 'string' ? { paid: BigInt(o.paid) } : {}),
  };
}

/**
 * Accounts and escrows over a {@link SparseMerkleTree}, with a write overlay: reads see pending
 * writes, and {@link flush} applies them to the tree in one batched update (so a block touching k
 * accounts costs one O(k log n) update). {@link discard} drops them.
 *
 * @example
 * ```ts
 * import { LedgerState, MemoryKVStore, SparseMerkleTree } from '@aitbc/chain-core';
 * const store = new MemoryKVStore();
 * const tree = new SparseMerkleTree(store);
 * const state = new LedgerState(tree);
 * state.setAccount(address, { balance: 100n, nonce: 0 });
 * const stateRoot = await state.flush(); // one batched tree update
 * await store.batch(tree.commitOps());
 * ```
 */
export class LedgerState {
  readonly #tree: SparseMerkleTree;
  readonly #accounts = new Map<string, Account>();
  readonly #escrows = new Map<string, Escrow>();

  constructor(tree: SparseMerkleTree) {
    this.#tree = tree;
  }

  /** The tree underneath (its root includes only flushed writes). */
  get tree(): SparseMerkleTree {
    return this.#tree;
  }

  /** An account (a zero account when it never existed). */
  async account(address: string): Promise<Account> {
    const pending = this.#accounts.get(address);
    if (pending !== undefined) return pending;
    const bytes = await this.#tree.get(sharedAccountKey(address));
    return bytes === undefined ? EMPTY_ACCOUNT : decodeAccount(bytes);
  }

  setAccount(address: string, account: Account): void {
    this.#accounts.set(address, account);
  }

  async escrow(jobId: string): Promise<Escrow | undefined> {
    const pending = this.#escrows.get(jobId);
    if (pending !== undefined) return pending;
    const bytes = await this.#tree.get(escrowKey(jobId));
    return bytes === undefined ? undefined : decodeEscrow(bytes);
  }

  setEscrow(escrow: Escrow): void {
    this.#escrows.set(escrow.jobId, escrow);
  }

  /** Applies pending writes to the tree (staged there until the caller commits); returns the new root. */
  async flush(): Promise<Uint8Array> {
    const changes: [Uint8Array, Uint8Array][] = [];
    for (const [address, a] of this.#accounts) changes.push([sharedAccountKey(address), encodeAccount(a)]);
    for (const e of this.#escrows.values()) changes.push([escrowKey(e.jobId), encodeEscrow(e)]);
    this.#accounts.clear();
    this.#escrows.clear();
    return this.#tree.update(changes);
  }

  /** Drops pending writes. */
  discard(): void {
    this.#accounts.clear();
    this.#escrows.clear();
  }
}
