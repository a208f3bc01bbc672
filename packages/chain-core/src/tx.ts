import {
  AitbcError,
  addressFromPublicKey,
  bytesToHex,
  canonicalize,
  canonicalizeToString,
  isAddress,
  publicKeyFromSeed,
  sha256,
  sign,
  signingBytesOfCanonical,
  signingTextOfCanonical,
  toHex0x,
  utf8ToBytes,
  verify,
} from '@aitbc/crypto';

/**
 * The transaction types of protocol v1.
 *
 * @example
 * ```ts
 * import type { TxType } from '@aitbc/chain-core';
 * const kind: TxType = tx.body.type; // 'transfer' | 'escrow.lock' | 'escrow.settle' | 'escrow.refund'
 * ```
 */
export type TxType = 'transfer' | 'escrow.lock' | 'escrow.settle' | 'escrow.refund';

/**
 * Fields every transaction carries.
 *
 * @example
 * ```ts
 * import type { TxCommon } from '@aitbc/chain-core';
 * const common: TxCommon = { chainId: 'aitbc-devnet', from: sender, nonce: 0, fee: DEFAULT_PARAMS.minFee };
 * ```
 */
export interface TxCommon {
  readonly chainId: string;
  /** Sender `ait1…` address; must be the address of the signing key. */
  readonly from: string;
  /** Sender's account nonce (strictly sequential; a bounded counter < 2^53). */
  readonly nonce: number;
  /** Fee in base units: at least the chain's `minFee`; all of it is burned (see README). */
  readonly fee: bigint;
}

/**
 * Moves `amount` to `to`.
 *
 * @example
 * ```ts
 * import { DEFAULT_PARAMS, signTx, type TransferTx } from '@aitbc/chain-core';
 * const body: TransferTx = { type: 'transfer', chainId: 'aitbc-devnet', from, nonce: 0, fee: DEFAULT_PARAMS.minFee, to, amount: 10n ** 18n };
 * const tx = signTx(body, seed);
 * ```
 */
export interface TransferTx extends TxCommon {
  readonly type: 'transfer';
  readonly to: string;
  readonly amount: bigint;
}

/**
 * A client locks `amount` for `jobId`, to be settled by `coordinator` before `expiresAtHeight`.
 *
 * @example
 * ```ts
 * import type { EscrowLockTx } from '@aitbc/chain-core';
 * const lock: EscrowLockTx = {
 *   type: 'escrow.lock', chainId, from: client, nonce: 1, fee, jobId: 'job-1', amount: 10n ** 16n, coordinator, expiresAtHeight: head.height + 100,
 * };
 * ```
 */
export interface EscrowLockTx extends TxCommon {
  readonly type: 'escrow.lock';
  readonly jobId: string;
  readonly amount: bigint;
  readonly coordinator: string;
  /** Height after which the client may refund (bounded counter). */
  readonly expiresAtHeight: number;
}

/**
 * The coordinator named in the lock settles it with the miner's signed, coordinator-attested receipt.
 * The receipt travels as its JSON text (`serializeReceipt`), so number lexemes survive.
 *
 * @example
 * ```ts
 * import { serializeReceipt } from '@aitbc/receipts';
 * import type { EscrowSettleTx } from '@aitbc/chain-core';
 * const settle: EscrowSettleTx = { type: 'escrow.settle', chainId, from: coordinator, nonce, fee, jobId: 'job-1', receipt: serializeReceipt(attested) };
 * ```
 */
export interface EscrowSettleTx extends TxCommon {
  readonly type: 'escrow.settle';
  readonly jobId: string;
  readonly receipt: string;
}

/**
 * The client (after expiry) or the coordinator (any time) returns the locked amount to the client.
 *
 * @example
 * ```ts
 * import type { EscrowRefundTx } from '@aitbc/chain-core';
 * const refund: EscrowRefundTx = { type: 'escrow.refund', chainId, from: client, nonce: 2, fee, jobId: 'job-1' };
 * ```
 */
export interface EscrowRefundTx extends TxCommon {
  readonly type: 'escrow.refund';
  readonly jobId: string;
}

/**
 * An unsigned transaction body.
 *
 * @example
 * ```ts
 * import type { TxBody } from '@aitbc/chain-core';
 * function describe(body: TxBody): string {
 *   return body.type === 'transfer' ? `${body.amount} to ${body.to}` : `${body.type} for ${body.jobId}`;
 * }
 * ```
 */
export type TxBody = TransferTx | EscrowLockTx | EscrowSettleTx | EscrowRefundTx;

/**
 * A signed transaction with its derived id.
 *
 * @example
 * ```ts
 * import { signTx, txIdHex, verifyTxSignature } from '@aitbc/chain-core';
 * const tx = signTx(body, seed);
 * console.log(txIdHex(tx), tx.size, verifyTxSignature(tx)); // 0x…, bytes on the wire, true
 * ```
 */
export interface SignedTx {
  readonly body: TxBody;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  /** SHA-256 of the signing bytes (excludes the signature: no malleability). */
  readonly id: Uint8Array;
  /** Size of the wire form in bytes (canonical JSON), for block and mempool limits. */
  readonly size: number;
}

/**
 * The JSON wire form: amounts as decimal strings, key and signature as lowercase hex.
 *
 * @example
 * ```ts
 * import { txToJson, type TxJson } from '@aitbc/chain-core';
 * const wire: TxJson = txToJson(tx); // { chainId, type, from, nonce, fee: '1000', …, publicKey, signature }
 * await fetch(`${nodeUrl}/rpc/send_tx`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(wire) });
 * ```
 */
export type TxJson = Record<string, string | number>;

/**
 * Limits on transactions (protocol constants; the chain's params may lower `maxTxBytes`).
 *
 * @example
 * ```ts
 * import { TX_LIMITS } from '@aitbc/chain-core';
 * if (receiptJson.length > TX_LIMITS.maxReceiptChars) throw new Error('receipt too large to settle on chain');
 * ```
 */
export const TX_LIMITS = Object.freeze({ maxTxBytes: 96 * 1024, maxReceiptChars: 64 * 1024, maxAmountDigits: 78 });

const CHAIN_ID_RE = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;
const JOB_ID_RE = /^[A-Za-z0-9._:-]{1,128}$/;
const DECIMAL_RE = /^(0|[1-9][0-9]{0,77})$/;

const FIELDS: Readonly<Record<TxType, readonly string[]>> = {
  transfer: ['to', 'amount'],
  'escrow.lock': ['jobId', 'amount', 'coordinator', 'expiresAtHeight'],
  'escrow.settle': ['jobId', 'receipt'],
  'escrow.refund': ['jobId'],
};
const COMMON = ['chainId', 'type', 'from', 'nonce', 'fee'];
/** The fields each type may carry, built once. */
const ALLOWED: Readonly<Record<string, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(FIELDS).map(([t, f]) => [t, new Set([...COMMON, ...f])]),
);
/** The fields each type carries on the wire: the body's, the public key and the signature. */
const WIRE_ALLOWED: Readonly<Record<string, ReadonlySet<string>>> = Object.fromEntries(
  Object.entries(FIELDS).map(([t, f]) => [t, new Set([...COMMON, ...f, 'publicKey', 'signature'])]),
);

function malformed(field: string, expected: string): AitbcError {
  return new AitbcError('CHAIN_TX_MALFORMED', `tx.${field} must be ${expected}`, { details: { field } });
}

/**
 * The body as the JSON object that is signed (amounts as decimal strings).
 *
 * @example
 * ```ts
 * import { txBodyJson } from '@aitbc/chain-core';
 * txBodyJson(tx.body).amount; // e.g. '1000000000000000000'
 * ```
 */
export function txBodyJson(body: TxBody): TxJson {
  const out: TxJson = {
    chainId: body.chainId,
    type: body.type,
    from: body.from,
    nonce: body.nonce,
    fee: body.fee.toString(),
  };
  switch (body.type) {
    case 'transfer':
      out.to = body.to;
      out.amount = body.amount.toString();
      break;
    case 'escrow.lock':
      out.jobId = body.jobId;
      out.amount = body.amount.toString();
      out.coordinator = body.coordinator;
      out.expiresAtHeight = body.expiresAtHeight;
      break;
    case 'escrow.settle':
      out.jobId = body.jobId;
      out.receipt = body.receipt;
      break;
    case 'escrow.refund':
      out.jobId = body.jobId;
      break;
  }
  return out;
}

/** Bound of the small decode caches below, of addresses and sender keys (Map insertion order, oldest out). */
let cacheMax = 1 << 16;
/**
 * Bound of the cache of decoded transactions, each of which keeps its body, key, signature and wire
 * JSON alive (~1.5 KB): 16,384 are ~8 s of traffic at 2,000 tx/s, ample for the proposal that comes a
 * block or two after a transaction's gossip. Keeping 65,536 (~30 s) grew every node's old generation
 * for nothing: 5–10% more CPU per transaction in the 4-node bench.
 */
let decodedMax = 1 << 14;

/**
 * Sizes and bounds of this module's decode caches (valid addresses, sender keys, decoded
 * transactions); with `max`, first sets the bounds (`newDecodedMax`, the decoded transactions' own,
 * defaults to `max`; entries above a bound go as new ones come). For tests, which exercise eviction with a small bound; not part of the
 * package API.
 */
export function txCacheStats(
  max?: number,
  newDecodedMax: number | undefined = max,
): {
  readonly max: number;
  readonly decodedMax: number;
  readonly addresses: number;
  readonly keys: number;
  readonly decoded: number;
} {
  if (max !== undefined) cacheMax = max;
  if (newDecodedMax !== undefined) decodedMax = newDecodedMax;
  return {
    max: cacheMax,
    decodedMax,
    addresses: validAddresses.size,
    keys: senderKeys.size,
    decoded: decoded.size,
  };
}

/** Makes room for one more entry in a bounded cache (drops the oldest). */
function makeRoom<K>(cache: Set<K> | Map<K, unknown>, bound = cacheMax): void {
  while (cache.size >= bound && cache.size > 0) cache.delete(cache.keys().next().value as K);
}

/**
 * Addresses already found valid (bounded, oldest out): checking one decodes its bech32m checksum,
 * and the same senders and recipients recur in every block.
 */
const validAddresses = new Set<string>();

/** A sender key as decoded from the wire. */
interface SenderKey {
  readonly hex: string;
  readonly bytes: Uint8Array;
  readonly address: string;
}

/**
 * Sender public keys by their wire form (64 lowercase hex), bounded (oldest out): the decoded bytes
 * and the `ait1…` address they sign for (deriving one hashes and bech32m-encodes). Each transaction
 * gets its own copy of the bytes, so no caller can alter a cached key.
 */
const senderKeys = new Map<string, SenderKey>();

function readAddress(v: unknown, field: string): string {
  if (typeof v !== 'string') throw malformed(field, 'a valid lowercase ait1… address');
  if (validAddresses.has(v)) return v;
  if (!isAddress(v)) throw malformed(field, 'a valid lowercase ait1… address');
  makeRoom(validAddresses);
  validAddresses.add(v);
  return v;
}

/** Lowercase hex digit values by character code (-1: not a lowercase hex digit). */
const HEX_VALUES = new Int8Array(128).fill(-1);
for (let i = 0; i < 16; i++) HEX_VALUES['0123456789abcdef'.charCodeAt(i)] = i;

/** Decodes exactly `length` bytes of lowercase hex (no prefix); `undefined` for anything else. */
function decodeLowerHex(text: string, length: number): Uint8Array | undefined {
  if (text.length !== 2 * length) return undefined;
  const out = new Uint8Array(length);
  for (let i = 0; i < length; i++) {
    const hi = text.charCodeAt(2 * i);
    const lo = text.charCodeAt(2 * i + 1);
    const h = hi < 128 ? HEX_VALUES[hi]! : -1;
    const l = lo < 128 ? HEX_VALUES[lo]! : -1;
    if ((h | l) < 0) return undefined;
    out[i] = (h << 4) | l;
  }
  return out;
}

/**
 * A wire public key's bytes and address, through the cache (only well-formed keys are cached).
 * @throws AitbcError `CHAIN_TX_MALFORMED` unless it is 64 lowercase hex digits.
 */
function senderKey(hex: unknown): SenderKey {
  if (typeof hex !== 'string') throw malformed('publicKey', '64 lowercase hex digits');
  let entry = senderKeys.get(hex);
  if (entry === undefined) {
    const bytes = decodeLowerHex(hex, 32);
    if (bytes === undefined) throw malformed('publicKey', '64 lowercase hex digits');
    entry = { hex, bytes, address: addressFromPublicKey(bytes) };
    makeRoom(senderKeys);
    senderKeys.set(hex, entry);
  }
  return entry;
}

/** A decimal amount as on the wire: its text is already canonical (no sign, no leading zeros). */
function readAmountText(v: unknown, field: string): string {
  if (typeof v !== 'string' || !DECIMAL_RE.test(v))
    throw malformed(field, 'a decimal string of base units (no sign, no leading zeros)');
  return v;
}

function readCounter(v: unknown, field: string, min: number): number {
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < min) throw malformed(field, `an integer ≥ ${min}`);
  return v;
}

function readJobId(v: unknown): string {
  if (typeof v !== 'string' || !JOB_ID_RE.test(v)) throw malformed('jobId', '1–128 characters of [A-Za-z0-9._:-]');
  return v;
}

const isOwnEnumerable = Object.prototype.propertyIsEnumerable;

/**
 * A body validated from JSON, with its canonical (RFC 8785) JSON text — for a settlement, the text
 * up to its receipt (see {@link canonicalText}) — and the wire text of its amounts (for the decode cache).
 */
interface CheckedBody {
  readonly body: TxBody;
  readonly canonical: string;
  readonly fee: string;
  readonly amount: string | undefined;
}

/**
 * Validates a body in JSON form — every field's type, length and range; no unknown fields; only own
 * enumerable fields count — and writes its canonical JSON directly: the key order of each type is
 * fixed, and every string field except a receipt has been checked to need no escaping, so the text
 * is byte for byte what `canonicalize(txBodyJson(body))` gives (tested against it).
 * @param allowed - the fields each type may carry (body fields, or body and wire fields).
 */
function checkBody(o: Record<string, unknown>, allowed: Readonly<Record<string, ReadonlySet<string>>>): CheckedBody {
  const type = isOwnEnumerable.call(o, 'type') ? o.type : undefined;
  if (typeof type !== 'string' || !Object.hasOwn(FIELDS, type))
    throw malformed('type', `one of ${Object.keys(FIELDS).join(', ')}`);
  const fields = allowed[type]!;
  const keys = Object.keys(o);
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    if (!fields.has(k)) throw new AitbcError('CHAIN_TX_MALFORMED', `unknown field tx.${k}`, { details: { field: k } });
  }
  // Every allowed field present as an own enumerable property: read them in place; otherwise read
  // from a copy of the own enumerable ones, so a missing field is never taken from a prototype.
  const src = keys.length === fields.size ? o : { ...o };
  const chainId = src.chainId;
  if (typeof chainId !== 'string' || !CHAIN_ID_RE.test(chainId)) throw malformed('chainId', 'a chain id');
  const from = readAddress(src.from, 'from');
  const nonce = readCounter(src.nonce, 'nonce', 0);
  const fee = readAmountText(src.fee, 'fee');
  const common = `"chainId":"${chainId}","fee":"${fee}","from":"${from}"`;
  switch (type as TxType) {
    case 'transfer': {
      const to = readAddress(src.to, 'to');
      const amount = readAmountText(src.amount, 'amount');
      return {
        body: { chainId, from, nonce, fee: BigInt(fee), type: 'transfer', to, amount: BigInt(amount) },
        canonical: `{"amount":"${amount}",${common},"nonce":${nonce},"to":"${to}","type":"transfer"}`,
        fee,
        amount,
      };
    }
    case 'escrow.lock': {
      const jobId = readJobId(src.jobId);
      const amount = readAmountText(src.amount, 'amount');
      const coordinator = readAddress(src.coordinator, 'coordinator');
      const expiresAtHeight = readCounter(src.expiresAtHeight, 'expiresAtHeight', 1);
      return {
        body: {
          chainId,
          from,
          nonce,
          fee: BigInt(fee),
          type: 'escrow.lock',
          jobId,
          amount: BigInt(amount),
          coordinator,
          expiresAtHeight,
        },
        canonical:
          `{"amount":"${amount}","chainId":"${chainId}","coordinator":"${coordinator}",` +
          `"expiresAtHeight":${expiresAtHeight},"fee":"${fee}","from":"${from}","jobId":"${jobId}",` +
          `"nonce":${nonce},"type":"escrow.lock"}`,
        fee,
        amount,
      };
    }
    case 'escrow.settle': {
      const receipt = src.receipt;
      if (typeof receipt !== 'string' || receipt.length === 0 || receipt.length > TX_LIMITS.maxReceiptChars) {
        throw malformed('receipt', `the receipt's JSON text (at most ${TX_LIMITS.maxReceiptChars} characters)`);
      }
      const jobId = readJobId(src.jobId);
      return {
        body: { chainId, from, nonce, fee: BigInt(fee), type: 'escrow.settle', jobId, receipt },
        // The receipt is free text: it is escaped (and a lone surrogate refused) by the canonicalizer,
        // when the transaction is built.
        canonical: `{${common},"jobId":"${jobId}","nonce":${nonce},"receipt":`,
        fee,
        amount: undefined,
      };
    }
    case 'escrow.refund': {
      const jobId = readJobId(src.jobId);
      return {
        body: { chainId, from, nonce, fee: BigInt(fee), type: 'escrow.refund', jobId },
        canonical: `{${common},"jobId":"${jobId}","nonce":${nonce},"type":"escrow.refund"}`,
        fee,
        amount: undefined,
      };
    }
  }
}

/**
 * The canonical JSON text of a checked body.
 * @throws AitbcError `CRYPTO_CANONICAL_JSON` for a receipt with a lone surrogate.
 */
function canonicalText(checked: CheckedBody): string {
  const b = checked.body;
  return b.type === 'escrow.settle'
    ? `${checked.canonical}${canonicalizeToString(b.receipt)},"type":"escrow.settle"}`
    : checked.canonical;
}

/**
 * Validates an unsigned body in JSON form (every field's type, length and range; no unknown fields).
 * @throws AitbcError `CHAIN_TX_MALFORMED` with `details.field`.
 *
 * @example
 * ```ts
 * import { signTx, txBodyFromJson } from '@aitbc/chain-core';
 * const body = txBodyFromJson(JSON.parse(unsignedText)); // e.g. a body a wallet was asked to sign
 * const tx = signTx(body, seed);
 * ```
 */
export function txBodyFromJson(json: unknown): TxBody {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new AitbcError('CHAIN_TX_MALFORMED', 'a transaction must be a JSON object');
  return checkBody(json as Record<string, unknown>, ALLOWED).body;
}

/** The text whose UTF-8 bytes are signed, of a body this module checked (so it re-checks cleanly). */
function signingTextOf(body: TxBody): string {
  return signingTextOfCanonical('tx', body.chainId, canonicalText(checkBody(txBodyJson(body), ALLOWED)));
}

const encoder = new TextEncoder();
/** A buffer reused for signing bytes that are hashed, signed or verified at once (grows as needed). */
let scratch = new Uint8Array(4096);

/**
 * The UTF-8 bytes of `text` as a view of the shared scratch buffer: valid only until the next call,
 * so only for synchronous use (hashing, signing, a synchronous verify). Saves an allocation per
 * transaction, which in V8 is an off-heap one for arrays above 64 bytes.
 */
function scratchUtf8(text: string): Uint8Array {
  if (text.length * 3 > scratch.length) scratch = new Uint8Array(text.length * 3);
  const { written } = encoder.encodeInto(text, scratch);
  return scratch.subarray(0, written);
}

/**
 * A transaction this module built (signed or decoded): it keeps its signing bytes, so verification
 * (mempool, block import) never re-encodes, and, when decoded, the wire text it came from, for the
 * decode cache. Sound because the transaction and its body are frozen.
 */
class BuiltTx implements SignedTx {
  readonly body: TxBody;
  readonly publicKey: Uint8Array;
  readonly signature: Uint8Array;
  readonly id: Uint8Array;
  readonly size: number;
  /**
   * The signing bytes, made when first asked for (rebuilt from the frozen body): hashing and the
   * mempool's verify use the scratch buffer, and a verified transaction's bytes are rarely asked
   * for again (block import finds it in the signature cache), so most transactions never keep any.
   */
  #signing: Uint8Array | undefined;
  /** Wire public key (hex), fee and amount texts; the key is empty for a transaction signed here. */
  readonly #wireKey: string;
  /** Wire signature (hex); empty for a transaction signed here. */
  readonly #wireSig: string;
  readonly #wireFee: string;
  readonly #wireAmount: string | undefined;
  /**
   * The wire JSON, made when first asked for: a node encodes each transaction several times (the
   * block it stores, the consensus state it persists, the API's block and tx responses), and every
   * encoding rebuilt the object and hex-encoded the key and signature again.
   */
  #json: Readonly<TxJson> | undefined;

  constructor(
    checked: CheckedBody,
    canonical: string,
    publicKey: Uint8Array,
    signature: Uint8Array,
    wireKey: string,
    wireSig: string,
  ) {
    const body = checked.body;
    const text = signingTextOfCanonical('tx', body.chainId, canonical);
    const signing = scratchUtf8(text);
    // Canonical wire size: the body's bytes (the signed bytes less the ASCII prefix) plus
    // `"publicKey":"<64 hex>"` (78), `"signature":"<128 hex>"` (142) and the two commas that join them in.
    const size = signing.length - (text.length - canonical.length) + 222;
    if (size > TX_LIMITS.maxTxBytes) {
      throw new AitbcError('CHAIN_TX_TOO_LARGE', `transaction is ${size} bytes; the limit is ${TX_LIMITS.maxTxBytes}`, {
        details: { size },
      });
    }
    this.body = Object.freeze(body);
    this.publicKey = publicKey;
    this.signature = signature;
    this.id = sha256(signing);
    this.size = size;
    this.#signing = undefined;
    this.#wireKey = wireKey;
    this.#wireSig = wireSig;
    this.#json = undefined;
    this.#wireFee = checked.fee;
    this.#wireAmount = checked.amount;
    Object.freeze(this); // own properties only: the signing bytes may still be filled in once
  }

  /** The signing bytes of `tx` (made once, then kept) if this module built it. */
  static signingOf(tx: SignedTx): Uint8Array | undefined {
    if (!(#signing in tx)) return undefined;
    tx.#signing ??= utf8ToBytes(signingTextOf(tx.body));
    return tx.#signing;
  }

  /** The wire JSON of `tx` (made once, then shared; never hand it out unfrozen) if this module built it. */
  static jsonOf(tx: SignedTx): Readonly<TxJson> | undefined {
    if (!(#json in tx)) return undefined;
    tx.#json ??= Object.freeze({
      ...txBodyJson(tx.body),
      publicKey: tx.#wireKey === '' ? bytesToHex(tx.publicKey) : tx.#wireKey,
      signature: tx.#wireSig === '' ? bytesToHex(tx.signature) : tx.#wireSig,
    });
    return tx.#json;
  }

  /**
   * The signing bytes of `tx` for immediate, synchronous use — kept ones, or else a view of the
   * shared scratch buffer (overwritten by the next encoding) — if this module built it.
   */
  static signingNow(tx: SignedTx): Uint8Array | undefined {
    if (!(#signing in tx)) return undefined;
    return tx.#signing ?? scratchUtf8(signingTextOf(tx.body));
  }

  /**
   * Whether a wire object is exactly (same own fields, same values) the one this transaction was
   * decoded from; its signature was matched by the caller.
   */
  static sameWire(o: Record<string, unknown>, tx: BuiltTx): boolean {
    if (tx.#wireKey === '' || o.publicKey !== tx.#wireKey) return false;
    let n = 0;
    for (const k in o) {
      if (!Object.hasOwn(o, k)) return false;
      n++;
    }
    if (n !== WIRE_ALLOWED[tx.body.type]!.size) return false;
    const b = tx.body;
    const own = (k: string, v: unknown) => Object.hasOwn(o, k) && o[k] === v;
    if (!own('type', b.type) || !own('chainId', b.chainId) || !own('from', b.from) || !own('nonce', b.nonce))
      return false;
    if (!own('fee', tx.#wireFee)) return false;
    switch (b.type) {
      case 'transfer':
        return own('to', b.to) && own('amount', tx.#wireAmount);
      case 'escrow.lock':
        return (
          own('jobId', b.jobId) &&
          own('amount', tx.#wireAmount) &&
          own('coordinator', b.coordinator) &&
          own('expiresAtHeight', b.expiresAtHeight)
        );
      case 'escrow.settle':
        return own('jobId', b.jobId) && own('receipt', b.receipt);
      case 'escrow.refund':
        return own('jobId', b.jobId);
    }
  }
}

/**
 * Transactions decoded from the wire, by signature (hex, as on the wire), bounded (oldest out): a
 * node receives each transaction twice or more — submitted or gossiped, then inside a proposal — and
 * the second decode (strict field checks, canonical encoding, hashing) is then a field-by-field
 * comparison that returns the same frozen transaction (whose signature the node already verified).
 */
const decoded = new Map<string, BuiltTx>();

/** The signing bytes of `tx`, shared (callers in this package never mutate them). */
export function sharedSigningBytes(tx: SignedTx): Uint8Array {
  return BuiltTx.signingOf(tx) ?? signingBytesOfCanonical('tx', tx.body.chainId, canonicalize(txBodyJson(tx.body)));
}

/**
 * Signs a transaction body with the sender's seed. The sender must be the seed's address.
 *
 * @example
 * ```ts
 * const tx = signTx({ type: 'transfer', chainId: 'aitbc-devnet', from, nonce: 0, fee: 1000n, to, amount: 5n }, seed);
 * console.log(txIdHex(tx), txToJson(tx));
 * ```
 * @throws AitbcError `CHAIN_TX_MALFORMED` for an invalid body, `CHAIN_FROM_MISMATCH` when `from` is not the key's address.
 */
export function signTx(body: TxBody, seed: Uint8Array, publicKey: Uint8Array = publicKeyFromSeed(seed)): SignedTx {
  const checked = checkBody(txBodyJson(body), ALLOWED);
  if (addressFromPublicKey(publicKey) !== checked.body.from) {
    throw new AitbcError('CHAIN_FROM_MISMATCH', 'tx.from is not the address of the signing key');
  }
  const canonical = canonicalText(checked);
  const signature = sign(scratchUtf8(signingTextOfCanonical('tx', checked.body.chainId, canonical)), seed);
  return new BuiltTx(checked, canonical, publicKey, signature, '', '');
}

/**
 * Decodes a wire transaction: validates the body strictly, checks that `from` is the address of
 * `publicKey`, and derives the id. Does **not** verify the signature (see {@link verifyTxSignature}),
 * so callers can batch or cache verification.
 * @throws AitbcError `CHAIN_TX_MALFORMED`, `CHAIN_FROM_MISMATCH`, `CHAIN_TX_TOO_LARGE`.
 *
 * @example
 * ```ts
 * import { txFromJson, verifyTxSignature } from '@aitbc/chain-core';
 * const tx = txFromJson(JSON.parse(requestBody));
 * if (!verifyTxSignature(tx)) throw new Error('bad signature');
 * ```
 */
export function txFromJson(json: unknown): SignedTx {
  if (typeof json !== 'object' || json === null || Array.isArray(json))
    throw new AitbcError('CHAIN_TX_MALFORMED', 'a transaction must be a JSON object');
  const o = json as Record<string, unknown>;
  const publicKey = o.publicKey;
  const signature = o.signature;
  const seen = typeof signature === 'string' ? decoded.get(signature) : undefined;
  if (seen !== undefined && BuiltTx.sameWire(o, seen)) return seen;
  const key = senderKey(publicKey);
  const sig = typeof signature === 'string' ? decodeLowerHex(signature, 64) : undefined;
  if (sig === undefined || typeof signature !== 'string') throw malformed('signature', '128 lowercase hex digits');
  const checked = checkBody(o, WIRE_ALLOWED);
  if (key.address !== checked.body.from)
    throw new AitbcError('CHAIN_FROM_MISMATCH', 'tx.from is not the address of tx.publicKey');
  const tx = new BuiltTx(checked, canonicalText(checked), key.bytes.slice(), sig, key.hex, signature);
  // The first decode under a signature stays: a tampered copy cannot evict the real transaction.
  if (seen === undefined) {
    makeRoom(decoded, decodedMax);
    decoded.set(signature, tx);
  }
  return tx;
}

/**
 * The wire JSON of a signed transaction.
 *
 * @example
 * ```ts
 * import { txFromJson, txToJson } from '@aitbc/chain-core';
 * const text = JSON.stringify(txToJson(tx));
 * txFromJson(JSON.parse(text)).id; // equals tx.id
 * ```
 */
export function txToJson(tx: SignedTx): TxJson {
  const wire = BuiltTx.jsonOf(tx);
  if (wire !== undefined) return { ...wire };
  return { ...txBodyJson(tx.body), publicKey: bytesToHex(tx.publicKey), signature: bytesToHex(tx.signature) };
}

/**
 * The exact bytes the sender signed (a fresh copy).
 *
 * @example
 * ```ts
 * import { verify } from '@aitbc/crypto';
 * import { txSigningBytes } from '@aitbc/chain-core';
 * verify(tx.signature, txSigningBytes(tx), tx.publicKey); // true for a valid tx
 * ```
 */
export function txSigningBytes(tx: SignedTx): Uint8Array {
  return sharedSigningBytes(tx).slice();
}

/**
 * Strict Ed25519 check of a transaction's signature.
 *
 * @example
 * ```ts
 * import { txFromJson, verifyTxSignature } from '@aitbc/chain-core';
 * const ok = verifyTxSignature(txFromJson(wire)); // false for a forged or tampered tx
 * ```
 */
export function verifyTxSignature(tx: SignedTx): boolean {
  // verify reads the message synchronously: the scratch bytes serve (no allocation per check)
  return verify(tx.signature, BuiltTx.signingNow(tx) ?? sharedSigningBytes(tx), tx.publicKey);
}

/**
 * The id in wire form (`0x` + 64 hex).
 *
 * @example
 * ```ts
 * import { txIdHex } from '@aitbc/chain-core';
 * console.log(`sent ${txIdHex(tx)}`); // look it up later with GET /rpc/tx/{id}
 * ```
 */
export function txIdHex(tx: SignedTx): string {
  return toHex0x(tx.id);
}
